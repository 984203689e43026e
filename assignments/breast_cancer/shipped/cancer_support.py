"""Support code for the breast-cancer lab, shipped beside the notebook: the data (scikit-learn's
569 tumours, 30 measurements each, standardised on the training split), the training budgets
(``CANCER_PROFILE``: full, grading, smoke; ``profiles.toml``) and the notebook's helpers."""

from pathlib import Path

import numpy as np

from labkit.dataset import Dataset
from labkit.display import show_results_briefly
from labkit.profiles import import_keras_quietly, set_seeds  # noqa: F401

FEATURES = 30
TEST_EXAMPLES = 169  # of 569; the other 400 are for training

import_keras_quietly()


def load_tumours():
    """A fixed split of the tumours; label 1 is benign, 0 malignant."""
    from sklearn.datasets import load_breast_cancer

    x, y = load_breast_cancer(return_X_y=True)
    order = np.random.default_rng(0).permutation(len(y))
    x, y = x[order].astype("float32"), y[order].astype("int64")
    cut = len(y) - TEST_EXAMPLES
    mean, spread = x[:cut].mean(axis=0), x[:cut].std(axis=0)
    x = (x - mean) / spread
    return x[:cut], y[:cut], x[cut:], y[cut:]


DATASET = Dataset(
    loader=load_tumours, profiles=Path(__file__).with_name("profiles.toml"), variables="CANCER",
    source="sklearn", kind="tumours", examples="tumours",
)  # fmt: skip
active_profile, fit_model, plot_history = (
    DATASET.active_profile,
    DATASET.fit_model,
    DATASET.plot_history,
)
load_data = DATASET.load
show_results_briefly()  # in a notebook: each check's result in one sentence per fault
