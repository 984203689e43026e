"""Answers cross the trust boundary as data: exported in the kernel, read back defensively."""

import json

import keras
import numpy as np
import pytest
from keras import layers

from autograder.grading.trusted.answers import MAX_LINE_BYTES, Unreadable, read_answers
from autograder.grading.untrusted.export import export_cell_source
from labkit import architecture as lab_architecture
from reference import imdb_models


def export(tmp_path, **variables):
    path = tmp_path / "answers.jsonl"
    namespace = dict(variables)
    names = ["model_lstm", "count_lstm", "demo", "never_defined"]
    exec(export_cell_source(names, str(path)), namespace)
    return path, names


def test_round_trip_rebuilds_models_and_keeps_plain_values(tmp_path):
    reference = imdb_models.build_lstm_model()
    path, names = export(tmp_path, model_lstm=reference, count_lstm=np.int64(80_400), demo=None)
    answers = read_answers(path, names)
    model = answers["model_lstm"]
    described = lab_architecture.describe_model(model, "model_lstm", (500,))
    assert described == lab_architecture.describe_model(reference, "model_lstm", (500,))
    assert model.count_params() == reference.count_params()
    assert model.loss == "binary_crossentropy"
    assert answers["count_lstm"] == 80_400 and type(answers["count_lstm"]) is int
    assert answers["demo"] == Unreadable("`demo` holds an object of type `NoneType`, not an answer")
    assert "never defined" in answers["never_defined"].reason


def test_uncompiled_model_comes_back_uncompiled(tmp_path):
    model = keras.Sequential([keras.Input((3,)), layers.Dense(1)])
    path, names = export(tmp_path, model_lstm=model)
    assert read_answers(path, names)["model_lstm"].loss is None


def test_lambda_layer_is_refused(tmp_path):
    model = keras.Sequential([keras.Input((3,)), layers.Lambda(lambda x: x * 2), layers.Dense(1)])
    model.compile(loss="mse")
    path, names = export(tmp_path, model_lstm=model, count_lstm=1)
    answers = read_answers(path, names)
    assert "Lambda layer" in answers["model_lstm"].reason
    assert answers["count_lstm"] == 1


def write_lines(tmp_path, *records):
    path = tmp_path / "answers.jsonl"
    path.write_text("".join(json.dumps(record) + "\n" for record in records))
    return path


def model_record(config: dict) -> dict:
    return {"name": "model_lstm", "kind": "model", "config": json.dumps(config), "compile": None}


def test_objects_outside_keras_are_refused(tmp_path):
    config = json.loads(imdb_models.build_lstm_model().to_json())
    config["config"]["layers"][1]["module"] = "os"
    answers = read_answers(write_lines(tmp_path, model_record(config)), ["model_lstm"])
    assert "not part of Keras" in answers["model_lstm"].reason


def test_a_function_from_outside_keras_modeling_modules_is_refused(tmp_path):
    """``keras.config.set_epsilon`` as an activation would change a setting the warm checker
    keeps for the next student's answers; it is refused before the model is built."""
    model = keras.Sequential([keras.Input((3,)), layers.Dense(1, activation="sigmoid")])
    config = json.loads(model.to_json())
    config["config"]["layers"][1]["config"]["activation"] = {
        "module": "keras.config", "class_name": "function",
        "config": "set_epsilon", "registered_name": "set_epsilon",
    }  # fmt: skip
    epsilon = keras.config.epsilon()
    answers = read_answers(write_lines(tmp_path, model_record(config)), ["model_lstm"])
    assert "keras.config.set_epsilon" in answers["model_lstm"].reason
    assert keras.config.epsilon() == epsilon


@pytest.mark.parametrize(
    "activation, loss, metric",
    [
        (keras.activations.relu, keras.losses.binary_crossentropy, keras.metrics.binary_accuracy),
        (keras.ops.relu, keras.losses.BinaryCrossentropy(), keras.metrics.BinaryAccuracy()),
    ],
)
def test_functions_and_objects_from_keras_modeling_modules_are_kept(
    tmp_path, activation, loss, metric
):
    model = keras.Sequential(
        [keras.Input((3,)), layers.Dense(4, activation=activation), layers.Dense(1)]
    )
    model.compile(loss=loss, optimizer="adam", metrics=[metric])
    path, names = export(tmp_path, model_lstm=model)
    rebuilt = read_answers(path, names)["model_lstm"]
    assert not isinstance(rebuilt, Unreadable), rebuilt
    assert rebuilt.count_params() == model.count_params()


def test_absurd_sizes_are_refused_before_anything_is_allocated(tmp_path):
    config = json.loads(imdb_models.build_lstm_model().to_json())
    config["config"]["layers"][1]["config"]["input_dim"] = 10**12
    answers = read_answers(write_lines(tmp_path, model_record(config)), ["model_lstm"])
    assert "far larger than this lab needs" in answers["model_lstm"].reason


def test_a_huge_answer_is_refused_and_the_others_still_count(tmp_path):
    path = tmp_path / "answers.jsonl"
    with open(path, "w") as out:
        out.write('{"name": "model_lstm", "kind": "str", "value": "' + "x" * 100_000_000 + '"}\n')
        out.write(json.dumps({"name": "count_lstm", "kind": "int", "value": 80_400}) + "\n")
    answers = read_answers(path, ["model_lstm", "count_lstm"])
    assert "larger than the 1 MB limit" in answers["model_lstm"].reason
    assert answers["count_lstm"] == 80_400
    assert MAX_LINE_BYTES < 100_000_000


