"""The measurement store: an accuracy check of a training already measured reads its result
back, exactly; a training that differs in anything that changes the computation never does."""

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
from conftest import RNN_LAB
from keras import layers

import lab_checks
import labkit.checks
from autograder.grading.trusted.canonical import canonical_architecture
from autograder.grading.trusted.store import MeasurementStore, NoReuse
from autograder.lab.find import default_lab_folder
from reference import imdb_models

IDENTITY = {"task": "imdb", "seed": 1, "data": "generated", "epochs": 2, "batch_size": 32}


def small_model(
    names=("in", "hidden", "out"),
    dropout=0.2,
    initializer="glorot_uniform",
    trainable=True,
    learning_rate=1e-3,
    activation="relu",
):
    """A small classifier whose every named setting can be changed on its own."""
    model = keras.Sequential(
        [
            keras.Input((20,), name=names[0]),
            layers.Dense(8, activation=activation, kernel_initializer=initializer,
                         trainable=trainable, name=names[1]),
            layers.Dropout(dropout),
            layers.Dense(1, activation="sigmoid", name=names[2]),
        ],
        name=f"model_{names[1]}",
    )  # fmt: skip
    model.compile(loss="binary_crossentropy", optimizer=keras.optimizers.Adam(learning_rate))
    return model


def key(model, identity=IDENTITY, store=None):
    return (store or MeasurementStore("/nonexistent")).key(model, identity)


def test_names_do_not_change_the_key():
    assert key(small_model()) == key(small_model(names=("x", "y", "z")))
    assert key(imdb_models.build_cnn_model()) == key(imdb_models.build_cnn_model())  # dense_1...


@pytest.mark.parametrize(
    "change",
    [
        {"dropout": 0.3},
        {"initializer": "he_normal"},
        {"trainable": False},
        {"learning_rate": 2e-3},
        {"activation": "tanh"},
    ],
    ids=["dropout rate", "initializer", "trainable", "learning rate", "activation"],
)
def test_one_changed_setting_changes_the_key(change):
    assert key(small_model()) != key(small_model(**change))


@pytest.mark.parametrize(
    "change",
    [{"seed": 2}, {"data": "keras"}, {"epochs": 3}, {"batch_size": 64}, {"task": "adder"}],
)
def test_the_training_around_the_model_is_in_the_key(change):
    assert key(small_model()) != key(small_model(), {**IDENTITY, **change})


def test_a_name_equal_to_a_setting_does_not_hide_the_setting():
    """Only names are renamed: a layer called "relu" with a relu activation and one called
    "tanh" with a tanh activation still differ."""
    relu = small_model(names=("in", "relu", "out"), activation="relu")
    tanh = small_model(names=("in", "tanh", "out"), activation="tanh")
    assert key(relu) != key(tanh)
    config = canonical_architecture(relu.to_json())["config"]["layers"][1]["config"]
    assert config["activation"] == "relu" and config["name"] != "relu"


def test_a_functional_models_wiring_survives_renaming():
    def functional(names):
        inputs = keras.Input((4,), name=names[0])
        hidden = layers.Dense(3, name=names[1])(inputs)
        merged = layers.Concatenate(name=names[2])([inputs, hidden])
        model = keras.Model(inputs, layers.Dense(1, name=names[3])(merged))
        model.compile(loss="mse", optimizer="adam")
        return model

    assert key(functional("abcd")) == key(functional("wxyz"))
    inputs = keras.Input((4,))
    skipped = keras.Model(inputs, layers.Dense(1)(layers.Dense(3)(inputs)))  # other wiring
    skipped.compile(loss="mse", optimizer="adam")
    assert key(functional("abcd")) != key(skipped)


@pytest.mark.parametrize(
    "accuracies, enough, outcome",
    [
        ([0.9, 0.95], 0.8, (0.9, 1)),  # reached after epoch 1: training would stop there
        ([0.6, 0.7], 0.8, (0.7, 2)),  # the last epoch counts
        ([0.9], 0.8, (0.9, 1)),  # a run that stopped early decides a lower threshold
        ([0.9], 0.95, None),  # but not a higher one: train again
        ([0.9], None, None),  # nor a run to the end (calibration)
        ([0.9, 0.5], None, (0.9, 2)),  # which reports its best look, as a check decides
        ([0.6, 0.7, 0.9], 0.8, (0.7, 2)),  # a longer record: epoch 2 is what a 2-epoch run gets
    ],
)
def test_a_record_is_judged_as_the_training_would_have_ended(accuracies, enough, outcome):
    assert lab_checks.judge(accuracies, [1, 2], enough) == outcome


def test_looks_in_the_first_epoch_come_before_the_end_of_each_epoch():
    assert labkit.checks.look_positions(3, 4) == [0.25, 0.5, 0.75, 1, 2, 3]
    assert labkit.checks.look_positions(2) == [1, 2]
    positions = labkit.checks.look_positions(2, 4)
    assert lab_checks.judge([0.5, 0.85, 0.9], positions, 0.8) == (0.85, 0.5)  # stops half-way
    assert lab_checks.judge([0.5, 0.6, 0.7, 0.75, 0.79], positions, 0.8) == (0.79, 2)
    assert lab_checks.judge([0.5, 0.85], positions, 0.9) is None  # stopped too soon: train


