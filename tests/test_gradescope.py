"""The Gradescope zip, unpacked as Gradescope does: its own scripts and code grade a
submission through the two-phase path and write a results.json that follows the spec."""

import json
import os
import shutil
import subprocess
import sys
import zipfile

import nbformat
import pytest

from autograder.build.gradescope_zip import fetch_data_script, write_zip
from autograder.grading.results import GradeReport, Status, TestResult
from autograder.grading.untrusted.isolation import probe
from autograder.lab.settings import DataSource

VISIBILITIES = {"hidden", "after_due_date", "after_published", "visible"}


def unpack(archive_path, root):
    for sub in ("source", "submission", "results"):
        (root / sub).mkdir(parents=True)
    with zipfile.ZipFile(archive_path) as archive:
        archive.extractall(root / "source")
        names = archive.namelist()
    return names


def zip_environment(root):
    """Run the zip's own code (not the installed package, nor a checkout in the working
    folder: run it from ``root``) with this interpreter."""
    code = root / "source" / "kerasgrade"
    return dict(
        os.environ,
        AUTOGRADER_ROOT=str(root),
        AUTOGRADER_PYTHON=sys.executable,
        PYTHONPATH=str(code),
    )


def run_autograder(root):
    completed = subprocess.run(
        ["bash", str(root / "source" / "run_autograder")],
        env=zip_environment(root), cwd=root, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    return json.loads((root / "results" / "results.json").read_text())


def assert_follows_spec(results):
    """Gradescope's results.json: each test named and scored, a known visibility, and the
    total the sum of the tests."""
    assert results["stdout_visibility"] in VISIBILITIES
    for test in results["tests"]:
        assert set(test) - {"extra_data"} == {"name", "score", "max_score", "visibility", "output"}
        assert test.get("extra_data", {}).get("measurement", "reused") in ("reused", "trained")
        assert test["visibility"] in VISIBILITIES and 0 <= test["score"] <= test["max_score"]
        assert isinstance(test["name"], str) and isinstance(test["output"], str)
    assert results["score"] == sum(test["score"] for test in results["tests"])


@pytest.fixture()
def gradescope_tree(built, tmp_path):
    root = tmp_path / "autograder"
    names = unpack(built.dist_dir / "autograder" / "gradescope_autograder.zip", root)
    assert {"setup.sh", "run_autograder", "fetch_data.sh", "constraints.txt"} <= set(names)
    assert {
        "assignment/assignment.toml",
        "assignment/__init__.py",
        "kerasgrade/autograder/gradescope/run.py",
    } <= set(names)
    assert {"kerasgrade/labkit/checks.py", "kerasgrade/requirements.txt"} <= set(names)
    assert any(name.startswith("measurements/") for name in names)  # the build's, for reuse
    return root


def test_the_zip_uses_its_own_code(gradescope_tree):
    probe = "import autograder, labkit; print(autograder.__file__, labkit.__file__)"
    completed = subprocess.run(
        [sys.executable, "-c", probe], env=zip_environment(gradescope_tree),
        cwd=gradescope_tree, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert completed.stdout.count(str(gradescope_tree / "source" / "kerasgrade")) == 2


@pytest.mark.slow
def test_results_json_follows_gradescope_spec(built, gradescope_tree):
    notebook = nbformat.read(built.dist_dir / "student" / built.notebook_name, as_version=4)
    notebook.cells.append(nbformat.v4.new_code_cell("count_feedforward = 125501"))
    nbformat.write(notebook, gradescope_tree / "submission" / built.notebook_name)
    results = run_autograder(gradescope_tree)
    assert_follows_spec(results)
    assert results["score"] == 4
    by_name = {test["name"]: test for test in results["tests"]}
    assert by_name["q1a_count (value)"]["visibility"] == "visible"  # a public test
    assert by_name["q1a (params)"]["visibility"] == "after_published"  # a hidden one
    written = by_name["q5_compare (written answer, graded by a person)"]
    assert written["max_score"] == 0 and written["output"] == "(no answer written)"
    assert by_name["q2 (accuracy)"]["visibility"] == "after_published"
    assert sum(test["max_score"] for test in results["tests"]) == 84
    isolation = by_name["grader (isolation)"]  # for course staff only, worth nothing
    assert isolation["visibility"] == "hidden" and isolation["max_score"] == 0
    assert isolation["output"].startswith(f"The notebook {probe(()).description}.")


@pytest.mark.slow
def test_the_solution_grades_on_gradescope_without_training(built, gradescope_tree):
    """The zip carries the measurements the build took of the solution: a submission whose
    models equal the reference's gets full marks and every accuracy test reuses one."""
    solution = built.dist_dir / "autograder" / built.notebook_name
    shutil.copy(solution, gradescope_tree / "submission" / built.notebook_name)
    results = run_autograder(gradescope_tree)
    assert_follows_spec(results)
    assert results["score"] == 84
    accuracy = [test for test in results["tests"] if test["name"].endswith("(accuracy)")]
    assert len(accuracy) == 4
    assert all(test["extra_data"] == {"measurement": "reused"} for test in accuracy)


def test_a_grader_error_leaves_no_results_json_so_gradescope_shows_a_failed_run(
    built, gradescope_tree, monkeypatch, capsys
):
    from autograder.gradescope import run as gradescope

    def sandbox_fails(config, submission, **settings):
        return GradeReport(
            submission=submission, status=Status.GRADER_ERROR,
            message="The grader could not start the notebook's sandbox.",
            isolation="ran as the grader's own user", scores={"q1a_count": None},
            possible={"q1a_count": 4},
        )  # fmt: skip

    shutil.copy(
        built.dist_dir / "autograder" / built.notebook_name,
        gradescope_tree / "submission" / built.notebook_name,
    )
    monkeypatch.setattr(gradescope, "grade", sandbox_fails)
    assert gradescope.main(["--root", str(gradescope_tree)]) == 1
    assert not (gradescope_tree / "results" / "results.json").exists()  # never a recorded 0
    assert "could not start the notebook's sandbox" in capsys.readouterr().err


@pytest.mark.parametrize(
    "name, text, expected",
    [
        ("rnn_lab.ipynb", "not a notebook", "is not a Jupyter notebook"),
        ("essay.pdf", "%PDF-1.4", "Expected the lab's notebook (rnn_lab.ipynb)"),
    ],
)
def test_a_file_that_is_no_notebook_still_gets_a_valid_results_json(
    gradescope_tree, name, text, expected
):
    (gradescope_tree / "submission" / name).write_text(text)
    results = run_autograder(gradescope_tree)
    assert_follows_spec(results)
    assert results["score"] == 0 and expected in results["output"]


def test_a_bundled_imdb_copy_is_checked_and_readable_by_the_sandbox(built, tmp_path):
    reviews = tmp_path / "imdb.npz"
    reviews.write_bytes(b"stand-in for the reviews")
    root = tmp_path / "autograder"
    data = DataSource.parse(str(reviews), built.lab)
    unpack(write_zip(built, tmp_path / "zip" / "gs.zip", data), root)
    data_file = "data/imdb.npz"
    assert f'--data "$ROOT/{data_file}"' in (root / "source" / "run_autograder").read_text()
    fetch = ["bash", str(root / "source" / "fetch_data.sh")]
    subprocess.run(fetch, env=zip_environment(root), check=True)
    copied = root / data_file
    assert copied.read_bytes() == reviews.read_bytes() and copied.stat().st_mode & 0o004

    (root / "source" / data_file).write_bytes(b"a different file")
    failed = subprocess.run(fetch, env=zip_environment(root), capture_output=True, text=True)
    assert failed.returncode != 0 and "does not match" in failed.stderr


def test_keras_reviews_are_downloaded_at_setup_and_checked():
    import lab_support
    from autograder.lab.config import load_config
    from autograder.lab.find import default_lab_folder

    config = load_config(default_lab_folder())
    script = fetch_data_script(config, DataSource.parse("keras", config.lab))
    assert lab_support.IMDB_ORIGIN in script and lab_support.IMDB_SHA256 in script
    generated = DataSource.parse("generated", config.lab)
    assert "nothing to fetch" in fetch_data_script(config, generated)


def test_each_result_carries_the_visibility_its_notebook_test_has():
    """The grading parent labels results without building the tests (no Keras there); its
    labels must be the notebook's, or a hidden test would show before publication."""
    from autograder.lab.config import load_config
    from autograder.lab.find import default_lab_folder
    from autograder.lab.questions import question_tests, question_visibility

    config = load_config(default_lab_folder())
    for question, points in config.points.items():
        tests = question_tests(question, config)
        assert {t.name: t.hidden for t in tests} == question_visibility(question, config)
        assert set(question_visibility(question, config)) == set(points) - {"manual"}
    results = [
        TestResult(
            question="q4",
            test=test,
            points=points,
            max_points=most,
            message=message,
            hidden=question_visibility("q4", config)[test],
        )
        for test, points, most, message in [("layers", 2, 2, ""), ("accuracy", 0, 8, "Too low.")]
    ]
    report = GradeReport(
        submission=None, status=Status.COMPLETED, message="ran", isolation="test",
        scores={"q4": 2}, possible={"q4": 10}, results=results,
    )  # fmt: skip
    visibility = {t["name"]: t["visibility"] for t in report.to_gradescope()["tests"]}
    assert visibility["q4 (layers)"] == "visible"
    assert visibility["q4 (accuracy)"] == "after_published"
    assert "- q4 (accuracy, hidden test): Too low." in report.feedback()
