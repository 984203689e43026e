"""A class graded in one batch: wall time, time per submission, and the cost of resuming.

Usage: python benchmarks/batch_grading.py [--solutions 4] [--untouched 4] [--corpus]
       [--variants N [--reference-share 0.8]] [--workers 0] [--timeout 120]
       [--profile grading] [--data generated] [--scheduler local:2]
Builds once into a temporary copy of the assignment, makes a class folder of solution and
untouched notebooks (and, with --corpus, the faulty files of tests/submissions), grades it
with `kerasgrade grade CLASS -o OUT`, then runs the same command again to time a resume.

With ``--variants N`` the class is instead N students drawn from the variant corpus
(the lab's variants/ folder): each answers each model question with the reference's builder (a share
``--reference-share`` of the answers, as most students hand in the lab's architecture) or
with one of the corpus's valid or wrong answers drawn at random (seed 0), and the class is
graded twice, with ``--no-reuse`` and then reusing measurements (the build's and each
other's), side by side. With ``--variants N --scheduler S`` it is graded twice, both reusing,
by ``--workers`` threads on this machine and then on the Dask cluster S (``local:2``): the
ratio, and the cluster's extra wall time per submission (its scheduler's and workers'
overhead, the work being the same).
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
from worked_example import LAB

from autograder.lab.config import load_config
from autograder.lab.questions import ModelQuestion
from autograder.quality.verify import PRELUDE_FILE, load_corpus

VARIANTS = LAB.variants_dir  # the variant corpus: valid and wrong answers, question by question
FAULTY_FILES = Path(__file__).resolve().parent.parent / "tests" / "submissions"


def make_class(dist: Path, folder: Path, args: argparse.Namespace) -> int:
    folder.mkdir()
    for index in range(args.solutions):
        shutil.copy(dist / "autograder" / "rnn_lab.ipynb", folder / f"solution_{index}.ipynb")
    for index in range(args.untouched):
        shutil.copy(dist / "student" / "rnn_lab.ipynb", folder / f"untouched_{index}.ipynb")
    if args.corpus:
        shutil.copytree(FAULTY_FILES, folder / "corpus")
    return sum(1 for path in folder.rglob("*") if path.is_file())


def variant_class(folder: Path, students: int, reference_share: float) -> int:
    """``students`` notebooks: the corpus prelude, then one cell per question of the corpus,
    the reference's builder for a model question with probability ``reference_share`` and
    otherwise a variant drawn at random (a count or demo question always gets a variant)."""
    import random

    import nbformat

    from autograder.build.notebook import KERNELSPEC, builder_source

    rng = random.Random(0)
    builders = LAB.builders()
    by_question: dict[str, list] = {}
    for variant in load_corpus(VARIANTS):
        by_question.setdefault(variant.question, []).append(variant)
    prelude = (VARIANTS / PRELUDE_FILE).read_text()
    folder.mkdir()
    for index in range(students):
        cells = [nbformat.v4.new_code_cell(prelude)]
        for question, variants in sorted(by_question.items()):
            spec = LAB.questions[question]
            if isinstance(spec, ModelQuestion) and rng.random() < reference_share:
                function = spec.builder.function  # inlined: the sandbox cannot import the lab
                code = f"{builder_source(builders, function)}\n\n{spec.variable} = {function}()"
            else:
                code = rng.choice(variants).code
            cells.append(nbformat.v4.new_code_cell(code))
        notebook = nbformat.v4.new_notebook(cells=cells, metadata={"kernelspec": KERNELSPEC})
        nbformat.write(notebook, folder / f"student_{index:02d}.ipynb")
    return students


def timed_batch(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, text=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--solutions", type=int, default=4)
    parser.add_argument("--untouched", type=int, default=4)
    parser.add_argument("--corpus", action="store_true")
    parser.add_argument("--variants", type=int, default=0, help="N students from the corpus")
    parser.add_argument("--reference-share", type=float, default=0.8)
    parser.add_argument("--workers", type=int, default=0, help="0: one per core")
    parser.add_argument("--timeout", type=float, default=120)
    parser.add_argument("--profile", default="grading")
    parser.add_argument("--data", default="generated")
    parser.add_argument("--scheduler", help="with --variants: compare with this Dask cluster")
    args = parser.parse_args()
    with scratch_assignment(args.profile, args.data) as (folder, rnnlab, options):
        print("building (once)...", flush=True)
        subprocess.run([*rnnlab, "build", *options], check=True, capture_output=True)
        if args.variants and args.scheduler:
            compare_scheduler(rnnlab, options, args)
            return
        if args.variants:
            compare_reuse(rnnlab, options, args)
            return
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
    print(f"\nprofile {args.profile}, data {args.data}, {files} files")
    print(f"statuses: {dict(sorted(statuses.items()))}")
    print(f"batch wall time {wall:.0f} s ({wall / max(1, files):.1f} s per file)")
    for kind, seconds in sorted(by_kind.items()):
        print(
            f"  {kind:<10} {len(seconds):3d} files, median {statistics.median(seconds):.0f} s each"
        )
    print(f"rerun with every result saved (resume): {resume:.1f} s")


def compare_reuse(rnnlab: list[str], options: list[str], args: argparse.Namespace) -> None:
    """Grade a class drawn from the corpus with ``--no-reuse``, then reusing measurements."""
    with tempfile.TemporaryDirectory() as scratch:
        klass = Path(scratch) / "class"
        files = variant_class(klass, args.variants, args.reference_share)
        walls = {}
        for way, extra in (("--no-reuse", ["--no-reuse"]), ("reuse", [])):
            out = Path(scratch) / f"out{len(walls)}"
            command = [*rnnlab, "grade", str(klass), "-o", str(out), *options, *extra]
            command += ["--workers", str(args.workers), "--timeout", str(args.timeout)]
            print(f"grading {files} students ({way})...", flush=True)
            walls[way] = timed_batch(command)
            records = [json.loads(p.read_text()) for p in (out / "results").glob("*.json")]
            kinds = Counter(
                r["measurement"]
                for record in records
                for r in record.get("tests", [])
                if r.get("measurement")
            )
            totals = sorted(record["total"] for record in records)
            print(f"  {way}: {walls[way]:.0f} s; accuracy checks {dict(kinds)}; totals {totals}")
    print(f"\nprofile {args.profile}, data {args.data}, {files} students")
    print(
        f"wall time --no-reuse {walls['--no-reuse']:.0f} s, reuse {walls['reuse']:.0f} s: "
        f"{walls['--no-reuse'] / walls['reuse']:.2f}x"
    )


def median_of(phases: list[dict], phase: str) -> str:
    """The median of one phase's seconds over submissions' ``report.seconds``, as text."""
    seconds = [each[phase] for each in phases if phase in each]
    return f"{statistics.median(seconds):.0f}" if seconds else "-"


def compare_scheduler(rnnlab: list[str], options: list[str], args: argparse.Namespace) -> None:
    """Grade a class drawn from the corpus by the thread pools, then on ``args.scheduler``."""
    with tempfile.TemporaryDirectory() as scratch:
        klass = Path(scratch) / "class"
        files = variant_class(klass, args.variants, args.reference_share)
        ways = {
            f"threads ({args.workers or 'default'} workers)": (
                ["--workers", str(args.workers)] if args.workers else []
            ),
            f"dask {args.scheduler}": ["--scheduler", args.scheduler],
        }
        walls, totals, rows = {}, {}, {}
        for index, (way, extra) in enumerate(ways.items()):
            out = Path(scratch) / f"out{index}"
            command = [*rnnlab, "grade", str(klass), "-o", str(out), *options, *extra]
            command += ["--timeout", str(args.timeout)]
            print(f"grading {files} students ({way})...", flush=True)
            walls[way] = timed_batch(command)
            records = [json.loads(p.read_text()) for p in (out / "results").glob("*.json")]
            totals[way] = sorted((record["file"], record["total"]) for record in records)
            rows[way] = {
                r["file"]: f"{r['status']} {r['total']:g} ({r['reason']})" for r in records
            }
            kinds: dict[str, list[dict]] = {}
            for record in records:
                measured = {r.get("measurement") for r in record.get("tests", [])}
                kind = "trained" if "trained" in measured else "reused"
                kinds.setdefault(kind, []).append(record.get("report", {}).get("seconds", {}))
            each = ", ".join(
                f"{len(phases)} {kind} (median notebook {median_of(phases, 'execute')} s,"
                f" checks {median_of(phases, 'check')} s)"
                for kind, phases in sorted(kinds.items())
            )
            print(f"  {way}: {walls[way]:.0f} s; submissions {each}", flush=True)
    threads, dask = walls.values()
    print(f"\nprofile {args.profile}, data {args.data}, {files} students")
    print("wall time: " + ", ".join(f"{way} {wall:.0f} s" for way, wall in walls.items()))
    print(
        f"dask / threads: {dask / threads:.2f}x; extra per submission {(dask - threads) / files:+.1f} s"
    )
    print(f"same totals both ways: {len(set(map(tuple, totals.values()))) == 1}")
    first, second = rows.values()
    for name in sorted(set(first) | set(second)):
        if first.get(name, "").split(" (")[0] != second.get(name, "").split(" (")[0]:
            print(f"  {name} differs:", *(f"\n    {way}: {r.get(name)}" for way, r in rows.items()))


if __name__ == "__main__":
    main()
