"""What the client of a class pays per result as the class grows, without grading anything.

Usage: python benchmarks/client_writes.py [--students 500] [--every 100]
Each finished submission makes the client (the one writer of OUT/, on one host or a Dask
cluster) save its result and feedback and rebuild the gradebook and HTML report from every
record so far (``cohort.run.Batch.save``). This saves ``--students`` made-up records of the
worked example one after another and prints the seconds per save at every ``--every``-th:
the serial part of a class' grading that no number of workers shortens.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from autograder.cohort.collect import Submission
from autograder.cohort.gradebook import record_of
from autograder.cohort.run import Batch
from autograder.grading.options import GradingOptions
from autograder.grading.results import GradeReport, Status
from autograder.grading.untrusted.isolation import FOLDER, Isolation
from autograder.lab.config import load_config
from autograder.lab.find import default_lab_folder
from autograder.lab.settings import RunSettings


def made_up_report(config, path: Path, index: int) -> GradeReport:
    """A graded report with every automatic question at a score that varies by student."""
    possible = {q: config.question_points(q) for q in config.points}
    scores = {
        q: None if config.is_manual(q) else float(index % (int(possible[q]) + 1))
        for q in config.points
    }
    return GradeReport(
        submission=path, status=Status.COMPLETED, message="ran", isolation="benchmark",
        scores=scores, possible=possible,
    )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=500)
    parser.add_argument("--every", type=int, default=100)
    args = parser.parse_args()
    config = load_config(default_lab_folder())
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "out"
        options = GradingOptions.of(
            config.lab, RunSettings.of("smoke", "generated"), phase_timeout=60, memory_gib=1
        )
        batch = Batch(config=config, out=out, options=options, hide=[], isolation=Isolation(FOLDER))
        submissions = [
            Submission(out / f"s{i}.ipynb", f"student_{i:03d}.ipynb", f"student_{i:03d}.ipynb", "")
            for i in range(args.students)
        ]
        records: dict[str, dict] = {}
        total, window, started = 0.0, [], time.perf_counter()
        for index, submission in enumerate(submissions, 1):
            record = record_of(submission, made_up_report(config, submission.path, index), "0", {})
            began = time.perf_counter()
            batch.save(record, records, submissions)
            spent = time.perf_counter() - began
            total += spent
            window.append(spent)
            if index % args.every == 0:
                print(f"{index:4d} results: {sum(window) / len(window):.3f} s per save lately")
                window = []
    print(
        f"{args.students} saves: {total:.1f} s in all ({time.perf_counter() - started:.1f} s wall)"
    )


if __name__ == "__main__":
    main()
