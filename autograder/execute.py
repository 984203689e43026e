"""Phase 1 (untrusted): run a submission in a sandbox and export its answers as data.

The sandbox is a fresh temporary folder holding only the notebook and ``lab_support.py``.
The notebook runs at the strongest isolation level this machine really allows
(``autograder.isolation``): a user id of its own (no account, no other process or file uses
it, so notebooks graded side by side cannot reach each other's folders), with namespaces of
its own where root has CAP_SYS_ADMIN; as the grader's user, isolated by folder only,
elsewhere. The result says which. A wall-clock limit and a memory limit (resident memory of
the whole process tree) apply either way. A sandbox that fails to start is the grader's
fault: status ``grader-error``, the notebook not run.
"""

from __future__ import annotations

import os
import secrets
import shutil
import stat
import sys
import tempfile
import time
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path

import nbformat

from . import sandbox
from .answers import ANSWERS_FILE, MAX_FILE_BYTES, export_cell_source
from .environment import grading_environment
from .isolation import SANDBOX_UIDS, Isolation, minimal_environment
from .limits import Outcome, supervise

GRADER_ERROR = "grader-error"  # a fault of ours, never the student's: nothing was graded
NOTEBOOK_NAME = "submission.ipynb"
COPY_CHUNK = 1 << 20
GRADER_STUB = '''\
class _PublicChecksOff:
    """The grader runs its own checks; public checks and export do nothing here."""

    def __getattr__(self, name):
        return lambda *args, **kwargs: None


grader = _PublicChecksOff()
'''


class InvalidSubmission(ValueError):
    """A file that is not a notebook we can run; the message says why."""


@dataclass(frozen=True)
class Execution:
    """What the untrusted phase produced."""

    status: str  # completed, timeout, out-of-memory, kernel-died, grader-error
    message: str
    answers: Path | None  # a copy of the answers file, outside the sandbox
    isolation: str
    seconds: float


def read_submission(path: Path) -> nbformat.NotebookNode:
    """The notebook in an .ipynb file or in an otter export zip (exactly one notebook)."""
    try:
        if path.suffix.lower() == ".zip":
            with zipfile.ZipFile(path) as archive:
                notebooks = [
                    name
                    for name in archive.namelist()
                    if name.endswith(".ipynb") and "/." not in f"/{name}"
                ]
                if len(notebooks) != 1:
                    raise InvalidSubmission(
                        f"{path.name} should hold exactly one notebook, not {len(notebooks)}."
                    )
                text = archive.read(notebooks[0]).decode("utf-8")
        else:
            text = path.read_text(encoding="utf-8")
        if not text.strip():
            raise InvalidSubmission(f"{path.name} is empty.")
        notebook = nbformat.reads(text, as_version=4)
    except InvalidSubmission:
        raise
    except (zipfile.BadZipFile, UnicodeDecodeError) as error:
        raise InvalidSubmission(f"{path.name} could not be opened: {error}.") from None
    except Exception as error:  # nbformat raises several kinds for text that is not a notebook
        raise InvalidSubmission(f"{path.name} is not a Jupyter notebook ({error}).") from None
    if not any(cell.cell_type == "code" for cell in notebook.cells):
        raise InvalidSubmission(f"{path.name} is a notebook without any code cell.")
    return notebook


def prepare_notebook(notebook: nbformat.NotebookNode, names: list[str]) -> nbformat.NotebookNode:
    """Python 3 kernel, no stale outputs or widgets, otter's cells neutralised, the export cell
    appended; in the current format (4.5, every cell with an id), whatever version it came in."""
    notebook.nbformat, notebook.nbformat_minor = 4, 5
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    notebook.metadata.pop("widgets", None)
    cells = [nbformat.v4.new_code_cell(GRADER_STUB)]
    for cell in notebook.cells:
        if cell.cell_type == "code":
            if cell.source.lstrip().startswith("# Initialize Otter"):
                continue
            cell.outputs, cell.execution_count = [], None
        cells.append(cell)
    cells.append(nbformat.v4.new_code_cell(export_cell_source(names)))
    for cell in cells:
        cell.setdefault("id", uuid.uuid4().hex[:8])
        cell.get("metadata", {}).pop("widgets", None)
    notebook.cells = cells
    return notebook


