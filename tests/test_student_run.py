"""A student's run of the whole built notebook, answered correctly, in the smoke profile:
every public check passes, and nothing a student reads is a warning or a traceback."""

import re
import shutil
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

pytestmark = pytest.mark.slow
NOISE = re.compile(r"warning|traceback|error|oneDNN|retracing|WARNING", re.IGNORECASE)


def answer_key(source: str) -> str:
    """What a cell defines first: ``def build_x`` or ``count_x =``, the part before ``(``/``=``."""
    first = source.strip().splitlines()[0]
    return re.split(r"[(=]", first)[0].strip()


def answered_student_notebook(dist: Path, name: str) -> nbformat.NotebookNode:
    """The student notebook with each answer cell replaced by the solution's."""
    student = nbformat.read(dist / "student" / name, as_version=4)
    solution = nbformat.read(dist / "autograder" / name, as_version=4)
    solutions = {
        answer_key(cell.source): cell.source
        for cell in solution.cells
        if cell.cell_type == "code" and cell.source.strip()
    }
    for cell in student.cells:
        if cell.cell_type == "code" and "..." in cell.source:
            cell.source = solutions[answer_key(cell.source)]
    return student


def shown_text(output) -> str:
    if output.output_type == "stream":
        return output.text
    if output.output_type == "error":
        return "\n".join(output.traceback)
    data = output.get("data", {})
    return data.get("text/plain", "") + data.get("text/html", "")


def test_a_correct_notebook_runs_without_warnings_and_passes_every_public_check(built, tmp_path):
    notebook = answered_student_notebook(built.dist_dir, built.notebook_name)
    # The student's folder as handed out: the lab's modules, profiles.toml and labkit/.
    shutil.copytree(built.dist_dir / "student", tmp_path, dirs_exist_ok=True)
    nbformat.write(notebook, tmp_path / built.notebook_name)  # otter reads its tests from it
    NotebookClient(notebook, timeout=600, resources={"metadata": {"path": str(tmp_path)}}).execute()

    noisy, checks, exported = [], [], []
    for index, cell in enumerate(notebook.cells):
        for output in cell.get("outputs", []):
            text = shown_text(output)
            if "grader.check" in cell.source:
                checks.append(text)
            elif "grader.export" in cell.source:
                exported.append(text)
            elif NOISE.search(text):
                noisy.append(f"cell {index} ({cell.source[:40]!r}): {text[:300]}")
    assert not noisy, "\n".join(noisy)
    assert checks and all("all public checks passed" in text for text in checks), checks
    # The export says what it made, and promises no test results it does not show.
    assert any("Your submission has been exported" in text for text in exported), exported
    assert not any("results when run against" in text for text in exported), exported
    assert list(tmp_path.glob("*.zip")), "the export cell made no zip"
