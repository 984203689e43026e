"""Support code shipped beside the notebook: the data, the training budgets
(``STARTER_PROFILE``: full, grading, smoke; ``profiles.toml``) and the notebook's helpers."""

from pathlib import Path

from labkit.dataset import Dataset
from labkit.display import show_results_briefly
from labkit.profiles import import_keras_quietly, set_seeds  # noqa: F401

FEATURES = 10
TEST_EXAMPLES = 200  # of 800; the other 600 are for training

import_keras_quietly()


def load_examples():
    """A fixed split of 800 made-up examples in two classes (0 and 1); replace it with your
    lab's data: ``x_train, y_train, x_test, y_test`` as numpy arrays."""
    from sklearn.datasets import make_classification

    x, y = make_classification(
        n_samples=800, n_features=FEATURES, n_informative=6, class_sep=1.0, random_state=0
    )
    x, y = x.astype("float32"), y.astype("int64")
    cut = len(y) - TEST_EXAMPLES
    return x[:cut], y[:cut], x[cut:], y[cut:]


DATASET = Dataset(
    loader=load_examples, profiles=Path(__file__).with_name("profiles.toml"), variables="STARTER",
    source="sklearn", kind="examples", examples="examples",
)  # fmt: skip
active_profile, fit_model, plot_history = (
    DATASET.active_profile,
    DATASET.fit_model,
    DATASET.plot_history,
)
load_data = DATASET.load
show_results_briefly()  # in a notebook: each check's result in one sentence per fault
