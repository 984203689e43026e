"""The checks behind the digits lab's tests, public and hidden.

Each check returns quietly when the answer is right and raises ``CheckFailed`` (an
``AssertionError``) with a message for the student when it is not. The tests pass in what
they expect (spec names, digests of counts and shapes, thresholds), so this module holds no
answer and no threshold; the tests carry their specs, derived from the reference when the
lab is built. Everything that is not about this lab comes from ``labkit``; this module names
the axes of its shapes and the wording of a failed accuracy check.
"""

from __future__ import annotations

import functools

import digits_support
from labkit import checks
from labkit.checks import (  # noqa: F401  (the names the lab's tests and notebook use)
    NOTES,
    CheckFailed,
    GraderProblem,
    Measurement,
    check_architecture,
    check_hand_count,
    check_parameters,
    count_digest,
    fail,
    judge,
    shape_digest,
)
from labkit.display import brief_results, failure_sentence, show_results_briefly  # noqa: F401

CHECK_SEED = 1234

check_hand_shape = functools.partial(
    checks.check_hand_shape, axes=("rows", "columns", "channels"), example="(5, 5, 4)", one="image"
)
ACCURACY = checks.DatasetChecks(
    digits_support.DATASET, seed=CHECK_SEED,
    scored="labelled {accuracy:.1%} of {examples} held-out images correctly",
    where_to_look="the layers in between: the convolution's filters, the pooling and anything you added",
)  # fmt: skip
check_accuracy = ACCURACY.check_accuracy
MEASUREMENTS = ACCURACY.measurements

show_results_briefly()
