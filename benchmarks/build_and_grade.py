"""Wall time of `rnnlab build` and of grading the solution notebook, median of several runs.

Usage: python benchmarks/build_and_grade.py [--runs 3] [--profile grading] [--imdb generated]
Builds into a temporary copy of the assignment so the working dist/ is left alone.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from autograder.config import DEFAULT_ASSIGNMENT, load_config


def timed(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, text=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--profile", default="grading")
    parser.add_argument("--imdb", default="generated")
    args = parser.parse_args()
    rnnlab = [sys.executable, "-m", "autograder.cli"]
    common = ["--profile", args.profile, "--imdb", args.imdb]
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch) / "rnn_lab"
        shutil.copytree(DEFAULT_ASSIGNMENT, folder, ignore=shutil.ignore_patterns("build", "dist"))
        builds, grades = [], []
        for run in range(1, args.runs + 1):
            builds.append(timed([*rnnlab, "build", "--assignment", str(folder), *common]))
            solution = load_config(folder).dist_dir / "autograder" / "rnn_lab.ipynb"
            grades.append(
                timed([*rnnlab, "grade", str(solution), "--assignment", str(folder), *common])
            )
            print(
                f"run {run}: build {builds[-1]:.0f} s, grade solution {grades[-1]:.0f} s",
                flush=True,
            )
    print(f"profile {args.profile}, data {args.imdb}, {args.runs} runs")
    print(f"rnnlab build:            median {statistics.median(builds):.0f} s")
    print(f"rnnlab grade (solution): median {statistics.median(grades):.0f} s")


if __name__ == "__main__":
    main()
