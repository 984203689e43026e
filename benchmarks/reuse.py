"""Grading one notebook with the measurement store, side by side with the code before it.

Usage: python benchmarks/reuse.py --base DIR [--runs 3] [--profile grading] [--data generated]

``DIR`` is a checkout of the commit to compare against (``git worktree add DIR c8c03c1``,
the last commit before the store). Builds once into a temporary copy of the assignment with
this code (which fills ``dist/measurements``), then grades its solution notebook ``--runs``
rounds, each round three ways one after another:

- ``base``: the base commit's code (on ``PYTHONPATH``), which trains every accuracy check;
- ``reused``: this code, a fresh cache folder seeded from the build's measurements, so every
  accuracy check is read back (what a submission equal to the reference costs);
- ``trained``: this code with ``--no-reuse``, every check trained (what an architecture the
  store has never seen costs).

Prints each run's wall time and memory (each role's largest process: the notebook's kernel,
a checker, the grader; polled every 0.05 s), the medians, and the ratios of the medians
(base / each).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

from build_and_grade import scratch_assignment, timed, watched

from autograder.lab.config import load_config


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", type=Path, required=True, help="checkout of the base commit")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--profile", default="grading")
    parser.add_argument("--data", default="generated")
    args = parser.parse_args()
    base = args.base.resolve()
    if not (base / "autograder" / "grade.py").is_file():
        raise SystemExit(f"{base} is not a checkout of this project.")
    base_path = os.pathsep.join([str(base), str(base / "student_template")])
    with scratch_assignment(args.profile, args.data) as (folder, rnnlab, options):
        print(f"building once ({args.profile} profile)...", flush=True)
        timed([*rnnlab, "build", *options])
        solution = str(load_config(folder).dist_dir / "autograder" / "rnn_lab.ipynb")
        grade = [*rnnlab, "grade", solution, *options]
        # The base commit's command line: --assignment and --imdb, before labs had folders.
        base_grade = [*rnnlab, "grade", solution, "--assignment", str(folder),
                      "--profile", args.profile, "--imdb", args.data]  # fmt: skip
        times: dict[str, list[float]] = {"base": [], "reused": [], "trained": []}
        largest: dict[str, list[int]] = {way: [] for way in times}
        for run in range(1, args.runs + 1):
            with tempfile.TemporaryDirectory() as cache:
                ways = {
                    "base": (base_grade, {"PYTHONPATH": base_path}),
                    "reused": (grade, {"XDG_CACHE_HOME": cache}),
                    "trained": ([*grade, "--no-reuse"], {"XDG_CACHE_HOME": cache}),
                }
                for way, (command, extra) in ways.items():
                    figures = watched(command, dict(os.environ, **extra))
                    times[way].append(figures.seconds)
                    largest[way].append(figures.largest[1])
                    print(f"  run {run} {way:<8} {figures.seconds:6.1f} s  {figures.memory()}",
                          flush=True)  # fmt: skip
    medians = {way: statistics.median(values) for way, values in times.items()}
    print(f"\n{args.profile} profile, {args.data} data, {args.runs} runs; medians (s):")
    for way, median in medians.items():
        ratio = medians["base"] / median
        peak = statistics.median(largest[way]) / 2**20
        print(
            f"  {way:<8} {median:6.1f}  base / {way}: {ratio:.2f}x   largest process {peak:,.0f} MiB"
        )
    print(f"python {sys.version.split()[0]}, cores {len(os.sched_getaffinity(0))}")


if __name__ == "__main__":
    main()
