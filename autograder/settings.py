"""A run's settings as one typed value: the training budget (profile) and the IMDB data source.

Inside a process these travel as a ``RunSettings``; they cross to a notebook, a checker or a
calibration worker as environment variables, written by ``RunSettings.environment`` and read
by ``lab_support`` on the other side, and to a batch record by ``RunSettings.record``.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import lab_support

GENERATED = lab_support.GENERATED_SOURCE
KERAS = lab_support.DEFAULT_IMDB_SOURCE
NAMED_SOURCES = (GENERATED, KERAS)


@dataclass(frozen=True)
class DataSource:
    """Where the IMDB reviews come from: ``generated`` (the offline stand-in), ``keras``
    (downloaded through Keras) or a local copy of Keras' ``imdb.npz`` (an absolute path)."""

    name: str

    @classmethod
    def parse(cls, text: str) -> DataSource:
        """The source a user named; a path is made absolute (the runs it reaches start in other
        folders). Raises ValueError for ``generated-long``, which grading cannot use."""
        if text == lab_support.GENERATED_LONG_SOURCE:
            raise ValueError(
                f"'{text}' is the notebook's offline stand-in for comparing models; grading "
                f"trains on '{GENERATED}' (its thresholds are calibrated on it), 'keras' or a "
                "path to imdb.npz."
            )
        if text in NAMED_SOURCES:
            return cls(text)
        return cls(str(Path(text).resolve()))

    @property
    def path(self) -> Path | None:
        """The local copy's path, or None for a named source."""
        return None if self.name in NAMED_SOURCES else Path(self.name)

    @property
    def kind(self) -> str:
        """``generated`` or ``imdb``: the key of the thresholds calibrated for this data."""
        return GENERATED if self.name == GENERATED else "imdb"

    def description(self) -> str:
        """The source as a calibration records it: a local copy by name and checksum."""
        if self.path is None or not self.path.is_file():
            return self.name
        return f"{self.path.name}, sha256 {hashlib.sha256(self.path.read_bytes()).hexdigest()}"

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class RunSettings:
    """The budget and data of a run that executes notebooks or trains checks.

    ``profile`` names one of ``lab_support.PROFILES`` (ValueError otherwise).
    """

    profile: str
    data: DataSource

    def __post_init__(self) -> None:
        if self.profile not in lab_support.PROFILES:
            raise ValueError(
                f"{self.profile!r} is not a profile; use one of {sorted(lab_support.PROFILES)}."
            )

    @classmethod
    def of(cls, profile: str, imdb: str) -> RunSettings:
        """Settings from their names, as a command line gives them."""
        return cls(profile, DataSource.parse(imdb))

    @classmethod
    def from_environment(
        cls, environment: Mapping[str, str] = os.environ, profile: str = "grading"
    ) -> RunSettings:
        """Settings named by ``RNNLAB_PROFILE`` and ``RNNLAB_IMDB``, else ``profile`` and
        ``generated`` (how the Gradescope entry point is told them)."""
        return cls.of(
            environment.get(lab_support.PROFILE_ENV) or profile,
            environment.get(lab_support.IMDB_SOURCE_ENV) or GENERATED,
        )

    def environment(self, base: Mapping[str, str] | None = None) -> dict[str, str]:
        """``base`` (this process' environment by default) with the settings written in for a
        notebook, checker or worker to read, and TensorFlow's C++ log kept quiet."""
        environment = dict(os.environ if base is None else base)
        environment[lab_support.PROFILE_ENV] = self.profile
        environment[lab_support.IMDB_SOURCE_ENV] = self.data.name
        environment.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        return environment

    def record(self) -> dict[str, str]:
        """The settings as a batch record keeps them."""
        return {"profile": self.profile, "imdb": self.data.name}

    def __str__(self) -> str:
        return f"{self.profile} profile, {self.data} data"


PROFILE_NAMES = tuple(lab_support.PROFILES)
