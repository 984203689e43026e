"""Wall time of `kerasgrade build`, of grading the solution notebook, and of the checker's start-up.

Usage: python benchmarks/build_and_grade.py [--builds 3] [--grades 3] [--profile grading]
       [--data generated]
Builds into a temporary copy of the assignment so the working dist/ is left alone.
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

from autograder.lab.config import load_config
from autograder.lab.find import default_lab_folder

CHECKER_START = (
    "import autograder.grading.trusted.check, keras"  # what a checker imports before its checks
)


@contextlib.contextmanager
def scratch_assignment(profile: str, data: str):
    """A temporary copy of the assignment: ``(folder, rnnlab command, options for it)``."""
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch) / "rnn_lab"
        shutil.copytree(
            default_lab_folder(), folder, ignore=shutil.ignore_patterns("build", "dist")
        )
        options = ["--lab", str(folder), "--profile", profile, "--data", data]
        yield folder, [sys.executable, "-m", "autograder.cli"], options


def timed(command: list[str], environment: dict[str, str] | None = None) -> float:
    """Seconds ``command`` took; it must succeed."""
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, text=True, env=environment)
    return time.perf_counter() - started


# What a process of a grading run is, from its command line (the first rule that matches).
ROLES = (
    ("ipykernel", "kernel"),
    ("autograder.grading.trusted.check", "checker"),
    ("autograder.grading.untrusted.sandbox", "sandbox runner"),
)


def role(process: psutil.Process) -> str:
    """``process``' part in a grading run (``ROLES``; the grader itself otherwise)."""
    command = " ".join(process.cmdline())
    return next((name for mark, name in ROLES if mark in command), "grader")


@dataclass(frozen=True)
class Watched:
    """A finished command's wall seconds and memory: the peak resident memory (bytes) of
    each role's largest process, and of the whole process tree at once."""

    seconds: float
    peaks: dict[str, int]
    tree: int
    output: str

    @property
    def largest(self) -> tuple[str, int]:
        """The role whose process peaked highest, and that peak (bytes)."""
        return max(self.peaks.items(), key=lambda item: item[1])

    def memory(self) -> str:
        """One line: each role's peak in MiB, largest first, then the tree's."""
        peaks = sorted(self.peaks.items(), key=lambda item: -item[1])
        shown = ", ".join(f"{name} {size / 2**20:,.0f}" for name, size in peaks)
        return f"peak RSS (MiB): {shown}; tree {self.tree / 2**20:,.0f}"


def watched(
    command: list[str], environment: dict[str, str] | None = None, interval: float = 0.05
) -> Watched:
    """Run ``command`` (it must succeed) and poll its process tree every ``interval`` seconds
    for each process' resident memory (psutil's RSS), as ``Watched``. A peak shorter than
    ``interval`` can be missed."""
    peaks: dict[str, int] = {}
    roles: dict[int, str] = {}
    tree = 0
    started = time.perf_counter()
    with (
        tempfile.TemporaryFile("w+") as output,
        subprocess.Popen(
            command, stdout=output, stderr=subprocess.STDOUT, env=environment, text=True
        ) as process,
    ):
        root = psutil.Process(process.pid)
        while process.poll() is None:
            total = 0
            with contextlib.suppress(psutil.Error):
                for member in [root, *root.children(recursive=True)]:
                    with contextlib.suppress(psutil.Error):
                        size = member.memory_info().rss
                        name = roles.setdefault(member.pid, role(member))
                        peaks[name] = max(peaks.get(name, 0), size)
                        total += size
            tree = max(tree, total)
            time.sleep(interval)
        seconds = time.perf_counter() - started
        output.seek(0)
        text = output.read()
    if process.returncode != 0:
        raise RuntimeError(
            f"{' '.join(command)} failed with exit status {process.returncode}:\n{text[-2000:]}"
        )
    return Watched(seconds, peaks, tree, text)


def median_of(label: str, runs: int, command: list[str]) -> float:
    times = []
    for run in range(1, runs + 1):
        times.append(timed(command))
        print(f"  {label} run {run}: {times[-1]:.1f} s", flush=True)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--builds", type=int, default=3)
    parser.add_argument("--grades", type=int, default=3)
    parser.add_argument("--profile", default="grading")
    parser.add_argument("--data", default="generated")
    args = parser.parse_args()
    with scratch_assignment(args.profile, args.data) as (folder, rnnlab, options):
        build = median_of("build", max(args.builds, 1), [*rnnlab, "build", *options])
        solution = load_config(folder).dist_dir / "autograder" / "rnn_lab.ipynb"
        grade = median_of("grade", args.grades, [*rnnlab, "grade", str(solution), *options])
    checker = median_of("checker start-up", 3, [sys.executable, "-c", CHECKER_START])
    print(f"profile {args.profile}, data {args.data}; medians")
    print(f"kerasgrade build:              {build:.0f} s")
    print(f"kerasgrade grade (solution):   {grade:.0f} s")
    print(f"checker process start-up:  {checker:.1f} s")


if __name__ == "__main__":
    main()
