"""The lab's reference model, one pure builder per model question."""

import keras
from keras import layers

from starter_support import FEATURES


def build_model() -> keras.Model:
    """2: 16 ReLU units read the features; one sigmoid unit says how likely class 1 is."""
    model = keras.Sequential(
        [
            keras.Input((FEATURES,)),
            layers.Dense(16, activation="relu"),
            layers.Dense(1, activation="sigmoid"),
        ],
        name="mlp",
    )
    model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])
    return model
