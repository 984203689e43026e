"""A lab's data declared once, by a loader, with its training budgets: what every small lab's
support module used to write out by hand.

``Dataset(loader=..., profiles=..., variables="DIGITS", source="sklearn", kind="digits")``
gives the lab's support module everything it needs: the active profile (``active_profile``,
chosen by the environment variable ``<variables>_PROFILE``), the one data source's check
(``<variables>_DATA``), the split capped to the profile's training examples (``load``), the
notebook's training helper (``fit_model``, within the profile's epoch cap) and curves
(``plot_history``), the accuracy of a model (``accuracy``, scored as Keras would,
``labkit.scoring``), the chance level and held-out count (``chance``, ``held_out``), and the
measurement an accuracy check makes (``measure``: a fresh copy trained within the budget).

The loader is any function that returns ``x_train, y_train, x_test, y_test`` as arrays
(scikit-learn, a local file, a Keras dataset), called once per process and kept. It runs in
the notebook and in the trusted checker, never in the toolkit's parent process unless the lab
asks for its chance level there. Keras is imported only inside the functions that train.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache

import numpy as np

from . import scoring
from .profiles import GradingLimits, active_profile, load_profiles


@dataclass(frozen=True, kw_only=True)
class Profile(GradingLimits):
    """A training budget of a lab with one dataset (one table of its ``profiles.toml``).

    ``check_epochs``: epochs an accuracy check trains a fresh copy for; ``notebook_epochs``:
    cap on the notebook's own training (0 in a grading run: the grade comes from the checker's
    copies; left out: uncapped); ``train_examples``: training examples kept (left out: all).
    """

    name: str
    check_epochs: int
    notebook_epochs: int | None = None
    train_examples: int | None = None


@dataclass(frozen=True)
class Split:
    """The data a lab trains and scores on: examples first on every array."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


