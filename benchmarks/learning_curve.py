"""Held-out accuracy after each epoch of one review model, over seeds: does a design learn,
and does it stay learned?

Usage: RNNLAB_PROFILE=grading RNNLAB_IMDB=generated \
       python benchmarks/learning_curve.py BUILDER [--epochs 10] [--seeds 10000 10005]
BUILDER is a function of ``reference.imdb_models`` or ``reference.slow_designs``
(``build_lstm_stacked_widest_dropout``). Each seed trains a fresh copy on the profile's
reviews at batch 32 after ``lab_support.set_seeds`` and prints one JSON line: its accuracy on
the profile's held-out reviews after each epoch, and seconds per epoch.

It shows how a design learns over epochs, not a check's exact figures: a check also looks
within the first epoch (``lab_checks.REVIEW_FIRST_EPOCH_LOOKS``, which splits that epoch's
batches differently) and trains on one thread (``autograder.grading.trusted.checkers.CHECKER_THREADS``), so
the same seed here follows another path than in ``kerasgrade calibrate``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "assignments" / "rnn_lab" / "shipped"), str(ROOT)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("builder")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--seeds", type=int, nargs="+", default=[10_000, 10_005])
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args()

    import numpy as np

    import lab_support
    from labkit.checks import fresh_copy
    from reference import imdb_models, slow_designs

    builder = getattr(imdb_models, args.builder, None) or getattr(slow_designs, args.builder)
    data = lab_support.load_imdb(profile=lab_support.active_profile())
    for seed in args.seeds:
        lab_support.set_seeds(seed)
        model = fresh_copy(builder())
        curve, started = [], time.perf_counter()
        for _ in range(args.epochs):
            model.fit(data.x_train, data.y_train, batch_size=args.batch_size, epochs=1, verbose=0)
            scores = np.asarray(model.predict(data.x_test, batch_size=100, verbose=0))
            curve.append(round(float(np.mean((scores[:, 0] > 0.5) == (data.y_test == 1))), 3))
        seconds = (time.perf_counter() - started) / args.epochs
        print(
            json.dumps({"seed": seed, "accuracy_by_epoch": curve, "s_per_epoch": round(seconds, 1)})
        )


if __name__ == "__main__":
    main()
