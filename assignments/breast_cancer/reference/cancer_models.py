"""The breast-cancer lab's reference model, and the slowest-learning one its spec allows."""

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


def build_narrowest_mlp_model() -> keras.Model:
    """For calibration only: the fewest units (8), the most dropout (0.5), the lowest rate."""
    model = keras.Sequential(
        [
            keras.Input((FEATURES,)),
            layers.Dense(8, activation="relu"),
            layers.Dropout(0.5),
            layers.Dense(1, activation="sigmoid"),
        ],
        name="narrowest_mlp",
    )
    model.compile(loss="binary_crossentropy", optimizer=keras.optimizers.Adam(1e-3))
    return model
