"""The calibration's runs: worker processes that each train the reference and the designs of
some questions over some seeds and report one JSON line per seed (``kerasgrade calibrate``'s
engine; ``autograder.quality.calibrate`` decides and records the thresholds).

A worker measures exactly as a grading check does (the lab's checks module's
``MEASUREMENTS``), only with another seed and always the whole budget.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil

from autograder.environment import available_cores, cores_each, with_threads
from autograder.errors import RunFailed
from autograder.lab.config import AssignmentConfig
from autograder.quality.calibration_table import REFERENCE
from autograder.quality.slowest import calibration_builders

WORKER_MEMORY_BYTES = int(1.5 * 2**30)


def design_names(question) -> list[str]:
    """``reference``, then the function name of each of the question's ``calibration_designs``."""
    return [REFERENCE, *(design.function for design in question.calibration_designs)]


def measure(
    lab, questions: list[str], seed: int, designs_only: bool = False
) -> dict[str, dict[str, tuple[float, int]]]:
    """Train the reference of each question once with ``seed`` (unless ``designs_only``), and
    each of its ``calibration_designs``: ``{question: {design: (accuracy, n)}}``
    (``design_names``)."""
    results = {}
    for name in questions:
        question = lab.questions[name]
        measure_accuracy = lab.checks.MEASUREMENTS[question.accuracy_check]
        builders = (question.builder, *calibration_builders(question))
        results[name] = {}
        for design, builder in zip(design_names(question), builders, strict=True):
            if designs_only and design == REFERENCE:
                continue
            measured = measure_accuracy(builder(), seed=seed, **question.training())
            results[name][design] = (measured.accuracy, measured.examples)
    return results


def default_workers() -> int:
    """One worker per core, as far as memory allows (about 1.5 GiB each)."""
    by_memory = psutil.virtual_memory().available // WORKER_MEMORY_BYTES
    return max(1, min(available_cores(), by_memory))


def run_seeds(
    config: AssignmentConfig,
    questions: list[str],
    seeds: list[int],
    environment: dict,
    workers: int,
    progress,
    designs_only: bool = False,
) -> dict[int, dict[str, tuple[float, int]]]:
    """Measure every seed in ``workers`` processes, each taking every ``workers``-th seed
    (only the designs besides the reference with ``designs_only``)."""
    threads = cores_each(workers)
    results: dict[int, dict[str, tuple[float, int]]] = {}
    lock = threading.Lock()

    def worker(share: list[int]) -> None:
        command = [
            sys.executable, "-m", "autograder.quality.calibration_runs", "--worker", "--lab", str(config.folder),
            "--questions", *questions, "--seeds", *map(str, share),
            *(["--designs-only"] if designs_only else []),
        ]  # fmt: skip
        with subprocess.Popen(
            command,
            env=with_threads(environment, threads),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        ) as process:
            for line in process.stdout:
                record = json.loads(line)
                with lock:
                    results[record["seed"]] = record["results"]
                    progress(
                        f"  seed {record['seed']} ({len(results)}/{len(seeds)}, "
                        f"{record['seconds']:.0f} s): "
                        + ", ".join(
                            f"{q} {design} {a:.3f}"
                            for q, designs in record["results"].items()
                            for design, (a, _) in designs.items()
                        )
                    )
            stderr = process.stderr.read()
        if process.returncode != 0:
            raise RunFailed(f"a calibration worker failed:\n{stderr[-3000:]}")

    shares = [seeds[index::workers] for index in range(workers)]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(worker, [share for share in shares if share]))
    return results


def worker_main(argv: list[str]) -> int:
    """One calibration worker: a JSON line per seed on stdout."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--worker", action="store_true")
    parser.add_argument("--lab", type=Path, required=True)
    parser.add_argument("--questions", nargs="+", required=True)
    parser.add_argument("--seeds", nargs="+", type=int, required=True)
    parser.add_argument("--designs-only", action="store_true")
    args = parser.parse_args(argv)
    from autograder.lab.folder import load_lab

    lab = load_lab(args.lab)
    for seed in args.seeds:
        started = time.perf_counter()
        results = measure(lab, args.questions, seed, args.designs_only)
        line = {"seed": seed, "results": results, "seconds": time.perf_counter() - started}
        print(json.dumps(line), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(worker_main(sys.argv[1:]))
