"""A model's architecture and compile settings with the names a user picked taken out: what
the measurement store keys an accuracy measurement on (``autograder.grading.trusted.store``).

Names the student picked, or Keras counted up, change nothing a training computes; every
other setting is kept.
"""

from __future__ import annotations

import json

# Models' classes, whose config "name" is a name a user picks (as layers' are).
MODEL_CLASSES = ("Sequential", "Functional", "Model")
REFERENCE_KEYS = ("input_layers", "output_layers")
CANONICAL = "\x00layer{}"  # no Keras name can clash with these


def _is_layer(node: dict) -> bool:
    module = node.get("module") or ""
    return isinstance(node.get("config"), dict) and (
        module.startswith(("keras.layers", "keras.src.layers", "keras.src.models"))
        or node.get("class_name") in MODEL_CLASSES
    )


def _layer_names(node, names: dict[str, str]) -> None:
    """Collect every layer's and model's name in order of appearance."""
    if isinstance(node, dict):
        if _is_layer(node) and isinstance(name := node["config"].get("name"), str):
            names.setdefault(name, CANONICAL.format(len(names)))
        for value in node.values():
            _layer_names(value, names)
    elif isinstance(node, list):
        for value in node:
            _layer_names(value, names)


def _renamed(node, names: dict[str, str], key: str | None = None):
    """``node`` with layer names replaced where Keras uses them as names: a layer's or model's
    ``name``, a tensor's ``keras_history`` and a functional model's input and output lists.
    Nowhere else (an activation called "relu" stays, even beside a layer called "relu")."""
    if isinstance(node, dict):
        renamed = {k: _renamed(v, names, k) for k, v in node.items()}
        if _is_layer(node):
            renamed["config"] = {**renamed["config"], "name": names.get(node["config"].get("name"))}
            if "name" in node:
                renamed["name"] = names.get(node["name"], node["name"])
        if "keras_history" in node and node["keras_history"]:
            history = list(node["keras_history"])
            renamed["keras_history"] = [names.get(history[0], history[0]), *history[1:]]
        return renamed
    if isinstance(node, list):
        if key in REFERENCE_KEYS:
            return _references(node, names)
        return [_renamed(value, names) for value in node]
    return node


def _references(node, names):
    """``[name, node index, tensor index]`` entries (possibly nested) with names replaced."""
    if isinstance(node, list) and node and isinstance(node[0], str):
        return [names.get(node[0], node[0]), *node[1:]]
    if isinstance(node, list):
        return [_references(value, names) for value in node]
    return node


def canonical_architecture(model_json: str) -> dict:
    """A model's JSON (``model.to_json()``) with its layers' and its own names replaced by
    their order of appearance: names the student picked, or Keras counted up, change nothing
    a training computes; every other setting (units, activations, initializers, dropout,
    ``trainable``, dtype policies) is kept."""
    architecture = json.loads(model_json)
    architecture.pop("compile_config", None)  # keyed on its own, by canonical_compile
    names: dict[str, str] = {}
    _layer_names(architecture, names)
    return _renamed(architecture, names)


def canonical_compile(compile_config: dict) -> dict:
    """The compile configuration without the optimizer's own name (a label only)."""
    config = json.loads(json.dumps(compile_config, default=str))
    optimizer = config.get("optimizer")
    if isinstance(optimizer, dict) and isinstance(optimizer.get("config"), dict):
        optimizer["config"].pop("name", None)
    return config
