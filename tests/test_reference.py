"""The reference builders have exactly the architecture and parameter counts of LAB_SPEC.md."""

import numpy as np
import pytest

from reference import adder_models, imdb_models

CLASSIFIER_PARAMS = {
    imdb_models.build_feedforward_model: 125_501,
    imdb_models.build_embedding_model: 13_500_501,
    imdb_models.build_cnn_model: 13_560_701,
    imdb_models.build_simple_rnn_model: 1_020_201,
    imdb_models.build_lstm_model: 1_080_501,
    imdb_models.build_cnn_lstm_model: 1_062_933,
}


@pytest.mark.parametrize("builder", CLASSIFIER_PARAMS, ids=lambda b: b.__name__)
def test_classifier_params_and_compile(builder):
    model = builder()
    assert model.count_params() == CLASSIFIER_PARAMS[builder]
    assert model.loss == "binary_crossentropy"
    assert tuple(model.layers[-1].output.shape) == (None, 1)
    assert model.layers[-1].activation.__name__ == "sigmoid"


def test_recurrent_layer_params():
    simple_rnn = imdb_models.build_simple_rnn_model().get_layer(index=1)
    lstm = imdb_models.build_lstm_model().get_layer(index=1)
    assert (type(simple_rnn).__name__, simple_rnn.count_params()) == ("SimpleRNN", 20_100)
    assert (type(lstm).__name__, lstm.count_params()) == ("LSTM", 80_400)


def test_adder_architecture():
    model = adder_models.build_adder_model()
    counts = [layer.count_params() for layer in model.layers]
    assert counts == [72_192, 0, 131_584, 1_548]
    assert model.count_params() == 205_324
    assert tuple(model.layers[-1].output.shape) == (None, 4, 12)
    assert model.loss == "categorical_crossentropy"


def test_wrapper_demo_shapes():
    time_distributed = adder_models.build_time_distributed_demo()
    repeat_vector = adder_models.build_repeat_vector_demo()
    assert tuple(time_distributed(np.zeros((1, 3, 5))).shape) == (1, 3, 8)
    assert tuple(repeat_vector(np.zeros((1, 10))).shape) == (1, 3, 6)
