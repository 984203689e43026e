"""The grading budget in figures: wall time and peak memory of `kerasgrade grade`, and full / grading.

Usage: python benchmarks/grading_budget.py [--runs 3] [--profile grading] [--data generated]
       [--sample 256] [--estimates 3]

Builds once into a temporary copy of the assignment, then grades the solution notebook and
the untouched student notebook ``--runs`` times each, polling the whole process tree for the
largest single process' RSS and the tree's total. The full profile's training time is
extrapolated from timing each exercise's fit on ``--sample`` examples for one epoch
(labelled as such: it is not a measured full run); the median of ``--estimates`` such
extrapolations, which vary by a fifth from one to the next on a shared machine.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import time

from build_and_grade import scratch_assignment, watched

from autograder.lab.config import load_config

GIB = 2**30
REPORT_LINES = ("total", "Time:")
# (exercise, builder, batch size, epochs, training examples, validation examples per epoch)
# as the lab runs them in full: the IMDB models validate on the whole test split each epoch.
FULL_TRAINING = [
    ("1a", "build_feedforward_model", 128, 2, 25_000, 25_000),
    ("1b", "build_embedding_model", 128, 2, 25_000, 25_000),
    ("2", "build_cnn_model", 128, 2, 25_000, 25_000),
    ("3", "build_simple_rnn_model", 64, 3, 25_000, 25_000),
    ("4", "build_lstm_model", 64, 3, 25_000, 25_000),
    ("5", "build_cnn_lstm_model", 64, 3, 25_000, 25_000),
    ("7", "build_adder_model", 128, 20, 45_000, 5_000),
]


def grading_figures(label: str, runs: int, command: list[str]) -> tuple[float, float, float]:
    """Medians over ``runs`` of wall seconds, largest-process GiB and whole-tree GiB."""
    measured = []
    for run in range(1, runs + 1):
        run_figures = watched(command)
        wall, (_, biggest), tree = run_figures.seconds, run_figures.largest, run_figures.tree
        report = "\n    ".join(
            line for line in run_figures.output.splitlines() if line.startswith(REPORT_LINES)
        )
        measured.append((wall, biggest / GIB, tree / GIB))
        print(f"  {label} run {run}: {wall:.0f} s, largest process {biggest / GIB:.2f} GiB, "
              f"tree {tree / GIB:.2f} GiB\n    {report}", flush=True)  # fmt: skip
    walls, largest, trees = zip(*measured, strict=True)
    return statistics.median(walls), statistics.median(largest), statistics.median(trees)


def full_training_seconds(sample: int) -> float:
    """Seconds the full profile's training would take, extrapolated from one-epoch samples."""
    import numpy as np
    import worked_example  # noqa: F401  (makes `reference` importable)

    from reference import adder_models, imdb_models

    total = 0.0
    for exercise, builder_name, batch_size, epochs, examples, validation in FULL_TRAINING:
        module = adder_models if exercise == "7" else imdb_models
        model = getattr(module, builder_name)()
        shape = (sample, *model.input_shape[1:])
        x = np.random.randint(0, 10_000, shape) if exercise != "7" else np.random.rand(*shape)
        y = np.zeros((sample, *model.output_shape[1:]), dtype="float32")
        model.fit(x[:batch_size], y[:batch_size], epochs=1, batch_size=batch_size, verbose=0)
        started = time.perf_counter()  # timed after one warm-up batch
        model.fit(x, y, epochs=1, batch_size=batch_size, verbose=0)
        per_example = (time.perf_counter() - started) / sample
        model.predict(x[:batch_size], batch_size=batch_size, verbose=0)  # warm-up
        started = time.perf_counter()
        model.predict(x, batch_size=batch_size, verbose=0)
        per_prediction = (time.perf_counter() - started) / sample
        estimate = (per_example * examples + per_prediction * validation) * epochs
        total += estimate
        print(
            f"  exercise {exercise}: {per_example * 1000:.2f} ms per example-epoch, "
            f"{per_prediction * 1000:.2f} ms per prediction -> {estimate / 60:.1f} min for "
            f"{epochs} epochs of {examples:,} validated on {validation:,} (extrapolated)",
            flush=True,
        )
    return total


def grade_runs(args: argparse.Namespace) -> dict[str, tuple[float, float, float]]:
    """Build once, then grade the solution and the untouched notebook ``args.runs`` times each."""
    with scratch_assignment(args.profile, args.data) as (folder, rnnlab, options):
        print("building (once)...", flush=True)
        subprocess.run([*rnnlab, "build", *options], check=True, capture_output=True)
        dist = load_config(folder).dist_dir
        return {
            label: grading_figures(
                label,
                args.runs,
                [*rnnlab, "grade", str(dist / kind / "rnn_lab.ipynb"), *options],
            )
            for label, kind in (("solution", "autograder"), ("untouched", "student"))
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="grading runs; 0 only extrapolates")
    parser.add_argument("--profile", default="grading")
    parser.add_argument("--data", default="generated")
    parser.add_argument("--sample", type=int, default=256)
    parser.add_argument(
        "--estimates", type=int, default=3, help="extrapolations to take the median of"
    )
    args = parser.parse_args()
    figures = grade_runs(args) if args.runs else {}
    estimates = []
    for estimate in range(1, args.estimates + 1):
        print(f"full-profile training, extrapolated from samples ({estimate}):", flush=True)
        estimates.append(full_training_seconds(args.sample))
        print(f"  in all: {estimates[-1] / 60:.1f} min", flush=True)
    full = statistics.median(estimates)
    print(f"\nprofile {args.profile}, data {args.data}; medians of {args.runs} runs")
    for label, (wall, largest, tree) in figures.items():
        print(
            f"grade {label:<10} {wall:6.0f} s   largest process {largest:.2f} GiB   tree {tree:.2f} GiB"
        )
    shown = ", ".join(f"{seconds / 60:.1f}" for seconds in estimates)
    print(f"full-profile training (extrapolated, median of {shown}): {full / 60:.0f} min")
    if figures:
        print(f"full / grading (solution) time ratio: {full / figures['solution'][0]:.0f}")


if __name__ == "__main__":
    main()
