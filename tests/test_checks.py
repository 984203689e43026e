"""The check functions pass the reference and fail wrong answers with a message naming the fault."""

import keras
import pytest
from keras import layers

import lab_checks
from autograder.config import load_config
from autograder.questions import QUESTIONS, question_tests
from reference import adder_models, imdb_models

LSTM_LAYERS = lab_checks.describe_layers(imdb_models.build_lstm_model())
SMOKE = {"smoke": {"generated": 0.75}}


def check_lstm(model):
    lab_checks.check_model(model, "model_lstm", LSTM_LAYERS, "binary_crossentropy")
    lab_checks.check_param_count(model, "model_lstm", 1_080_501)


def lstm_variant(output_units=1, units=100, compiled=True, loss="binary_crossentropy"):
    model = keras.Sequential(
        [
            keras.Input((500,), dtype="int32"),
            layers.Embedding(10_000, 100),
            layers.LSTM(units),
            layers.Dense(output_units, activation="sigmoid"),
        ]
    )
    if compiled:
        model.compile(loss=loss, optimizer="adam")
    return model


def test_reference_passes_structure_check():
    check_lstm(imdb_models.build_lstm_model())


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (None, "should be a Keras model, but it is NoneType"),
        (lstm_variant(units=64), "Layer 2 of `model_lstm` \\(LSTM\\) outputs shape \\(None, 64\\)"),
        (lstm_variant(compiled=False), "is not compiled yet"),
        (lstm_variant(loss="mse"), "compiled with the loss 'mse'"),
        (imdb_models.build_simple_rnn_model(), "Layer 2 of `model_lstm` is a SimpleRNN"),
        (imdb_models.build_cnn_lstm_model(), "is a Conv1D"),
    ],
    ids=["unbuilt", "units", "uncompiled", "loss", "simple_rnn", "extra_layers"],
)
def test_wrong_models_fail_with_named_fault(answer, message):
    with pytest.raises(lab_checks.CheckFailed, match=message):
        check_lstm(answer)


@pytest.mark.parametrize(
    ("answer", "expected", "message"),
    [
        (Ellipsis, None, "whole number"),
        (125501.0, None, "whole number"),
        (True, None, "whole number"),
        ("125501", None, "whole number"),
        (125_000, 125_501, "not the right count"),
    ],
)
def test_hand_counts_must_be_right_whole_numbers(answer, expected, message):
    with pytest.raises(lab_checks.CheckFailed, match=message):
        lab_checks.check_hand_count(answer, expected)


def test_param_count_check_names_both_counts():
    with pytest.raises(
        lab_checks.CheckFailed, match="has 1,062,933 parameters but should have 1,080,501"
    ):
        lab_checks.check_param_count(imdb_models.build_cnn_lstm_model(), "model_lstm", 1_080_501)


def test_right_hand_count_passes():
    lab_checks.check_hand_count(125_501, 125_501)


def test_output_shape_check():
    demo = adder_models.build_repeat_vector_demo()
    lab_checks.check_output_shape(demo, "demo", (1, 10), (1, 3, 6))
    with pytest.raises(lab_checks.CheckFailed, match="expected \\(1, 3, 8\\)"):
        lab_checks.check_output_shape(demo, "demo", (1, 10), (1, 3, 8))


def test_accuracy_check_passes_a_learner_and_fails_a_chance_model():
    lab_checks.check_imdb_accuracy(
        imdb_models.build_cnn_model(), "model_cnn", SMOKE, batch_size=128
    )
    with pytest.raises(lab_checks.CheckFailed, match="needs at least 75.0%"):
        lab_checks.check_imdb_accuracy(
            imdb_models.build_feedforward_model(), "model_feedforward", SMOKE, batch_size=128
        )


def test_accuracy_check_trains_a_fresh_copy_not_the_students_weights():
    model = imdb_models.build_cnn_model()
    before = [weight.copy() for weight in model.get_weights()]
    lab_checks.check_imdb_accuracy(model, "model_cnn", SMOKE, batch_size=128)
    assert all((a == b).all() for a, b in zip(before, model.get_weights(), strict=True))


def test_adder_accuracy_check_rejects_a_decoder_without_sequences():
    model = keras.Sequential(
        [
            keras.Input((7, 12)),
            layers.LSTM(128),
            layers.RepeatVector(4),
            layers.LSTM(128),
            layers.Dense(12, activation="softmax"),
        ]
    )
    model.compile(loss="categorical_crossentropy", optimizer="adam")
    with pytest.raises(lab_checks.CheckFailed, match="answers with shape \\(12,\\)"):
        lab_checks.check_adder_accuracy(model, "model_adder", {"smoke": {"generated": 0.0}}, 64)


def test_missing_threshold_is_reported_as_the_graders_problem():
    with pytest.raises(RuntimeError, match="no accuracy threshold for the 'smoke' profile"):
        lab_checks.check_imdb_accuracy(
            imdb_models.build_cnn_model(), "model_cnn", {"grading": {"imdb": 0.6}}, batch_size=128
        )


def test_every_question_has_points_for_exactly_its_tests():
    config = load_config()
    assert config.total_points == 100
    for name in QUESTIONS:
        names = {test.name for test in question_tests(name, config)}
        assert names == (set() if config.is_manual(name) else set(config.points[name])), name
