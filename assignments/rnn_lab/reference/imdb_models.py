"""Part 1: IMDB sentiment classifiers (exercises 1a, 1b, 2, 3, 4 and 5)."""

import keras
from keras import layers

from lab_support import EMBEDDING_DIM, MAX_REVIEW_LENGTH, VOCABULARY_SIZE


def build_feedforward_model() -> keras.Model:
    """1a: a dense network fed the raw token ids as if they were magnitudes."""
    model = keras.Sequential(
        [
            keras.Input((MAX_REVIEW_LENGTH,)),
            layers.Dense(250, activation="relu"),
            layers.Dense(1, activation="sigmoid"),
        ],
        name="feedforward",
    )
    model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])
    return model


def build_embedding_model() -> keras.Model:
    """1b: the same dense network reading learned word vectors instead of ids."""
    model = keras.Sequential(
        [
            keras.Input((MAX_REVIEW_LENGTH,), dtype="int32"),
            layers.Embedding(VOCABULARY_SIZE, EMBEDDING_DIM),
            layers.Flatten(),
            layers.Dense(250, activation="relu"),
            layers.Dense(1, activation="sigmoid"),
        ],
        name="embedding_feedforward",
    )
    model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])
    return model


def build_cnn_model() -> keras.Model:
    """2: a 1-D convolution finds short phrases; pooling halves the sequence."""
    model = keras.Sequential(
        [
            keras.Input((MAX_REVIEW_LENGTH,), dtype="int32"),
            layers.Embedding(VOCABULARY_SIZE, EMBEDDING_DIM),
            layers.Conv1D(200, 3, padding="same", activation="relu"),
            layers.MaxPooling1D(2),
            layers.Flatten(),
            layers.Dense(250, activation="relu"),
            layers.Dense(1, activation="sigmoid"),
        ],
        name="cnn",
    )
    model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])
    return model


def build_simple_rnn_model() -> keras.Model:
    """3: a plain recurrent layer reads the review word by word."""
    model = keras.Sequential(
        [
            keras.Input((MAX_REVIEW_LENGTH,), dtype="int32"),
            layers.Embedding(VOCABULARY_SIZE, EMBEDDING_DIM),
            layers.SimpleRNN(100),
            layers.Dense(1, activation="sigmoid"),
        ],
        name="simple_rnn",
    )
    model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])
    return model


def build_lstm_model() -> keras.Model:
    """4: an LSTM, whose gates keep information across long reviews."""
    model = keras.Sequential(
        [
            keras.Input((MAX_REVIEW_LENGTH,), dtype="int32"),
            layers.Embedding(VOCABULARY_SIZE, EMBEDDING_DIM),
            layers.LSTM(100),
            layers.Dense(1, activation="sigmoid"),
        ],
        name="lstm",
    )
    model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])
    return model


def build_cnn_lstm_model() -> keras.Model:
    """5: convolution and pooling extract local features; an LSTM reads the shorter sequence."""
    model = keras.Sequential(
        [
            keras.Input((MAX_REVIEW_LENGTH,), dtype="int32"),
            layers.Embedding(VOCABULARY_SIZE, EMBEDDING_DIM),
            layers.Conv1D(32, 3, padding="same", activation="relu"),
            layers.MaxPooling1D(2),
            layers.LSTM(100),
            layers.Dense(1, activation="sigmoid"),
        ],
        name="cnn_lstm",
    )
    model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])
    return model
