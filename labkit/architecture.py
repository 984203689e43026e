"""Read a Keras model as a chain of layers and compare it with what an exercise asks for.

Exact layer-by-layer equality fails students for choices the lab allows, so a model is
first folded into a canonical form (no Input layer, a separate ``Activation`` merged into
the layer before it, ``TimeDistributed(Dense)`` read as the Dense it wraps, dropout set
aside) and then matched against a spec: plain data (dicts, tuples, numbers) that says what
is fixed and what may vary. Every fault is reported as a sentence a student can act on.

A spec looks like::

    {"input": (500,), "input_hint": "...", "output": (1,), "loss": "binary_crossentropy",
     "dropout": True, "layers": [rule, ...]}

and a rule like ``{"kind": "LSTM", "units": {"min": 100}, "repeat": (1, 3),
"return_sequences": False, "role": "the LSTM"}``. A setting's value is either the one value
allowed, a tuple of allowed values, or a range ``{"min": n}``, ``{"max": n}`` or both.
``repeat`` allows a stack of that layer; all but the last of a recurrent stack must return
sequences. ``"dropout"`` is False (none), True (any) or the largest share a layer may drop.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

DROPOUT_KINDS = frozenset(
    {"Dropout", "SpatialDropout1D", "GaussianDropout", "GaussianNoise", "AlphaDropout"}
    | {"SpatialDropout2D"}
)
ACTIVATION_KINDS = {"Activation": None, "Softmax": "softmax", "ReLU": "relu"}
RECURRENT_KINDS = frozenset({"SimpleRNN", "LSTM", "GRU"})
PARAMETER_FREE_KINDS = frozenset(
    {"Flatten", "MaxPooling1D", "AveragePooling1D", "RepeatVector", "Activation", "Reshape"}
    | {"MaxPooling2D", "AveragePooling2D"}
)
SETTING_KEYS = ("units", "filters", "padding", "return_sequences")
WRAPPERS = frozenset({"TimeDistributed"})
FORMULAS = {
    "Dense": "inputs x units + units",
    "Embedding": "vocabulary x dimensions",
    "Conv1D": "kernel x input channels x filters + filters",
    "Conv2D": "kernel height x kernel width x input channels x filters + filters",
    "SimpleRNN": "units x (units + inputs + 1)",
    "LSTM": "4 x units x (units + inputs + 1)",
    "GRU": "3 x units x (units + inputs + 2)",
}


class ArchitectureFault(AssertionError):
    """The model differs from the exercise in a way the message names."""


@dataclass(frozen=True)
class LayerView:
    """One layer as the checks see it, with plain Python values only."""

    position: int  # 1-based, counting the layers the student wrote (Input not counted)
    kind: str  # class name; a TimeDistributed layer shows the kind it wraps
    settings: dict = field(default_factory=dict)
    input_shape: tuple = ()
    output_shape: tuple = ()
    params: int = 0

    @property
    def label(self) -> str:
        return f"Layer {self.position} ({self.kind})"


def _plain_shape(shape) -> tuple:
    return tuple(None if size is None else int(size) for size in shape)


def _kind(layer) -> str:
    """The class name for Keras' own layers; anything else is marked as custom."""
    cls = type(layer)
    if cls.__module__.split(".")[0] == "keras":
        return cls.__name__
    return f"custom {cls.__name__}"


def _sizes(value) -> tuple[int, ...]:
    """A kernel or pool size as a tuple of ints (Keras stores ``3`` as ``(3,)`` or ``(3, 3)``)."""
    return tuple(int(size) for size in value) if isinstance(value, (tuple, list)) else (int(value),)


def _window(value) -> int | str:
    """A kernel or pool size in one value: ``3`` for ``(3,)`` or ``(3, 3)``, ``"3x5"`` for ``(3, 5)``."""
    sizes = _sizes(value)
    return sizes[0] if len(set(sizes)) == 1 else "x".join(str(size) for size in sizes)


def _activation_name(function) -> str:
    return str(getattr(function, "__name__", function))


