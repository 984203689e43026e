"""Phase 1 (untrusted): run a submission in a sandbox and export its answers as data.

The sandbox is a fresh temporary folder holding only the notebook and ``lab_support.py``.
Where the grader runs as root and Linux allows it, the notebook runs as a user id of its own
(no account, no other process or file uses it, so notebooks graded side by side cannot reach
each other's folders), in its own network namespace (loopback only) and its own mount
namespace in which the assignment folder and the grader's output folders are hidden, and its
own process namespace, so it cannot list the grader's processes or read their command lines. Elsewhere it runs as the
grader's user, isolated by folder only, and the result says so. A wall-clock limit and a
memory limit (resident memory of the whole process tree) apply either way.
"""

from __future__ import annotations

import functools
import os
import secrets
import shlex
import shutil
import stat
import subprocess
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
from .limits import Outcome, supervise

# User ids that no account uses; each sandbox draws one, so two notebooks graded at the same
# time cannot read or write each other's sandbox (both folders are mode 0700).
SANDBOX_UIDS = range(1_000_000, 2_000_000_000)
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

    status: str  # completed, timeout, out-of-memory, kernel-died
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


@functools.cache
def can_isolate() -> bool:
    """Root, the namespace tools present, and an unprivileged user able to run this Python and
    Jupyter."""
    tools = ("unshare", "setpriv", "ip", "mount")
    if os.geteuid() != 0 or sys.platform != "linux" or not all(shutil.which(t) for t in tools):
        return False
    # The kernel is started by the runner through sys.executable, so probe that path too.
    child = "import subprocess, sys; sys.exit(subprocess.run([sys.executable, '-c', 'import ipykernel']).returncode)"
    probe = [*drop_privileges(SANDBOX_UIDS[0]), sys.executable, "-c", child]
    return subprocess.run(probe, capture_output=True, cwd="/", timeout=120).returncode == 0


def drop_privileges(uid: int) -> list[str]:
    """The command prefix that runs what follows as ``uid`` (group too), with no capability."""
    return ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--inh-caps=-all"]


def outermost(paths: list[Path]) -> list[Path]:
    """The paths not inside another one of them (hiding a folder hides what it holds)."""
    resolved = sorted({path.resolve() for path in paths}, key=lambda path: len(path.parts))
    kept: list[Path] = []
    for path in resolved:
        if not any(path.is_relative_to(parent) for parent in kept):
            kept.append(path)
    return kept


def sandbox_command(hidden: list[Path], uid: int) -> tuple[list[str], str]:
    """The command that runs ``autograder.sandbox``, and a sentence describing its isolation.

    Every step is chained with ``&&``: if a folder cannot be hidden, the notebook does not run.
    """
    run_notebook = [sys.executable, "-m", sandbox.__name__, NOTEBOOK_NAME]
    if not can_isolate():
        return run_notebook, (
            "isolated by folder only: the grader is not root, lacks unshare/setpriv, or its "
            f"Python ({sys.executable}) cannot be run by an unprivileged user (install the grader in a "
            "virtual environment made from a system-wide Python), so the notebook ran as the "
            "grader's own user, with the network it has"
        )
    steps = ["ip link set lo up"]
    steps += [
        f"mount -t tmpfs -o size=1m,mode=000 none {shlex.quote(str(p))}" for p in outermost(hidden)
    ]
    steps.append(
        "exec " + " ".join(shlex.quote(part) for part in [*drop_privileges(uid), *run_notebook])
    )
    command = [
        "unshare",
        "--net",
        "--pid",  # its own process list: the grader's command lines (paths) stay unseen
        "--fork",
        "--mount-proc",
        "--mount",
        "--propagation",
        "private",
        "sh",
        "-c",
        " && ".join(steps),
    ]
    return command, (
        "ran as an unprivileged user of its own, without network, with the grader's folders hidden"
    )


def sandbox_environment(folder: Path, profile: str, imdb: str) -> dict[str, str]:
    """Only what the notebook needs; every cache and config folder points into the sandbox."""
    base = grading_environment(profile, imdb)
    keep = ("PATH", "LANG", "LC_ALL", "RNNLAB_PROFILE", "RNNLAB_IMDB", "TF_CPP_MIN_LOG_LEVEL")
    environment = {key: base[key] for key in keep if key in base}
    environment.update(
        USER="student",  # the sandbox's user id has no account for Python to look up
        LOGNAME="student",
        HOME=str(folder),
        TMPDIR=str(folder),
        KERAS_HOME=str(folder / ".keras"),
        JUPYTER_RUNTIME_DIR=str(folder / ".jupyter"),
        IPYTHONDIR=str(folder / ".ipython"),
        MPLCONFIGDIR=str(folder / ".matplotlib"),
        PYTHONDONTWRITEBYTECODE="1",
    )
    return environment


def execute(
    notebook: nbformat.NotebookNode,
    names: list[str],
    support_files: list[Path],
    hidden: list[Path],
    output_dir: Path,
    *,
    profile: str,
    imdb: str,
    timeout: float,
    memory: int,
) -> Execution:
    """Run ``notebook`` in a fresh sandbox and copy its answers file to ``output_dir``."""
    notebook = prepare_notebook(notebook, names)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="rnnlab-sandbox-") as scratch:
        folder = Path(scratch)
        nbformat.write(notebook, folder / NOTEBOOK_NAME)
        for path in support_files:
            shutil.copy(path, folder / path.name)
        uid = secrets.choice(SANDBOX_UIDS)
        command, isolation = sandbox_command(hidden, uid)
        if os.geteuid() == 0:
            for path in [folder, *folder.iterdir()]:
                os.chown(path, uid, uid)
        outcome = supervise(
            command, folder, sandbox_environment(folder, profile, imdb), timeout, memory
        )
        seconds = time.monotonic() - started
        status, message = _classify(outcome, timeout, memory)
        answers = _copy_answers(folder / ANSWERS_FILE, output_dir)
    return Execution(status, message, answers, isolation, seconds)


def _classify(outcome: Outcome, timeout: float, memory: int) -> tuple[str, str]:
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
