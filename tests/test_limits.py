"""The supervisor that runs both grading phases: limits hold and output cannot block it."""

import sys
import threading
import time

import pytest

from autograder.grading.untrusted.limits import (
    Stopped,
    allow_new_commands,
    stop_everything,
    supervise,
)

GIB = 2**30


def python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def test_megabytes_of_stderr_neither_block_nor_flood_the_outcome(tmp_path):
    outcome = supervise(
        python("import sys; sys.stderr.write('x' * 5_000_000 + 'END')"), tmp_path, None, 60, GIB
    )
    assert (outcome.limit, outcome.returncode) == (None, 0)
    assert outcome.stderr.endswith("END") and len(outcome.stderr) == 2_000


def test_wall_clock_limit_kills_an_endless_loop(tmp_path):
    outcome = supervise(python("while True: pass"), tmp_path, None, 1, GIB)
    assert outcome.limit == "timeout" and outcome.returncode != 0


def test_memory_limit_kills_a_memory_bomb(tmp_path):
    outcome = supervise(
        python("x = bytearray(600 * 2**20); import time; time.sleep(30)"),
        tmp_path,
        None,
        60,
        300 * 2**20,
    )
    assert outcome.limit == "out-of-memory" and outcome.peak_rss > 300 * 2**20


def test_stopping_kills_running_commands_and_refuses_new_ones(tmp_path):
    outcome = []
    worker = threading.Thread(
        target=lambda: outcome.append(
            _catch(lambda: supervise(["sleep", "60"], tmp_path, {}, 120, 2**30))
        )
    )
    worker.start()
    time.sleep(1)
    started = time.monotonic()
    stop_everything()
    worker.join(timeout=10)
    try:
        assert isinstance(outcome[0], Stopped) and time.monotonic() - started < 5
        with pytest.raises(Stopped):
            supervise(["true"], tmp_path, {}, 10, 2**30)
    finally:
        allow_new_commands()
    assert supervise(["true"], tmp_path, {}, 10, 2**30).returncode == 0


def _catch(call):
    try:
        return call()
    except Exception as error:
        return error
