"""The checks behind the digits lab's tests, public and hidden.

Each check returns quietly when the answer is right and raises ``CheckFailed`` (an
``AssertionError``) with a message for the student when it is not. The tests pass in what
they expect (spec names, digests of counts and shapes, thresholds), so this module holds no
answer and no threshold. Everything that is not about this lab comes from ``labkit``; this
module names the lab's specs, the axes of its shapes and the wording of a failed accuracy
check.
"""

from __future__ import annotations

import functools

import digits_specs
import digits_support
from labkit import checks
from labkit.checks import (  # noqa: F401  (the names the lab's tests and notebook use)
    NOTES,
    CheckFailed,
    GraderProblem,
    Measurement,
    check_hand_count,
    count_digest,
    fail,
    judge,
    shape_digest,
)
from labkit.display import brief_results, failure_sentence, show_results_briefly  # noqa: F401

CHECK_SEED = 1234

# The checks the tests call with a spec's name ("CNN"), resolved in digits_specs.SPECS.
SPECS = checks.SpecBook(digits_specs.SPECS)
check_architecture = SPECS.check_architecture
check_parameters = SPECS.check_parameters
check_hand_shape = functools.partial(
    checks.check_hand_shape, axes=("rows", "columns", "channels"), example="(5, 5, 4)", one="image"
)
ACCURACY = checks.DatasetChecks(
    digits_support.DATASET, SPECS, seed=CHECK_SEED,
    scored="labelled {accuracy:.1%} of {examples} held-out images correctly",
    where_to_look="the layers in between: the convolution's filters, the pooling and anything you added",
)  # fmt: skip
check_accuracy = ACCURACY.check_accuracy
MEASUREMENTS = ACCURACY.measurements

show_results_briefly()
