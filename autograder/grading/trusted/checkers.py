"""Warm checker processes (``python -m autograder.grading.trusted.check --serve``), kept from one submission
to the next.

A checker's start-up (importing TensorFlow, Keras and the lab's checks module) costs about
4 s of CPU here (7 s before ``autograder.grading.startup`` froze the import out of the garbage
collector's passes), more than a reused grade's checks; a class graded with a checker per
submission paid it 60 times for 60 students. A ``CheckerPool`` starts its checkers once,
while the first notebook runs, and each checks one submission's share after another; a
checker that dies or hits a limit is replaced by a fresh one for the next job, and one that
holds more than ``RESTART_SHARE`` of the memory limit between jobs is retired. Between jobs
a checker clears Keras' global state (``autograder.grading.trusted.check.forget_answers``); every accuracy
check seeds itself before it builds its copy, so a used checker measures exactly as a fresh
one does (``tests/test_checkers.py``).
"""

from __future__ import annotations

import contextlib
import json
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import psutil

from autograder.environment import with_threads
from autograder.grading.untrusted.limits import Outcome, Stopped, Watched, tree_rss
from autograder.lab.config import AssignmentConfig

# Threads each checker's TensorFlow uses, whatever the machine: a measurement is reusable only
# under the threads it was made with (they are in the store's key, ``autograder.grading.trusted.store``), so
# the build's, a class's and Gradescope's checkers all train with the same count.
CHECKER_THREADS = 1
# A checker whose process tree holds more than this share of the memory limit between jobs is
# retired (``CheckerPool.warm``): the next job would start with less room than a fresh one.
RESTART_SHARE = 0.5


class Checker:
    """One checker process that checks job after job. ``jobs``: how many it has finished;
    0 for a fresh one (a fault in a used checker may come from an earlier job, so the caller
    retries the job in a fresh one before it blames the answers)."""

    def __init__(self, config: AssignmentConfig, environment: dict[str, str], cwd: Path):
        command = [
            sys.executable, "-m", "autograder.grading.trusted.check", "--serve",
            "--assignment", str(config.folder),
        ]  # fmt: skip
        self.jobs = 0
        self._finished = threading.Event()
        self._process = Watched(
            command, cwd, environment, stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )
        self._last_finished = -1  # the number of the last job it finished
        threading.Thread(target=self._read_replies, daemon=True).start()

    def _read_replies(self) -> None:
        """Drain the checker's stdout; a ``{"finished": N}`` line ends job N. At its end (the
        checker exited) the waiting ``check`` wakes up as well."""
        with self._process.process.stdout as replies:
            for line in replies:
                with contextlib.suppress(ValueError, TypeError, KeyError):
                    self._last_finished = int(json.loads(line)["finished"])
                    self._finished.set()
        self._finished.set()

    @property
    def alive(self) -> bool:
        return self._process.process.poll() is None

    def check(
        self,
        answers: Path,
        results: Path,
        questions: list[str],
        store: Path | None,
        timeout: float,
        memory: int,
    ) -> Outcome:
        """Check ``questions`` on ``answers``, the events going to ``results``
        (``autograder.grading.trusted.check``), within ``timeout`` seconds and ``memory`` bytes for the
        checker's process tree. Returns ``Outcome(None, 0, ...)`` when the job finished and
        the checker lives on, else how the checker ended (it is then dead: killed at a limit
        (``limit`` says which) or exited by itself). Raises ``limits.Stopped`` when grading
        was interrupted."""
        job = {
            "job": self.jobs,
            "answers": str(answers),
            "results": str(results),
            "questions": questions,
            "store": str(store) if store else None,
        }
        self._finished.clear()
        try:
            self._process.process.stdin.write((json.dumps(job) + "\n").encode())
            self._process.process.stdin.flush()
        except (BrokenPipeError, OSError):
            pass  # it is dead already: the watch below sees it
        verdict = self._process.watch(timeout, memory, until=self._finished)
        if verdict is None and self._last_finished == self.jobs:
            self.jobs += 1
            return Outcome(None, 0, "", self._process.peak)
        self._process.kill()
        return self._process.finish(verdict)

    def rss(self) -> int:
        """Bytes its process tree holds now."""
        with contextlib.suppress(psutil.Error):
            return tree_rss(psutil.Process(self._process.process.pid))
        return 0

    def close(self) -> None:
        """End it now. Between jobs a checker holds nothing worth waiting for: every result
        line was flushed and every measurement renamed into place before it replied."""
        self._process.kill()
        self._process.finish(None)
        with contextlib.suppress(OSError):
            self._process.process.stdin.close()  # its stdout: by the reader, at its end