class Dataset:
    """One lab's data and budgets (see the module docstring).

    ``loader() -> (x_train, y_train, x_test, y_test)``; ``profiles``: the path of the lab's
    ``profiles.toml`` (schema ``schema``, by default ``Profile``); ``variables``: the prefix
    of the two environment variables a run's settings come in (``DIGITS`` gives
    ``DIGITS_PROFILE`` and ``DIGITS_DATA``); ``source``: the one data source's name, and
    ``kind`` the key of the thresholds calibrated on it; ``examples``: what one example is
    called in messages ("images").
    """

    def __init__(
        self,
        *,
        loader,
        profiles,
        variables: str,
        source: str,
        kind: str,
        examples: str = "examples",
        schema: type = Profile,
    ):
        self.loader = loader
        self.profiles = load_profiles(profiles, schema)
        self.profile_variable = f"{variables}_PROFILE"
        self.data_variable = f"{variables}_DATA"
        self.source, self.kind, self.examples = source, kind, examples
        self._split = cache(self._load_all)

    # ------------------------------------------------------------------ settings

    def active_profile(self):
        """The profile named by ``<variables>_PROFILE``, else ``grading`` in a grading run,
        else ``full`` (``labkit.profiles.active_profile``). Raises ValueError for another name."""
        return active_profile(self.profiles, self.profile_variable)

    def data_source(self) -> str:
        """The run's data source: the lab's only one. Raises ValueError when
        ``<variables>_DATA`` names another."""
        name = os.environ.get(self.data_variable) or self.source
        if name != self.source:
            raise ValueError(
                f"{self.data_variable}={name!r} is not a data source of this lab; the only one "
                f"is {self.source!r}."
            )
        return name

    # ------------------------------------------------------------------ data

    def _load_all(self) -> Split:
        arrays = self.loader()
        if len(arrays) != 4:
            raise ValueError(
                "A lab's loader returns four arrays, x_train, y_train, x_test, y_test; this "
                f"one returned {len(arrays)}."
            )
        return Split(*(np.asarray(array) for array in arrays))

    def train_count(self, profile=None) -> int:
        """How many training examples ``load`` keeps in ``profile`` (default: the active one)."""
        profile = profile or self.active_profile()
        total = len(self._split().y_train)
        return total if profile.train_examples is None else min(profile.train_examples, total)

    def load(self, profile=None) -> Split:
        """The split, its training examples cut to ``profile``'s share (default: the active
        profile's), every held-out example kept."""
        self.data_source()
        full, kept = self._split(), self.train_count(profile)
        return Split(full.x_train[:kept], full.y_train[:kept], full.x_test, full.y_test)

    def held_out(self) -> int:
        """How many held-out examples an accuracy is measured on (in every profile)."""
        return len(self._split().y_test)

    def chance(self) -> float:
        """What always giving the most common answer scores on the held-out labels
        (``scoring.chance``)."""
        return scoring.chance(self._split().y_test)

    # ------------------------------------------------------------------ the notebook's helpers

    def accuracy(self, model, x: np.ndarray, y: np.ndarray) -> float:
        """The share of ``x`` that ``model`` answers right, scored as Keras scores
        ``metrics=["accuracy"]`` for these labels (``scoring.accuracy``)."""
        return scoring.accuracy(np.asarray(model.predict(x, verbose=0)), y)

    def fit_model(self, model, data: Split, *, epochs: int, batch_size: int = 32):
        """Train ``model`` on ``data`` within the active profile's epoch cap, print its
        held-out accuracy and return the history; in a profile that caps the notebook at 0
        epochs (grading: the grader trains its own copies) train nothing and return None.
        Raises TypeError for something that is not a Keras model."""
        if not hasattr(model, "fit"):
            raise TypeError(
                f"Expected a Keras model but got {type(model).__name__}: "
                "finish the builder above and run its cell first."
            )
        profile = self.active_profile()
        cap = profile.notebook_epochs
        epochs = epochs if cap is None else min(epochs, cap)
        if not epochs:
            print(f"[{profile.name} profile] training skipped: the grader trains its own copy.")
            return None
        history = model.fit(
            data.x_train, data.y_train, epochs=epochs, batch_size=batch_size,
            validation_data=(data.x_test, data.y_test), verbose=2,
        )  # fmt: skip
        print(
            f"[{profile.name} profile, {len(data.y_train)} training {self.examples}] "
            f"held-out accuracy: {self.accuracy(model, data.x_test, data.y_test):.3f}"
        )
        return history

    def plot_history(self, history, title: str) -> None:
        """Draw accuracy per epoch on the training and the held-out examples. ``history`` is
        what ``fit_model`` or ``model.fit`` returned; it needs an ``accuracy`` entry (compile
        with ``metrics=["accuracy"]``)."""
        import matplotlib.pyplot as plt

        if history is None or not history.epoch or "accuracy" not in history.history:
            name = self.active_profile().name
            print(f"[{name} profile] no epochs were trained here: no curve to draw.")
            return
        epochs = [epoch + 1 for epoch in history.epoch]
        _, axis = plt.subplots(figsize=(5, 3))
        axis.plot(
            epochs, history.history["accuracy"], marker="o", label=f"training {self.examples}"
        )
        if "val_accuracy" in history.history:
            axis.plot(
                epochs, history.history["val_accuracy"], marker="o",
                label=f"held-out {self.examples}",
            )  # fmt: skip
        axis.set(xlabel="epoch", ylabel="accuracy", title=title)
        axis.legend()
        plt.show()

    # ------------------------------------------------------------------ the checks' measurement

    def measure(self, model, *, batch_size: int, seed: int, extra_epochs: int = 0, enough=None):
        """Train a fresh copy of ``model`` within the active profile's budget and score it on
        every held-out example: a ``labkit.checks.Measurement``. The checks and calibration
        both measure through here (calibration without ``enough``, the whole budget), so a
        threshold is calibrated on exactly the training a grading run does."""
        from . import checks
        from .profiles import set_seeds

        profile = self.active_profile()
        source = self.data_source()
        set_seeds(seed)  # the copy trained below draws its weights; loading draws none

        def load():
            data = self.load(profile)

            def score(trained) -> float:
                return scoring.accuracy(
                    np.asarray(trained(data.x_test, training=False)), data.y_test
                )

            return data.x_train, data.y_train, score

        counts = [self.train_count(profile), self.held_out()]
        identity = {"task": self.kind, "seed": seed, "data": source, "examples": counts}
        accuracy, epochs, reused = checks.train_and_score(
            model, load, profile.check_epochs + extra_epochs, batch_size, enough, identity
        )
        budget = f"{epochs} epoch(s) on {counts[0]} {self.examples}"
        return checks.Measurement(accuracy, counts[1], budget, reused)
