"""End to end: `rnnlab build` then `rnnlab grade`, as an instructor runs them (smoke profile)."""

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest

from autograder.config import DEFAULT_ASSIGNMENT

pytestmark = pytest.mark.slow
AUTO_POINTS = 84


def rnnlab(*args: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "autograder.cli", *args, "--profile", "smoke"]
    return subprocess.run(command, capture_output=True, text=True, timeout=1_200)


def copy_assignment(destination: Path) -> Path:
    shutil.copytree(DEFAULT_ASSIGNMENT, destination, ignore=shutil.ignore_patterns("build", "dist"))
    return destination


def grade(config, submission: Path) -> subprocess.CompletedProcess:
    result = rnnlab("grade", str(submission), "--assignment", str(config.folder))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    return result


def total_line(output: str) -> list[str]:
    return next(line.split() for line in output.splitlines() if line.startswith("total"))


def test_student_notebook_has_checks_but_no_solution_or_hidden_test(built):
    path = built.dist_dir / "student" / built.notebook_name
    notebook = nbformat.read(path, as_version=4)
    text = path.read_text()
    leaks = ("layers.Conv1D(200", "return_sequences=True)", "# HIDDEN", "check_imdb_accuracy",
             "check_adder_accuracy", "125501", "thresholds=")  # fmt: skip
    for leak in leaks:
        assert leak not in text, leak
    code = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "code")
    for question, points in built.points.items():
        checked = f'grader.check("{question}")' in code
        assert checked == ("manual" not in points), question
    assert notebook.metadata.kernelspec.name == "python3"
    assert (built.dist_dir / "student" / "lab_support.py").is_file()


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
    result = rnnlab("grade", str(wrong), "--assignment", str(built.folder))
    assert result.returncode == 1
    assert "neither a notebook (.ipynb) nor an otter export (.zip)" in result.stderr


def test_build_fails_clearly_when_the_reference_misses_a_threshold(tmp_path):
    folder = copy_assignment(tmp_path / "rnn_lab")
    config_file = folder / "assignment.toml"
    config_file.write_text(
        config_file.read_text().replace(
            "[thresholds.smoke.generated]\nq2 = 0.65", "[thresholds.smoke.generated]\nq2 = 1.01"
        )
    )
    result = rnnlab("build", "--assignment", str(folder))
    assert result.returncode == 1
    assert "The reference solution does not pass its own tests" in result.stderr
    assert "q2" in result.stderr and "needs at least 101.0%" in result.stderr