def _settings(layer) -> dict:
    config = layer.get_config()
    settings = {key: config[key] for key in SETTING_KEYS if key in config}
    if "kernel_size" in config:
        settings["kernel_size"] = _window(config["kernel_size"])
        settings["kernel_area"] = int(math.prod(_sizes(config["kernel_size"])))
    if "pool_size" in config:
        settings["pool_size"] = _window(config["pool_size"])
    if _kind(layer) == "Embedding":
        settings["vocabulary"] = int(config["input_dim"])
        settings["dimensions"] = int(config["output_dim"])
    if _kind(layer) == "RepeatVector":
        settings["repeats"] = int(config["n"])
    if _kind(layer) in ACTIVATION_KINDS:
        settings["activation"] = ACTIVATION_KINDS[_kind(layer)] or _activation_name(
            layer.activation
        )
    elif getattr(layer, "activation", None) is not None:
        settings["activation"] = _activation_name(layer.activation)
    if getattr(layer, "recurrent_activation", None) is not None:
        settings["recurrent_activation"] = _activation_name(layer.recurrent_activation)
    return {key: value if isinstance(value, str) else int(value) for key, value in settings.items()}


def _not_a_chain(name: str, where: str) -> ArchitectureFault:
    return ArchitectureFault(
        f"`{name}` is not a single chain of layers ({where}). Build it as "
        "keras.Sequential([...]) or as one functional chain from keras.Input to the output."
    )


def _chain_of(model, name: str) -> list[tuple]:
    """``(layer, input shape, output shape)`` from input to output, nested models opened up.

    It walks the model's own graph backwards from its output, so it also works for a model
    rebuilt from JSON (whose layers remember earlier graphs) and rejects any branching.
    """
    import keras

    if len(model.inputs) != 1 or len(model.outputs) != 1:
        raise ArchitectureFault(f"`{name}` should have one input and one output.")
    tensor, start, steps = model.outputs[0], model.inputs[0], []
    while tensor is not start:
        layer, node_index, _ = tensor._keras_history
        node = layer._inbound_nodes[node_index]
        if type(layer).__name__ == "InputLayer" or len(node.input_tensors) != 1:
            raise _not_a_chain(name, f"{_kind(layer)} reads more than one input")
        if isinstance(layer, keras.Model):
            steps += reversed(_chain_of(layer, name))
        else:
            steps.append((layer, node.input_tensors[0].shape, node.output_tensors[0].shape))
        tensor = node.input_tensors[0]
    return steps[::-1]


def _ensure_built(model, name: str, input_shape: tuple) -> None:
    """A Sequential model written without keras.Input is built here for the exercise's input."""
    if model.built and getattr(model, "inputs", None):
        return
    try:
        model.build((None, *input_shape))
    except Exception as error:
        raise ArchitectureFault(
            f"`{name}` could not be built for inputs of shape {(None, *input_shape)} "
            f"({type(error).__name__}). Start the model with keras.Input({input_shape})."
        ) from None


def describe_model(model, name: str, input_shape: tuple) -> tuple[list[LayerView], list[LayerView]]:
    """The folded chain of layers, and the dropout layers set aside from it."""
    _ensure_built(model, name, input_shape)
    chain: list[LayerView] = []
    dropouts: list[LayerView] = []
    for position, (layer, inputs, outputs) in enumerate(_chain_of(model, name), start=1):
        wrapper = type(layer).__name__ if type(layer).__name__ in WRAPPERS else None
        inner = layer.layer if wrapper else layer
        view = LayerView(
            position,
            _kind(inner),
            {**_settings(inner), **({"wrapper": wrapper} if wrapper else {})},
            _plain_shape(inputs),
            _plain_shape(outputs),
            int(layer.count_params()),
        )
        if view.kind in DROPOUT_KINDS:
            dropouts.append(view)
        elif (
            view.kind in ACTIVATION_KINDS
            and chain
            and chain[-1].settings.get("activation") == "linear"
        ):
            merged = {**chain[-1].settings, "activation": view.settings["activation"]}
            chain[-1] = LayerView(
                chain[-1].position, chain[-1].kind, merged, chain[-1].input_shape,
                view.output_shape, chain[-1].params,
            )  # fmt: skip
        else:
            chain.append(view)
    return chain, dropouts


