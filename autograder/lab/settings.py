"""A run's settings as one typed value: the training budget (profile) and the data source.

Inside a process these travel as a ``RunSettings``; they cross to a notebook, a checker or a
calibration worker as the two environment variables the lab names (``Lab.variables``: its
dataset's, or its support module's ``PROFILE_ENV`` and ``DATA_ENV``), written by ``RunSettings.environment`` and read by the
lab's support module on the other side, and to a batch record by ``RunSettings.record``. The
lab decides which profiles and data sources exist (``autograder.lab.folder``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from autograder.errors import InputError
from autograder.lab.digest import file_sha256


def _default_lab():
    from autograder.lab.find import default_lab_folder
    from autograder.lab.folder import load_lab

    return load_lab(default_lab_folder())


@dataclass(frozen=True)
class DataSource:
    """Where a lab's data comes from: a named source of the lab or a local file (an absolute
    path). ``kind`` keys the thresholds calibrated for this data."""

    name: str
    kind: str
    is_file: bool = False

    @classmethod
    def parse(cls, text: str, lab) -> DataSource:
        """The source a user named, for ``lab``; a path is made absolute (the runs it reaches
        start in other folders). Raises ValueError for a source grading refuses, with the
        lab's sentence, or for a file when the lab takes none."""
        options = lab.data
        if text in options.refused:
            raise InputError(options.refused[text])
        if text in options.sources:
            return cls(text, options.sources[text])
        if options.file_kind is None:
            raise InputError(
                f"{text!r} is not a data source of this lab; use one of {sorted(options.sources)}."
            )
        return cls(str(Path(text).resolve()), options.file_kind, is_file=True)

    @property
    def path(self) -> Path | None:
        """The local copy's path, or None for a named source."""
        return Path(self.name) if self.is_file else None

    def description(self) -> str:
        """The source as a calibration records it: a local copy by name and checksum."""
        if self.path is None or not self.path.is_file():
            return self.name
        return f"{self.path.name}, sha256 {file_sha256(self.path)}"

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class RunSettings:
    """The budget and data of a run that executes notebooks or trains checks, and the names
    of the two variables that carry them (the lab's ``Lab.variables``). Made
    by ``of`` or ``from_environment``, which check the names against the lab."""

    profile: str
    data: DataSource
    variables: tuple[str, str] = field(compare=False, repr=False)

    @classmethod
    def of(cls, profile: str, data: str, lab=None) -> RunSettings:
        """Settings from their names, as a command line gives them, for ``lab`` (the default
        lab when None). Raises ValueError for a profile or source the lab lacks."""
        lab = lab or _default_lab()
        if profile not in lab.profiles:
            raise InputError(f"{profile!r} is not a profile; use one of {sorted(lab.profiles)}.")
        return cls(profile, DataSource.parse(data, lab), lab.variables)

    @classmethod
    def from_environment(
        cls, lab=None, environment: Mapping[str, str] = os.environ, profile: str = "grading"
    ) -> RunSettings:
        """Settings named by the lab's two variables, else ``profile`` and the lab's default
        source (how the Gradescope entry point is told them)."""
        lab = lab or _default_lab()
        profile_variable, data_variable = lab.variables
        return cls.of(
            environment.get(profile_variable) or profile,
            environment.get(data_variable) or lab.data.default,
            lab,
        )

    def environment(self, base: Mapping[str, str] | None = None) -> dict[str, str]:
        """``base`` (this process' environment by default) with the settings written in for a
        notebook, checker or worker to read, and TensorFlow's C++ log kept quiet."""
        environment = dict(os.environ if base is None else base)
        profile_variable, data_variable = self.variables
        environment[profile_variable] = self.profile
        environment[data_variable] = self.data.name
        environment.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        return environment

    def record(self) -> dict[str, str]:
        """The settings as a batch record keeps them."""
        return {"profile": self.profile, "data": self.data.name}

    def __str__(self) -> str:
        return f"{self.profile} profile, {self.data} data"