def test_the_last_export_of_a_name_wins_and_junk_is_ignored(tmp_path):
    path = write_lines(
        tmp_path,
        {"name": "count_lstm", "kind": "int", "value": 1},
        {"name": "count_lstm", "kind": "int", "value": 80_400},  # set again in a later cell
        {"name": "demo", "kind": "int", "value": True},
        ["not", "a", "record"],
    )
    with open(path, "a") as out:
        out.write("this is not json\n")
    answers = read_answers(path, ["count_lstm", "demo"])
    assert answers["count_lstm"] == 80_400
    assert "holds an object of type `bool`" in answers["demo"].reason


SHADOWING = {  # names a student rebinds by accident at the notebook's top level
    name: "shadowed"
    for name in ("type", "int", "float", "str", "isinstance", "json", "keras", "np", "print",
                 "open", "len", "globals", "exec", "repr", "sys", "describe", "name")
}  # fmt: skip


def test_the_export_ignores_names_the_student_rebinds(tmp_path):
    model = imdb_models.build_lstm_model()
    path, names = export(tmp_path, model_lstm=model, count_lstm=np.int64(80_400), **SHADOWING)
    answers = read_answers(path, names)
    assert answers["count_lstm"] == 80_400
    assert answers["model_lstm"].count_params() == model.count_params()


def test_an_export_between_cells_leaves_out_what_is_not_set_yet(tmp_path):
    path = tmp_path / "answers.jsonl"
    namespace = {"count_lstm": 80_400}
    exec(export_cell_source(["count_lstm", "model_lstm"], str(path), final=False), namespace)
    assert [json.loads(line)["name"] for line in path.read_text().splitlines()] == ["count_lstm"]
    namespace["count_lstm"] = 1  # changed later; the kernel dies before the final export
    exec(export_cell_source(["count_lstm"], str(path), final=False), namespace)
    answers = read_answers(path, ["count_lstm", "model_lstm"])
    assert answers["count_lstm"] == 1 and "no answer" in answers["model_lstm"].reason


def test_deleting_an_answer_after_its_cell_keeps_the_answer(tmp_path):
    """Colab's advice to free memory (`del model_cnn; gc.collect()`) after a check: the
    export after the `del` cell and the final one find no name, and must erase nothing."""
    path = tmp_path / "answers.jsonl"
    namespace = {"count_lstm": 80_400}
    exec(export_cell_source(["count_lstm"], str(path), final=False), namespace)
    del namespace["count_lstm"]
    exec(export_cell_source(["count_lstm"], str(path), final=False), namespace)
    exec(export_cell_source(["count_lstm", "model_lstm"], str(path)), namespace)
    kinds = [json.loads(line)["kind"] for line in path.read_text().splitlines()]
    assert kinds == ["int", "missing", "missing"]  # the final export still says so
    answers = read_answers(path, ["count_lstm", "model_lstm"])
    assert answers["count_lstm"] == 80_400
    assert "never defined" in answers["model_lstm"].reason  # never set: still refused


def test_a_name_rebound_after_its_cell_is_graded_on_its_last_value(tmp_path):
    path = tmp_path / "answers.jsonl"
    namespace = {"count_lstm": 80_400}
    exec(export_cell_source(["count_lstm"], str(path), final=False), namespace)
    namespace["count_lstm"] = None
    exec(export_cell_source(["count_lstm"], str(path)), namespace)
    assert "NoneType" in read_answers(path, ["count_lstm"])["count_lstm"].reason


def test_a_model_too_big_to_train_is_refused_before_it_is_built(tmp_path):
    huge = keras.Sequential([keras.Input((500,)), layers.Embedding(10_000, 100)])
    config = json.loads(huge.to_json())
    lstm = {"module": "keras.layers", "class_name": "LSTM", "config": {"units": 900_000}}
    config["config"]["layers"].append(lstm)  # under the per-integer cap of 1,000,000
    answers = read_answers(write_lines(tmp_path, model_record(config)), ["model_lstm"])
    reason = answers["model_lstm"].reason
    assert "too big for the grader to train" in reason and "50,000,000 at most" in reason


def test_the_checker_trains_in_float32_whatever_policy_the_notebook_set(tmp_path):
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        model = imdb_models.build_lstm_model()
    finally:
        keras.mixed_precision.set_global_policy("float32")
    assert "mixed_float16" in model.to_json()
    path, names = export(tmp_path, model_lstm=model)
    rebuilt = read_answers(path, names)["model_lstm"]
    assert {layer.dtype_policy.name for layer in rebuilt.layers} == {"float32"}


def test_a_link_instead_of_a_file_is_not_followed(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text(json.dumps({"name": "count_lstm", "kind": "int", "value": 80_400}))
    link = tmp_path / "answers.jsonl"
    link.symlink_to(secret)
    answers = read_answers(link, ["count_lstm"])
    assert "could not be read" in answers["count_lstm"].reason


def test_missing_file_marks_every_answer(tmp_path):
    answers = read_answers(tmp_path / "absent.jsonl", ["count_lstm", "model_lstm"])
    assert all("no answers file" in answer.reason for answer in answers.values())


@pytest.mark.parametrize("kind", ["float", "str"])
def test_plain_values_of_other_kinds(tmp_path, kind):
    value = {"float": 0.5, "str": "text"}[kind]
    path = write_lines(tmp_path, {"name": "x", "kind": kind, "value": value})
    assert read_answers(path, ["x"])["x"] == value
