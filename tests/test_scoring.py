"""Scoring derived from the output and the labels (labkit.scoring), and a lab's data declared
by a loader (labkit.dataset): what lets a lab leave its accuracy rule, chance level and
budget plumbing to the toolkit."""

import numpy as np
import pytest

from labkit import scoring
from labkit.dataset import Dataset


def test_one_sigmoid_unit_is_scored_at_one_half_not_by_argmax():
    """argmax over one unit is always 0: a yes/no model scored that way gets the share of
    zeros (the digits lab's argmax copied into a sigmoid lab gave its reference 38.5%)."""
    outputs = np.array([[0.9], [0.2], [0.7], [0.4]])
    labels = np.array([1, 0, 0, 0])
    assert scoring.rule_for(outputs.shape, labels.shape) == scoring.BINARY
    assert scoring.accuracy(outputs, labels) == 0.75
    assert scoring.accuracy(outputs, labels.reshape(-1, 1)) == 0.75
    assert scoring.accuracy(np.array([[0.5]]), np.array([1])) == 0.0  # Keras: above 0.5 is 1


def test_class_numbers_and_one_hot_labels_are_scored_by_the_most_probable_unit():
    outputs = np.array([[0.1, 0.8, 0.1], [0.6, 0.3, 0.1]])
    assert scoring.rule_for(outputs.shape, (2,)) == scoring.SPARSE
    assert scoring.accuracy(outputs, np.array([1, 2])) == 0.5
    one_hot = np.eye(3)[[1, 0]]
    assert scoring.rule_for(outputs.shape, one_hot.shape) == scoring.CATEGORICAL
    assert scoring.accuracy(outputs, one_hot) == 1.0


def test_sequence_outputs_are_scored_per_position():
    outputs = np.eye(4)[[[0, 1, 2], [3, 3, 3]]]  # 2 examples, 3 positions, 4 classes
    labels = np.eye(4)[[[0, 1, 0], [3, 3, 3]]]
    assert scoring.accuracy(outputs, labels) == pytest.approx(5 / 6)
    assert scoring.accuracy(outputs, np.array([[0, 1, 0], [3, 3, 3]])) == pytest.approx(5 / 6)


def test_outputs_that_fit_no_labels_are_refused():
    with pytest.raises(ValueError, match="3 predictions for 2 labels"):
        scoring.accuracy(np.zeros((3, 1)), np.zeros(2))
    with pytest.raises(ValueError, match="cannot be scored"):
        scoring.accuracy(np.zeros((2, 5, 3)), np.zeros((2, 4)))


def test_chance_is_always_giving_the_most_common_answer():
    assert scoring.chance(np.array([0, 1, 1, 1])) == 0.75
    assert scoring.chance(np.eye(3)[[0, 0, 1, 2]]) == 0.5
    # Per position: position 0 is always 5, position 1 half 1 and half 2.
    assert scoring.chance(np.array([[5, 1], [5, 2]])) == 0.75


def _dataset(tmp_path, loader, text="[grading]\ncheck_epochs = 2\nnotebook_epochs = 0\n"
             "train_examples = 3\n\n[full]\ncheck_epochs = 5\n"):  # fmt: skip
    (tmp_path / "profiles.toml").write_text(text)
    return Dataset(loader=loader, profiles=tmp_path / "profiles.toml", variables="TOY",
                   source="toy", kind="toy", examples="rows")  # fmt: skip


def test_a_dataset_caps_training_by_profile_and_derives_chance_and_held_out(tmp_path, monkeypatch):
    calls = []

    def loader():
        calls.append(1)
        return (
            np.arange(10).reshape(5, 2),
            np.array([0, 1, 0, 1, 1]),
            np.zeros((4, 2)),
            np.array([1, 1, 1, 0]),
        )

    data = _dataset(tmp_path, loader)
    monkeypatch.setenv("TOY_PROFILE", "grading")
    assert len(data.load().y_train) == 3 and len(data.load().y_test) == 4
    assert len(data.load(data.profiles["full"]).y_train) == 5
    assert data.held_out() == 4 and data.chance() == 0.75
    assert len(calls) == 1  # loaded once per process
    monkeypatch.setenv("TOY_DATA", "other")
    with pytest.raises(ValueError, match="TOY_DATA='other' is not a data source of this lab"):
        data.load()


def test_a_loader_that_returns_something_else_is_named(tmp_path):
    data = _dataset(tmp_path, lambda: (np.zeros(3), np.zeros(3)))
    with pytest.raises(ValueError, match="returns four arrays.*returned 2"):
        data.held_out()
