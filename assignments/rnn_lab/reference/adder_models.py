"""Part 2: the wrapper demos and the sequence-to-sequence adder."""

import keras
from keras import layers

from lab_support import ALPHABET, ANSWER_LENGTH, QUESTION_LENGTH


def build_time_distributed_demo() -> keras.Model:
    """TimeDistributed applies one Dense(8) to each of 3 time steps of 5 features."""
    return keras.Sequential(
        [keras.Input((3, 5)), layers.TimeDistributed(layers.Dense(8))],
        name="time_distributed_demo",
    )


def build_repeat_vector_demo() -> keras.Model:
    """RepeatVector copies one 6-vector into a sequence of 3 identical steps."""
    return keras.Sequential(
        [keras.Input((10,)), layers.Dense(6), layers.RepeatVector(3)],
        name="repeat_vector_demo",
    )


def build_adder_model() -> keras.Model:
    """Encoder LSTM reads the question; its summary, repeated, feeds a decoder LSTM."""
    model = keras.Sequential(
        [
            keras.Input((QUESTION_LENGTH, len(ALPHABET))),
            layers.LSTM(128),
            layers.RepeatVector(ANSWER_LENGTH),
            layers.LSTM(128, return_sequences=True),
            layers.TimeDistributed(layers.Dense(len(ALPHABET), activation="softmax")),
        ],
        name="adder",
    )
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    return model