def _allows(allowed, value) -> bool:
    if isinstance(allowed, dict):
        return (
            isinstance(value, int)
            and value >= allowed.get("min", value)
            and value <= allowed.get("max", value)
        )
    if isinstance(allowed, tuple):
        return value in allowed
    return value == allowed


def _wanted(allowed) -> str:
    if isinstance(allowed, dict):
        if "min" in allowed and "max" in allowed:
            return f"{allowed['min']} to {allowed['max']}"
        return f"at least {allowed['min']}" if "min" in allowed else f"at most {allowed['max']}"
    if isinstance(allowed, tuple):
        return " or ".join(repr(option) for option in allowed)
    return repr(allowed) if isinstance(allowed, str) else str(allowed)


def _count(allowed, noun: str) -> str:
    plural = noun if allowed == 1 else noun + "s"
    return f"{_wanted(allowed)} {plural}"


def describe_rule(rule: dict) -> str:
    """A rule in a few words, e.g. ``Conv1D (200 filters, kernel 3, relu)``."""
    details = [_count(rule[key], key[:-1]) for key in ("units", "filters") if key in rule]
    if "kernel_size" in rule:
        details.append(f"kernel {_wanted(rule['kernel_size'])}")
    if "pool_size" in rule:
        details.append(f"pool {_wanted(rule['pool_size'])}")
    if "repeats" in rule:
        details.append(_count(rule["repeats"], "repeat"))
    if "vocabulary" in rule:
        details.append(f"{rule['vocabulary']} words x {rule['dimensions']} dimensions")
    if "activation" in rule:
        details.append(_wanted(rule["activation"]).replace("'", ""))
    if rule.get("return_sequences"):
        details.append("return_sequences=True")
    kind = " or ".join(_kinds(rule))
    described = f"{kind} ({', '.join(details)})" if details else kind
    return f"{rule['wrapper']}({described})" if "wrapper" in rule else described


def _kinds(rule: dict) -> tuple:
    return rule["kind"] if isinstance(rule["kind"], tuple) else (rule["kind"],)


def _setting_fault(view: LayerView, rule: dict, key: str) -> str:
    got, wanted = view.settings.get(key), _wanted(rule[key])
    role = rule.get("role", "the exercise")
    if key == "activation" and "why" in rule:
        return f"The output layer ({view.kind}, layer {view.position}) uses '{got}'; {rule['why']} {wanted}."
    if key in ("activation", "recurrent_activation") and view.kind in RECURRENT_KINDS:
        part = "cell needs" if key == "activation" else "gates need"
        return (
            f"{view.label} uses the {key.replace('_', ' ')} '{got}', but the {view.kind}'s "
            f"{part} {wanted} (Keras' default): leave {key} out."
        )
    if key == "activation":
        return f"{view.label} uses the activation '{got}'; {role} needs {wanted}."
    if key == "wrapper":
        return (
            f"{view.label} is applied on its own; {role} needs it wrapped: "
            f"{rule['wrapper']}({view.kind}(...))."
        )
    if key == "repeats":
        return f"{view.label} repeats its input {got} times; {role} needs {wanted}."
    if key in ("vocabulary", "dimensions"):
        return (
            f"{view.label} maps a vocabulary of {view.settings['vocabulary']} words to vectors "
            f"of {view.settings['dimensions']} numbers; the lab uses {rule['vocabulary']} words "
            f"and {rule['dimensions']} numbers."
        )
    described = {
        "kernel_size": "a kernel of size",
        "pool_size": "a pool of size",
        "padding": "padding",
    }.get(key)
    if described:
        return f"{view.label} uses {described} {got!r}; {role} needs {wanted}."
    return f"{view.label} has {got} {key.replace('_', ' ')}; {role} needs {wanted}."


