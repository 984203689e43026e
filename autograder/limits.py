"""Run a command under a wall-clock limit and a memory limit on its whole process tree."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

POLL_SECONDS = 0.5
DEFAULT_TIMEOUT_SECONDS = 1800.0  # per grading phase
DEFAULT_MEMORY_GIB = 4.0  # per grading phase, whole process tree


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
    """Run ``command`` in its own process group; kill the group at the time or memory limit."""
    started = time.monotonic()
    peak = 0
    with subprocess.Popen(
        command,
        cwd=cwd,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    ) as process:
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
        _, stderr = process.communicate()
    return Outcome(verdict, process.returncode, stderr.decode(errors="replace")[-2000:], peak)
