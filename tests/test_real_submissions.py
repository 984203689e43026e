"""Notebooks shaped like what students really hand in (tests/real_submissions/, each the
solution with one ordinary change; README there): every one keeps its 84 points, through the
batch grader, ``kerasgrade grade FILE`` and the Gradescope entry point alike."""

import json
import shutil
import tomllib
import zipfile
from pathlib import Path

import nbformat
import pytest

from autograder.cohort.collect import collect
from autograder.cohort.run import grade_class
from autograder.grading.options import GradingOptions
from autograder.grading.submission import (
    InvalidSubmission,
    choose_notebook,
    find_in_folder,
    is_clutter,
    read_submission,
)
from autograder.lab.settings import RunSettings

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


def test_a_windows_zip_with_backslashes_sets_its_checkpoint_aside():
    path = CASES / "windows_backslash_zip.zip"
    with zipfile.ZipFile(path) as archive:
        assert "rnn_lab\\.ipynb_checkpoints\\rnn_lab-checkpoint.ipynb" in archive.namelist()
    notebook = read_submission(path, "rnn_lab", "rnn_lab.ipynb")
    assert any("model_adder" in cell.source for cell in notebook.cells)  # not the blank copy
    assert is_clutter("lab\\.ipynb_checkpoints\\x.ipynb") and is_clutter("a\\.DS_Store")


def test_a_notebook_without_top_level_metadata_is_read():
    path = CASES / "no_top_level_metadata.ipynb"
    assert "metadata" not in json.loads(path.read_text())
    notebook = read_submission(path, "rnn_lab", "rnn_lab.ipynb")
    assert notebook.metadata == {} and len(notebook.cells) > 10


def test_a_notebook_is_known_by_its_content_whatever_its_name(tmp_path):
    saved = tmp_path / "rnn_lab.ipynb.txt"
    saved.write_text(otter_notebook("rnn_lab"))
    assert read_submission(saved, "rnn_lab", "rnn_lab.ipynb").metadata.otter
    folder = tmp_path / "submission"
    folder.mkdir()
    shutil.copy(saved, folder / saved.name)
    (folder / "notes.txt").write_text("my notes")
    assert find_in_folder(folder, "rnn_lab", "rnn_lab.ipynb") == folder / saved.name
    zipped = tmp_path / "lab.zip"
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.write(saved, "lab/rnn_lab.ipynb.txt")
        archive.writestr("lab/notes.txt", "my notes")
    assert read_submission(zipped, "rnn_lab", "rnn_lab.ipynb").metadata.otter
    essay = tmp_path / "essay.txt"
    essay.write_text('{"title": "my essay"}')  # JSON, but not a notebook
    with pytest.raises(InvalidSubmission, match="not a Jupyter notebook"):
        read_submission(essay, "rnn_lab", "rnn_lab.ipynb")


def insert_cell_after(notebook, starts: str, source: str):
    """The notebook with a code cell holding ``source`` after the cell that starts with
    ``starts`` (before it when ``source`` is given as ``("before", source)``)."""
    where, source = source if isinstance(source, tuple) else ("after", source)
    index = next(i for i, cell in enumerate(notebook.cells) if cell.source.startswith(starts))
    notebook.cells.insert(index + (where == "after"), nbformat.v4.new_code_cell(source))
    return notebook


# Kinds of our own, made from the built solution notebook: (the cell to insert, where).
FREES_MEMORY = "del model_cnn\nimport gc\ngc.collect()\nkeras.backend.clear_session()"
OWN_KINDS = {
    "rnn_lab.ipynb.txt": None,  # a browser's "Save as" keeps the JSON, not the name
    "frees_memory.ipynb": ("history_cnn = fit_model", FREES_MEMORY),
    "quits.ipynb": ("history_adder = fit_adder", ("before", "quit()")),
}


def write_own_kinds(built, corpus: Path) -> None:
    solution = built.dist_dir / "autograder" / built.notebook_name
    for name, change in OWN_KINDS.items():
        notebook = nbformat.read(solution, as_version=4)
        if change:
            notebook = insert_cell_after(notebook, *change)
        nbformat.write(notebook, corpus / name)


@pytest.mark.slow
def test_every_real_submission_keeps_its_points_in_a_batch(built, tmp_path):
    """Graded as the cases' README says: grading profile, Gradescope's 240 s phase limit."""
    grade_real_submissions(built, tmp_path, workers=2)


@pytest.mark.slow
@pytest.mark.cluster
def test_every_real_submission_keeps_its_points_on_a_cluster(built, tmp_path):
    """The same class on ``--scheduler local:2`` (tests/test_cluster.py): the same rows."""
    from autograder.cohort.cluster import Scheduler

    grade_real_submissions(built, tmp_path, workers=0, scheduler=Scheduler.parse("local:2"))


def grade_real_submissions(built, tmp_path, **how):
    """Every real submission and our own kinds, graded as one class by ``grade_class(**how)``,
    each with the row ``expected.toml`` gives it."""
    corpus = tmp_path / "class"
    corpus.mkdir()
    names = [name for name in EXPECTED if name != GRADESCOPE_CASE]
    for name in names:
        shutil.copy(CASES / name, corpus / name)
    write_own_kinds(built, corpus)
    names += list(OWN_KINDS)
    # Gradescope's "Download submissions" export: one folder per student, graded as one
    shutil.copytree(CASES / GRADESCOPE_CASE / "submission", corpus / "submission_4242")
    names.append("submission_4242")
    out = tmp_path / "out"
    records = grade_class(
        built, [corpus], out,
        options=GradingOptions.of(
            built.lab, RunSettings.of("grading", "generated"), phase_timeout=240, memory_gib=4
        ),
        progress=lambda line: None, **how,
    )  # fmt: skip
    rows = {record["file"]: record for record in records}
    assert sorted(rows) == sorted(names)
    for name in names:
        row = rows[name]
        status = "notebook-quit" if name == "quits.ipynb" else "graded"
        want = EXPECTED.get(name, EXPECTED[GRADESCOPE_CASE])
        assert (row["status"], row["total"]) == (status, want["total"]), (name, row)
    quit_reason = rows["quits.ipynb"]["reason"]
    assert "called quit() or exit() in cell" in quit_reason and "(`quit()`)" in quit_reason
    assert "did not run" in quit_reason and "history_adder" not in quit_reason
    assert rows["submission_4242"]["student"] == "4242"
    for name, record in rows.items():
        print(f"{name}: {record['total']:g} in {record['seconds']} s")


@pytest.mark.slow
def test_the_gradescope_entry_point_grades_a_submission_with_macos_clutter(built, tmp_path):
    from autograder.gradescope import run as gradescope

    root = tmp_path / "autograder"
    (root / "source").mkdir(parents=True)
    shutil.copytree(built.folder, root / "source" / gradescope.ASSIGNMENT_DIR)
    shutil.copytree(CASES / GRADESCOPE_CASE / "submission", root / "submission")
    assert gradescope.main(["--root", str(root), "--profile", "grading", "--timeout", "240"]) == 0
    results = json.loads((root / "results" / "results.json").read_text())
    assert results["score"] == EXPECTED[GRADESCOPE_CASE]["total"], results["output"]
