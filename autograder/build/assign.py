"""``kerasgrade build``: a lab's reference + template -> master notebook -> ``otter assign`` -> dist/."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat

from autograder.build.gradescope_zip import ZIP_NAME, write_zip
from autograder.build.notebook import write_master_notebook
from autograder.errors import ToolkitError
from autograder.grading.options import GradingOptions
from autograder.grading.trusted.store import STORE_DIR, entry_files
from autograder.lab.config import AssignmentConfig
from autograder.lab.folder import LIBRARY
from autograder.lab.settings import RunSettings
from autograder.quality.calibration_table import calibration_warnings

FAILURE_MARKER = "Some autograder tests failed"


class BuildError(ToolkitError, RuntimeError):
    """The assignment could not be built; the message says why."""


def stage_build_folder(config: AssignmentConfig) -> Path:
    """A fresh build/ folder with the master notebook and every file it ships with: the lab's
    shipped modules and the toolkit's checking library (``labkit``), which they import."""
    shutil.rmtree(config.build_dir, ignore_errors=True)
    master = write_master_notebook(config, config.build_dir / config.notebook_name)
    for path in config.lab.shipped_files():
        shutil.copy(path, config.build_dir / path.name)
    shutil.copytree(
        library_folder(), config.build_dir / LIBRARY, ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copy(config.folder / "requirements.txt", config.build_dir / "requirements.txt")
    return master


def library_folder() -> Path:
    """The installed ``labkit`` package's folder."""
    import labkit

    return Path(labkit.__file__).resolve().parent


def warm_store(config: AssignmentConfig, settings: RunSettings) -> int:
    """Grade the solution notebook through the two-phase grader, its accuracy measurements
    going into ``dist/measurements`` (the Gradescope zip carries them), so that a submission
    whose models equal the reference's grades without training. Returns how many stored.

    Raises BuildError unless the grader gives the solution every automatic point: every test
    case, public and hidden, through the path that grades students. This is the build's only
    run of the tests (otter's own run is off in the lab's assignment config, ``run_tests:
    false``): a second one in otter's kernel trained every model again and took as long.
    """
    from autograder.grading.grade import grade

    folder = config.dist_dir / STORE_DIR
    solution = config.dist_dir / "autograder" / config.notebook_name
    report = grade(config, solution, options=GradingOptions.of(config.lab, settings), store=folder)
    lost = [
        below_chance(config, r) or f"{r.question} ({r.test}): {r.message}"
        for r in report.results
        if r.points < r.max_points
    ]
    if not report.graded or report.auto_score < report.auto_possible:
        details = "\n".join(lost) or f"{report.status}: {report.message}"
        raise BuildError(f"The reference solution does not pass its own tests:\n{details}")
    return len(entry_files(folder))


def below_chance(config: AssignmentConfig, result) -> str | None:
    """For the reference's failed accuracy test that scored below its task's chance level
    (the lab's ``ACCURACY_TASKS``): a sentence blaming the lab's scoring or data, which a
    reference that learns anything at all cannot score below; else None."""
    question = config.lab.questions.get(result.question)
    task = getattr(question, "accuracy_check", None)
    if result.accuracy is None or task is None:
        return None
    chance = config.lab.chance(task)
    if result.accuracy >= chance:
        return None
    return (
        f"{result.question} ({result.test}): the reference solution scored "
        f"{result.accuracy:.1%}, below the {chance:.1%} that guessing gets on this task "
        f"({task!r}), so the lab's scoring or its data is wrong, not the reference's layers: "
        f"check how the task's data is loaded and labelled, and how its accuracy is computed. "
        f"(The check said: {result.message})"
    )


def run_otter_assign(master: Path, dist: Path, environment: dict[str, str]) -> None:
    """Split the master notebook into dist/ (the solution's tests run afterwards, in
    ``warm_store``). Otter's own test failures, if a lab turns its run on, are reported too."""
    shutil.rmtree(dist, ignore_errors=True)
    command = [sys.executable, "-m", "otter", "assign", str(master), str(dist)]
    completed = subprocess.run(
        command, env=environment, cwd=master.parent, capture_output=True, text=True
    )
    if completed.returncode != 0:
        output = completed.stdout + completed.stderr
        if FAILURE_MARKER in output:
            summary = output[output.index(FAILURE_MARKER) :]
            raise BuildError(f"The reference solution does not pass its own tests:\n{summary}")
        raise BuildError(f"otter assign failed (exit {completed.returncode}):\n{output[-4000:]}")


OTTER_SUBMISSION_HEADING = "## Submission\n"


def drop_otter_submission_text(dist: Path) -> None:
    """Remove the text otter writes above its export cell (it speaks of images and graphs
    this lab lacks); the template's own "Submitting" section says what to upload and where."""
    for path in sorted(dist.glob("*/*.ipynb")):
        notebook = nbformat.read(path, as_version=4)
        kept = [
            cell
            for cell in notebook.cells
            if not (
                cell.cell_type == "markdown" and cell.source.startswith(OTTER_SUBMISSION_HEADING)
            )
        ]
        if len(kept) < len(notebook.cells):
            notebook.cells = kept
            nbformat.write(notebook, path)


def build(config: AssignmentConfig, settings: RunSettings) -> Path:
    """Build dist/ for ``config`` and return the Gradescope autograder zip."""
    started = time.perf_counter()
    print(f"Building {config.name}: {settings}")
    for warning in calibration_warnings(config):
        print(f"  WARNING: {warning}")
    for question, profile, kind, value in config.fallback_thresholds():
        print(
            f"  {question}: no threshold calibrated or set for [{profile}.{kind}]; using {value:.3f}, "
            "halfway from chance to every answer right, until `kerasgrade calibrate`"
        )
    master = stage_build_folder(config)
    print(f"  master notebook: {master}")
    print("  running otter assign (splits the master notebook)...")
    run_otter_assign(master, config.dist_dir, settings.environment())
    drop_otter_submission_text(config.dist_dir)
    print("  grading the solution (runs every test; about a minute)...")
    warmed = warm_store(config, settings)
    print(f"  measurements: {warmed} accuracy checks of the solution stored for reuse")
    zip_path = write_zip(config, config.dist_dir / "autograder" / ZIP_NAME, settings.data)
    print(f"  student notebook: {config.dist_dir / 'student' / config.notebook_name}")
    print(f"  Gradescope zip:   {zip_path}")
    print(f"Built in {time.perf_counter() - started:.0f} s; the solution passed every test.")
    return zip_path
