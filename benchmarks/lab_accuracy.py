"""Accuracy and training time of the reference models, trained as the notebook trains them.

Usage: python benchmarks/lab_accuracy.py [--models simple_rnn lstm cnn_lstm]
       [--imdb PATH|generated|keras] [--threads N] [--reviews N]

Each chosen model is built from reference/ right after ``lab_support.set_seeds(2019)`` and
trained with the full profile's budget: the notebook's epochs and batch size, every training
review, validated on every test review after each epoch (``model.fit(...,
validation_data=test, verbose=2)``, which is what ``lab_support.fit_model`` runs in the full
profile). Per model it prints the test accuracy after each epoch (for the adder, the share of
answer characters right on the validation problems, plus whole answers right at the end), the
total training seconds and the seconds of each epoch (each includes its validation pass; the
first also includes tracing the graph). The machine, its CPU count and load, and the threads
TensorFlow may use are printed too; ``--threads N`` pins TensorFlow's intra- and inter-op
thread pools to N so that a figure can be quoted as "on N cores".

The notebook seeds once and builds its models one after another, so its random initial
weights differ from these (seeded per model) and its accuracies will not match these exactly;
how far they differ is not measured here. ``--reviews N`` keeps the first N reviews of each
split, for a quick try.

Example (the real reviews, a long run on a small machine):
  python benchmarks/lab_accuracy.py --imdb /work/shared/data/imdb.npz
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import platform
import time
from dataclasses import dataclass, field

import keras
import tensorflow as tf
import worked_example  # noqa: F401  (makes the lab importable)

import lab_support
from reference import adder_models, imdb_models

SEED = 2019

# model name -> (builder in reference/, epochs, batch size) as the notebook trains it in full.
NOTEBOOK_TRAINING = {
    "feedforward": ("build_feedforward_model", 2, 128),
    "embedding": ("build_embedding_model", 2, 128),
    "cnn": ("build_cnn_model", 2, 128),
    "simple_rnn": ("build_simple_rnn_model", 3, 64),
    "lstm": ("build_lstm_model", 3, 64),
    "cnn_lstm": ("build_cnn_lstm_model", 3, 64),
    "adder": ("build_adder_model", 20, 128),
}


@dataclass
class Result:
    model: str
    batch_size: int
    examples: int
    accuracies: list[float] = field(default_factory=list)
    epoch_seconds: list[float] = field(default_factory=list)
    total_seconds: float = 0.0
    note: str = ""


def machine_description() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as info:
            cpu = next(line.split(":", 1)[1].strip() for line in info if "model name" in line)
    except (OSError, StopIteration):
        pass
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else "?"
    return f"{platform.node()} ({platform.system()} {platform.machine()}), {cpu}, " + (
        f"os.cpu_count()={os.cpu_count()}, usable by this process={usable}"
    )


def configure_threads(threads: int | None) -> str:
    """Pin TensorFlow's thread pools (before it runs any op) and say what it will use."""
    if threads:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    intra = tf.config.threading.get_intra_op_parallelism_threads()
    inter = tf.config.threading.get_inter_op_parallelism_threads()
    if intra == inter == 0:
        return f"TensorFlow default (intra/inter-op 0: one thread per CPU, {os.cpu_count()})"
    return f"intra-op {intra}, inter-op {inter}"


class EpochTimer(keras.callbacks.Callback):
    """Records the wall seconds of each epoch, its validation pass included."""

    def on_train_begin(self, logs=None):
        self.seconds = []

    def on_epoch_begin(self, epoch, logs=None):
        self.started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self.started)


def train(name: str, imdb, additions) -> Result:
    builder, epochs, batch_size = NOTEBOOK_TRAINING[name]
    module = adder_models if name == "adder" else imdb_models
    lab_support.set_seeds(SEED)
    model = getattr(module, builder)()
    if name == "adder":
        training = (additions.x_train, additions.y_train)
        validation = (additions.x_val, additions.y_val)
    else:
        training, validation = (imdb.x_train, imdb.y_train), (imdb.x_test, imdb.y_test)
    print(f"\n== {name}: {epochs} epochs, batch {batch_size}, {len(training[0]):,} examples, "
          f"validated on {len(validation[0]):,}", flush=True)  # fmt: skip
    timer = EpochTimer()
    started = time.perf_counter()
    history = model.fit(
        *training,
        epochs=epochs,
        batch_size=batch_size,
        validation_data=validation,
        verbose=2,
        callbacks=[timer],
    )
    result = Result(name, batch_size, len(training[0]), history.history["val_accuracy"])
    result.total_seconds = time.perf_counter() - started
    result.epoch_seconds = timer.seconds
    if name == "adder":
        whole = lab_support.whole_answer_accuracy(model, *validation)
        result.note = f"whole answers right: {whole:.3f}"
    for epoch, (accuracy, seconds) in enumerate(
        zip(result.accuracies, result.epoch_seconds, strict=True), start=1
    ):
        print(f"{name} epoch {epoch}/{epochs}: accuracy {accuracy:.4f}, {seconds:.1f} s")
    print(f"{name}: {result.total_seconds:.0f} s in all, load average {load()}", flush=True)
    return result


def load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def print_table(results: list[Result]) -> None:
    print("\nmodel        batch  examples  accuracy after each epoch          "
          "total s  s/epoch (each)")  # fmt: skip
    for r in results:
        accuracies = " ".join(f"{a:.3f}" for a in r.accuracies)
        each = " ".join(f"{s:.1f}" for s in r.epoch_seconds)
        mean = r.total_seconds / max(len(r.epoch_seconds), 1)
        print(f"{r.model:<12} {r.batch_size:>5}  {r.examples:>8}  {accuracies:<34} "
              f"{r.total_seconds:>7.0f}  {mean:.1f} ({each})", flush=True)  # fmt: skip
        if r.note:
            print(f"{'':<12} {r.note}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--models", nargs="+", choices=list(NOTEBOOK_TRAINING),
        default=["simple_rnn", "lstm", "cnn_lstm"],
    )  # fmt: skip
    parser.add_argument("--imdb", default="generated", help="path to imdb.npz, generated or keras")
    parser.add_argument("--threads", type=int, help="pin TensorFlow's intra/inter-op threads")
    parser.add_argument("--reviews", type=int, help="keep only N reviews of each split")
    args = parser.parse_args()

    threads = configure_threads(args.threads)
    full = lab_support.PROFILES["full"]
    profile = dataclasses.replace(full, train_reviews=args.reviews, test_reviews=args.reviews)
    print(f"machine: {machine_description()}")
    print(f"TensorFlow {tf.__version__}, Keras {keras.__version__}, threads: {threads}")
    print(f"data: {args.imdb}, load average at start: {load()}", flush=True)
    imdb = additions = None
    if set(args.models) - {"adder"}:
        imdb = lab_support.load_imdb(args.imdb, profile=profile)
    if "adder" in args.models:
        additions = lab_support.load_additions(full.adder_problems)
    results = [train(name, imdb, additions) for name in args.models]
    print(f"\nmachine: {machine_description()}\nthreads: {threads}\ndata: {args.imdb}; "
          f"load average at the end: {load()}")  # fmt: skip
    print_table(results)


if __name__ == "__main__":
    main()