def _sequence_fault(view: LayerView, rule: dict, wants_sequence: bool) -> str | None:
    if bool(view.settings.get("return_sequences")) == wants_sequence:
        return None
    if wants_sequence:
        who = (
            rule.get("role", f"this {view.kind}")
            if rule.get("return_sequences")
            else (f"every {view.kind} but the last")
        )
        return (
            f"{view.label} outputs {view.output_shape} but {who} must return a sequence: "
            "set return_sequences=True."
        )
    return (
        f"{view.label} outputs a whole sequence {view.output_shape}, but the layer after it "
        f"needs one vector per example: leave return_sequences off on the last {view.kind}."
    )


def rule_fault(view: LayerView, rule: dict, wants_sequence: bool | None = None) -> str | None:
    """Why ``view`` breaks ``rule``, or None when it follows it."""
    if view.kind not in _kinds(rule):
        return (
            f"Layer {view.position} is a {view.kind}, but the exercise asks for "
            f"{describe_rule(rule)} there."
        )
    for key in rule:
        if key in ("kind", "role", "why", "repeat", "return_sequences"):
            continue
        if not _allows(rule[key], view.settings.get(key)):
            return _setting_fault(view, rule, key)
    if view.kind in RECURRENT_KINDS:
        wanted = bool(rule.get("return_sequences")) if wants_sequence is None else wants_sequence
        return _sequence_fault(view, rule, wanted)
    return None


def _fault_in_place(chain: list[LayerView], index: int, rule: dict, fault: str) -> str:
    """Name an extra or a missing layer when that explains the fault better."""
    if index + 1 < len(chain) and rule_fault(chain[index + 1], rule) is None:
        return f"{chain[index].label} is an extra layer that the exercise does not ask for."
    return fault


def _raise_if_swapped(chain: list[LayerView], index: int, rules: list, at: int, name: str) -> None:
    """Two neighbouring layers in each other's place: name the swap."""
    if (
        index + 1 < len(chain)
        and at + 1 < len(rules)
        and chain[index].kind in _kinds(rules[at + 1])
        and chain[index + 1].kind in _kinds(rules[at])
    ):
        raise ArchitectureFault(
            f"`{name}` has {chain[index].label} and {chain[index + 1].label} the wrong way round: "
            f"the exercise puts {describe_rule(rules[at])} first, then {describe_rule(rules[at + 1])}."
        )


def _raise_if_next_missing(
    chain: list[LayerView], index: int, rules: list, at: int, name: str
) -> None:
    """The layer after a matched stack is the one the rule after next asks for."""
    if at + 2 >= len(rules) or index >= len(chain) or rules[at + 1].get("repeat", (1,))[0] == 0:
        return
    if chain[index].kind not in _kinds(rules[at + 1]) and chain[index].kind in _kinds(
        rules[at + 2]
    ):
        raise ArchitectureFault(
            f"`{name}` is missing {describe_rule(rules[at + 1])} after {chain[index - 1].label}."
        )


def match_chain(chain: list[LayerView], rules: list[dict], name: str) -> None:
    """Raise ``ArchitectureFault`` at the first layer that breaks the rules."""
    index = 0
    for rule_index, rule in enumerate(rules):
        low, high = rule.get("repeat", (1, 1))
        stack = []
        while len(stack) < high and index < len(chain) and chain[index].kind in _kinds(rule):
            stack.append(chain[index])
            index += 1
        if len(stack) < low:
            _raise_if_swapped(chain, index, rules, rule_index, name)
            if index >= len(chain):
                needed = ", ".join(describe_rule(missing) for missing in rules[rule_index:])
                raise ArchitectureFault(f"`{name}` stops too early: it still needs {needed}.")
            if (
                rule_index + 1 < len(rules)
                and rule_fault(chain[index], rules[rule_index + 1]) is None
            ):
                raise ArchitectureFault(
                    f"`{name}` is missing {describe_rule(rule)} before {chain[index].label}."
                )
            fault = rule_fault(chain[index], rule) or ""
            raise ArchitectureFault(_fault_in_place(chain, index, rule, fault))
        if len(stack) > 1 and index < len(chain) and chain[index].kind in _kinds(rule):
            raise ArchitectureFault(
                f"`{name}` stacks more than {high} {chain[index].kind} layers; the exercise "
                f"allows at most {high}."
            )
        _raise_if_next_missing(chain, index, rules, rule_index, name)
        start = index - len(stack)
        for offset, view in enumerate(stack):
            last = offset == len(stack) - 1
            fault = rule_fault(view, rule, None if last else True)
            if fault:
                raise ArchitectureFault(
                    _fault_in_place(chain, start + offset, rule, fault) if last else fault
                )
    if index < len(chain):
        raise ArchitectureFault(
            f"{chain[index].label} is an extra layer: the exercise's model ends with "
            f"{describe_rule(rules[-1])}."
        )


