"""The checks behind the digits lab's tests, public and hidden.

Each check returns quietly when the answer is right and raises ``CheckFailed`` (an
``AssertionError``) with a message for the student when it is not. The tests pass in what
they expect (spec names, digests of counts and shapes, thresholds), so this module holds no
answer and no threshold. Everything that is not about this lab comes from ``labkit.checks``;
this module adds the lab's accuracy measurement (a fresh copy trained on the digits and
scored on the held-out images), its feedback wording, and resolves spec names in
``digits_specs.SPECS``.
"""

from __future__ import annotations

import functools

import numpy as np

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
    student_check,
)
from labkit.display import brief_results, failure_sentence, show_results_briefly  # noqa: F401

CHECK_SEED = 1234
SHAPE_AXES = ("rows", "columns", "channels")


# The checks the tests call with a spec's name ("CNN"), resolved in digits_specs.SPECS.
SPECS = checks.SpecBook(digits_specs.SPECS)
_spec = SPECS.spec
check_architecture = SPECS.check_architecture
check_parameters = SPECS.check_parameters


@student_check
def check_hand_shape(namespace: dict, name: str, digest: str | None = None, hint: str = "") -> None:
    """An image's shape worked out by hand, held in ``name``: a tuple of three whole numbers
    (rows, columns, channels; no batch size), and the right one if ``digest``
    (``shape_digest`` of the right shape) is given. Only Python and NumPy integers count,
    compared as plain ``int`` values."""
    if name not in namespace:
        fail(f"`{name}` is not defined yet: run the cell that sets it.")
    answer = namespace[name]
    example = "(5, 5, 4)"
    if type(answer) not in (tuple, list):
        fail(
            f"Write the shape as a tuple of three whole numbers (rows, columns, channels) such "
            f"as {example}; you gave {answer!r:.60}."
        )
    if len(answer) == len(SHAPE_AXES) + 1:
        fail(
            f"`{name}` has {len(answer)} numbers; give the shape of one image, (rows, columns, "
            f"channels), without the batch size that Keras shows first."
        )
    if len(answer) != len(SHAPE_AXES):
        fail(
            f"`{name}` has {len(answer)} numbers; a shape here has three: rows, columns and "
            f"channels, such as {example}."
        )
    if not all(type(size) is int or isinstance(size, np.integer) for size in answer):
        fail(
            f"Write each size in `{name}` as a whole number such as 5 (not 5.0 or '5'); you "
            f"gave {answer!r:.60}."
        )
    shape = tuple(int(size) for size in answer)
    if digest is not None and shape_digest(name, shape) != digest:
        fail(f"{shape} is not the right shape. {hint}".strip())


def digits_accuracy(
    model,
    batch_size: int,
    seed: int = CHECK_SEED,
    extra_epochs: int = 0,
    enough: float | None = None,
) -> Measurement:
    """Train a fresh copy within the active profile's budget; its accuracy on the 500
    held-out images.

    The checks and the threshold calibration both measure through here, so a threshold is
    calibrated against exactly the training a grading run does (calibration trains the whole
    budget, without ``enough``).
    """
    profile = digits_support.active_profile()
    source = digits_support.data_source()
    digits_support.set_seeds(seed)  # the copy trained below draws its weights; loading draws none

    def load():
        data = digits_support.load_digits_data(profile=profile)

        def score(trained) -> float:
            scores = np.asarray(trained(data.x_test, training=False))
            return float(np.mean(np.argmax(scores, axis=-1) == data.y_test))

        return data.x_train, data.y_train, score

    images = [digits_support.train_image_count(profile), digits_support.TEST_IMAGES]
    identity = {
        "task": "digits",
        "seed": seed,
        "data": source,
        "split_seed": digits_support.SPLIT_SEED,
        "images": images,
    }
    accuracy, epochs, reused = checks.train_and_score(
        model, load, profile.check_epochs + extra_epochs, batch_size, enough, identity
    )
    budget = f"{epochs} epoch(s) on {images[0]} images"
    return Measurement(accuracy, images[1], budget, reused)


MEASUREMENTS = {"digits": digits_accuracy}
# What a failed accuracy check tells the student, per task: what was scored, where to look.
FEEDBACK = {
    "digits": (
        "labelled {accuracy:.1%} of {examples} held-out images correctly",
        "the layers in between: the convolution's filters, the pooling and anything you added",
    ),
}


@student_check
def check_accuracy(
    namespace: dict,
    name: str,
    spec: str | dict,
    task: str,
    thresholds: dict[str, dict[str, float]],
    batch_size: int,
    extra_epochs: int = 0,
) -> None:
    """A fresh copy of the model, trained within the profile's budget for ``task``
    ("digits"), reaches the threshold for the data it was measured on after one of its epochs."""
    profile = digits_support.active_profile().name
    checks.check_accuracy_of(
        namespace,
        name,
        _spec(spec),
        functools.partial(MEASUREMENTS[task], batch_size=batch_size, extra_epochs=extra_epochs),
        checks.threshold(thresholds, profile, digits_support.DATA_KIND),
        profile,
        FEEDBACK[task],
    )


show_results_briefly()
