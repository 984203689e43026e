"""What a process pays to import Keras on TensorFlow, and to collect garbage afterwards, with
and without ``autograder.grading.startup.import_frozen``.

Usage: python benchmarks/startup.py [--runs 3]
Each run starts a fresh Python that imports Keras (plainly, or through ``import_frozen``),
times one ``keras.utils.clear_session(free_memory=True)`` (what a checker does after each
job; it runs a full garbage collection) and exits; the whole process' CPU (start, import,
exit: Python's exit collects garbage too) is read by the parent. The two ways alternate,
run by run; medians of the CPU seconds (user + system) are printed side by side.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys

PROGRAM = """
import json, resource, time
started = resource.getrusage(resource.RUSAGE_SELF)
if {frozen}:
    from autograder.grading.startup import import_frozen
    import_frozen("keras")
import keras
imported = resource.getrusage(resource.RUSAGE_SELF)
clock = time.process_time()
keras.utils.clear_session(free_memory=True)
cpu = lambda usage: usage.ru_utime + usage.ru_stime
print(json.dumps({{"import": cpu(imported) - cpu(started),
                  "clear_session": time.process_time() - clock}}))
"""


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measure(frozen: bool) -> dict[str, float]:
    """One fresh process: CPU seconds of the import, of one clear_session and in all."""
    before = children_cpu()
    completed = subprocess.run(
        [sys.executable, "-c", PROGRAM.format(frozen=frozen)],
        capture_output=True,
        text=True,
        check=True,
    )
    return {
        **json.loads(completed.stdout.strip().splitlines()[-1]),
        "whole process": children_cpu() - before,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    runs: dict[bool, list[dict[str, float]]] = {False: [], True: []}
    for _ in range(args.runs):
        for frozen in (False, True):
            runs[frozen].append(measure(frozen))
    for step in ("import", "clear_session", "whole process"):
        plain = statistics.median(run[step] for run in runs[False])
        frozen = statistics.median(run[step] for run in runs[True])
        print(
            f"{step:<14} plain {plain:6.3f} s CPU, import_frozen {frozen:6.3f} s CPU "
            f"({plain / max(frozen, 1e-9):.1f}x less)"
        )


if __name__ == "__main__":
    main()
