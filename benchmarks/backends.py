"""Seconds each accuracy check of the RNN lab trains, on Keras' TensorFlow and JAX backends.

Usage: python benchmarks/backends.py [--runs 1] [--profile grading] [--questions q2 q4 q5 q7]
       [--threads 1]
Each run is a fresh process per backend and question that does what the checker does for a
submission with the reference's model: ``MEASUREMENTS[task]`` of the lab's checks module (load
the data, train a fresh copy within the profile's budget, score it on held-out data), with no
measurement store and no early stop (the whole budget, as calibration trains), on ``--threads``
threads (the checker's share of the cores). JAX needs ``pip install "jax[cpu]"``; the grader
does not. Prints seconds and accuracy per run, then medians and the TensorFlow / JAX ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

BACKENDS = ("tensorflow", "jax")
ONE_CHECK = """
import json, sys, time
sys.path[:0] = {paths!r}
import keras
started = time.perf_counter()
import lab_checks
from autograder.lab.config import load_config
from autograder.lab.find import default_lab_folder
config = load_config(default_lab_folder())
question = config.lab.questions[{question!r}]
measure = lab_checks.MEASUREMENTS[question.accuracy_check]
result = measure(question.builder(), **question.training())
print(json.dumps({{"seconds": time.perf_counter() - started, "accuracy": result.accuracy,
                  "backend": keras.backend.backend()}}))
"""


def thread_environment(backend: str, threads: int) -> dict[str, str]:
    """The environment that keeps a backend to ``threads`` threads."""
    environment = dict(
        os.environ,
        KERAS_BACKEND=backend,
        TF_CPP_MIN_LOG_LEVEL="3",
        TF_NUM_INTRAOP_THREADS=str(threads),
        TF_NUM_INTEROP_THREADS=str(threads),
    )
    if backend == "jax":
        flags = "--xla_cpu_multi_thread_eigen=false" if threads == 1 else ""
        environment["XLA_FLAGS"] = f"{flags} intra_op_parallelism_threads={threads}".strip()
    return environment


def one_check(question: str, backend: str, profile: str, threads: int) -> dict:
    from worked_example import LAB

    code = ONE_CHECK.format(paths=[str(LAB.shipped_dir), str(LAB.folder)], question=question)
    environment = thread_environment(backend, threads)
    environment.update(RNNLAB_PROFILE=profile, RNNLAB_IMDB="generated")
    completed = subprocess.run(
        [sys.executable, "-c", code], env=environment, capture_output=True, text=True, check=True
    )
    return json.loads(completed.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--profile", default="grading")
    parser.add_argument("--questions", nargs="+", default=["q2", "q4", "q5", "q7"])
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    seconds: dict[tuple[str, str], list[float]] = {}
    for run in range(1, args.runs + 1):
        for question in args.questions:
            for backend in BACKENDS:
                result = one_check(question, backend, args.profile, args.threads)
                assert result["backend"] == backend, result
                seconds.setdefault((question, backend), []).append(result["seconds"])
                print(
                    f"  run {run} {question} {backend:<10} {result['seconds']:6.1f} s  "
                    f"accuracy {result['accuracy']:.3f}",
                    flush=True,
                )
    print(f"\n{args.profile} profile, generated data, {args.threads} thread(s), {args.runs} run(s)")
    print(f"{'question':<9}{'tensorflow s':>13}{'jax s':>8}{'tf / jax':>10}")
    for question in args.questions:
        tf, jax = (statistics.median(seconds[(question, b)]) for b in BACKENDS)
        print(f"{question:<9}{tf:>13.1f}{jax:>8.1f}{tf / jax:>9.2f}x")
    print(f"python {sys.version.split()[0]}, cores {len(os.sched_getaffinity(0))}, {Path.cwd()}")


if __name__ == "__main__":
    main()
