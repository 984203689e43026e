"""Notebooks shaped like what students really hand in (tests/real_submissions/, each the
solution with one ordinary change; README there): every one keeps its 84 points, through the
batch grader, ``rnnlab grade FILE`` and the Gradescope entry point alike."""

import json
import shutil
import tomllib
import zipfile
from pathlib import Path

import nbformat
import pytest

from autograder.batch import collect, grade_class
from autograder.settings import RunSettings
from autograder.submission import (
    InvalidSubmission,
    choose_notebook,
    find_in_folder,
    read_submission,
)

CASES = Path(__file__).parent / "real_submissions"
EXPECTED = tomllib.loads((CASES / "expected.toml").read_text())
GRADESCOPE_CASE = "gradescope_macosx"


def test_a_byte_order_mark_is_read_as_the_notebook_it_is():
    assert (CASES / "bom_utf8.ipynb").read_bytes()[:3] == b"\xef\xbb\xbf"
    notebook = read_submission(CASES / "bom_utf8.ipynb", "rnn_lab", "rnn_lab.ipynb")
    assert notebook.metadata.otter.assignment_name == "rnn_lab"


def test_a_zipped_folder_gives_the_labs_notebook_not_untitled_or_a_checkpoint():
    notebook = read_submission(CASES / "folder_zip_two_notebooks.zip", "rnn_lab", "rnn_lab.ipynb")
    assert any("count_feedforward" in cell.source for cell in notebook.cells)


def test_finders_files_beside_a_gradescope_submission_are_set_aside():
    folder = CASES / GRADESCOPE_CASE / "submission"
    assert (folder / "__MACOSX" / "._rnn_lab.ipynb").exists()
    assert find_in_folder(folder, "rnn_lab", "rnn_lab.ipynb") == folder / "rnn_lab.ipynb"


def otter_notebook(name: str | None) -> str:
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
    if name:
        notebook.metadata["otter"] = {"assignment_name": name}
    return nbformat.writes(notebook)


@pytest.mark.parametrize(
    "files, chosen",
    [
        ({"a/rnn_lab.ipynb": "rnn_lab", "a/Untitled.ipynb": None}, "a/rnn_lab.ipynb"),
        ({"copy.ipynb": "rnn_lab", "Untitled.ipynb": None}, "copy.ipynb"),  # by metadata
        ({"rnn_lab.ipynb": None, "notes.ipynb": None}, "rnn_lab.ipynb"),  # by file name
        (
            {"lab.ipynb": "hw3", "._lab.ipynb": None, ".ipynb_checkpoints/x.ipynb": "hw3"},
            "lab.ipynb",
        ),
    ],
)
def test_the_assignments_notebook_is_chosen_by_metadata_then_name(files, chosen):
    texts = {name: otter_notebook(assignment) for name, assignment in files.items()}
    assert choose_notebook(list(texts), texts.get, "rnn_lab", "rnn_lab.ipynb", "x.zip") == chosen


def test_an_ambiguous_zip_names_its_candidates(tmp_path):
    path = tmp_path / "two.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mine.ipynb", otter_notebook(None))
        archive.writestr("theirs.ipynb", otter_notebook(None))
        archive.writestr("__MACOSX/._mine.ipynb", "AppleDouble")
    with pytest.raises(InvalidSubmission, match=r"2 notebooks .*: mine.ipynb, theirs.ipynb"):
        read_submission(path, "rnn_lab", "rnn_lab.ipynb")


def test_a_gradescope_export_folder_is_one_submission(tmp_path):
    export = tmp_path / "export"
    shutil.copytree(CASES / GRADESCOPE_CASE / "submission", export / "submission_4242")
    (export / "submission_4242" / "Untitled.ipynb").write_text(otter_notebook(None))
    (export / "submission_4243").mkdir()
    (export / "submission_4243" / "rnn_lab.ipynb").write_text(otter_notebook("rnn_lab"))
    found = collect([export], tmp_path / "out")
    assert [(s.name, s.student) for s in found] == [
        ("submission_4242", "4242"),
        ("submission_4243", "4243"),
    ]
    chosen = find_in_folder(found[0].path, "rnn_lab", "rnn_lab.ipynb")
    assert chosen.name == "rnn_lab.ipynb" and "__MACOSX" not in chosen.parts


@pytest.mark.slow
def test_every_real_submission_keeps_its_points_in_a_batch(built, tmp_path):
    """Graded as the cases' README says: grading profile, Gradescope's 240 s phase limit."""
    corpus = tmp_path / "class"
    corpus.mkdir()
    names = [name for name in EXPECTED if name != GRADESCOPE_CASE]
    for name in names:
        shutil.copy(CASES / name, corpus / name)
    # Gradescope's "Download submissions" export: one folder per student, graded as one
    shutil.copytree(CASES / GRADESCOPE_CASE / "submission", corpus / "submission_4242")
    names.append("submission_4242")
    out = tmp_path / "out"
    records = grade_class(
        built, [corpus], out, settings=RunSettings.of("grading", "generated"), timeout=240,
        memory=4 * 2**30, workers=2, progress=lambda line: None,
    )  # fmt: skip
    rows = {record["file"]: record for record in records}
    assert sorted(rows) == sorted(names)
    for name in names:
        row = rows[name]
        want = EXPECTED.get(name, EXPECTED[GRADESCOPE_CASE])
        assert (row["status"], row["total"]) == ("graded", want["total"]), (name, row)
    assert rows["submission_4242"]["student"] == "4242"
    for name, record in rows.items():
        print(f"{name}: {record['total']:g} in {record['seconds']} s")


@pytest.mark.slow
def test_the_gradescope_entry_point_grades_a_submission_with_macos_clutter(built, tmp_path):
    from autograder import gradescope

    root = tmp_path / "autograder"
    (root / "source").mkdir(parents=True)
    shutil.copytree(built.folder, root / "source" / gradescope.ASSIGNMENT_DIR)
    shutil.copytree(CASES / GRADESCOPE_CASE / "submission", root / "submission")
    assert gradescope.main(["--root", str(root), "--profile", "grading", "--timeout", "240"]) == 0
    results = json.loads((root / "results" / "results.json").read_text())
    assert results["score"] == EXPECTED[GRADESCOPE_CASE]["total"], results["output"]
