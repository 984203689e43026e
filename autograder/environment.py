"""How many cores a run may use, and TensorFlow's threads set through the environment.

(A run's profile and data source are written into the environment by
``settings.RunSettings.environment``.)"""

from __future__ import annotations

import math
import os
from pathlib import Path


def with_threads(environment: dict[str, str], threads: int) -> dict[str, str]:
    """``environment`` with TensorFlow limited to ``threads`` threads (0: every core).

    Environment variables rather than ``tf.config``: they hold however early the process
    first touches TensorFlow.
    """
    if not threads:
        return environment
    count = str(threads)
    return dict(environment, TF_NUM_INTRAOP_THREADS=count, TF_NUM_INTEROP_THREADS=count)


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
