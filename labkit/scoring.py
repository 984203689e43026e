"""How a model's answers are scored, derived from its output and its labels, as Keras does it.

A model compiled with ``metrics=["accuracy"]`` has its accuracy chosen by Keras from the shapes
of the labels and of the output (``keras/src/trainers/compile_utils.py``,
``is_binary_or_sparse_categorical`` and ``get_metric``): one output unit is a yes/no answer
(``BinaryAccuracy``: right when the output is above 0.5 exactly where the label is 1); labels
with fewer axes than the output, or one label per example against several units, are class
numbers (``SparseCategoricalAccuracy``: the most probable unit is the label); otherwise the
labels are one-hot (``CategoricalAccuracy``: the most probable unit is the label's hot one).
An output with a time axis is scored per position and averaged, as Keras averages it.

The same rules here, in NumPy: a check scores tens of thousands of predictions many times per
training, and the rule must not depend on what the student passed to ``metrics``.
"""

from __future__ import annotations

import numpy as np

BINARY, SPARSE, CATEGORICAL = "binary", "sparse categorical", "categorical"
THRESHOLD = 0.5  # Keras' BinaryAccuracy default: an output above it answers "1"


def rule_for(output_shape: tuple, label_shape: tuple) -> str:
    """Which accuracy Keras would pick for outputs of ``output_shape`` and labels of
    ``label_shape`` (both with the batch axis): ``BINARY``, ``SPARSE`` or ``CATEGORICAL``."""
    if output_shape[-1] == 1:
        return BINARY
    if len(label_shape) < len(output_shape) or (label_shape[-1] == 1 and output_shape[-1] > 1):
        return SPARSE
    return CATEGORICAL


def accuracy(predictions: np.ndarray, labels: np.ndarray) -> float:
    """The share of right answers in ``predictions`` (the model's outputs, batch first) for
    ``labels``, by the rule Keras would pick (``rule_for``); over every position of a
    sequence output. Raises ValueError when the two cannot be compared (different numbers of
    examples, or shapes that fit no rule)."""
    predictions, labels = np.asarray(predictions), np.asarray(labels)
    if len(predictions) != len(labels):
        raise ValueError(f"{len(predictions)} predictions for {len(labels)} labels.")
    rule = rule_for(predictions.shape, labels.shape)
    if rule == BINARY:
        answers = predictions[..., 0] > THRESHOLD
        truth = (labels.reshape(answers.shape) if labels.size == answers.size else labels) == 1
    elif rule == SPARSE:
        answers = np.argmax(predictions, axis=-1)
        truth = labels.reshape(answers.shape) if labels.size == answers.size else labels
    else:
        answers, truth = np.argmax(predictions, axis=-1), np.argmax(labels, axis=-1)
    if answers.shape != truth.shape:
        raise ValueError(
            f"Outputs of shape {predictions.shape[1:]} cannot be scored against labels of "
            f"shape {labels.shape[1:]}."
        )
    return float(np.mean(answers == truth))


def chance(labels: np.ndarray) -> float:
    """What always giving the most common answer scores on ``labels`` (class numbers, 0/1 or
    one-hot rows; for sequences, the most common answer at each position): the level an
    accuracy threshold must stay above."""
    labels = np.asarray(labels)
    if labels.ndim >= 2 and labels.shape[-1] > 1 and set(np.unique(labels)) <= {0, 1}:
        labels = np.argmax(labels, axis=-1)  # one-hot rows: their class numbers
    labels = labels.reshape(len(labels), -1)  # one column per position
    shares = []
    for column in labels.T:
        _, counts = np.unique(column, return_counts=True)
        shares.append(counts.max() / len(column))
    return float(np.mean(shares))
