"""What each model exercise fixes and what it lets students vary (read by ``digits_checks``).

This module ships next to the student notebook, so a test names a spec (``"CNN"``) instead
of carrying it. Specs are plain data in the format of ``labkit.architecture``: a setting is
one allowed value, a tuple of allowed values, or ``{"min": n}``; ``repeat`` allows a stack.
Fixed: the input, the output layer, the loss, and the layer kinds the exercise is about (a
3 x 3 ReLU convolution, max-pooling, Flatten). Free: the number of filters (at least 8), a
second convolution, 'same' or 'valid' padding, the pooling size and dropout. ``builder``
names the notebook function that builds the answer, so a message can point at it;
``optimizer`` says which optimizers and learning rates a fresh copy can learn with inside the
grader's small budget.
"""

from __future__ import annotations

from digits_support import CLASSES, IMAGE_SHAPE
from labkit.checks import ADAPTIVE_OPTIMIZERS

IMAGE_INPUT_HINT = (
    f"each image is {IMAGE_SHAPE[0]} x {IMAGE_SHAPE[1]} pixels with one grey channel, so start "
    f"with keras.Input({IMAGE_SHAPE})."
)
# The lab compiles with Adam at Keras' default learning rate, 0.001. Below it, the smallest
# network the spec allows (8 filters, pooling of 3) learns too little in the grader's 20 epochs
# (about 0.72 of held-out images at 0.0003, against 0.91 at 0.001), so this lab asks for a
# rate of 0.001 or more, and its threshold is calibrated on that network (``slow_designs``).
OPTIMIZER = {**ADAPTIVE_OPTIMIZERS, "learning_rate": (1e-3, 1e-2)}
PADDING = ("same", "valid")
DIGIT_PROBABILITIES = {
    "kind": "Dense", "units": CLASSES, "activation": "softmax",
    "role": "the output layer", "why": f"a choice among {CLASSES} digits needs",
}  # fmt: skip

CNN = {
    "builder": "build_cnn_model",
    "input": IMAGE_SHAPE,
    "input_hint": IMAGE_INPUT_HINT,
    "output": (CLASSES,),
    "loss": "sparse_categorical_crossentropy",  # the labels are whole numbers 0..9
    "optimizer": OPTIMIZER,
    "dropout": True,
    "layers": [
        {
            "kind": "Conv2D",
            "filters": {"min": 8},
            "kernel_size": 3,
            "padding": PADDING,
            "activation": "relu",
            "repeat": (1, 2),
            "role": "the convolution",
        },  # fmt: skip
        {"kind": "MaxPooling2D", "role": "the pooling layer"},
        {"kind": "Flatten"},
        DIGIT_PROBABILITIES,
    ],
}

SPECS = {"CNN": CNN}