class RecordingStore:
    """A store that holds nothing and records what a check would put in it."""

    def __init__(self):
        self.records = []

    def key(self, model, identity):
        return "key"

    def get(self, key):
        return None

    def put(self, key, accuracies):
        self.records.append(accuracies)


def small_problem():
    """A tiny two-class problem and a fresh model for it, with its scoring function."""
    import keras

    rng = np.random.default_rng(0)
    x = rng.normal(size=(96, 4)).astype("float32")
    y = (x[:, 0] > 0).astype("int64")
    keras.utils.set_random_seed(7)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1, activation="sigmoid")])
    model.compile(loss="binary_crossentropy", optimizer=keras.optimizers.Adam(0.05))

    def score(trained):
        return float(np.mean((np.asarray(trained.predict(x, verbose=0))[:, 0] > 0.5) == (y == 1)))

    return model, (lambda: (x, y, score))


def test_a_check_looks_during_its_first_epoch_and_stops_at_the_first_look_that_is_enough(
    monkeypatch,
):
    store = RecordingStore()
    monkeypatch.setattr(labkit.checks, "MEASUREMENT_STORE", store)
    model, load = small_problem()  # 96 examples in batches of 8: 12 batches an epoch
    accuracy, trained, reused = labkit.checks.train_and_score(model, load, 3, 8, 2.0, {}, 4)
    assert len(store.records[0]) == 6  # 3 looks in epoch 1, then one at each epoch's end
    assert (accuracy, trained, reused) == (store.records[0][-1], 3, False)  # never enough
    model, load = small_problem()
    first_look = store.records[0][0]
    accuracy, trained, _ = labkit.checks.train_and_score(model, load, 3, 8, first_look, {}, 4)
    assert (accuracy, trained) == (first_look, 0.25) and store.records[1] == [first_look]


def test_without_reuse_a_check_trains_records_nothing_and_says_it_trained(monkeypatch):
    """``--no-reuse``: the report and results.json still say each accuracy test trained."""
    store = NoReuse()
    monkeypatch.setattr(labkit.checks, "MEASUREMENT_STORE", store)
    model, load = small_problem()
    first = labkit.checks.train_and_score(model, load, 2, 8, 2.0, {}, 2)
    assert store.last == "trained" and store.get(store.key(model, {})) is None
    model, load = small_problem()
    assert labkit.checks.train_and_score(model, load, 2, 8, 2.0, {}, 2) == first  # trained again


def test_looking_during_training_does_not_change_what_is_trained():
    weights = []
    for looks in (None, 4):
        model, load = small_problem()
        if looks:
            labkit.checks.train_and_score(model, load, 2, 8, 2.0, {}, looks, fresh=False)
        else:
            x, y, _ = load()
            model.fit(x, y, epochs=2, batch_size=8, verbose=0)
        weights.append([np.asarray(w) for w in model.get_weights()])
    assert all(np.array_equal(a, b) for a, b in zip(*weights, strict=True))


def check_cnn(threshold):
    """The CNN's hidden accuracy check in the smoke profile; its message, or "" on a pass."""
    try:
        lab_checks.check_accuracy(
            {"model_cnn": imdb_models.build_cnn_model()}, "model_cnn", "CNN", "imdb",
            {"smoke": {"generated": threshold}}, batch_size=128,
        )  # fmt: skip
    except lab_checks.CheckFailed as failure:
        return str(failure)
    return ""


def test_a_reused_measurement_gives_the_check_its_own_outcome(tmp_path, monkeypatch):
    fresh = {threshold: check_cnn(threshold) for threshold in (0.6, 0.9999)}
    assert fresh[0.6] == "" and "it needs at least 100.0%" in fresh[0.9999]
    store = MeasurementStore(tmp_path)
    monkeypatch.setattr(labkit.checks, "MEASUREMENT_STORE", store)
    assert check_cnn(0.9999) == fresh[0.9999] and store.last == "trained"  # the whole budget
    assert check_cnn(0.9999) == fresh[0.9999] and store.last == "reused"
    assert check_cnn(0.6) == fresh[0.6] and store.last == "reused"  # a new threshold: same run
    assert len(list(tmp_path.rglob("*.json"))) == 1


def test_a_record_too_short_for_a_higher_threshold_is_trained_again(tmp_path, monkeypatch):
    store = MeasurementStore(tmp_path)
    monkeypatch.setattr(labkit.checks, "MEASUREMENT_STORE", store)
    assert check_cnn(0.45) == "" and store.last == "trained"  # 0.5 at the first look: stops
    (entry,) = tmp_path.rglob("*.json")
    assert len(json.loads(entry.read_text())["accuracies"]) == 1
    check_cnn(0.9999)
    assert store.last == "trained"  # the first look alone cannot decide 99.99%
    # The smoke budget's 3 epochs: a look half-way through the first, then one at each end.
    assert len(json.loads(entry.read_text())["accuracies"]) == 4


