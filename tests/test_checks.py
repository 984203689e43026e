"""The check functions: right answers pass, wrong ones fail with a message naming the fault.

The variant corpus (test_variants.py) covers the exercises' valid and wrong answers; this
file covers the checks' own edges: hardening against objects that lie, unusual model
shapes, and the accuracy checks.
"""

import keras
import numpy as np
import pytest
from conftest import RNN_LAB
from keras import layers

import lab_checks
from autograder.lab.config import load_config
from autograder.lab.find import default_lab_folder
from autograder.lab.questions import question_tests
from reference import imdb_models

QUESTIONS = RNN_LAB.questions

SMOKE = {"smoke": {"generated": 0.65}}
RIGHT = lab_checks.count_digest("count", 125_501)


class EqualsEverything(int):
    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    __hash__ = int.__hash__


@pytest.mark.parametrize(
    "answer",
    [Ellipsis, True, "125501", 125501.5, EqualsEverything(7), np.array([125501]), None],
    ids=["ellipsis", "bool", "text", "fraction", "lying_int", "array", "none"],
)
def test_hand_count_must_be_a_plain_whole_number(answer):
    with pytest.raises(lab_checks.CheckFailed, match="whole number"):
        lab_checks.check_hand_count({"count": answer}, "count", RIGHT)


@pytest.mark.parametrize("answer", [125_501, np.int64(125_501), 125_501.0])
def test_hand_count_accepts_python_and_numpy_whole_numbers(answer):
    lab_checks.check_hand_count({"count": answer}, "count", RIGHT)


def test_wrong_hand_count_names_the_value_and_the_hint():
    with pytest.raises(lab_checks.CheckFailed, match="125,000 is not the right count. Add biases"):
        lab_checks.check_hand_count({"count": 125_000}, "count", RIGHT, hint="Add biases.")


def lstm_classifier(recurrent):
    model = keras.Sequential(
        [keras.Input((500,), dtype="int32"), layers.Embedding(10_000, 100), recurrent,
         layers.Dense(1, activation="sigmoid")]
    )  # fmt: skip
    model.compile(loss="binary_crossentropy", optimizer="adam")
    return model


def test_a_custom_class_named_like_a_keras_layer_does_not_pass():
    class LSTM(layers.LSTM):  # noqa: N801 - the point is the misleading name
        pass

    with pytest.raises(lab_checks.CheckFailed, match="Layer 2 is a custom LSTM"):
        lab_checks.check_architecture(
            {"model_lstm": lstm_classifier(LSTM(100))}, "model_lstm", "LSTM"
        )


def test_branching_model_is_refused_with_a_reason():
    tokens = keras.Input((500,))
    hidden = layers.Dense(250, activation="relu")(tokens)
    output = layers.Dense(1, activation="sigmoid")(layers.Concatenate()([hidden, tokens]))
    model = keras.Model(tokens, output)
    model.compile(loss="binary_crossentropy", optimizer="adam")
    with pytest.raises(lab_checks.CheckFailed, match="not a single chain of layers"):
        lab_checks.check_architecture(
            {"model_feedforward": model}, "model_feedforward", "FEEDFORWARD"
        )


def test_nested_sequential_inside_a_functional_model_is_read_through():
    encoder = keras.Sequential([layers.Embedding(10_000, 100), layers.LSTM(100)])
    tokens = keras.Input((500,), dtype="int32")
    model = keras.Model(tokens, layers.Dense(1, activation="sigmoid")(encoder(tokens)))
    model.compile(loss="binary_crossentropy", optimizer="adam")
    lab_checks.check_architecture({"model_lstm": model}, "model_lstm", "LSTM")
    lab_checks.check_parameters({"model_lstm": model}, "model_lstm", "LSTM")


