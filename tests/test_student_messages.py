"""What a student reads from a public check in the notebook, word for word.

The tests run the checks the way the notebook does: otter runs a test case's code (an
OK-format doctest) in the notebook's namespace, and the notebook shows the result through
``lab_checks.brief_results``: a headline and one sentence per failed check.
"""

import keras
import pytest
from keras import layers
from otter.test_files.ok_test import OKTestFile

import lab_checks
from autograder.lab.config import load_config
from autograder.lab.find import default_lab_folder
from autograder.lab.questions import question_tests

SMOKE = {"smoke": {"generated": 0.65}}


def public_check(question: str, namespace: dict) -> tuple[str, list[str]]:
    """Run ``question``'s public tests as ``grader.check`` does; what the notebook shows."""
    cases = [
        {"code": "\n".join(f">>> {line}" for line in test.code.strip().splitlines()),
         "hidden": False, "locked": False}
        for test in question_tests(question, load_config(default_lab_folder()))
        if not test.hidden
    ]  # fmt: skip
    spec = {"name": question, "points": None, "suites": [{"cases": cases, "type": "doctest"}]}
    test_file = OKTestFile.from_spec(spec)
    test_file.run({"__builtins__": __builtins__, **namespace})
    return lab_checks.brief_results(test_file)


def lstm_classifier(*middle, compile_model=True) -> keras.Model:
    model = keras.Sequential(
        [keras.Input((500,), dtype="int32"), layers.Embedding(10_000, 100), *middle,
         layers.Dense(1, activation="sigmoid")]
    )  # fmt: skip
    if compile_model:
        model.compile(loss="binary_crossentropy", optimizer="adam")
    return model


def test_a_wrong_hand_count_fails_its_public_check_with_one_sentence():
    headline, lines = public_check("q1a_count", {"count_feedforward": 125_500})
    assert headline == "q1a_count: 1 public check(s) failed."
    assert lines == [
        "125,500 is not the right count. Each Dense layer has (inputs x units) weights plus one "
        "bias per unit; add up both layers."
    ]


def test_the_right_hand_count_passes_its_public_check():
    assert public_check("q4_count", {"count_lstm": 80_400}) == (
        "q4_count: all public checks passed.",
        [],
    )


def test_the_lstm_count_hint_agrees_with_the_notebook():
    _, lines = public_check("q4_count", {"count_lstm": 40_000})
    assert "three gates and a candidate value" in lines[0] and "four gates" not in lines[0]


def test_a_failed_model_check_shows_the_fault_and_nothing_else():
    headline, lines = public_check("q4", {"model_lstm": lstm_classifier(layers.LSTM(50))})
    assert headline == "q4: 1 public check(s) failed."
    assert lines == ["Layer 2 (LSTM) has 50 units; the exercise needs 100 to 128."]


def test_a_builder_that_raises_inside_keras_is_named_with_the_likely_cause():
    def build_lstm_model():
        return lstm_classifier(layers.LSTM(100, name="first"), layers.LSTM(100, name="second"))

    _, lines = public_check("q4", {"build_lstm_model": build_lstm_model})
    assert lines == [
        "`build_lstm_model()` stops with ValueError (Input 0 with name 'None' of layer 'second' "
        "is incompatible with the layer: expected ndim=3, found ndim=2. Full shape received: "
        "(None, 100)). Most likely a layer that reads a sequence (an LSTM, or TimeDistributed) "
        "gets one vector per example: set return_sequences=True on the recurrent layer before it."
    ]


def test_a_decoder_without_sequences_before_time_distributed_is_named():
    def build_adder_model():
        return keras.Sequential(
            [keras.Input((7, 12)), layers.LSTM(128), layers.RepeatVector(4), layers.LSTM(128),
             layers.TimeDistributed(layers.Dense(12, activation="softmax"))]
        )  # fmt: skip

    _, lines = public_check("q7", {"build_adder_model": build_adder_model, "model_adder": None})
    assert lines[0].startswith("`build_adder_model()` stops with ValueError (`TimeDistributed`")
    assert lines[0].endswith("set return_sequences=True on the recurrent layer before it.")


def test_a_builder_without_return_is_told_to_return_the_model():
    def build_cnn_model():
        keras.Sequential([keras.Input((500,), dtype="int32")])

    _, lines = public_check("q2", {"build_cnn_model": build_cnn_model, "model_cnn": None})
    assert lines == ["`build_cnn_model()` returns None: end it with `return model`."]


def test_an_uncompiled_model_is_told_to_compile_inside_its_builder():
    _, lines = public_check(
        "q4", {"model_lstm": lstm_classifier(layers.LSTM(100), compile_model=False)}
    )
    assert lines == [
        "`model_lstm` is not compiled: call `model.compile(...)` with a loss and an optimizer "
        "inside `build_lstm_model`, before it returns the model."
    ]


def test_a_crash_inside_a_check_becomes_a_sentence():
    model = lstm_classifier(layers.LSTM(100))

    def broken_config():
        raise ValueError("boom")

    model.layers[1].get_config = broken_config
    _, lines = public_check("q4", {"model_lstm": model})
    assert lines == [
        "Checking `model_lstm` stopped with ValueError: boom. Fix the cell that makes "
        "`model_lstm`, run it again, then rerun this check."
    ]


def test_a_wrong_input_shape_for_a_demo_is_a_message_not_a_tensorflow_error():
    demo = keras.Sequential([keras.Input((5, 3)), layers.TimeDistributed(layers.Dense(8))])
    repeat = keras.Sequential([keras.Input((10,)), layers.Dense(6), layers.RepeatVector(3)])
    _, lines = public_check("q6", {"demo_time_distributed": demo, "demo_repeat_vector": repeat})
    assert lines == [
        "`demo_time_distributed` reads inputs of shape (5, 3); the demo reads 3 steps of 5 "
        "numbers, so start with keras.Input((3, 5))."
    ]


def test_a_keras_2_argument_gets_a_friendly_note_on_a_passing_check():
    def build_lstm_model():
        model = keras.Sequential(
            [layers.Embedding(10_000, 100, input_length=500), layers.LSTM(100),
             layers.Dense(1, activation="sigmoid")]
        )  # fmt: skip
        model.compile(loss="binary_crossentropy", optimizer="adam")
        return model

    # The check reads the builder's source (IPython keeps a cell's source for inspect).
    namespace = {"build_lstm_model": build_lstm_model, "model_lstm": build_lstm_model()}
    assert public_check("q4", namespace) == (
        "q4: all public checks passed.",
        [
            "Note: `input_length=` is a Keras 2 argument that Keras 3 ignores or warns about; "
            "start the model with keras.Input(...) instead, as the question shows."
        ],
    )
    assert public_check("q4", namespace)[1][0].startswith("Note:")  # noted again on a rerun


def test_an_accuracy_failure_caused_by_the_optimizer_blames_the_optimizer():
    model = keras.Sequential(
        [keras.Input((500,)), layers.Dense(250, activation="relu"),
         layers.Dense(1, activation="sigmoid")]
    )  # fmt: skip
    model.compile(loss="binary_crossentropy", optimizer=keras.optimizers.SGD(1e-6))
    with pytest.raises(lab_checks.CheckFailed) as failure:
        lab_checks.check_accuracy(
            {"model_feedforward": model}, "model_feedforward", "FEEDFORWARD", "imdb", SMOKE, 128
        )
    assert str(failure.value).endswith(
        "`model_feedforward` is compiled with the SGD optimizer; the lab uses Adam "
        "(optimizer='adam'), and a fresh copy trained with SGD learns too little in the "
        "grader's small budget."
    )
