"""The convolutional-networks lab: handwritten digits (8 x 8 images) with a small CNN.

This file is the lab's interface to the toolkit (``autograder.lab.folder.LabSpec``): its
questions, the shipped modules, its data and accuracy task.
"""

from autograder.lab.folder import LabSpec
from autograder.lab.questions import (
    SLOWEST,
    CountQuestion,
    DerivedSpec,
    Free,
    ManualQuestion,
    ModelQuestion,
    Reference,
    ShapeQuestion,
)
from digits_support import CLASSES, DATASET, IMAGE_SHAPE
from labkit.checks import ADAPTIVE_OPTIMIZERS

CNN = Reference(f"{__name__}.reference.digits_models", "build_cnn_model")

# What question 3 fixes is the reference's (input, output layer, loss, a 3 x 3 ReLU
# convolution, max-pooling, Flatten); what it lets vary: the number of filters (at least 8),
# a second convolution, 'same' or 'valid' padding, the pooling size and dropout. The lab
# compiles with Adam at Keras' default rate, 0.001; below it the smallest network allowed (8
# filters, pooling of 3) learns too little in the grader's 20 epochs (about 0.72 of held-out
# images at 0.0003, against 0.91 at 0.001), so the rate must be 0.001 or more, and the
# threshold is calibrated on that network (SLOWEST: 8 filters, pooling of 3).
CNN_SPEC = DerivedSpec(
    vary={
        "layers[0]": {"filters": {"min": 8}, "padding": ("same", "valid"), "repeat": (1, 2),
                      "role": "the convolution"},
        "layers[1]": {"pool_size": Free(slowest=3), "role": "the pooling layer"},
        "dropout": True,
        "input_hint": f"each image is {IMAGE_SHAPE[0]} x {IMAGE_SHAPE[1]} pixels with one grey "
        f"channel, so start with keras.Input({IMAGE_SHAPE}).",
    },
    optimizer={**ADAPTIVE_OPTIMIZERS, "learning_rate": (1e-3, 1e-2)},
    why=f"a choice among {CLASSES} digits needs",
)  # fmt: skip

QUESTIONS = {
    "q1_count": CountQuestion(
        variable="count_conv",
        reference=CNN,
        hint="A Conv2D layer with f filters of h x w pixels, reading c channels, has h x w x c "
        "weights per filter plus one bias per filter.",
        layer="Conv2D",
    ),
    "q2_shape": ShapeQuestion(
        variable="shape_after_pooling",
        reference=CNN,
        layer="MaxPooling2D",
        hint="A 'valid' 3 x 3 convolution loses one pixel at each edge and gives one channel per "
        "filter; pooling of size 2 then halves the rows and the columns.",
    ),
    # Batches of 16: twice the steps of 32 for the same epochs, which the smallest designs the
    # spec allows (8 filters, pooling of 3) need to learn within the budget. On one core the
    # reference's whole budget (20 epochs) takes about 3 s; its check stops once the threshold
    # is reached (after 2 epochs, about 1-1.5 s with start-up).
    "q3": ModelQuestion(
        variable="model_cnn",
        builder=CNN,
        spec=CNN_SPEC,
        fixed_total=False,
        accuracy_check="digits",
        batch_size=16,
        check_seconds=1.5,
        calibration_designs=(SLOWEST,),
    ),
    "q3_why": ManualQuestion(),
}

LAB = LabSpec(
    questions=QUESTIONS,
    support_module="digits_support",
    checks_module="digits_checks",
    sandbox_files=("digits_support.py", "profiles.toml"),  # what a graded notebook reads
    dataset=DATASET,  # its accuracy task "digits": chance and held-out count from the data
)