# Arguments that drop or blur a share of a layer's inputs: a dropout layer's rate (or
# GaussianNoise's stddev), and a recurrent layer's own dropout on its inputs and its state.
DROPOUT_ARGUMENTS = ("rate", "stddev", "dropout", "recurrent_dropout")


def dropout_fault(model, allowed) -> str | None:
    """With ``allowed`` a number (a spec's ``"dropout": 0.5``), why a layer drops more than that
    share of its inputs, if one does: the grader's short training is calibrated on designs
    that drop at most that much. ``True``, ``False`` or None: no limit here."""
    if isinstance(allowed, bool) or not isinstance(allowed, (int, float)):
        return None
    for position, layer in enumerate(model.layers, start=1):
        config = layer.get_config()
        for argument in DROPOUT_ARGUMENTS:
            value = config.get(argument)
            if isinstance(value, (int, float)) and not isinstance(value, bool) and value > allowed:
                return (
                    f"Layer {position} ({_kind(layer)}) has {argument}={value:g}; the grader's "
                    f"short training needs {allowed:g} or less, so lower it."
                )
    return None


def check_chain(model, name: str, spec: dict) -> list[LayerView]:
    """Input, layers, dropout and output of ``model`` against ``spec``; returns the chain."""
    chain, dropouts = describe_model(model, name, tuple(spec["input"]))
    got_input = _plain_shape(model.inputs[0].shape)[1:]
    if got_input != tuple(spec["input"]):
        raise ArchitectureFault(f"`{name}` reads inputs of shape {got_input}; {spec['input_hint']}")
    if dropouts and not spec.get("dropout", False):
        raise ArchitectureFault(
            f"{dropouts[0].label}: this model has no dropout layers; remove it."
        )
    if fault := dropout_fault(model, spec.get("dropout")):
        raise ArchitectureFault(fault)
    match_chain(chain, list(spec["layers"]), name)
    return chain


def parameter_fault(view: LayerView) -> str | None:
    """Why a layer's parameter count disagrees with the formula for its own sizes, if it does."""
    settings, inputs = view.settings, view.input_shape[-1] if view.input_shape else 0
    size = settings.get("units", settings.get("filters", 0))
    expected = {
        "Dense": inputs * size + size,
        "Embedding": settings.get("vocabulary", 0) * settings.get("dimensions", 0),
        "Conv1D": settings.get("kernel_size", 0) * inputs * size + size,
        "Conv2D": settings.get("kernel_area", 0) * inputs * size + size,
        "SimpleRNN": size * (size + inputs + 1),
        "LSTM": 4 * size * (size + inputs + 1),
        "GRU": 3 * size * (size + inputs + 2),
    }.get(view.kind, 0 if view.kind in PARAMETER_FREE_KINDS else None)
    if expected is None or int(view.params) == int(expected):
        return None
    formula = FORMULAS.get(view.kind, "no weights")
    return (
        f"{view.label} has {int(view.params):,} parameters, but a {view.kind} of its sizes has "
        f"{int(expected):,} ({formula}). Keep the layer's bias, and use Keras' standard layer."
    )
