"""Finding a class' submissions: every file under the given folders, each once, with a key
safe as a file name and the student id that course sites put in their download names."""

from __future__ import annotations

import re
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from autograder.errors import ToolkitError
from autograder.grading.submission import is_clutter

# A folder of Gradescope's "Download submissions" export: one student's upload, graded as one
# submission whose notebook is chosen as the Gradescope entry point chooses it.
GRADESCOPE_FOLDER = re.compile(r"^submission_\d+$")
# Student ids in the names that course sites give downloaded files: Gradescope's
# submission_<id> folders and Canvas' <name>_[late_]<id>_<submission id>_<file>.
STUDENT_ID_PATTERNS = (
    re.compile(r"(?:^|/)submission_(\d+)(?:/|$)"),
    re.compile(r"(?:^|/)[a-z]+_(?:late_)?(\d+)_\d+_[^/]*$"),
)


class BatchError(ToolkitError):
    """The batch cannot start (a path that does not exist, an output folder in the way)."""


@dataclass(frozen=True)
class Submission:
    path: Path
    name: str  # its path relative to the folder it was found in
    key: str  # unique and safe as a file name: names this submission's outputs
    student: str  # "" when its path does not say


def collect(inputs: list[Path], out: Path) -> list[Submission]:
    """Every file under the input folders (hidden files, checkpoints and ``out`` skipped) and
    every input file, each once, keyed by its path relative to its input."""
    found: dict[Path, str] = {}
    out = out.resolve()
    for given in inputs:
        if not given.exists():
            raise BatchError(f"{given} does not exist.")
        if given.is_file():
            found.setdefault(given.resolve(), given.name)
            continue
        for path in sorted(given.rglob("*")):
            relative = path.relative_to(given)
            if folder := gradescope_folder(given, relative):
                found.setdefault(folder.resolve(), folder.relative_to(given).as_posix())
                continue
            if (
                path.is_file()
                and not is_clutter(relative.as_posix())
                and not path.resolve().is_relative_to(out)
            ):
                found.setdefault(path.resolve(), relative.as_posix())
    if not found:
        raise BatchError(f"No files to grade in {', '.join(map(str, inputs))}.")
    submissions, keys = [], set()
    for path, name in found.items():
        key = re.sub(r"[^A-Za-z0-9._-]", "_", name.replace("/", "__"))
        while key in keys:
            key += "_"
        keys.add(key)
        submissions.append(Submission(path, name, key, student_id(name)))
    return submissions


def gradescope_folder(given: Path, relative: Path) -> Path | None:
    """The ``submission_<id>`` folder that ``relative`` (a path under ``given``) lies in."""
    for depth, part in enumerate(relative.parts[:-1]):
        if GRADESCOPE_FOLDER.match(part):
            return given.joinpath(*relative.parts[: depth + 1])
    return None


def student_id(name: str) -> str:
    for pattern in STUDENT_ID_PATTERNS:
        if match := pattern.search(name.lower()):
            return match.group(1)
    return ""


def check_hideable(paths: list[Path]) -> None:
    """Refuse to hide a folder the sandbox itself needs (the grader's Python, its temporary
    folder): every notebook would then fail to start."""
    needed = {Path(sys.prefix), Path(sys.base_prefix), Path(tempfile.gettempdir())}
    for path in paths:
        clash = [n for n in needed if n.resolve().is_relative_to(path.resolve())]
        if clash:
            raise BatchError(
                f"{path} holds {clash[0]}, which grading needs, yet notebooks must not see it "
                "(it holds submissions or results). Put the submissions in a folder of their "
                "own and choose an output folder elsewhere."
            )