class CheckerPool:
    """``size`` checkers for one assignment and one environment (the run's settings), kept
    warm across the submissions one grading thread grades one after another. Use it as a
    context manager, or call ``close``."""

    def __init__(self, config: AssignmentConfig, environment: dict[str, str], size: int):
        self.config = config
        self.environment = with_threads(environment, CHECKER_THREADS)
        self.size = max(1, size)
        self.started = 0  # checker processes started so far, replacements included
        self._checkers: list[Checker | None] = [None] * self.size
        self._lock = threading.Lock()  # the share threads start checkers side by side
        self._closed = False
        # The checkers' working folder, first on their import path (``python -m``): notebooks
        # must not see it (``grade`` hides it like the assignment).
        self.folder = Path(tempfile.mkdtemp(prefix="rnnlab-checkers-"))

    def warm(self, memory: int) -> None:
        """Start every checker that is not running, without waiting for its warm-up; first
        retire each used one whose process tree holds more than ``RESTART_SHARE`` of
        ``memory`` (bytes, the limit a job gets): the next job would start with less room
        than a fresh checker has. Measured here, well after its last job, once it has
        cleared up (``autograder.grading.trusted.check.forget_answers``)."""
        for index, checker in enumerate(self._checkers):
            if checker is not None and checker.rss() > RESTART_SHARE * memory:
                self.retire(index)
        for index in range(self.size):
            self.checker(index)

    def checker(self, index: int) -> Checker:
        """Checker ``index``, started afresh if it is not running. Raises ``limits.Stopped``
        once the pool is closed (an interrupted grade: its share threads stop)."""
        with self._lock:
            if self._closed:
                raise Stopped("the checkers were closed")
            checker = self._checkers[index]
            if checker is None or not checker.alive:
                if checker is not None:
                    checker.close()
                checker = Checker(self.config, self.environment, self.folder)
                self._checkers[index] = checker
                self.started += 1
            return checker

    def retire(self, index: int) -> None:
        """Close checker ``index``; the next ``checker(index)`` starts a fresh one."""
        if (checker := self._checkers[index]) is not None:
            checker.close()
            self._checkers[index] = None

    def close(self) -> None:
        """Close every checker (a share thread waiting on one returns) and remove the pool's
        working folder; no checker starts after this."""
        with self._lock:
            self._closed = True
        for index in range(self.size):
            self.retire(index)
        shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> CheckerPool:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class CheckerPools:
    """A ``CheckerPool`` of ``size`` checkers for each of ``count`` grading threads: ``lend``
    hands a thread a pool no other thread is using, warm from the submissions graded with it
    before. Use it as a context manager, or call ``close``."""

    def __init__(
        self, config: AssignmentConfig, environment: dict[str, str], count: int, size: int
    ):
        self._pools = [CheckerPool(config, environment, size) for _ in range(max(1, count))]
        self._free: queue.SimpleQueue[CheckerPool] = queue.SimpleQueue()
        for pool in self._pools:
            self._free.put(pool)

    def warm(self, memory: int) -> None:
        """Start every pool's checkers that are not running (``CheckerPool.warm``)."""
        for pool in self._pools:
            pool.warm(memory)

    @property
    def folders(self) -> list[Path]:
        """The pools' working folders, which no notebook may see."""
        return [pool.folder for pool in self._pools]

    @contextlib.contextmanager
    def lend(self) -> Iterator[CheckerPool]:
        """A free pool for the length of the ``with`` block (blocks while all are lent)."""
        pool = self._free.get()
        try:
            yield pool
        finally:
            self._free.put(pool)

    def close(self) -> None:
        for pool in self._pools:
            pool.close()

    def __enter__(self) -> CheckerPools:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
