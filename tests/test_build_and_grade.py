"""End to end: `kerasgrade build` then `kerasgrade grade`, as an instructor runs them (smoke profile)."""

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest

from autograder.lab.find import default_lab_folder
from reference import adder_models, imdb_models

pytestmark = pytest.mark.slow
AUTO_POINTS = 84


def rnnlab(*args: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "autograder.cli", *args, "--profile", "smoke"]
    return subprocess.run(command, capture_output=True, text=True, timeout=1_200)


def copy_assignment(destination: Path) -> Path:
    shutil.copytree(
        default_lab_folder(), destination, ignore=shutil.ignore_patterns("build", "dist")
    )
    return destination


def grade(config, submission: Path) -> subprocess.CompletedProcess:
    result = rnnlab("grade", str(submission), "--lab", str(config.folder))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    return result


def total_line(output: str) -> list[str]:
    return next(line.split() for line in output.splitlines() if line.startswith("total"))


def test_students_receive_checks_but_no_solution_hidden_test_or_threshold(built):
    path = built.dist_dir / "student" / built.notebook_name
    notebook = nbformat.read(path, as_version=4)
    received = "\n".join(
        file.read_text(errors="replace")
        for file in (built.dist_dir / "student").rglob("*")
        if file.is_file()
    )
    answers = [
        str(question.expected)
        for question in built.lab.questions.values()
        if hasattr(question, "expected")
    ]
    totals = [str(builder().count_params()) for builder in (
        imdb_models.build_cnn_model, imdb_models.build_lstm_model, adder_models.build_adder_model)]  # fmt: skip
    leaks = ["layers.Conv1D(200", "# HIDDEN", "lab_checks.check_parameters",
             "lab_checks.check_accuracy", "thresholds=",
             *answers, *totals]  # fmt: skip
    for leak in leaks:
        assert leak not in received, leak
    assert "lab_checks.check_architecture" in received  # the public tests are there
    code = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "code")
    for question, points in built.points.items():
        checked = f'grader.check("{question}")' in code
        assert checked == ("manual" not in points), question
    assert notebook.metadata.kernelspec.name == "python3"
    for module in ("lab_support.py", "lab_checks.py", "lab_specs.py", "labkit/checks.py"):
        assert (built.dist_dir / "student" / module).is_file(), module


def test_solution_scores_full_marks(built):
    result = grade(built, built.dist_dir / "autograder" / built.notebook_name)
    assert total_line(result.stdout) == ["total", str(AUTO_POINTS), str(AUTO_POINTS)]
    assert "manual" in result.stdout


def test_untouched_student_notebook_scores_zero_and_finishes(built):
    result = grade(built, built.dist_dir / "student" / built.notebook_name)
    assert total_line(result.stdout) == ["total", "0", str(AUTO_POINTS)]


def test_otter_export_zip_is_graded(built, tmp_path):
    submission = tmp_path / "submission.zip"
    with zipfile.ZipFile(submission, "w") as archive:
        archive.write(built.dist_dir / "student" / built.notebook_name, built.notebook_name)
    result = grade(built, submission)
    assert total_line(result.stdout) == ["total", "0", str(AUTO_POINTS)]


def test_wrong_file_is_a_clear_error(built, tmp_path):
    wrong = tmp_path / "essay.txt"
    wrong.write_text("not a notebook")
    result = rnnlab("grade", str(wrong), "--lab", str(built.folder))
    assert result.returncode == 1
    assert "neither a notebook (.ipynb) nor a zip holding one (.zip)" in result.stderr


def test_build_fails_clearly_when_the_reference_misses_a_threshold(tmp_path):
    folder = copy_assignment(tmp_path / "rnn_lab")
    config_file = folder / "assignment.toml"
    config_file.write_text(
        config_file.read_text().replace(
            "[thresholds.smoke.generated]\nq2 = 0.65", "[thresholds.smoke.generated]\nq2 = 1.01"
        )
    )
    result = rnnlab("build", "--lab", str(folder))
    assert result.returncode == 1
    assert "The reference solution does not pass its own tests" in result.stderr
    assert "q2" in result.stderr and "needs at least 101.0%" in result.stderr


def test_a_reference_below_chance_blames_the_labs_scoring_not_its_layers():
    from autograder.build.assign import below_chance
    from autograder.grading.results import TestResult
    from autograder.lab.config import load_config

    config = load_config(default_lab_folder())

    def failed(accuracy):
        return TestResult(
            question="q4", test="q4 - 3", points=0, max_points=4,
            message="it needs at least 95.1%.", hidden=True, measurement="trained",
            accuracy=accuracy,
        )  # fmt: skip

    sentence = below_chance(config, failed(0.31))
    assert "scored 31.0%, below the 50.0% that guessing gets" in sentence
    assert "the lab's scoring or its data is wrong, not the reference's layers" in sentence
    assert below_chance(config, failed(0.52)) is None  # above chance: the layers may be at fault
    untrained = TestResult(
        question="q4", test="q4 - 1", points=0, max_points=1, message="wrong shape", hidden=True
    )
    assert below_chance(config, untrained) is None