def test_an_unreadable_entry_is_trained_again(tmp_path, monkeypatch):
    store = MeasurementStore(tmp_path)
    monkeypatch.setattr(labkit.checks, "MEASUREMENT_STORE", store)
    check_cnn(0.45)
    (entry,) = tmp_path.rglob("*.json")
    entry.write_text('{"accuracies": ["high"]}')
    assert check_cnn(0.45) == "" and store.last == "trained"


TRAIN_IN_A_PROCESS = """
import json, sys
import lab_checks
from reference import imdb_models
result = lab_checks.imdb_accuracy(imdb_models.build_cnn_model(), batch_size=128)
print(json.dumps(result.accuracy))
"""


def test_the_threads_training_uses_are_in_the_key(monkeypatch):
    """One and two threads can train the same model to different last bits (measured for the
    CNN), so a measurement taken on one is never reused on the other."""
    monkeypatch.setenv("TF_NUM_INTRAOP_THREADS", "1")
    monkeypatch.setenv("TF_NUM_INTEROP_THREADS", "1")
    one = key(small_model())
    monkeypatch.setenv("TF_NUM_INTRAOP_THREADS", "2")
    monkeypatch.setenv("TF_NUM_INTEROP_THREADS", "2")
    assert key(small_model()) != one


def test_the_same_training_in_two_processes_measures_the_same(tmp_path):
    """Reuse is exact only if training repeats exactly: two fresh processes, same threads."""
    measured = []
    for threads in ("2", "2"):
        environment = {"RNNLAB_PROFILE": "smoke", "RNNLAB_IMDB": "generated",
                       "TF_NUM_INTRAOP_THREADS": threads, "TF_NUM_INTEROP_THREADS": threads,
                       "TF_CPP_MIN_LOG_LEVEL": "3", "PATH": "/usr/bin:/bin",
                       "PYTHONPATH": os.pathsep.join(map(str, (RNN_LAB.shipped_dir, RNN_LAB.folder)))}  # fmt: skip
        run = subprocess.run(
            [sys.executable, "-c", TRAIN_IN_A_PROCESS], env=environment, capture_output=True,
            text=True, check=True, timeout=300,
        )  # fmt: skip
        measured.append(json.loads(run.stdout.splitlines()[-1]))
    assert measured[0] == measured[1]


def test_an_unwritable_cache_grades_without_reuse(tmp_path, monkeypatch, capsys):
    from autograder.grading.trusted import store
    from autograder.lab.config import load_config

    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    monkeypatch.setattr(store, "default_folder", lambda: blocked / "measurements")
    assert store.user_store(load_config(default_lab_folder())) is None
    assert "Not reusing measurements: cannot write" in capsys.readouterr().out


def test_a_build_store_is_adopted_once(tmp_path):
    build = MeasurementStore(tmp_path / "build")
    build.put("ab" + "0" * 62, [0.5, 0.75])
    user = MeasurementStore(tmp_path / "user")
    assert user.adopt(tmp_path / "build") == 1
    assert user.adopt(tmp_path / "build") == 0  # already there
    assert user.get("ab" + "0" * 62) == [0.5, 0.75]
    assert user.adopt(tmp_path / "no build") == 0


def test_a_training_under_way_elsewhere_is_waited_for_not_repeated(tmp_path):
    """Two checkers of a class meet the same new architecture side by side: the second waits
    for the first one's training and reuses it."""
    import threading

    key = "cd" + "0" * 62
    first, second = MeasurementStore(tmp_path), MeasurementStore(tmp_path)
    assert first.get(key) is None  # nothing yet: the first claims the training
    found = []
    waiting = threading.Thread(target=lambda: found.append(second.get(key)))
    waiting.start()
    waiting.join(timeout=0.5)
    assert waiting.is_alive() and not found  # the second waits while the first trains
    first.put(key, [0.5, 0.75])
    waiting.join(timeout=10)
    assert found == [[0.5, 0.75]] and second.last == "reused"


def test_a_claim_is_dropped_when_the_check_records_nothing(tmp_path):
    key = "ef" + "0" * 62
    first, second = MeasurementStore(tmp_path), MeasurementStore(tmp_path)
    assert first.get(key) is None
    first.close()  # the check stopped before it recorded anything (the job's end)
    assert second.get(key) is None  # not blocked: it claims the training itself
    second.close()


def test_the_cache_kept_under_the_old_name_is_read_not_written(tmp_path, monkeypatch):
    """The toolkit was called rnnlab: what its users' caches measured still counts."""
    from autograder.grading.trusted import store
    from autograder.lab.config import load_config

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    key = "cd" + "0" * 62
    MeasurementStore(tmp_path / "rnnlab" / "measurements").put(key, [0.5, 0.8])
    folder = store.user_store(load_config(default_lab_folder()))
    assert folder == tmp_path / "kerasgrade" / "measurements"
    assert MeasurementStore(folder).get(key) == [0.5, 0.8]
    assert sorted(p.name for p in (tmp_path / "rnnlab" / "measurements").rglob("*.json")) == [
        f"{key}.json"
    ]
