"""The breast-cancer lab's reference model (its slowest allowed design is derived: ``SLOWEST``)."""

import keras
from cancer_support import FEATURES
from keras import layers


def build_mlp_model() -> keras.Model:
    """2: 16 ReLU units read the 30 measurements; one sigmoid unit says how likely benign."""
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

