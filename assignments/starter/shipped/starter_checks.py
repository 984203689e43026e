"""The checks behind the lab's tests (``labkit``), with its wording."""

from labkit.checks import DatasetChecks, check_architecture, check_hand_count, check_parameters  # noqa: F401
from starter_support import DATASET

ACCURACY = DatasetChecks(
    DATASET, seed=1234, scored="classified {accuracy:.1%} of {examples} held-out examples correctly",
    where_to_look="the hidden layer: its width, its activation and any dropout",
)  # fmt: skip
check_accuracy, MEASUREMENTS = ACCURACY.check_accuracy, ACCURACY.measurements
