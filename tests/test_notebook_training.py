"""In a grading run the notebook's own training costs a token amount, however it is started;
and the checker knows a model's size before it builds it."""

import json
import math

import keras
import numpy as np
import pytest
from keras import layers

from autograder.grading.trusted import model_size
from autograder.grading.untrusted.token_training import limit_training
from reference import adder_models, imdb_models


@pytest.fixture()
def limited_model_class():
    """A subclass of keras.Model with the limit, so that the real class stays untouched."""

    class Limited(keras.Sequential):
        pass

    limit_training(Limited)
    return Limited


def small_model(model_class):
    model = model_class([keras.Input((4,)), layers.Dense(1, activation="sigmoid")])
    model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])
    return model


def test_fit_trains_one_step_and_returns_a_history_a_plot_can_read(limited_model_class):
    model = small_model(limited_model_class)
    x, y = np.zeros((640, 4)), np.zeros((640, 1))
    history = model.fit(x, y, epochs=20, batch_size=32, validation_data=(x, y), verbose=0)
    assert int(model.optimizer.iterations) == 1
    assert history.epoch == [0] and set(history.history) >= {"accuracy", "val_accuracy"}


def test_positional_epochs_and_a_validation_split_are_limited_too(limited_model_class):
    model = small_model(limited_model_class)
    x, y = np.zeros((640, 4)), np.zeros((640, 1))
    model.fit(x, y, 32, 5, 0, validation_split=0.5)
    assert int(model.optimizer.iterations) == 1


def test_the_labs_own_skip_passes_through(limited_model_class):
    model = small_model(limited_model_class)
    history = model.fit(np.zeros((64, 4)), np.zeros((64, 1)), epochs=0, verbose=0)
    assert history.epoch == [] and int(model.optimizer.iterations) == 0


def test_a_loop_of_train_on_batch_trains_once(limited_model_class):
    model = small_model(limited_model_class)
    x, y = np.zeros((32, 4)), np.zeros((32, 1))
    results = [model.train_on_batch(x, y) for _ in range(50)]
    assert int(model.optimizer.iterations) == 1 and results[-1] == results[0]


def test_the_real_model_class_is_untouched_by_the_tests(limited_model_class):
    model = small_model(keras.Sequential)
    model.fit(np.zeros((64, 4)), np.zeros((64, 1)), epochs=2, batch_size=32, verbose=0)
    assert int(model.optimizer.iterations) == 4


@pytest.mark.parametrize(
    "builder",
    [
        imdb_models.build_feedforward_model,
        imdb_models.build_embedding_model,
        imdb_models.build_cnn_model,
        imdb_models.build_simple_rnn_model,
        imdb_models.build_lstm_model,
        imdb_models.build_cnn_lstm_model,
        adder_models.build_adder_model,
    ],
)
def test_the_size_estimate_counts_every_reference_model_exactly(builder):
    model = builder()
    assert model_size.estimate(json.loads(model.to_json())).parameters == model.count_params()
    assert model_size.refusal(json.loads(model.to_json())) is None


def test_the_largest_models_the_lab_allows_are_accepted():
    stacked = keras.Sequential(
        [keras.Input((500,)), layers.Embedding(10_000, 100)]
        + [layers.LSTM(512, return_sequences=True) for _ in range(2)]
        + [layers.Bidirectional(layers.GRU(512)), layers.Dense(1, activation="sigmoid")]
    )
    config = json.loads(stacked.to_json())
    assert model_size.estimate(config).parameters == stacked.count_params()
    assert model_size.refusal(config) is None


def test_a_sequence_too_long_to_hold_is_refused():
    long = keras.Sequential(
        [keras.Input((8,)), layers.RepeatVector(1_000_000), layers.LSTM(128, return_sequences=True)]
    )
    assert "numbers per example" in model_size.refusal(json.loads(long.to_json()))


def image_model(*hidden):
    return keras.Sequential([keras.Input((8, 8, 1)), *hidden, layers.Flatten(), layers.Dense(10)])


@pytest.mark.parametrize(
    "hidden",
    [
        [layers.Conv2D(16, 3), layers.MaxPooling2D(2)],  # the digits lab's CNN
        [layers.Conv2D(8, (3, 3), padding="same"), layers.AveragePooling2D(3)],
        [layers.Conv2D(8, (3, 2), strides=2, use_bias=False), layers.Conv2D(4, 2)],
        [layers.Conv2D(8, 3), layers.MaxPooling2D(2, strides=1, padding="same")],
    ],
)
def test_the_size_estimate_counts_image_models_exactly(hidden):
    """Convolutions and poolings over rows and columns (the digits lab's answers) are counted
    with their output shapes, so a Dense layer after Flatten is counted right as well."""
    model = image_model(*hidden)
    size = model_size.estimate(json.loads(model.to_json()))
    assert size.parameters == model.count_params()
    assert size.activations >= math.prod(model.output_shape[1:])


def test_an_image_model_too_big_to_train_is_refused():
    huge = image_model(layers.Conv2D(3_000, 3), layers.Conv2D(3_000, 3))  # 81 million weights
    wide = keras.Sequential([keras.Input((2_000, 2_000, 3)), layers.Conv2D(64, 3)])
    assert "weights" in model_size.refusal(json.loads(huge.to_json()))
    assert "numbers per example" in model_size.refusal(json.loads(wide.to_json()))
