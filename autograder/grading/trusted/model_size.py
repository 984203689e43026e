"""How big a model is, read from its exported config before the checker builds it.

A model the checker cannot hold would kill the checker process (and, before, every answer
checked in it): an LSTM of 900,000 units passes the per-integer cap on sizes yet has about
3 x 10^12 weights. ``estimate`` walks the layers in order, tracking each output's axes (a
sequence's steps, an image's rows and columns) and width (the last axis), and counts weights
with Keras' formulas; ``refusal`` says why a model is too big to train, or nothing.

Formulas (Keras' ``count_params`` for these layers): Dense ``(n_in + 1) * units``; Embedding
``input_dim * output_dim``; Conv1D, Conv2D and Conv3D ``(product of the kernel's sizes * n_in
+ 1) * filters`` (without the 1 when ``use_bias=False``; separable convolutions are counted
as full ones, an overestimate); SimpleRNN, GRU, LSTM
``gates * units * (n_in + units + 1)`` with 1, 3 and 4 gates (GRU's ``reset_after`` adds
``3 * units``); Bidirectional twice its layer. Other layers are counted as weightless, which
is right for every other layer this lab's models use.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

# The lab's largest model, the CNN, has about 13.6 million weights; Adam keeps two more
# copies while training, so 50 million weights take about 600 MB.
MAX_PARAMETERS = 50_000_000
# Floats one training example holds across all layers' outputs (kept for backpropagation);
# at batch size 32, 25 million floats per example are about 3.2 GB.
MAX_ACTIVATIONS_PER_EXAMPLE = 25_000_000
RECURRENT_GATES = {"SimpleRNN": 1, "GRU": 3, "LSTM": 4}
# The axes a convolution's or pooling's window slides over, by the layer's name's ending.
SPATIAL_AXES = {
    f"{prefix}{n}D": n
    for n in (1, 2, 3)
    for prefix in ("Conv", "SeparableConv", "MaxPooling", "AveragePooling")
}


@dataclass
class Size:
    """Weights, and floats held per training example by the layers' outputs."""

    parameters: int = 0
    activations: int = 0


@dataclass
class Shape:
    """An output's axes between the batch and the last (a sequence's steps; an image's rows
    and columns; none for a vector) and its width (the last axis)."""

    axes: tuple[int, ...]
    width: int

    @property
    def floats(self) -> int:
        return math.prod(self.axes) * self.width


def _int(value: Any, default: int = 0) -> int:
    if isinstance(value, list | tuple):
        value = value[0] if value else default
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _ints(value: Any, count: int, default: int) -> tuple[int, ...]:
    """A size per spatial axis, as Keras' layers take them: one number or one per axis."""
    values = list(value) if isinstance(value, list | tuple) else [value] * count
    return tuple(max(1, _int(v, default)) for v in (values + [default] * count)[:count])


def _window(shape: Shape, config: dict, count: int, size_key: str, default: int) -> tuple:
    """The axes after a convolution's or pooling's window slides over the last ``count``
    axes (Keras' ``compute_output_shape``: ``valid`` padding drops the window's overhang,
    then the strides divide, rounding up), with the window's sizes."""
    window = _ints(config.get(size_key), count, default)
    default_strides = window if size_key == "pool_size" else 1  # pooling: its own size
    strides = _ints(config.get("strides") or default_strides, count, 1)
    axes = list(shape.axes) or [1]
    kept, sliding = axes[:-count] if len(axes) > count else [], axes[-count:]
    out = []
    for length, size, stride in zip(sliding, window, strides, strict=False):
        if config.get("padding", "valid") == "valid":
            length = max(1, length - size + 1)
        out.append(-(-length // stride))
    return (*kept, *out), window


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
        return Shape(tuple(dims[:-1]), dims[-1])
    if kind in ("TimeDistributed", "Bidirectional"):
        inner = config.get("layer") or {}
        before = size.parameters
        out = _layer(inner, shape, size)
        if kind == "Bidirectional":
            size.parameters += size.parameters - before
            out = Shape(out.axes, out.width * 2)
        return out
    width = shape.width
    bias = 1 if config.get("use_bias", True) else 0
    spatial = SPATIAL_AXES.get(kind, 0)
    if kind == "Embedding":
        size.parameters += _int(config.get("input_dim")) * _int(config.get("output_dim"))
        out = Shape((*shape.axes, width), _int(config.get("output_dim")))
    elif kind == "Dense":
        units = _int(config.get("units"))
        size.parameters += (width + bias) * units
        out = Shape(shape.axes, units)
    elif kind.startswith(("Conv", "SeparableConv")) and spatial:
        filters = _int(config.get("filters"))
        axes, window = _window(shape, config, spatial, "kernel_size", 1)
        size.parameters += (math.prod(window) * width + bias) * filters
        out = Shape(axes, filters)
    elif kind in RECURRENT_GATES:
        units = _int(config.get("units"))
        gates = RECURRENT_GATES[kind]
        size.parameters += gates * units * (width + units + 1)
        if kind == "GRU" and config.get("reset_after", True):
            size.parameters += gates * units
        out = Shape(shape.axes if config.get("return_sequences") else (), units)
    elif kind.startswith(("MaxPooling", "AveragePooling")) and spatial:
        out = Shape(_window(shape, config, spatial, "pool_size", 2)[0], width)
    elif kind == "Flatten":
        out = Shape((), shape.floats)
    elif kind.startswith(("GlobalMaxPooling", "GlobalAveragePooling")):
        out = Shape((), width)
    elif kind == "RepeatVector":
        out = Shape((_int(config.get("n"), 1),), width)
    else:
        out = shape
    size.activations += out.floats
    return out


def estimate(config: dict) -> Size:
    """The weights and per-example activations of the model that ``config`` (Keras'
    ``model.to_json()``, parsed) describes."""
    size = Size()
    _layer(config, Shape((), 0), size)
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