def sandbox_environment(folder: Path, profile: str, imdb: str) -> dict[str, str]:
    """Only what the notebook needs; every cache and config folder points into the sandbox."""
    base = grading_environment(profile, imdb)
    keep = ("RNNLAB_PROFILE", "RNNLAB_IMDB", "TF_CPP_MIN_LOG_LEVEL")
    return {**{key: base[key] for key in keep if key in base}, **minimal_environment(folder)}


def execute(
    notebook: nbformat.NotebookNode,
    names: list[str],
    support_files: list[Path],
    hidden: list[Path],
    output_dir: Path,
    *,
    isolation: Isolation,
    profile: str,
    imdb: str,
    timeout: float,
    memory: int,
) -> Execution:
    """Run ``notebook`` in a fresh sandbox at ``isolation``'s level (``isolation.probe``) and
    copy its answers file to ``output_dir``. ``hidden`` are the folders it must not reach."""
    notebook = prepare_notebook(notebook, names)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="rnnlab-sandbox-") as scratch:
        folder = Path(scratch)
        nbformat.write(notebook, folder / NOTEBOOK_NAME)
        for path in support_files:
            shutil.copy(path, folder / path.name)
        uid = secrets.choice(SANDBOX_UIDS)
        if isolation.runs_as_other_user:
            for path in [folder, *folder.iterdir()]:
                os.chown(path, uid, uid)
        run = [sys.executable, "-m", sandbox.__name__, NOTEBOOK_NAME]
        outcome = supervise(
            isolation.command(run, hidden, uid),
            folder,
            sandbox_environment(folder, profile, imdb),
            timeout,
            memory,
        )
        seconds = time.monotonic() - started
        status, message = _classify(outcome, timeout, memory)
        answers = _copy_answers(folder / ANSWERS_FILE, output_dir)
    return Execution(status, message, answers, isolation.description, seconds)


def _classify(outcome: Outcome, timeout: float, memory: int) -> tuple[str, str]:
    if outcome.limit is None and sandbox.STARTED not in outcome.stdout:
        reason = (outcome.stderr.strip().splitlines() or [f"exit status {outcome.returncode}"])[-1]
        return GRADER_ERROR, (
            f"The grader could not start the notebook's sandbox ({reason[-300:]}); the notebook "
            "was not run. Rerun to grade it."
        )
    if outcome.limit == "timeout":
        return "timeout", f"The notebook did not finish within {timeout:.0f} s and was stopped."
    if outcome.limit == "out-of-memory":
        return (
            "out-of-memory",
            f"The notebook used more than {memory / 2**30:.1f} GiB and was stopped.",
        )
    if outcome.returncode == sandbox.KERNEL_DIED:
        return "kernel-died", "The notebook's kernel died (a crash or os._exit) before the end."
    if outcome.returncode != 0:
        last_line = (outcome.stderr.strip().splitlines() or ["no message"])[-1][-300:]
        return "kernel-died", f"The notebook's kernel stopped working before the end ({last_line})."
    return (
        "completed",
        f"The notebook ran to the end (peak memory {outcome.peak_rss / 2**20:.0f} MiB).",
    )


def _copy_answers(source: Path, output_dir: Path) -> Path | None:
    """Copy the sandbox's answers file out of the sandbox: a regular file only, size-capped."""
    try:
        descriptor = os.open(source, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return None
    target = output_dir / ANSWERS_FILE
    with os.fdopen(descriptor, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            return None
        with open(target, "wb") as out:
            for _ in range(MAX_FILE_BYTES // COPY_CHUNK):
                chunk = handle.read(COPY_CHUNK)
                if not chunk:
                    break
                out.write(chunk)
    return target
