"""The convolutional-networks lab: handwritten digits (8 x 8 images) with a small CNN.

This file is the lab's interface to the toolkit (``autograder.lab.folder``): its questions, the
shipped modules, its data source and accuracy task.
"""

import digits_support
from autograder.lab.folder import AccuracyTask, DataOptions
from autograder.lab.questions import (
    CountQuestion,
    ManualQuestion,
    ModelQuestion,
    Reference,
    ShapeQuestion,
)

SUPPORT_MODULE = "digits_support"
CHECKS_MODULE = "digits_checks"
SANDBOX_FILES = ("digits_support.py", "profiles.toml")  # what a graded notebook reads beside it

DATA = DataOptions(
    sources={digits_support.DATA_SOURCE: digits_support.DATA_KIND},
    default=digits_support.DATA_SOURCE,
)
# Chance: always answering the most common digit of the 500 held-out images (58 of them).
ACCURACY_TASKS = {
    "digits": AccuracyTask(chance=0.116, data_kind=digits_support.DATA_KIND),
}


def digits_model(function: str) -> Reference:
    return Reference(f"{__name__}.reference.digits_models", function)


def slow_design(function: str) -> Reference:
    return Reference(f"{__name__}.reference.slow_designs", function)


QUESTIONS = {
    "q1_count": CountQuestion(
        "count_conv",
        digits_model("build_cnn_model"),
        "A Conv2D layer with f filters of h x w pixels, reading c channels, has h x w x c "
        "weights per filter plus one bias per filter.",
        layer="Conv2D",
    ),
    "q2_shape": ShapeQuestion(
        "shape_after_pooling",
        digits_model("build_cnn_model"),
        "MaxPooling2D",
        "A 'valid' 3 x 3 convolution loses one pixel at each edge and gives one channel per "
        "filter; pooling of size 2 then halves the rows and the columns.",
    ),
    # Batches of 16: twice the steps of 32 for the same epochs, which the smallest designs the
    # spec allows (8 filters, pooling of 3) need to learn within the budget. On one core the
    # reference's whole budget (20 epochs) takes about 3 s; its check stops once the threshold
    # is reached (after 2 epochs, about 1-1.5 s with start-up).
    "q3": ModelQuestion(
        "model_cnn",
        digits_model("build_cnn_model"),
        "CNN",
        False,
        "digits",
        batch_size=16,
        check_seconds=1.5,
        calibration_designs=(slow_design("build_smallest_cnn_model"),),
    ),
    "q3_why": ManualQuestion(),
}


def held_out_examples(task: str, profile: str) -> int:
    """How many held-out examples an accuracy check of ``task`` is scored on in ``profile``:
    the 500 held-out images, in every profile."""
    return digits_support.TEST_IMAGES
