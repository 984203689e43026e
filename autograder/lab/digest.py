"""What decides a score, as one digest: the key under which a saved grade may be reused."""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import json
from functools import cache
from pathlib import Path

from autograder.lab.config import AssignmentConfig

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
    from autograder.lab.folder import load_lab

    files = []
    for package in GRADING_PACKAGES_CODE:
        spec = importlib.util.find_spec(package)
        files += sorted(Path(spec.origin).parent.rglob("*.py"))
    return files + load_lab(lab_folder).code_files()


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's contents, read in blocks of 1 MiB; of a folder, of its files'
    names (relative to it) and contents, in name order."""
    path = Path(path)
    digest = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for file in files:
        if path.is_dir():
            digest.update(file.relative_to(path).as_posix().encode() + b"\0")
        with open(file, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def files_sha256(paths: list[Path]) -> str:
    """SHA-256 of source files: each one's name and contents, in the order given."""
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


@cache
def code_digest(lab_folder: Path) -> str:
    """SHA-256 of the grading code (``grading_files``)."""
    return files_sha256(grading_files(lab_folder))


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
