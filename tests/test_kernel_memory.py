"""A graded notebook's kernel gives back the memory of tensors it frees (the system allocator),
while checkers keep TensorFlow's faster caching allocator."""

import os
import subprocess
import sys

from autograder.environment import with_system_allocator
from autograder.grading.untrusted.execute import sandbox_environment
from autograder.lab.settings import RunSettings

ALLOCATOR = "TF_ONEDNN_USE_SYSTEM_ALLOCATOR"

# Makes and frees a 200 MB tensor, then prints how much of it the process still holds (MiB).
HELD_AFTER_FREE = """
import psutil, tensorflow as tf
process = psutil.Process()
tf.zeros((2, 2))  # TensorFlow's own start-up allocations, before the baseline
before = process.memory_info().rss
tensor = tf.random.stateless_uniform((50_000, 1_000), seed=[1, 2])
del tensor
print((process.memory_info().rss - before) / 2**20)
"""


def test_only_a_kernel_whose_training_is_cut_uses_the_system_allocator(tmp_path):
    settings = RunSettings.of("grading", "generated")
    assert sandbox_environment(tmp_path, settings, limit_training=True)[ALLOCATOR] == "1"
    assert ALLOCATOR not in sandbox_environment(tmp_path, settings, limit_training=False)


def test_the_system_allocator_gives_back_a_freed_tensor():
    environment = with_system_allocator(dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
    run = subprocess.run(
        [sys.executable, "-c", HELD_AFTER_FREE],
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )
    held = float(run.stdout.split()[-1])
    assert held < 50, f"{held:.0f} MiB of a freed 200 MB tensor is still held"
