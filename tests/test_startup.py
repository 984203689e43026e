"""autograder.grading.startup: heavy imports with the garbage collector paused, then frozen."""

import gc
import subprocess
import sys

import pytest

from autograder.grading.startup import import_frozen


@pytest.fixture
def collector():
    """Leave the collector as the test found it: running, nothing frozen."""
    yield
    gc.unfreeze()
    gc.enable()


def test_imports_freezes_and_resumes_the_collector(collector):
    sys.modules.pop("fractions", None)
    import_frozen("fractions")
    assert "fractions" in sys.modules
    assert gc.get_freeze_count() > 0
    assert gc.isenabled()


def test_a_paused_collector_stays_paused(collector):
    gc.disable()
    import_frozen("json")
    assert not gc.isenabled()


def test_a_failed_import_still_resumes_the_collector(collector):
    with pytest.raises(ModuleNotFoundError):
        import_frozen("no_such_module_rnnlab")
    assert gc.isenabled()


def test_keras_imported_frozen_is_out_of_the_collectors_reach():
    """What the checkers and the grading kernel rely on: after ``import_frozen("keras")``
    Keras' heap (hundreds of thousands of objects) is in the permanent generation, which a
    full collection (``clear_session`` runs one) does not walk, and Keras works."""
    program = (
        "import gc\n"
        "from autograder.grading.startup import import_frozen\n"
        "import_frozen('keras')\n"
        "import keras\n"
        "assert gc.isenabled() and gc.get_freeze_count() > 100_000, gc.get_freeze_count()\n"
        "keras.utils.clear_session(free_memory=True)\n"
        "keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)]).predict(\n"
        "    keras.ops.ones((1, 3)), verbose=0)\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=300
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
