"""Support code for the convolutional-networks lab on handwritten digits.

Shipped beside the notebook: the images, the active profile's training budget and the
training curves (``labkit.dataset``); no solution to any exercise.

The data: scikit-learn's 1,797 handwritten digits (``sklearn.datasets.load_digits``), 8 x 8
grey images with pixel values 0..16, which ship with scikit-learn (no download). They are
split once, with a fixed seed, into 1,297 training and 500 held-out images, and scaled to
[0, 1]. ``sklearn`` is the only data source (environment variable ``DIGITS_DATA``).

Choosing the budget (environment variable ``DIGITS_PROFILE``; ``profiles.toml``):
  * ``full``     the lab as written (default when you run the notebook yourself);
  * ``grading``  a budget of seconds, chosen automatically by the grader;
  * ``smoke``    tiny, for the toolkit's own tests.
"""

from pathlib import Path

import numpy as np

from labkit.dataset import Dataset
from labkit.display import show_results_briefly
from labkit.profiles import import_keras_quietly, set_seeds  # noqa: F401

IMAGE_SHAPE = (8, 8, 1)  # rows, columns, channels (one grey channel)
CLASSES = 10  # the digits 0..9
PIXEL_MAX = 16.0  # load_digits' pixels are whole numbers 0..16
SPLIT_SEED = 0  # the one fixed split of the 1,797 images
TEST_IMAGES = 500

import_keras_quietly()


def split_digits():
    """The 1,797 images in one fixed order: the first 1,297 to train on, the last 500 held out."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    order = np.random.default_rng(SPLIT_SEED).permutation(len(digits.target))
    images = (digits.images[order] / PIXEL_MAX).astype("float32").reshape(-1, *IMAGE_SHAPE)
    labels = digits.target[order].astype("int64")
    cut = len(labels) - TEST_IMAGES
    return images[:cut], labels[:cut], images[cut:], labels[cut:]


DATASET = Dataset(
    loader=split_digits, profiles=Path(__file__).with_name("profiles.toml"), variables="DIGITS",
    source="sklearn", kind="digits", examples="images",
)  # fmt: skip
fit_model, plot_history, accuracy = DATASET.fit_model, DATASET.plot_history, DATASET.accuracy
active_profile, load_digits_data = DATASET.active_profile, DATASET.load


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


show_results_briefly()  # in a notebook: each check's result in one sentence per fault
