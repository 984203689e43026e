"""What decides a score, as one digest: the key under which a saved grade may be reused."""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import json
from functools import cache
from pathlib import Path

from .config import AssignmentConfig

# Code that runs when a notebook is graded: the toolkit and its checking library, found where
# Python imports them from (so that an installed wheel is covered as well as a source tree),
# and the lab's own code (``Lab.code_files``: its questions, reference builders and shipped
# modules, which hold the checks).
GRADING_PACKAGES_CODE = ("autograder", "labkit")
# Packages whose version can change what a check measures or accepts.
GRADING_PACKAGES = ("keras", "tensorflow-cpu", "tensorflow", "jax", "numpy", "otter-grader")


def grading_files(lab_folder: Path) -> list[Path]:
    """The ``.py`` files of ``GRADING_PACKAGES_CODE``, found without importing them, and the
    code files of the lab in ``lab_folder``."""
    from .lab import load_lab

    files = []
    for package in GRADING_PACKAGES_CODE:
        spec = importlib.util.find_spec(package)
        files += sorted(Path(spec.origin).parent.rglob("*.py"))
    return files + load_lab(lab_folder).code_files()


@cache
def code_digest(lab_folder: Path) -> str:
    """SHA-256 of the grading code: each file's name and contents, in a fixed order."""
    digest = hashlib.sha256()
    for path in grading_files(lab_folder):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def package_versions() -> dict[str, str]:
    """Installed versions of ``GRADING_PACKAGES`` (absent ones left out), read from metadata
    without importing them."""
    versions = {}
    for name in GRADING_PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return versions


def grading_digest(config: AssignmentConfig) -> str:
    """A 16-hex digest of what decides a submission's score besides the file and the run
    settings: the assignment's name, points and thresholds (calibrated ones included), the
    grading code, and the versions of Keras, TensorFlow (or JAX), NumPy and otter.

    A saved grade whose digest differs is stale: after a recalibration, a change of points,
    a fix to a check or an upgrade, the batch grades the file again.
    """
    decided_by = {
        "assignment": config.name,
        "points": config.points,
        "thresholds": config.thresholds,
        "code": code_digest(config.folder),
        "packages": package_versions(),
    }
    text = json.dumps(decided_by, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]
