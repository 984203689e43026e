"""Support code for the convolutional-networks lab on handwritten digits.

This module ships next to the student notebook. It loads the images, applies the training
budget of the active profile and draws training curves. It contains no solution to any
exercise, and imports Keras only inside the functions that need it (and, in a notebook, once
quietly at the start).

The data: scikit-learn's 1,797 handwritten digits (``sklearn.datasets.load_digits``), 8 x 8
grey images with pixel values 0..16, which ship with scikit-learn (no download). They are
split once, with a fixed seed, into 1,297 training and 500 held-out images, and scaled to
[0, 1]. ``sklearn`` is the only data source (environment variable ``DIGITS_DATA``).

Choosing the budget (environment variable ``DIGITS_PROFILE``):
  * ``full``     the lab as written (default when you run the notebook yourself);
  * ``grading``  a budget of seconds, chosen automatically by the grader;
  * ``smoke``    tiny, for the toolkit's own tests.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from labkit.profiles import (  # noqa: F401  (set_seeds: for the notebook and the checks)
    GradingLimits,
    import_keras_quietly,
    in_a_notebook,
    profiles_beside,
    set_seeds,
)
from labkit.profiles import active_profile as _active_profile

IMAGE_SHAPE = (8, 8, 1)  # rows, columns, channels (one grey channel)
CLASSES = 10  # the digits 0..9
PIXEL_MAX = 16.0  # load_digits' pixels are whole numbers 0..16

PROFILE_ENV = "DIGITS_PROFILE"
DATA_ENV = "DIGITS_DATA"
DATA_SOURCE = "sklearn"  # the only source: the images that ship with scikit-learn
DATA_KIND = "digits"  # the key of the accuracy thresholds for this data

SPLIT_SEED = 0  # the one fixed split of the 1,797 images
TEST_IMAGES = 500
TRAIN_IMAGES = 1_297

import_keras_quietly()


@dataclass(frozen=True)
class Profile(GradingLimits):
    """A training budget, and the limits a graded run has in it (``GradingLimits``). ``None``
    means "as much as the lab asks for".

    In a grading run the notebook's own training is skipped (``notebook_epochs`` 0): the
    grade comes from fresh copies the checker trains. The checks' budget is what the
    accuracy thresholds are calibrated against.
    """

    name: str
    train_images: int | None  # training images an accuracy check uses (and the notebook loads)
    check_epochs: int  # epochs an accuracy check trains a fresh copy of a model for
    notebook_epochs: int | None  # cap on the epochs of the notebook's own training


# The budgets themselves are data: profiles.toml beside this file, checked against Profile.
PROFILES = profiles_beside(__file__, Profile)


def active_profile() -> Profile:
    """The profile named by ``DIGITS_PROFILE``, else ``grading`` in a grading run, else ``full``."""
    return _active_profile(PROFILES, PROFILE_ENV)


def data_source() -> str:
    """``sklearn``, the only source (``DIGITS_DATA`` may name it; anything else is an error)."""
    name = os.environ.get(DATA_ENV) or DATA_SOURCE
    if name != DATA_SOURCE:
        raise ValueError(
            f"{DATA_ENV}={name!r} is not a data source of this lab; the only one is "
            f"{DATA_SOURCE!r} (the digits that ship with scikit-learn)."
        )
    return name


# --------------------------------------------------------------------------- data


@dataclass(frozen=True)
class DigitsData:
    """Images of shape (n, 8, 8, 1) scaled to [0, 1], and their digits 0..9 as integers."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


def train_image_count(profile: Profile | None = None) -> int:
    """How many training images ``load_digits_data`` keeps in ``profile`` (no data is read)."""
    profile = profile or active_profile()
    cap = profile.train_images
    return TRAIN_IMAGES if cap is None else min(cap, TRAIN_IMAGES)


def load_digits_data(profile: Profile | None = None) -> DigitsData:
    """The fixed split of the digits: the profile's share of the 1,297 training images, and
    all 500 held-out images."""
    profile = profile or active_profile()
    data_source()
    return _split_digits(train_image_count(profile))


@lru_cache(maxsize=4)
def _split_digits(train_images: int) -> DigitsData:
    from sklearn.datasets import load_digits

    digits = load_digits()
    order = np.random.default_rng(SPLIT_SEED).permutation(len(digits.target))
    images = (digits.images[order] / PIXEL_MAX).astype("float32").reshape(-1, *IMAGE_SHAPE)
    labels = digits.target[order].astype("int64")
    train, test = slice(0, train_images), slice(len(labels) - TEST_IMAGES, None)
    return DigitsData(images[train], labels[train], images[test], labels[test])


