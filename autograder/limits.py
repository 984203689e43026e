"""Run a command under a wall-clock limit and a memory limit on its whole process tree."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

POLL_SECONDS = 0.5
DEFAULT_TIMEOUT_SECONDS = 1800.0  # per grading phase
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


def supervise(
    command: list[str], cwd: Path, environment: dict, timeout: float, memory: int
) -> Outcome:
    """Run ``command`` in its own process group; kill the group at the time or memory limit.

    Its stderr goes to a file, not a pipe, so a process that writes a lot cannot block on it.
    """
    started = time.monotonic()
    peak = 0
    with (
        tempfile.TemporaryFile() as stderr_file,
        subprocess.Popen(
            command,
            cwd=cwd,
            env=environment,
            stdout=subprocess.DEVNULL,
            stderr=stderr_file,
            start_new_session=True,
        ) as process,
    ):
        watched = psutil.Process(process.pid)
        verdict = None
        while process.poll() is None:
            peak = max(peak, tree_rss(watched))
            if peak > memory:
                verdict = "out-of-memory"
            elif time.monotonic() - started > timeout:
                verdict = "timeout"
            if verdict:
                os.killpg(process.pid, signal.SIGKILL)
                break
            time.sleep(POLL_SECONDS)
        process.wait()
        stderr_file.seek(max(0, stderr_file.seek(0, os.SEEK_END) - STDERR_TAIL_BYTES))
        stderr = stderr_file.read()
    return Outcome(verdict, process.returncode, stderr.decode(errors="replace")[-2000:], peak)
