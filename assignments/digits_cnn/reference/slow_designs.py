"""The slowest-learning designs question 3's spec allows, for calibration only: the accuracy
threshold is set on the weakest of these and the reference in each run
(``calibration_designs`` of q3), so that every valid answer clears it, not only the reference."""

import keras
from keras import layers

from digits_support import CLASSES, IMAGE_SHAPE

SLOWEST_RATE = 1e-3  # the lowest learning rate the spec allows (the q3 spec in __init__.py)


def build_smallest_cnn_model() -> keras.Model:
    """The fewest filters (8) and the coarsest pooling (3 x 3) allowed, at the lowest rate."""
    model = keras.Sequential(
        [
            keras.Input(IMAGE_SHAPE),
            layers.Conv2D(8, (3, 3), activation="relu", padding="valid"),
            layers.MaxPooling2D(3),
            layers.Flatten(),
            layers.Dense(CLASSES, activation="softmax"),
        ],
        name="smallest_cnn",
    )
    model.compile(
        loss="sparse_categorical_crossentropy",
        optimizer=keras.optimizers.Adam(SLOWEST_RATE),
        metrics=["accuracy"],
    )
    return model
