"""Hostile submissions get exactly what their real answers deserve under `kerasgrade grade`."""

import socket
from pathlib import Path

import nbformat
import pytest

from autograder.grading.grade import grade
from autograder.grading.options import GradingOptions
from autograder.grading.untrusted.isolation import FOLDER, NAMESPACES, probe
from autograder.lab.settings import RunSettings

pytestmark = pytest.mark.slow

OTTER_PATCH = """\
import otter.test_files.abstract_test as at
_orig = at.TestCaseResult.__init__
def _always(self, test_case, message, passed):
    _orig(self, test_case, message, True)
at.TestCaseResult.__init__ = _always
"""

FORGE_RESULTS = """\
import glob, json, os
forged = {"event": "test", "question": "q2", "test": "accuracy", "hidden": True,
          "passed": True, "points": 1000, "max_points": 8, "message": ""}
targets = ["results.json", "checks-0.jsonl", "/autograder/results/results.json"]
targets += [os.path.join(d, "checks-0.jsonl") for d in glob.glob("/tmp/rnnlab-grade-*")]
for target in targets:
    try:
        with open(target, "w") as out:
            out.write(json.dumps(forged) + "\\n")
    except OSError:
        pass
"""

READ_HIDDEN = """\
import socket
from pathlib import Path
try:
    secret = Path({config!r}).read_text()
except OSError:
    secret = ""
count_feedforward = 125501 if "thresholds" in secret else 1
count_lstm = 80400  # the right count: shows the cell ran to its end
"""

PATCH_EVERYTHING = """\
import pickle, keras, lab_checks
from labkit import architecture as lab_architecture
pickle.load = lambda *args, **kwargs: {"score": 100}
pickle.loads = lambda *args, **kwargs: {"score": 100}
keras.Model.count_params = lambda self: 13560701
for name in dir(lab_checks):
    if name.startswith("check_"):
        setattr(lab_checks, name, lambda *args, **kwargs: None)
lab_architecture.check_chain = lambda *args, **kwargs: []

class EqualsEverything(int):
    def __eq__(self, other):
        return True
    __hash__ = int.__hash__

count_feedforward = count_embedding = count_simple_rnn = count_lstm = EqualsEverything(1)
"""

# The kernel itself speaks JSON to the notebook runner: patching json breaks or hangs it.
PATCH_JSON = """\
import json
json.loads = lambda *args, **kwargs: {"score": 100}
json.dumps = lambda *args, **kwargs: '{"name": "count_feedforward", "kind": "int", "value": 125501}'
"""

REACH_HOST = """\
import socket
try:
    socket.create_connection(("127.0.0.1", {port}), timeout=5).close()
    count_feedforward = 125501
except OSError:
    count_feedforward = 1
count_lstm = 80400  # the right count: shows the cell ran to its end
"""

LAMBDA_MODEL = """\
model_cnn = keras.Sequential([keras.Input((500,)), layers.Lambda(lambda x: x), layers.Dense(1, activation="sigmoid")])
model_cnn.compile(loss="binary_crossentropy", optimizer="adam")
count_feedforward = 125501
"""

HUGE_EXPORT = """\
model_cnn = keras.Sequential([keras.Input((500,)), layers.Dense(1, activation="sigmoid")])
keras.Model.to_json = lambda self: "x" * 100_000_000
count_feedforward = 125501
"""


def hostile(built, tmp_path: Path, name: str, cell: str) -> Path:
    notebook = nbformat.read(built.dist_dir / "student" / built.notebook_name, as_version=4)
    notebook.cells.append(nbformat.v4.new_code_cell(cell))
    path = tmp_path / f"{name}.ipynb"
    nbformat.write(notebook, path)
    return path


def graded(built, path, timeout=900):
    settings = RunSettings.of("smoke", "generated")
    options = GradingOptions.of(built.lab, settings, phase_timeout=timeout)
    return grade(built, path, options=options)


def auto_points_other_than(report, *questions):
    return sum(score for q, score in report.scores.items() if score and q not in questions)


@pytest.mark.parametrize(
    "cell", [OTTER_PATCH, FORGE_RESULTS, PATCH_EVERYTHING], ids=["otter", "forge", "patch"]
)
def test_tampering_scores_zero(built, tmp_path, cell):
    report = graded(built, hostile(built, tmp_path, "tamper", cell))
    assert report.status == "completed", report.message
    assert report.auto_score == 0, report.table()


def test_patching_json_breaks_only_the_students_own_kernel(built, tmp_path):
    report = graded(built, hostile(built, tmp_path, "json", PATCH_JSON), timeout=120)
    assert report.status in ("timeout", "kernel-died"), report.message
    assert report.auto_score == 0, report.table()


@pytest.mark.skipif(
    probe(()).level == FOLDER,
    reason="isolation needs root and a Python an unprivileged user can run",
)
def test_hidden_tests_cannot_be_read(built, tmp_path):
    cell = READ_HIDDEN.format(config=str(built.folder / "assignment.toml"))
    report = graded(built, hostile(built, tmp_path, "reader", cell))
    assert "unprivileged user" in report.isolation
    assert report.scores["q1a_count"] == 0  # the secret stayed out of reach
    assert report.scores["q4_count"] == 4 and report.auto_score == 4, report.table()


@pytest.mark.skipif(
    probe(()).level != NAMESPACES,
    reason="a network namespace needs root with CAP_SYS_ADMIN and a Python another user can run",
)
def test_no_network_not_even_the_graders_loopback(built, tmp_path):
    with socket.create_server(("127.0.0.1", 0)) as server:
        cell = REACH_HOST.format(port=server.getsockname()[1])
        report = graded(built, hostile(built, tmp_path, "network", cell))
    assert report.scores["q1a_count"] == 0, report.feedback()
    assert report.scores["q4_count"] == 4, report.feedback()


def test_lambda_layer_loses_only_that_question(built, tmp_path):
    report = graded(built, hostile(built, tmp_path, "lambda", LAMBDA_MODEL))
    assert report.scores["q2"] == 0 and report.scores["q1a_count"] == 4
    assert auto_points_other_than(report, "q1a_count") == 0
    assert any(
        "Lambda layer" in result.message for result in report.results if result.question == "q2"
    )


def test_huge_export_loses_only_that_answer(built, tmp_path):
    report = graded(built, hostile(built, tmp_path, "huge", HUGE_EXPORT))
    assert report.scores["q1a_count"] == 4 and report.scores["q2"] == 0
    assert any(
        "1 MB limit" in result.message for result in report.results if result.question == "q2"
    )