def test_a_stack_deeper_than_allowed_is_named():
    model = keras.Sequential(
        [keras.Input((500,), dtype="int32"), layers.Embedding(10_000, 100)]
        + [layers.LSTM(100, return_sequences=True) for _ in range(2)]
        + [layers.LSTM(100), layers.Dense(1, activation="sigmoid")]
    )
    model.compile(loss="binary_crossentropy", optimizer="adam")
    with pytest.raises(
        lab_checks.CheckFailed,
        match="stacks more than 2 LSTM layers; the exercise allows at most 2",
    ):
        lab_checks.check_architecture({"model_lstm": model}, "model_lstm", "LSTM")


def test_fixed_total_names_both_counts():
    model = imdb_models.build_embedding_model()
    with pytest.raises(
        lab_checks.CheckFailed,
        match="has 13,500,501 parameters but the exercise's model has 125,501",
    ):
        lab_checks.check_parameters({"model": model}, "model", {"input": (500,)}, total=125_501)


def test_accuracy_check_passes_a_learner_and_fails_a_chance_model():
    lab_checks.check_accuracy(
        {"model_cnn": imdb_models.build_cnn_model()}, "model_cnn", "CNN", "imdb", SMOKE, 128
    )
    with pytest.raises(lab_checks.CheckFailed, match="needs at least 65.0%"):
        lab_checks.check_accuracy(
            {"model_feedforward": imdb_models.build_feedforward_model()},
            "model_feedforward",
            "FEEDFORWARD",
            "imdb",
            SMOKE,
            batch_size=128,
        )


@pytest.mark.parametrize(
    "enough, epochs",
    # calibration; any model reaches 0 at the first look (half-way through epoch 1); none 1.01
    [(None, 3), (0.0, 0.5), (1.01, 3)],
)
def test_accuracy_training_stops_once_the_accuracy_asked_for_is_reached(enough, epochs):
    model = imdb_models.build_feedforward_model()  # the smoke profile trains 3 epochs
    measured = lab_checks.imdb_accuracy(model, batch_size=128, enough=enough)
    assert measured.budget.startswith(f"{epochs} epoch(s)") and 0 <= measured.accuracy <= 1


def test_accuracy_check_trains_a_fresh_copy_not_the_students_weights():
    model = imdb_models.build_cnn_model()
    before = [weight.copy() for weight in model.get_weights()]
    lab_checks.check_accuracy(
        {"model_cnn": model}, "model_cnn", "CNN", "imdb", SMOKE, batch_size=128
    )
    assert all((a == b).all() for a, b in zip(before, model.get_weights(), strict=True))


def test_adder_accuracy_is_not_trained_for_a_model_whose_answers_cannot_be_scored():
    model = keras.Sequential(
        [keras.Input((7, 12)), layers.LSTM(128), layers.RepeatVector(4), layers.LSTM(128),
         layers.Dense(12, activation="softmax")]
    )  # fmt: skip
    model.compile(loss="categorical_crossentropy", optimizer="adam")
    with pytest.raises(lab_checks.CheckFailed, match="outputs shape \\(12,\\) per example"):
        lab_checks.check_accuracy(
            {"model_adder": model},
            "model_adder",
            "ADDER",
            "adder",
            {"smoke": {"generated": 0.0}},
            64,
        )


def test_missing_threshold_is_reported_as_the_graders_problem():
    with pytest.raises(
        lab_checks.GraderProblem, match="no accuracy threshold for the 'smoke' profile"
    ):
        lab_checks.check_accuracy(
            {"model_cnn": imdb_models.build_cnn_model()},
            "model_cnn",
            "CNN",
            "imdb",
            {"grading": {"imdb": 0.6}},
            batch_size=128,
        )


def test_every_question_has_points_for_exactly_its_tests():
    config = load_config(default_lab_folder())
    assert config.total_points == 100
    for name in QUESTIONS:
        names = {test.name for test in question_tests(name, config)}
        assert names == (set() if config.is_manual(name) else set(config.points[name])), name
