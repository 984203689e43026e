"""Phase 1 (untrusted): run a submission in a sandbox and export its answers as data.

The sandbox is a fresh temporary folder holding only the notebook and the lab's support files
(``Lab.sandbox_files``).
The notebook runs at the strongest isolation level this machine really allows
(``autograder.grading.untrusted.isolation``): a user id of its own (no account, no other process or file uses
it, so notebooks graded side by side cannot reach each other's folders), with namespaces of
its own where root has CAP_SYS_ADMIN; as the grader's user, isolated by folder only,
elsewhere. The result says which. A wall-clock limit and a memory limit (resident memory of
the whole process tree) apply either way. A sandbox that fails to start is the grader's
fault: status ``grader-error``, the notebook not run.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import stat
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import nbformat

from autograder.environment import with_system_allocator
from autograder.grading.results import Status
from autograder.grading.trusted.answers import MAX_FILE_BYTES
from autograder.grading.untrusted import sandbox
from autograder.grading.untrusted.export import ANSWERS_FILE, export_cell_source
from autograder.grading.untrusted.isolation import SANDBOX_UIDS, Isolation, minimal_environment
from autograder.grading.untrusted.limits import Outcome, supervise
from autograder.lab.settings import RunSettings

NOTEBOOK_NAME = "submission.ipynb"
COPY_CHUNK = 1 << 20
GRADER_STUB = '''\
class _PublicChecksOff:
    """The grader runs its own checks; public checks and export do nothing here."""

    def __getattr__(self, name):
        return lambda *args, **kwargs: None


grader = _PublicChecksOff()

try:
    import autograder.grading.untrusted.display as _rnnlab_display

    _rnnlab_display.forgive_backends()  # %matplotlib widget must not cost a cell
except Exception as _rnnlab_error:  # never break a student's notebook over it
    print(f"[grader] plotting backends left as they are: {_rnnlab_error!r}")
'''
# Added to the stub when the profile trains nothing in the notebook: the checker trains its
# own copies, so the notebook's own training is cut to a token (autograder.grading.untrusted.token_training).
LIMIT_TRAINING = """
try:
    import autograder.grading.untrusted.token_training as _rnnlab_training

    _rnnlab_training.limit_training_now()
except Exception as _rnnlab_error:  # never break a student's notebook over it
    print(f"[grader] training not limited: {_rnnlab_error!r}")
