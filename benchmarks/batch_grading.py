"""A class graded in one batch: wall time, time per submission, and the cost of resuming.

Usage: python benchmarks/batch_grading.py [--solutions 4] [--untouched 4] [--corpus]
       [--workers 0] [--timeout 120] [--profile grading] [--imdb generated]
Builds once into a temporary copy of the assignment, makes a class folder of solution and
untouched notebooks (and, with --corpus, the faulty files of tests/submissions), grades it
with `rnnlab grade CLASS -o OUT`, then runs the same command again to time a resume.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import tempfile
import time
from collections import Counter
from pathlib import Path

from build_and_grade import scratch_assignment

from autograder.config import load_config

CORPUS = Path(__file__).resolve().parent.parent / "tests" / "submissions"


def make_class(dist: Path, folder: Path, args: argparse.Namespace) -> int:
    folder.mkdir()
    for index in range(args.solutions):
        shutil.copy(dist / "autograder" / "rnn_lab.ipynb", folder / f"solution_{index}.ipynb")
    for index in range(args.untouched):
        shutil.copy(dist / "student" / "rnn_lab.ipynb", folder / f"untouched_{index}.ipynb")
    if args.corpus:
        shutil.copytree(CORPUS, folder / "corpus")
    return sum(1 for path in folder.rglob("*") if path.is_file())


def timed_batch(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, text=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--solutions", type=int, default=4)
    parser.add_argument("--untouched", type=int, default=4)
    parser.add_argument("--corpus", action="store_true")
    parser.add_argument("--workers", type=int, default=0, help="0: one per core")
    parser.add_argument("--timeout", type=float, default=120)
    parser.add_argument("--profile", default="grading")
    parser.add_argument("--imdb", default="generated")
    args = parser.parse_args()
    with scratch_assignment(args.profile, args.imdb) as (folder, rnnlab, options):
        print("building (once)...", flush=True)
        subprocess.run([*rnnlab, "build", *options], check=True, capture_output=True)
        with tempfile.TemporaryDirectory() as scratch:
            klass, out = Path(scratch) / "class", Path(scratch) / "out"
            files = make_class(load_config(folder).dist_dir, klass, args)
            command = [*rnnlab, "grade", str(klass), "-o", str(out), *options]
            command += ["--workers", str(args.workers), "--timeout", str(args.timeout)]
            print(f"grading a class of {files} files...", flush=True)
            wall = timed_batch(command)
            resume = timed_batch(command)
            records = [json.loads(path.read_text()) for path in (out / "results").glob("*.json")]
    statuses = Counter(record["status"] for record in records)
    by_kind: dict[str, list[float]] = {}
    for record in records:
        kind = record["file"].split("/")[0].split("_")[0]  # solution, untouched or corpus
        by_kind.setdefault(kind, []).append(record["seconds"])
    print(f"\nprofile {args.profile}, data {args.imdb}, {files} files")
    print(f"statuses: {dict(sorted(statuses.items()))}")
    print(f"batch wall time {wall:.0f} s ({wall / max(1, files):.1f} s per file)")
    for kind, seconds in sorted(by_kind.items()):
        print(
            f"  {kind:<10} {len(seconds):3d} files, median {statistics.median(seconds):.0f} s each"
        )
    print(f"rerun with every result saved (resume): {resume:.1f} s")


if __name__ == "__main__":
    main()
