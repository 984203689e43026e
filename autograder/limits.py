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
# Per cell of a submission: a cell running longer is interrupted and the notebook goes on
# with the next one (None: no limit but the phase's). A grading run trains nothing in the
# notebook (the checker trains its own copies), so its slowest cell, loading the data,
# takes seconds; the full profile's cells train for many minutes.
CELL_TIMEOUT_SECONDS = {"grading": 60.0, "smoke": 120.0, "full": None}
DEFAULT_MEMORY_GIB = 4.0  # per grading phase, whole process tree
STDERR_TAIL_BYTES = 8_000
# The sandbox's runner reports on stdout: its start line first, then a line per cell.
STDOUT_HEAD_BYTES, STDOUT_TAIL_BYTES = 2_000, 60_000


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
    stdout: str = ""  # the first 2,000 and the last 60,000 characters


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


def supervise(
    command: list[str], cwd: Path, environment: dict, timeout: float, memory: int
) -> Outcome:
    """Run ``command`` in its own process group; kill the group at the time or memory limit.

    Its stdout and stderr go to files, not pipes, so a process that writes a lot cannot block
    on them.
    """
    if _stopping.is_set():
        raise Stopped("grading was interrupted")
    started = time.monotonic()
    peak = 0
    with (
        tempfile.TemporaryFile() as stdout_file,
        tempfile.TemporaryFile() as stderr_file,
        subprocess.Popen(
            command,
            cwd=cwd,
            env=environment,
            stdout=stdout_file,
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
            elif time.monotonic() - started > timeout:
                verdict = "timeout"
            if verdict:
                os.killpg(process.pid, signal.SIGKILL)
                break
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(POLL_SECONDS)  # returns as soon as it ends
        if _stopping.is_set():
            stop_everything()
        process.wait()
        _running.discard(process.pid)
        if _stopping.is_set():
            raise Stopped("grading was interrupted")
        stdout = _ends(stdout_file, STDOUT_HEAD_BYTES, STDOUT_TAIL_BYTES)
        stderr = _ends(stderr_file, 0, STDERR_TAIL_BYTES)[-2000:]
    return Outcome(verdict, process.returncode, stderr, peak, stdout)


def _ends(handle, head: int, tail: int) -> str:
    """The first ``head`` and the last ``tail`` bytes written to the file ``handle`` (all of
    it when it is no longer), as text."""
    size = handle.seek(0, os.SEEK_END)
    handle.seek(0)
    if size <= head + tail:
        return handle.read().decode(errors="replace")
    start = handle.read(head)
    handle.seek(size - tail)
    return (start + b"\n" + handle.read()).decode(errors="replace")