"""


@dataclass(frozen=True)
class Execution:
    """What the untrusted phase produced."""

    status: Status  # COMPLETED, NOTEBOOK_QUIT, TIMEOUT, OUT_OF_MEMORY, KERNEL_DIED, GRADER_ERROR
    message: str
    answers: Path | None  # a copy of the answers file, outside the sandbox
    isolation: str
    seconds: float
    stopped_cells: tuple[str, ...] = ()  # a sentence per cell the per-cell limit interrupted


def prepare_notebook(
    notebook: nbformat.NotebookNode, names: list[str], limit_training: bool = False
) -> nbformat.NotebookNode:
    """Python 3 kernel, no stale outputs or widgets, otter's cells neutralised; after each
    cell that names an answer, an export of the answers it names (so a later cell that hangs
    or kills the kernel costs none of them), and at the end an export of all; in the current
    format (4.5, every cell with an id), whatever version it came in.

    Each of the submission's own cells keeps its position (1-based, markdown included) in
    ``metadata.kerasgrade.cell``, for the runner's reports of where it stopped.
    """
    notebook.nbformat, notebook.nbformat_minor = 4, 5
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    notebook.metadata.pop("widgets", None)
    cells = [nbformat.v4.new_code_cell(GRADER_STUB + (LIMIT_TRAINING if limit_training else ""))]
    for position, cell in enumerate(notebook.cells, start=1):
        cell.setdefault("metadata", {})[sandbox.CELL_KEY] = {"cell": position}
        if cell.cell_type != "code":
            cells.append(cell)
            continue
        if cell.source.lstrip().startswith("# Initialize Otter"):
            continue
        cell.outputs, cell.execution_count = [], None
        cells.append(cell)
        if named := [name for name in names if re.search(rf"\b{re.escape(name)}\b", cell.source)]:
            cells.append(nbformat.v4.new_code_cell(export_cell_source(named, final=False)))
    cells.append(nbformat.v4.new_code_cell(export_cell_source(names)))
    for cell in cells:
        cell.setdefault("id", uuid.uuid4().hex[:8])
        cell.get("metadata", {}).pop("widgets", None)
    notebook.cells = cells
    return notebook


def sandbox_environment(
    folder: Path, settings: RunSettings, limit_training: bool = False
) -> dict[str, str]:
    """Only what the notebook needs; every cache and config folder points into the sandbox.
    A kernel whose training is cut to a token keeps its memory low rather than its training
    fast (``environment.with_system_allocator``)."""
    base = settings.environment()
    keep = (*settings.variables, "TF_CPP_MIN_LOG_LEVEL")
    kept = {key: base[key] for key in keep if key in base}
    if limit_training:
        kept = with_system_allocator(kept)
    return {**kept, **minimal_environment(folder)}


def execute(
    notebook: nbformat.NotebookNode,
    names: list[str],
    support_files: list[Path],
    hidden: list[Path],
    output_dir: Path,
    *,
    isolation: Isolation,
    settings: RunSettings,
    timeout: float,
    memory: int,
    cell_timeout: float | None = None,
    limit_training: bool = False,
) -> Execution:
    """Run ``notebook`` in a fresh sandbox at ``isolation``'s level (``isolation.probe``) and
    copy its answers file to ``output_dir``. ``hidden`` are the folders it must not reach.

    ``timeout`` (seconds) and ``memory`` (bytes, the whole process tree) bound the whole run;
    a cell running longer than ``cell_timeout`` seconds is interrupted and the next one runs.
    ``limit_training``: cut the notebook's own training to a token (the profile trains none).
    """
    notebook = prepare_notebook(notebook, names, limit_training)
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
        if cell_timeout:
            run += ["--cell-timeout", f"{cell_timeout:g}"]
        outcome = supervise(
            isolation.command(run, hidden, uid),
            folder,
            sandbox_environment(folder, settings, limit_training),
            timeout,
            memory,
        )
        seconds = time.monotonic() - started
        events = cell_events(outcome.stdout)
        status, message = _classify(outcome, timeout, memory, events)
        answers = _copy_answers(folder / ANSWERS_FILE, output_dir)
    return Execution(
        status, message, answers, isolation.description, seconds, tuple(events.stopped)
    )


def _classify(
    outcome: Outcome, timeout: float, memory: int, events: CellEvents
) -> tuple[Status, str]:
    if outcome.limit is None and sandbox.STARTED not in outcome.stdout:
        reason = (outcome.stderr.strip().splitlines() or [f"exit status {outcome.returncode}"])[-1]
        return Status.GRADER_ERROR, (
            f"The grader could not start the notebook's sandbox ({reason[-300:]}); the notebook "
            "was not run. Rerun to grade it."
        )
    where = f" in {events.last}" if events.last else ""
    kept = " Answers set before that cell still count."
    if events.quit and outcome.limit is None and outcome.returncode == sandbox.KERNEL_DIED:
        return Status.NOTEBOOK_QUIT, (
            f"The notebook called quit() or exit() in {events.quit}, which ended its kernel; "
            "the cells after it did not run. Answers set up to that cell still count."
        )
    if outcome.limit == Status.TIMEOUT:
        return Status.TIMEOUT, (
            f"The notebook did not finish within {timeout:.0f} s and was stopped{where}.{kept}"
        )
    if outcome.limit == Status.OUT_OF_MEMORY:
        return Status.OUT_OF_MEMORY, (
            f"The notebook used more than {memory / 2**30:.1f} GiB and was stopped{where}.{kept}"
        )
    if outcome.returncode == sandbox.KERNEL_DIED:
        return Status.KERNEL_DIED, (
            f"The notebook's kernel died (a crash or os._exit){where} before the end.{kept}"
        )
    if outcome.returncode != 0:
        last_line = (outcome.stderr.strip().splitlines() or ["no message"])[-1][-300:]
        return Status.KERNEL_DIED, (
            f"The notebook's kernel stopped working{where} before the end ({last_line}).{kept}"
        )
    return Status.COMPLETED, (
        f"The notebook ran to the end (peak memory {outcome.peak_rss / 2**20:.0f} MiB)."
    )


@dataclass(frozen=True)
class CellEvents:
    """What the runner reported (``autograder.grading.untrusted.sandbox``), each cell described for a person as
    "cell 71 (`quit()`)": the last cell of the submission that started, a sentence per cell
    stopped by the per-cell limit, and the cell that called ``quit()`` ("" if none)."""

    last: str
    stopped: list[str]
    quit: str = ""


def cell_events(stdout: str) -> CellEvents:
    """Read the runner's reports off its private stream (one JSON line each)."""
    described: dict[int, str] = {}
    last, stopped, quit_cell = "", [], ""
    for line in stdout.splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if not isinstance(event, dict):
            continue
        if isinstance(event.get("cell"), int):
            first = str(event.get("first", ""))
            described[event["cell"]] = last = (
                f"cell {event['cell']} (`{first}`)" if first else f"cell {event['cell']}"
            )
        elif "stopped" in event:
            cell = described.get(event["stopped"], f"cell {event['stopped']}")
            stopped.append(
                f"{cell[0].upper()}{cell[1:]} was stopped after {event.get('seconds')} s, the "
                "per-cell limit; the notebook went on with the next cell."
            )
        elif "quit" in event:
            quit_cell = described.get(event["quit"], f"cell {event['quit']}")
    return CellEvents(last, stopped, quit_cell)


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
