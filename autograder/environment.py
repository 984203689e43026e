"""How many cores a run may use, how many submissions a class grades at once, and TensorFlow's threads set through the environment.

(A run's profile and data source are written into the environment by
``settings.RunSettings.environment``.)"""

from __future__ import annotations

import math
import os
from pathlib import Path

import psutil


def with_threads(environment: dict[str, str], threads: int) -> dict[str, str]:
    """``environment`` with TensorFlow limited to ``threads`` threads (0: every core).

    Environment variables rather than ``tf.config``: they hold however early the process
    first touches TensorFlow.
    """
    if not threads:
        return environment
    count = str(threads)
    return dict(environment, TF_NUM_INTRAOP_THREADS=count, TF_NUM_INTEROP_THREADS=count)


def with_system_allocator(environment: dict[str, str]) -> dict[str, str]:
    """``environment`` with TensorFlow's tensors on the system allocator, which gives back
    what is freed.

    TensorFlow's oneDNN build otherwise keeps every tensor it frees in a best-fit cache of
    its own that never returns memory (``TF_ONEDNN_USE_SYSTEM_ALLOCATOR`` is read by
    ``UseSystemAlloc()`` in TensorFlow's ``tensorflow/core/util/onednn_env_vars.cc``, for its
    oneDNN CPU allocator): one 50 MB weight initialised holds about 150 MB for the rest
    of the process (the random bits, their conversion, the weight). The choice changes
    where tensors live, not what is computed (the same weights either way, bit for bit),
    but training is slower on it (one epoch of the CNN check: 24 s against 15 s), so only
    a process that trains a token amount (a graded notebook's kernel) uses it.
    """
    return dict(environment, TF_ONEDNN_USE_SYSTEM_ALLOCATOR="1")


def available_cores(cgroup: Path = Path("/sys/fs/cgroup")) -> int:
    """Cores this process may use: its CPU affinity, capped by a container's CPU quota.

    A container (Gradescope's, for one) often sees every core of its host but is allowed
    only a share of them; the quota is in ``cpu.max`` (cgroup v2) or ``cpu/cpu.cfs_*``.
    """
    cores = len(os.sched_getaffinity(0))
    for quota_file, period_file in (
        (cgroup / "cpu.max", None),
        (cgroup / "cpu" / "cpu.cfs_quota_us", cgroup / "cpu" / "cpu.cfs_period_us"),
    ):
        try:
            fields = quota_file.read_text().split()
            if period_file is not None:
                fields.append(period_file.read_text().strip())
            quota, period = int(fields[0]), int(fields[1])
        except (OSError, ValueError, IndexError):  # no such file, or "max": no quota
            continue
        if quota > 0 and period > 0:
            cores = min(cores, max(1, math.ceil(quota / period)))
    return cores


def cores_each(processes: int) -> int:
    """The cores each of ``processes`` processes running at once gets (at least one)."""
    return max(1, available_cores() // max(1, processes))


# What one grading worker may hold at once: its notebook's kernel (about 1 GiB with the lab's
# models) and its warm checker (retired above half the default 4 GiB limit: ``checkers``).
WORKER_MEMORY_BYTES = 3 * 2**30


def default_batch_workers() -> int:
    """Submissions graded at once by default: one per core and one more, as far as memory
    allows (``WORKER_MEMORY_BYTES`` each). A worker spends part of every submission not
    computing (starting its sandbox and kernel, or waiting while another worker's checker
    trains the model it needs, ``store.MeasurementStore.get``); the extra one keeps the cores
    busy meanwhile. On this project's 2-core machine a class of 16 drawn from the variant
    corpus (``benchmarks/batch_grading.py``'s) took 146 s with 3 workers and 164 s with 2."""
    by_memory = psutil.virtual_memory().available // WORKER_MEMORY_BYTES
    return max(1, min(available_cores() + 1, by_memory))
