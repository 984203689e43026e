"""The slowest-learning designs the lab's specs allow, for calibration only.

A question's accuracy threshold is the lowest of the thresholds calibrated on its reference
and on each of these (``calibration_designs`` in the lab's interface, ``autograder.quality.calibrate``),
so that every design ``lab_specs`` accepts clears it when it learns, not only the reference.
Each design takes every bound of its spec at the end that slows learning: the most dropout
(``lab_specs.MAX_DROPOUT``), the deepest stack (``MAX_STACK``), the coarsest pooling, the fewest
filters and units, at the lowest learning rate allowed (Adam's default, 0.001).
"""

import keras
from keras import layers

from lab_specs import MAX_DROPOUT, MAX_STACK, POOLING
from lab_support import EMBEDDING_DIM, MAX_REVIEW_LENGTH, VOCABULARY_SIZE

COARSEST_POOL = POOLING["pool_size"]["max"]
WIDEST_LSTM = 128  # lab_specs.LSTM's largest number of units


def _review_classifier(name: str, *middle: layers.Layer) -> keras.Model:
    model = keras.Sequential(
        [
            keras.Input((MAX_REVIEW_LENGTH,), dtype="int32"),
            layers.Embedding(VOCABULARY_SIZE, EMBEDDING_DIM),
            *middle,
            layers.Dense(1, activation="sigmoid"),
        ],
        name=name,
    )
    model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])
    return model


def build_cnn_coarse_pool_dropout() -> keras.Model:
    """Exercise 2: pooling of 4 and half of the inputs dropped before each dense layer."""
    return _review_classifier(
        "cnn_coarse_pool_dropout",
        layers.Conv1D(200, 3, padding="same", activation="relu"),
        layers.MaxPooling1D(COARSEST_POOL),
        layers.Flatten(),
        layers.Dropout(MAX_DROPOUT),
        layers.Dense(250, activation="relu"),
        layers.Dropout(MAX_DROPOUT),
    )


def build_lstm_stacked_widest_dropout() -> keras.Model:
    """Exercise 4: two stacked LSTMs of the most units allowed, half dropped between and after.
    A stack learns more slowly than one LSTM: it sits near chance for an epoch or two."""
    assert MAX_STACK == 2, "a design per depth: update this one when the stack may grow"
    return _review_classifier(
        "lstm_stacked_widest_dropout",
        layers.LSTM(WIDEST_LSTM, return_sequences=True),
        layers.Dropout(MAX_DROPOUT),
        layers.LSTM(WIDEST_LSTM),
        layers.Dropout(MAX_DROPOUT),
    )


def build_cnn_lstm_smallest() -> keras.Model:
    """Exercise 5: the fewest filters (8), the narrowest kernel (2), the coarsest pooling (4)
    and the smallest LSTM (16 units) allowed."""
    return _review_classifier(
        "cnn_lstm_smallest",
        layers.Conv1D(8, 2, padding="valid", activation="relu"),
        layers.MaxPooling1D(COARSEST_POOL),
        layers.LSTM(16),
    )
