"""The checks behind the lab's tests, public and hidden.

Each check returns quietly when the answer is right and raises ``AssertionError`` with a
message for the student when it is not. The tests pass in what they expect (architecture
specs, counts, thresholds), so this module holds no answer and no threshold. Values taken
from the student's objects are turned into plain ``int``/``str``/``tuple`` before any
comparison, so an object that claims to equal everything cannot pass.
"""

from __future__ import annotations

import functools

import numpy as np

import lab_specs
import lab_support
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
    student_check,
)
from labkit.display import brief_results, failure_sentence, show_results_briefly  # noqa: F401

CHECK_SEED = 1234
FRESH_ADDITIONS = 10_000
PREDICT_BATCH = 100  # larger batches predict faster but hold more activations in memory
# An adder's activations are small (7 or 4 steps of 128 numbers a problem): 1,000 problems a
# batch score 10,000 in about 0.4 s against 0.55 s in batches of 100, with the same predictions
# bit for bit (one thread, the grading profile's adder after 2 epochs).
ADDER_PREDICT_BATCH = 1_000
# Looks at the held-out reviews in a review check's first epoch (labkit.checks.
# look_positions): half-way and at its end. The reference CNN and LSTM clear their thresholds
# half-way through it, and a look costs about an eighth of an epoch. The adder's checks clear
# theirs only in later epochs, so they look once an epoch.
REVIEW_FIRST_EPOCH_LOOKS = 2


# The checks the tests call with a spec's name ("CNN"), resolved in lab_specs.SPECS.
SPECS = checks.SpecBook(lab_specs.SPECS)
_spec = SPECS.spec
check_architecture = SPECS.check_architecture
check_parameters = SPECS.check_parameters


def imdb_accuracy(
    model,
    batch_size: int,
    seed: int = CHECK_SEED,
    extra_epochs: int = 0,
    enough: float | None = None,
) -> Measurement:
    """Train a fresh copy within the active profile's budget; its held-out accuracy.

    The checks and the threshold calibration both measure through here, so a threshold
    is calibrated against exactly the training a grading run does (calibration trains the
    whole budget, without ``enough``).
    """
    profile = lab_support.active_profile()
    lab_support.set_seeds(seed)  # the copy trained below draws its weights; loading draws none
    loaded = {}

    def load():
        data = loaded["data"] = lab_support.load_imdb(profile=profile)

        def score(trained) -> float:
            scores = np.asarray(trained.predict(data.x_test, batch_size=PREDICT_BATCH, verbose=0))
            return float(np.mean((scores[:, 0] > 0.5) == (data.y_test == 1)))

        return data.x_train, data.y_train, score

    source = lab_support.imdb_source_name()
    reviews = [profile.train_reviews, profile.test_reviews]
    # Either of Keras' sources holds 25,000 reviews a split, more than a capped profile keeps;
    # for the whole of them, or a local file of any size, the counts come from the data.
    if None in reviews or source not in (lab_support.GENERATED_SOURCE, "keras"):
        load()
        reviews = [len(loaded["data"].y_train), len(loaded["data"].y_test)]
    identity = {"task": "imdb", "seed": seed, "data": source, "reviews": reviews}
    accuracy, epochs, reused = checks.train_and_score(
        model,
        load,
        profile.check_epochs + extra_epochs,
        batch_size,
        enough,
        identity,
        first_epoch_looks=REVIEW_FIRST_EPOCH_LOOKS,
    )
    train_reviews, test_reviews = reviews
    budget = f"{epochs} epoch(s) on {train_reviews} reviews"
    return Measurement(accuracy, test_reviews, budget, reused)


def adder_accuracy(
    model,
    batch_size: int,
    seed: int = CHECK_SEED,
    extra_epochs: int = 0,
    enough: float | None = None,
) -> Measurement:
    """Train a fresh copy within the profile's budget; its accuracy per answer character.

    Per character, not per whole answer: after a grading budget of seconds a correct
    adder gets about 0.47 of the characters of new problems right (always guessing each
    position's most common character gets 0.32) but under 1% of whole answers, too few
    to tell a working model from a broken one.
    """
    profile = lab_support.active_profile()
    lab_support.set_seeds(seed)  # the copy trained below draws its weights; loading draws none

    def load():
        training = lab_support.load_additions(profile.adder_problems, seed=seed, train_fraction=1.0)
        fresh_pairs = lab_support.addition_pairs(
            FRESH_ADDITIONS, seed=seed + 1, exclude=frozenset(training.pairs)
        )
        x_fresh, y_fresh = lab_support.encode_additions(fresh_pairs)

        def score(trained) -> float:
            predicted = trained.predict(x_fresh, batch_size=ADDER_PREDICT_BATCH, verbose=0)
            return float(np.mean(np.argmax(predicted, axis=-1) == np.argmax(y_fresh, axis=-1)))

        return training.x_train, training.y_train, score

    identity = {
        "task": "adder",
        "seed": seed,
        "problems": [profile.adder_problems, FRESH_ADDITIONS],
    }
    accuracy, epochs, reused = checks.train_and_score(
        model, load, profile.adder_check_epochs + extra_epochs, batch_size, enough, identity
    )
    examples = FRESH_ADDITIONS * lab_support.ANSWER_LENGTH
    budget = f"{epochs} epoch(s) on {profile.adder_problems} problems"
    return Measurement(accuracy, examples, budget, reused)


MEASUREMENTS = {"imdb": imdb_accuracy, "adder": adder_accuracy}
# What a failed accuracy check tells the student, per task: what was scored, where to look.
FEEDBACK = {
    "imdb": (
        "labelled {accuracy:.1%} of {examples} held-out reviews correctly",
        "the layers in between: their order, their sizes and anything you added",
    ),
    "adder": (
        f"wrote {{accuracy:.1%}} of the answer characters of {FRESH_ADDITIONS} new problems right",
        "the encoder and decoder: their sizes and what each one reads",
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
    """A fresh copy of the model, trained within the profile's budget for ``task`` ("imdb" or
    "adder"), reaches the threshold for the data it was measured on after one of its epochs."""
    data_kind = lab_support.imdb_source_kind() if task == "imdb" else lab_support.GENERATED_SOURCE
    profile = lab_support.active_profile().name
    checks.check_accuracy_of(
        namespace,
        name,
        _spec(spec),
        functools.partial(MEASUREMENTS[task], batch_size=batch_size, extra_epochs=extra_epochs),
        checks.threshold(thresholds, profile, data_kind),
        profile,
        FEEDBACK[task],
    )


show_results_briefly()
