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

from autograder.grading.results import Status

POLL_SECONDS = 0.5
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

    limit: Status | None  # TIMEOUT or OUT_OF_MEMORY when the supervisor stopped it
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


class Watched:
    """A command running in a session (and process group) of its own, whose whole process tree
    ``watch`` measures and kills at a time or memory limit; ``stop_everything`` kills it too.

    Its stderr goes to a file, not a pipe, so a process that writes a lot cannot block on it;
    so does its stdout unless ``stdout`` is given (``subprocess.PIPE`` for a reader that drains
    it). ``stdin``: as ``subprocess.Popen`` takes it (None: inherited). Raises ``Stopped``
    after ``stop_everything``.
    """

    def __init__(
        self, command: list[str], cwd: Path, environment: dict, *, stdin=None, stdout=None
    ):
        if _stopping.is_set():
            raise Stopped("grading was interrupted")
        self.started = time.monotonic()
        self.peak = 0  # bytes, the largest tree_rss seen by the latest watch()
        self._stdout = None if stdout is not None else tempfile.TemporaryFile()  # noqa: SIM115 (closed by finish)
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 (closed by finish)
        self._outcome: Outcome | None = None
        self.process = subprocess.Popen(
            command,
            cwd=cwd,
            env=environment,
            stdin=stdin,
            stdout=stdout if stdout is not None else self._stdout,
            stderr=self._stderr,
            start_new_session=True,
        )
        _running.add(self.process.pid)

    def watch(
        self, timeout: float, memory: int, until: threading.Event | None = None
    ) -> Status | None:
        """Wait until the command ends (or ``until`` is set), killing it at the limits: after
        ``timeout`` seconds from now or once its process tree holds more than ``memory``
        bytes. Returns ``Status.TIMEOUT`` or ``Status.OUT_OF_MEMORY`` when it was killed, else None.
        Raises ``Stopped`` (the command killed) after ``stop_everything``."""
        started = time.monotonic()
        watched = psutil.Process(self.process.pid)
        verdict = None
        self.peak = 0  # this watch's: a command watched again (a warm checker) starts afresh
        while self.process.poll() is None and not _stopping.is_set():
            if until is not None and until.is_set():
                break
            self.peak = max(self.peak, tree_rss(watched))
            if self.peak > memory:
                verdict = Status.OUT_OF_MEMORY
            elif time.monotonic() - started > timeout:
                verdict = Status.TIMEOUT
            if verdict:
                self.kill()
                break
            if until is not None:
                until.wait(POLL_SECONDS)  # set by the caller's reader, at the latest on exit
            else:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.process.wait(POLL_SECONDS)  # returns as soon as it ends
        if _stopping.is_set():
            stop_everything()
            self.finish(None)
            raise Stopped("grading was interrupted")
        return verdict

    def kill(self) -> None:
        """Kill the command's whole process group now (unless the command was already
        reaped: its id may then belong to another process)."""
        if self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, signal.SIGKILL)

    def finish(self, verdict: Status | None) -> Outcome:
        """Wait for the command to end (kill it first with ``kill`` to not wait), forget it and
        say how it ended; ``verdict`` is ``watch``'s. Called again, it says the same."""
        if self._outcome is not None:
            return self._outcome
        self.process.wait()
        _running.discard(self.process.pid)
        stdout = _ends(self._stdout, STDOUT_HEAD_BYTES, STDOUT_TAIL_BYTES) if self._stdout else ""
        stderr = _ends(self._stderr, 0, STDERR_TAIL_BYTES)[-2000:]
        for handle in (self._stdout, self._stderr):
            if handle is not None:
                handle.close()
        self._outcome = Outcome(verdict, self.process.returncode, stderr, self.peak, stdout)
        return self._outcome


def supervise(
    command: list[str], cwd: Path, environment: dict, timeout: float, memory: int
) -> Outcome:
    """Run ``command`` to its end (``Watched``), killed at the time or memory limit."""
    watched = Watched(command, cwd, environment)
    return watched.finish(watched.watch(timeout, memory))


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
