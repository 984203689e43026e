"""Specs derived from the reference and what may vary (labkit.derive): the digits lab's
derived spec is exactly the one it used to write by hand, so its checks and messages are
unchanged."""

import keras
import pytest
from keras import layers

from autograder.lab.find import installed_labs_dir
from autograder.lab.folder import load_lab
from labkit.derive import ANY, derive_spec

# The spec the digits lab wrote by hand before its spec was derived (digits_specs.CNN).
DIGITS_CNN_BY_HAND = {
    "builder": "build_cnn_model",
    "input": (8, 8, 1),
    "input_hint": "each image is 8 x 8 pixels with one grey channel, so start with "
    "keras.Input((8, 8, 1)).",
    "output": (10,),
    "loss": "sparse_categorical_crossentropy",
    "optimizer": {"kinds": ("Adam", "AdamW", "Nadam", "Adamax", "RMSprop"),
                  "learning_rate": (1e-3, 1e-2)},
    "dropout": True,
    "layers": [
        {"kind": "Conv2D", "filters": {"min": 8}, "kernel_size": 3, "padding": ("same", "valid"),
         "activation": "relu", "repeat": (1, 2), "role": "the convolution"},
        {"kind": "MaxPooling2D", "role": "the pooling layer"},
        {"kind": "Flatten"},
        {"kind": "Dense", "units": 10, "activation": "softmax", "role": "the output layer",
         "why": "a choice among 10 digits needs"},
    ],
}  # fmt: skip


def test_the_digits_spec_derived_from_its_reference_is_the_one_written_by_hand():
    lab = load_lab(installed_labs_dir() / "digits_cnn")
    question = lab.questions["q3"]
    assert question.spec.resolve(question.builder) == DIGITS_CNN_BY_HAND


def _mlp():
    model = keras.Sequential([keras.Input((30,)), layers.Dense(16, activation="relu"),
                              layers.Dense(1, activation="sigmoid")])  # fmt: skip
    model.compile(loss="binary_crossentropy", optimizer="adam")
    return model


def test_a_yes_no_model_gets_its_output_rule_and_the_variations_declared():
    spec = derive_spec(_mlp(), builder="build_mlp",
                       vary={"layers[0].units": {"min": 8}, "dropout": True})  # fmt: skip
    assert spec["input"] == (30,) and spec["output"] == (1,)
    assert spec["loss"] == "binary_crossentropy" and spec["dropout"] is True
    assert spec["layers"] == [
        {"kind": "Dense", "units": {"min": 8}, "activation": "relu"},
        {"kind": "Dense", "units": 1, "activation": "sigmoid", "role": "the output layer",
         "why": "a probability between 0 and 1 needs"},
    ]  # fmt: skip
    freed = derive_spec(_mlp(), builder="build_mlp", vary={"layers[0].activation": ANY})
    assert "activation" not in freed["layers"][0]


def test_a_variation_that_names_nothing_is_refused():
    with pytest.raises(ValueError, match=r"vary\['layers\[5\]\.units'\]: the reference has 2"):
        derive_spec(_mlp(), builder="build_mlp", vary={"layers[5].units": 8})
    with pytest.raises(ValueError, match=r"vary\['width'\] is neither a layer"):
        derive_spec(_mlp(), builder="build_mlp", vary={"width": 8})
