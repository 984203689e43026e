"""How big a model is, read from its exported config before the checker builds it.

A model the checker cannot hold would kill the checker process (and, before, every answer
checked in it): an LSTM of 900,000 units passes the per-integer cap on sizes yet has about
3 x 10^12 weights. ``estimate`` walks the layers in order, tracking each output's sequence
length and width (the last axis), and counts weights with Keras' formulas; ``refusal`` says
why a model is too big to train, or nothing.

Formulas (Keras' ``count_params`` for these layers): Dense ``(n_in + 1) * units``; Embedding
``input_dim * output_dim``; Conv1D ``(kernel * n_in + 1) * filters``; SimpleRNN, GRU, LSTM
``gates * units * (n_in + units + 1)`` with 1, 3 and 4 gates (GRU's ``reset_after`` adds
``3 * units``); Bidirectional twice its layer. Other layers are counted as weightless, which
is right for every other layer this lab's models use.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# The lab's largest model, the CNN, has about 13.6 million weights; Adam keeps two more
# copies while training, so 50 million weights take about 600 MB.
MAX_PARAMETERS = 50_000_000
# Floats one training example holds across all layers' outputs (kept for backpropagation);
# at batch size 32, 25 million floats per example are about 3.2 GB.
MAX_ACTIVATIONS_PER_EXAMPLE = 25_000_000
RECURRENT_GATES = {"SimpleRNN": 1, "GRU": 3, "LSTM": 4}


@dataclass
class Size:
    """Weights, and floats held per training example by the layers' outputs."""

    parameters: int = 0
    activations: int = 0


@dataclass
class Shape:
    """An output's sequence length (None: no time axis) and width (its last axis)."""

    steps: int | None
    width: int


def _int(value: Any, default: int = 0) -> int:
    if isinstance(value, list | tuple):
        value = value[0] if value else default
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _layer(node: dict, shape: Shape, size: Size) -> Shape:
    """Add one layer's weights and output to ``size``; return its output shape."""
    kind, config = node.get("class_name"), node.get("config") or {}
    if kind in ("Sequential", "Functional", "Model"):
        for layer in config.get("layers", []):
            shape = _layer(layer, shape, size)
        return shape
    if kind == "InputLayer":
        dims = config.get("batch_shape") or config.get("batch_input_shape") or [None, 0]
        dims = [_int(d, 1) for d in dims[1:]] or [1]
        return Shape(dims[0] if len(dims) > 1 else None, dims[-1])
    if kind in ("TimeDistributed", "Bidirectional"):
        inner = config.get("layer") or {}
        before = size.parameters
        out = _layer(inner, shape, size)
        if kind == "Bidirectional":
            size.parameters += size.parameters - before
            out = Shape(out.steps, out.width * 2)
        return out
    width, steps = shape.width, shape.steps
    if kind == "Embedding":
        size.parameters += _int(config.get("input_dim")) * _int(config.get("output_dim"))
        out = Shape(width if steps is None else steps, _int(config.get("output_dim")))
    elif kind == "Dense":
        units = _int(config.get("units"))
        size.parameters += (width + 1) * units
        out = Shape(steps, units)
    elif kind in ("Conv1D", "SeparableConv1D"):
        filters, kernel = _int(config.get("filters")), _int(config.get("kernel_size"), 1)
        size.parameters += (kernel * width + 1) * filters
        stride = max(1, _int(config.get("strides"), 1))
        length = steps or 1
        if config.get("padding") == "valid":
            length = max(1, length - kernel + 1)
        out = Shape(-(-length // stride), filters)
    elif kind in RECURRENT_GATES:
        units = _int(config.get("units"))
        gates = RECURRENT_GATES[kind]
        size.parameters += gates * units * (width + units + 1)
        if kind == "GRU" and config.get("reset_after", True):
            size.parameters += gates * units
        out = Shape(steps if config.get("return_sequences") else None, units)
    elif kind in ("MaxPooling1D", "AveragePooling1D"):
        pool = max(1, _int(config.get("pool_size"), 2))
        stride = max(1, _int(config.get("strides"), pool))
        out = Shape(max(1, (steps or 1) // stride), width)
    elif kind == "Flatten":
        out = Shape(None, (steps or 1) * width)
    elif kind in ("GlobalMaxPooling1D", "GlobalAveragePooling1D"):
        out = Shape(None, width)
    elif kind == "RepeatVector":
        out = Shape(_int(config.get("n"), 1), width)
    else:
        out = shape
    size.activations += (out.steps or 1) * out.width
    return out


def estimate(config: dict) -> Size:
    """The weights and per-example activations of the model that ``config`` (Keras'
    ``model.to_json()``, parsed) describes."""
    size = Size()
    _layer(config, Shape(None, 0), size)
    return size


def refusal(config: dict) -> str | None:
    """Why the checker will not build this model (too big to train), or None."""
    size = estimate(config)
    if size.parameters > MAX_PARAMETERS:
        return (
            f"it would have about {size.parameters:,} weights, more than the grader can train "
            f"({MAX_PARAMETERS:,} at most; this lab's largest model has about 13.6 million); use fewer units or layers"
        )
    if size.activations > MAX_ACTIVATIONS_PER_EXAMPLE:
        return (
            f"its layers would output about {size.activations:,} numbers per example, more "
            f"than the grader can hold while training ({MAX_ACTIVATIONS_PER_EXAMPLE:,} at most)"
        )
    return None
