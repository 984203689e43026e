"""The checks behind the digits lab's tests (``labkit``), with its wording: the axes of its
shapes and what a failed accuracy check says."""

import functools

from digits_support import DATASET
from labkit import checks
from labkit.checks import DatasetChecks, check_architecture, check_hand_count, check_parameters  # noqa: F401

check_hand_shape = functools.partial(
    checks.check_hand_shape, axes=("rows", "columns", "channels"), example="(5, 5, 4)", one="image"
)
ACCURACY = DatasetChecks(
    DATASET, seed=1234, scored="labelled {accuracy:.1%} of {examples} held-out images correctly",
    where_to_look="the layers in between: the convolution's filters, the pooling and anything you added",
)  # fmt: skip
check_accuracy, MEASUREMENTS = ACCURACY.check_accuracy, ACCURACY.measurements
