"""The Gradescope zip grades through the two-phase path and writes a valid results.json."""

import json
import subprocess
import sys
import zipfile

import nbformat
import pytest

pytestmark = pytest.mark.slow
VISIBILITIES = {"hidden", "after_due_date", "after_published", "visible"}


@pytest.fixture()
def gradescope_tree(built, tmp_path):
    """The zip unpacked as Gradescope does, with one partly answered submission."""
    root = tmp_path / "autograder"
    for sub in ("source", "submission", "results"):
        (root / sub).mkdir(parents=True)
    with zipfile.ZipFile(built.dist_dir / "autograder" / "gradescope_autograder.zip") as archive:
        names = archive.namelist()
        archive.extractall(root / "source")
    assert {"setup.sh", "run_autograder", "assignment/assignment.toml"} <= set(names)
    assert "rnnlab/autograder/gradescope.py" in names
    notebook = nbformat.read(built.dist_dir / "student" / built.notebook_name, as_version=4)
    notebook.cells.append(nbformat.v4.new_code_cell("count_feedforward = 125501"))
    nbformat.write(notebook, root / "submission" / built.notebook_name)
    return root


def test_results_json_follows_gradescope_spec(gradescope_tree):
    command = [sys.executable, "-m", "autograder.gradescope", "--root", str(gradescope_tree)]
    command += ["--profile", "smoke", "--imdb", "generated"]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=900)
    assert completed.returncode == 0, completed.stderr
    results = json.loads((gradescope_tree / "results" / "results.json").read_text())
    tests = results["tests"]
    for test in tests:
        assert set(test) == {"name", "score", "max_score", "visibility", "output"}
        assert test["visibility"] in VISIBILITIES and 0 <= test["score"] <= test["max_score"]
    assert results["score"] == sum(test["score"] for test in tests) == 4
    by_name = {test["name"]: test for test in tests}
    assert by_name["q1a_count (value)"]["visibility"] == "after_published"
    assert by_name["q1a_count (answer_type)"]["visibility"] == "visible"
    assert by_name["q2 (accuracy)"]["visibility"] == "after_published"
    assert sum(test["max_score"] for test in tests) == 84
