"""A model exercise's spec derived from its reference model and what the instructor lets vary.

A spec (``labkit.architecture``) says what is fixed and what may vary. Most of it restates
the reference: the input and output shapes, the loss, each layer's kind and sizes. So a lab
declares only the reference builder and the variations, and the build derives the rest::

    derive_spec(build_mlp(), builder="build_mlp",
                vary={"layers[0].units": {"min": 8}, "dropout": True})

What a rule fixes per layer kind (``FIXED``): a Dense layer's units and activation, a
convolution's filters, kernel, padding and activation, a pooling layer's pool size, a
recurrent layer's units and activations, an embedding's vocabulary and dimensions, a
RepeatVector's repeats. ``vary`` loosens (or tightens) them: ``"layers[i].setting"`` (or
``"layers[i]": {setting: ...}``) sets one setting to an allowed value, a tuple of allowed
values, a range ``{"min": n, "max": m}``, or ``ANY`` (not checked); ``"repeat"`` allows a
stack and ``"role"`` names the layer in messages. The top-level ``dropout`` (False, True or
the largest share dropped), ``optimizer`` and ``input_hint`` may be varied the same way.
Indices count the reference's layers after folding (no Input, activations merged, dropout
set aside), as ``architecture.describe_model`` reads them.
"""

from __future__ import annotations

import re

from . import architecture

ANY = "any"  # a setting students choose freely: it is left out of the rule
FIXED = {
    "Dense": ("units", "activation"),
    "Conv1D": ("filters", "kernel_size", "padding", "activation"),
    "Conv2D": ("filters", "kernel_size", "padding", "activation"),
    "MaxPooling1D": ("pool_size",),
    "MaxPooling2D": ("pool_size",),
    "AveragePooling1D": ("pool_size",),
    "AveragePooling2D": ("pool_size",),
    "SimpleRNN": ("units", "activation"),
    "LSTM": ("units", "activation", "recurrent_activation"),
    "GRU": ("units", "activation", "recurrent_activation"),
    "Embedding": ("vocabulary", "dimensions"),
    "RepeatVector": ("repeats",),
}
OUTPUT_ROLE = "the output layer"
LAYER_KEY = re.compile(r"layers\[(-?\d+)\](?:\.(\w+))?$")


def _loss_name(model) -> str:
    loss = (model.get_compile_config() or {}).get("loss")
    if isinstance(loss, dict):  # a serialised loss object
        loss = loss.get("config", {}).get("name") or loss.get("class_name")
    if not isinstance(loss, str):
        raise ValueError(f"The reference's loss {loss!r} has no name a spec can hold.")
    return loss


def output_why(rule: dict) -> str:
    """What a wrong output activation is told the output needs, from the reference's output
    layer: "a probability between 0 and 1 needs" (one sigmoid unit) or "a choice among 10
    classes needs" (softmax)."""
    if rule.get("units") == 1:
        return "a probability between 0 and 1 needs"
    return f"a choice among {rule.get('units')} classes needs"


def _rule(view: architecture.LayerView) -> dict:
    rule = {"kind": view.kind}
    rule.update(
        (key, view.settings[key]) for key in FIXED.get(view.kind, ()) if key in view.settings
    )
    if view.settings.get("return_sequences"):
        rule["return_sequences"] = True
    if "wrapper" in view.settings:
        rule["wrapper"] = view.settings["wrapper"]
    return rule


def _vary_layers(rules: list[dict], vary: dict) -> None:
    for key, value in vary.items():
        match = LAYER_KEY.match(key)
        if not match:
            continue
        index, setting = int(match.group(1)), match.group(2)
        if not -len(rules) <= index < len(rules):
            raise ValueError(f"vary[{key!r}]: the reference has {len(rules)} layers.")
        changes = {setting: value} if setting else dict(value)
        for name, allowed in changes.items():
            if allowed == ANY:
                rules[index].pop(name, None)
            else:
                rules[index][name] = allowed


def derive_spec(
    model,
    *,
    builder: str,
    vary: dict | None = None,
    optimizer: dict | None = None,
    why: str | None = None,
) -> dict:
    """The spec of an exercise whose reference is ``model`` (built and compiled, or not
    compiled for a demo) and whose notebook function is ``builder``: the reference's input,
    output shape, loss and folded layers (each fixing ``FIXED``'s settings), loosened by
    ``vary`` (module docstring). ``optimizer``: the optimizers and learning rates allowed
    (default ``checks.ADAPTIVE_OPTIMIZERS``); ``why``: what the output layer's activation is
    for, in a message (default ``output_why``). Raises ValueError for a ``vary`` key that
    names no layer or setting."""
    from .checks import ADAPTIVE_OPTIMIZERS

    vary = dict(vary or {})
    input_shape = tuple(int(size) for size in model.inputs[0].shape[1:])
    chain, _ = architecture.describe_model(model, builder, input_shape)
    rules = [_rule(view) for view in chain]
    rules[-1].update(role=OUTPUT_ROLE)
    if "activation" in rules[-1]:
        rules[-1]["why"] = why or output_why(rules[-1])
    _vary_layers(rules, vary)
    spec = {
        "builder": builder,
        "input": input_shape,
        "input_hint": f"start with keras.Input({input_shape}).",
        "output": tuple(int(size) for size in chain[-1].output_shape[1:]),
    }
    if getattr(model, "optimizer", None) is not None and model.get_compile_config():
        spec["loss"] = _loss_name(model)
        spec["optimizer"] = optimizer or ADAPTIVE_OPTIMIZERS
    spec["dropout"] = False
    spec["layers"] = rules
    for key, value in vary.items():
        if LAYER_KEY.match(key):
            continue
        if key not in ("dropout", "optimizer", "input_hint", "loss"):
            raise ValueError(
                f"vary[{key!r}] is neither a layer (layers[i] or layers[i].setting) nor one "
                "of dropout, optimizer, input_hint and loss."
            )
        spec[key] = value
    return spec
