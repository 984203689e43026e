"""An assignment's config: its name, points per test and accuracy thresholds."""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass
from pathlib import Path

from autograder.errors import InputError, MissingFile

CONFIG_FILE = "assignment.toml"
CALIBRATION_FILE = "calibration.toml"  # written by `kerasgrade calibrate`
# A threshold nobody calibrated or set: this share of the way from chance to every answer right.
FALLBACK_SHARE = 0.5


@dataclass(frozen=True)
class AssignmentConfig:
    """What ``assignment.toml`` says, with the folders derived from where it lives."""

    folder: Path
    name: str
    title: str
    points: dict[str, dict[str, float]]  # question -> test name (or "manual") -> points
    thresholds: dict[str, dict[str, dict[str, float]]]  # profile -> data kind -> question -> value

    @property
    def lab(self):
        """The lab this config belongs to (``autograder.lab.folder``), loaded once per folder."""
        from autograder.lab.folder import load_lab

        return load_lab(self.folder)

    @property
    def build_dir(self) -> Path:
        return self.folder / "build"

    @property
    def dist_dir(self) -> Path:
        return self.folder / "dist"

    @property
    def notebook_name(self) -> str:
        return f"{self.name}.ipynb"

    def is_manual(self, question: str) -> bool:
        return "manual" in self.points[question]

    @property
    def auto_questions(self) -> list[str]:
        """The questions the grader scores (every one but the written ones), in order."""
        return [question for question in self.points if not self.is_manual(question)]

    def question_points(self, question: str) -> float:
        return sum(self.points[question].values())

    def thresholds_for(self, question: str) -> dict[str, dict[str, float]]:
        """``{profile: {data kind: threshold}}`` for one question, as the hidden test receives
        it: calibrated, else configured, else the fallback (``fallback_thresholds``)."""
        thresholds = {
            profile: {kind: table[question] for kind, table in kinds.items() if question in table}
            for profile, kinds in self.thresholds.items()
        }
        for _, profile, kind, value in self._fallbacks(question):
            thresholds.setdefault(profile, {})[kind] = value
        return thresholds

    def fallback_thresholds(self) -> list[tuple[str, str, str, float]]:
        """``(question, profile, data kind, threshold)`` for each accuracy check on a
        declared dataset (``AccuracyTask.dataset``) that has no calibrated or configured
        threshold in a profile of the lab: halfway from the data's chance level to every
        answer right (``FALLBACK_SHARE``), rounded down to 0.001, until the first
        ``kerasgrade calibrate``. Loads the data to find its chance level."""
        return [found for name in self.lab.questions for found in self._fallbacks(name)]

    def _fallbacks(self, name: str) -> list[tuple[str, str, str, float]]:
        """``fallback_thresholds`` of question ``name`` alone."""
        question = self.lab.questions[name]
        task = self.lab.accuracy_tasks.get(getattr(question, "accuracy_check", None) or "")
        if task is None or task.dataset is None:
            return []
        kind = task.dataset.kind
        missing = [
            p for p in self.lab.profiles if name not in self.thresholds.get(p, {}).get(kind, {})
        ]
        if not missing:
            return []
        chance = self.lab.chance(question.accuracy_check)
        value = math.floor((chance + FALLBACK_SHARE * (1 - chance)) * 1000) / 1000
        return [(name, profile, kind, value) for profile in missing]

    @property
    def total_points(self) -> float:
        return sum(self.question_points(question) for question in self.points)


def _read_toml(path: Path) -> dict:
    with open(path, "rb") as handle:
        try:
            return tomllib.load(handle)
        except tomllib.TOMLDecodeError as error:
            raise InputError(f"{path} is not valid TOML: {error}") from error


def _merged_thresholds(configured: dict, calibration_path: Path) -> dict:
    """``assignment.toml``'s thresholds, overridden by calibrated ones where there are any."""
    thresholds = {profile: {kind: dict(table) for kind, table in kinds.items()}
                  for profile, kinds in configured.items()}  # fmt: skip
    if calibration_path.is_file():
        for profile, kinds in _read_toml(calibration_path).items():
            for kind, table in kinds.items():
                thresholds.setdefault(profile, {}).setdefault(kind, {}).update(table["thresholds"])
    return thresholds


def load_config(folder: Path) -> AssignmentConfig:
    """Read ``<folder>/assignment.toml`` (and its calibration); a malformed file is a clear error."""
    path = Path(folder) / CONFIG_FILE
    if not path.is_file():
        raise MissingFile(f"No assignment config at {path}.")
    raw = _read_toml(path)
    try:
        return AssignmentConfig(
            folder=Path(folder).resolve(),
            name=raw["name"],
            title=raw["title"],
            points=raw["points"],
            thresholds=_merged_thresholds(
                raw.get("thresholds", {}), Path(folder) / CALIBRATION_FILE
            ),
        )
    except KeyError as error:
        raise InputError(f"{path} lacks the required key {error}.") from None