# --------------------------------------------------------------------------- training helper


def _require_model(model) -> None:
    if not hasattr(model, "fit"):
        raise TypeError(
            f"Expected a Keras model but got {type(model).__name__}: "
            "finish the builder above and run its cell first."
        )


def _capped_epochs(profile: Profile, epochs: int) -> int:
    return epochs if profile.notebook_epochs is None else min(epochs, profile.notebook_epochs)


def fit_model(model, data: DigitsData, *, epochs: int, batch_size: int = 32):
    """Train a digit classifier within the active profile's epoch cap, report its accuracy on
    the held-out images and return the history. In a profile that caps the notebook's
    training at 0 epochs (grading: the grader trains its own copies) it trains nothing and
    returns None."""
    _require_model(model)
    profile = active_profile()
    epochs = _capped_epochs(profile, epochs)
    if not epochs:
        print(f"[{profile.name} profile] training skipped: the grader trains its own copy.")
        return None
    history = model.fit(
        data.x_train,
        data.y_train,
        epochs=epochs,
        batch_size=batch_size,
        validation_data=(data.x_test, data.y_test),
        verbose=2,
    )
    print(
        f"[{profile.name} profile, {len(data.y_train)} training images] "
        f"held-out accuracy: {accuracy(model, data.x_test, data.y_test):.3f}"
    )
    return history


def plot_history(history, title: str) -> None:
    """Draw accuracy per epoch on the training images and on the held-out images.

    ``history`` is what ``fit_model`` or ``model.fit`` returned; its ``history`` dict needs an
    ``accuracy`` entry (compile with ``metrics=["accuracy"]``).
    """
    import matplotlib.pyplot as plt

    if history is None or not history.epoch or "accuracy" not in history.history:
        print(f"[{active_profile().name} profile] no epochs were trained here: no curve to draw.")
        return
    epochs = [epoch + 1 for epoch in history.epoch]
    figure, axis = plt.subplots(figsize=(5, 3))
    axis.plot(epochs, history.history["accuracy"], marker="o", label="training images")
    if "val_accuracy" in history.history:
        axis.plot(epochs, history.history["val_accuracy"], marker="o", label="held-out images")
    axis.set(xlabel="epoch", ylabel="accuracy", title=title)
    axis.legend()
    plt.show()


def shift_images(images: np.ndarray, rows: int = 0, columns: int = 0) -> np.ndarray:
    """The images moved down by ``rows`` and right by ``columns`` pixels (up and left when
    negative); pixels moved in from outside are blank (0)."""
    height, width = images.shape[1:3]
    if abs(rows) >= height or abs(columns) >= width:
        return np.zeros_like(images)
    moved = np.zeros_like(images)
    source_rows = slice(max(-rows, 0), height - max(rows, 0))
    source_columns = slice(max(-columns, 0), width - max(columns, 0))
    target_rows = slice(max(rows, 0), height - max(-rows, 0))
    target_columns = slice(max(columns, 0), width - max(-columns, 0))
    moved[:, target_rows, target_columns] = images[:, source_rows, source_columns]
    return moved


def accuracy(model, images: np.ndarray, labels: np.ndarray) -> float:
    """The share of ``images`` whose most probable digit under ``model`` is the right one."""
    scores = np.asarray(model.predict(images, verbose=0))
    return float(np.mean(np.argmax(scores, axis=-1) == labels))


def show_digits(images: np.ndarray, labels: np.ndarray, count: int = 10) -> None:
    """Draw the first ``count`` images with their digits above them."""
    import matplotlib.pyplot as plt

    count = min(count, len(images))
    figure, axes = plt.subplots(1, count, figsize=(1.2 * count, 1.6))
    for axis, image, label in zip(np.atleast_1d(axes), images[:count], labels[:count], strict=True):
        axis.imshow(image[..., 0], cmap="gray_r", vmin=0, vmax=1)
        axis.set_title(str(int(label)))
        axis.axis("off")
    plt.show()


if in_a_notebook():
    # In a notebook, digits_checks sets how each grader.check result is shown. It must happen
    # here, in the notebook's first cell: otter runs the checks with IPython's display
    # formatters swapped out, so a registration made during a check would be lost. Without
    # digits_checks next to the notebook, checks show otter's own report instead.
    with contextlib.suppress(ImportError):
        import digits_checks  # noqa: F401
