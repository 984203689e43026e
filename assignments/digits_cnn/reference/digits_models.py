"""The digits lab's models: a flat dense network (worked example) and a small CNN (question 3)."""

import keras
from keras import layers

from digits_support import CLASSES, IMAGE_SHAPE


def build_dense_model() -> keras.Model:
    """Worked example: the image's 64 pixels laid end to end and read by dense layers."""
    model = keras.Sequential(
        [
            keras.Input(IMAGE_SHAPE),
            layers.Flatten(),
            layers.Dense(32, activation="relu"),
            layers.Dense(CLASSES, activation="softmax"),
        ],
        name="dense",
    )
    model.compile(loss="sparse_categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    return model


def build_cnn_model() -> keras.Model:
    """3: 16 filters of 3 x 3 pixels slide over the image; pooling keeps the strongest response
    of each 2 x 2 patch; a softmax layer reads the pooled feature maps."""
    model = keras.Sequential(
        [
            keras.Input(IMAGE_SHAPE),
            layers.Conv2D(16, (3, 3), activation="relu", padding="valid"),
            layers.MaxPooling2D(2),
            layers.Flatten(),
            layers.Dense(CLASSES, activation="softmax"),
        ],
        name="cnn",
    )
    model.compile(loss="sparse_categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    return model
