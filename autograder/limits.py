"""Run a command under a wall-clock limit and a memory limit on its whole process tree."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

POLL_SECONDS = 0.5
# Per grading phase. The grading profile's notebook runs in about 30 s and its checks in about
# 2 minutes on one core (benchmarks/grading_budget.py), so 10 minutes stops only a notebook
# that is stuck; the full profile trains for about half an hour.
PHASE_TIMEOUT_SECONDS = {"grading": 600.0, "smoke": 600.0, "full": 3600.0}
DEFAULT_MEMORY_GIB = 4.0  # per grading phase, whole process tree
STDERR_TAIL_BYTES = 8_000


def tree_rss(process: psutil.Process) -> int:
    """Resident memory of a process and all its descendants, in bytes."""
    total = 0
    with contextlib.suppress(psutil.Error):
        for member in [process, *process.children(recursive=True)]:
            with contextlib.suppress(psutil.Error):
                total += member.memory_info().rss
    return total


@dataclass(frozen=True)
class Outcome:
    """How a supervised command ended."""

    limit: str | None  # "timeout" or "out-of-memory" when the supervisor stopped it
    returncode: int
    stderr: str  # the last 2,000 characters
    peak_rss: int  # bytes


class Stopped(RuntimeError):
    """Grading was interrupted: ``stop_everything`` was called, so no new command starts."""


_running: set[int] = set()  # process groups of the commands being supervised
_stopping = threading.Event()


def stop_everything() -> None:
    """Kill every supervised command now and refuse new ones (an interrupted batch: the
    commands run in process groups of their own, so Ctrl-C does not reach them)."""
    _stopping.set()
    for group in list(_running):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(group, signal.SIGKILL)


def allow_new_commands() -> None:
    """Undo ``stop_everything`` once the interrupted work has wound down."""
    _stopping.clear()


class Hold:
    """Keeps started commands waiting until what they need is ready (``release``) or will never
    be (``cancel``): they can import and load meanwhile."""

    def __init__(self) -> None:
        self._decided = threading.Event()
        self.released = False

    def release(self) -> None:
        self.released = True
        self._decided.set()

    def cancel(self) -> None:
        self._decided.set()

    def wait(self, seconds: float | None = None) -> bool:
        """Whether it was released or cancelled within ``seconds`` (None: no limit)."""
        return self._decided.wait(seconds)


def _end_hold(process: subprocess.Popen, released: bool) -> None:
    """Tell a held command to go on ("go") or to give up (end of input)."""
    with contextlib.suppress(OSError):  # it may have ended already
        if released:
            process.stdin.write(b"go\n")
        process.stdin.close()


def supervise(
    command: list[str],
    cwd: Path,
    environment: dict,
    timeout: float,
    memory: int,
    hold: Hold | None = None,
) -> Outcome:
    """Run ``command`` in its own process group; kill the group at the time or memory limit.

    Its stderr goes to a file, not a pipe, so a process that writes a lot cannot block on it.
    With ``hold``, the command reads one line from its input: "go" once ``hold`` is released,
    or the end of input if it is cancelled; its time limit counts from then.
    """
    if _stopping.is_set():
        raise Stopped("grading was interrupted")
    started = time.monotonic()
    peak = 0
    held = hold is not None
    with (
        tempfile.TemporaryFile() as stderr_file,
        subprocess.Popen(
            command,
            cwd=cwd,
            env=environment,
            stdin=subprocess.PIPE if held else subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=stderr_file,
            start_new_session=True,
        ) as process,
    ):
        _running.add(process.pid)
        watched = psutil.Process(process.pid)
        verdict = None
        while process.poll() is None and not _stopping.is_set():
            peak = max(peak, tree_rss(watched))
            if peak > memory:
                verdict = "out-of-memory"
            elif not held and time.monotonic() - started > timeout:
                verdict = "timeout"
            if verdict:
                os.killpg(process.pid, signal.SIGKILL)
                break
            if held and hold.wait(POLL_SECONDS):
                _end_hold(process, hold.released)
                held, started = False, time.monotonic()
            elif not held:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    process.wait(POLL_SECONDS)  # returns as soon as it ends
        if _stopping.is_set():
            stop_everything()
        process.wait()
        _running.discard(process.pid)
        if _stopping.is_set():
            raise Stopped("grading was interrupted")
        stderr_file.seek(max(0, stderr_file.seek(0, os.SEEK_END) - STDERR_TAIL_BYTES))
        stderr = stderr_file.read()
    return Outcome(verdict, process.returncode, stderr.decode(errors="replace")[-2000:], peak)
