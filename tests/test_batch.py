"""`kerasgrade grade DIR -o OUT`: a class graded in one run, faulty and hostile files included."""

import csv
import json
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from markupsafe import escape  # what Jinja escapes the report with

from autograder.cohort.collect import BatchError, collect
from autograder.cohort.gradebook import GRADEBOOK, record_of
from autograder.cohort.run import Batch, grade_class, run_batch
from autograder.files import write_atomically
from autograder.grading.options import GradingOptions
from autograder.grading.results import GradeReport, Status
from autograder.grading.untrusted.isolation import FOLDER, USER, Isolation, probe
from autograder.lab.settings import RunSettings

CORPUS = Path(__file__).parent / "submissions"
EXPECTED = tomllib.loads((Path(__file__).parent / "submissions.toml").read_text())


def smoke_options(config) -> GradingOptions:
    return GradingOptions.of(
        config.lab, RunSettings.of("smoke", "generated"), phase_timeout=60, memory_gib=1
    )


def gradebook(out: Path) -> dict[str, dict]:
    with open(out / GRADEBOOK, newline="") as handle:
        return {row["file"]: row for row in csv.DictReader(handle)}


def expected_rows(level: str) -> dict[str, dict]:
    """The corpus' expected rows where notebooks run at isolation ``level``: folder-only
    isolation cannot stop the two hostile notebooks marked ``isolated`` (see README)."""
    return {
        name: row for name, row in EXPECTED.items() if level != FOLDER or not row.get("isolated")
    }


def class_folder(tmp_path: Path, names) -> Path:
    corpus = tmp_path / "class"
    corpus.mkdir()
    for name in names:
        shutil.copy(CORPUS / name, corpus / name)
    return corpus


def assert_rows(out: Path, expected: dict[str, dict]) -> None:
    """The gradebook, feedback files and saved results hold exactly the expected rows."""
    rows = gradebook(out)
    assert sorted(rows) == sorted(expected)
    for name, want in expected.items():
        row = rows[name]
        assert row["status"] == want["status"], (name, row["reason"])
        assert float(row["total"]) == want["total"], (name, row)
        assert want.get("reason", "") in row["reason"], (name, row["reason"])
        assert row["student"] == want.get("student", "")
        assert row["q1a_why"] == "" and row["possible"] == "84"  # manual points left blank
        assert row["isolation"] in ("namespaces", "user", "folder", "not run"), row
        feedback = (out / "feedback" / f"{Path(name).name}.txt").read_text()
        assert name in feedback and want["status"] in feedback
    for path in (out / "results").glob("*.json"):  # what a resumed run reuses
        saved = json.loads(path.read_text())
        assert float(rows[saved["file"]]["total"]) == saved["total"]


@pytest.mark.slow
def test_every_faulty_submission_gets_its_row_and_the_others_are_graded(built, tmp_path):
    expected = expected_rows(probe(()).level)
    corpus = class_folder(tmp_path, expected)
    out = tmp_path / "out"
    lines = []
    records = grade_class(
        built, [corpus], out,
        options=GradingOptions.of(
            built.lab, RunSettings.of("smoke", "generated"), phase_timeout=60, memory_gib=2,
            cell_timeout=20,
        ),
        workers=2, progress=lines.append,
    )  # fmt: skip
    assert_rows(out, expected)
    for record in records:  # what is saved for a resumed run is what the gradebook says
        saved = json.loads((out / "results" / f"{record['key']}.json").read_text())
        assert saved == record
    html = (out / "report.html").read_text()
    assert "ignores_interrupt.ipynb" in html and "<svg" in html and "kernel-died" in html
    assert f"Isolation: notebooks {escape(probe(()).description)}" in html
    assert any(" submission" in line and " remaining" in line for line in lines)
    assert f"{len(expected)} submission(s)" in lines[-2]


@pytest.mark.slow
@pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which("setpriv"),
    reason="dropping CAP_SYS_ADMIN from a grader needs root and setpriv",
)
def test_without_cap_sys_admin_the_class_gets_the_same_rows(built, tmp_path):
    """Docker's default drops CAP_SYS_ADMIN: the grader must still isolate and grade."""
    if probe(()).level == FOLDER:
        pytest.skip("no unprivileged user can run this Python (a venv made under /root?)")
    expected = expected_rows(USER)
    corpus = class_folder(tmp_path, expected)
    shutil.copy(built.dist_dir / "autograder" / built.notebook_name, corpus / "solution.ipynb")
    expected["solution.ipynb"] = {"status": "graded", "total": 84}
    out = tmp_path / "out"
    completed = subprocess.run(
        ["setpriv", "--bounding-set=-sys_admin", sys.executable, "-m", "autograder.cli",
         "grade", str(corpus), "-o", str(out), "--lab", str(built.folder),
         "--profile", "smoke", "--timeout", "60", "--cell-timeout", "20", "--memory", "2",
         "--workers", "2"],
        capture_output=True, text=True, timeout=1800,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert (
        "WARNING: weaker than the grader" in completed.stderr
        and "CAP_SYS_ADMIN" in completed.stderr
    )
    assert_rows(out, expected)
    html = (out / "report.html").read_text()
    assert "unreadable to it by file permissions" in html and "WARNING" in html


def fake_report(config, path, points: float) -> GradeReport:
    scores = {q: None if config.is_manual(q) else 0.0 for q in config.points}
    scores["q1a_count"] = points
    possible = {q: config.question_points(q) for q in config.points}
    return GradeReport(
        submission=path, status=Status.COMPLETED, message="ran", isolation="test",
        scores=scores, possible=possible,
    )  # fmt: skip


@pytest.fixture()
def small_class(tmp_path):
    folder = tmp_path / "class"
    folder.mkdir()
    for name in ("ann.ipynb", "bob.ipynb", "cid.ipynb"):
        (folder / name).write_text(f"{name} stands in for a notebook")
    (folder / ".ipynb_checkpoints").mkdir()
    (folder / ".ipynb_checkpoints" / "ann-checkpoint.ipynb").write_text("skipped")
    return folder


def test_an_interrupted_run_leaves_whole_files_and_resumes(small_class, tmp_path, monkeypatch):
    from autograder.lab.config import load_config
    from autograder.lab.find import default_lab_folder

    config = load_config(default_lab_folder())
    out = tmp_path / "out"
    graded = []

    def run_one(self, submission, digest, hidden):
        if submission.name == interrupt_at:
            raise KeyboardInterrupt
        graded.append(submission.name)
        report = fake_report(self.config, submission.path, 4)
        return record_of(submission, report, digest, self.run_settings)

    def run(force=False):
        graded.clear()
        batch = Batch(
            config=config, out=out, options=smoke_options(config), hide=[],
            isolation=Isolation(FOLDER),
        )  # fmt: skip
        run_batch(batch, submissions, workers=1, force=force, progress=lambda line: None)
        return graded

    monkeypatch.setattr(Batch, "run_one", run_one)
    submissions = collect([small_class], out)
    assert [s.name for s in submissions] == ["ann.ipynb", "bob.ipynb", "cid.ipynb"]
    interrupt_at = "cid.ipynb"
    with pytest.raises(KeyboardInterrupt):
        run()
    assert sorted(gradebook(out)) == ["ann.ipynb", "bob.ipynb"]  # whole rows only
    assert not [path for path in out.rglob(".*")]  # no temporary file left behind

    interrupt_at = None
    assert run() == ["cid.ipynb"]  # resumed where it stopped
    assert sorted(gradebook(out)) == ["ann.ipynb", "bob.ipynb", "cid.ipynb"]
    (small_class / "bob.ipynb").write_text("a resubmission")
    assert run() == ["bob.ipynb"]  # a changed file is graded again
    assert sorted(run(force=True)) == ["ann.ipynb", "bob.ipynb", "cid.ipynb"]


def test_a_notebook_does_not_wait_for_the_checks_of_the_one_before(
    small_class, tmp_path, monkeypatch
):
    """One worker: ann's checks end only once bob's and cid's notebooks have run. Were a
    grade's phases chained, the next notebook would wait for ann's checks, and they for it."""
    import threading

    from autograder.grading.grade import NotebookRun
    from autograder.lab.config import load_config
    from autograder.lab.find import default_lab_folder

    config = load_config(default_lab_folder())
    out = tmp_path / "out"
    ran, everyone_ran = [], threading.Event()

    def run_one(self, submission, digest, hidden):
        ran.append(submission.name)
        if len(ran) == 3:
            everyone_ran.set()
        work = tmp_path / submission.name
        return NotebookRun(self.config, submission.path, None, None, work, self.isolation, 1.0)

    def check_one(self, submission, digest, run, checkers):
        if submission.name == "ann.ipynb":
            assert everyone_ran.wait(120), "ann's checks held back the notebooks after it"
        report = fake_report(self.config, submission.path, 4)
        return record_of(submission, report, digest, self.run_settings)

    monkeypatch.setattr(Batch, "run_one", run_one)
    monkeypatch.setattr(Batch, "check_one", check_one)
    batch = Batch(
        config=config, out=out, options=smoke_options(config), hide=[], isolation=Isolation(FOLDER)
    )
    records = run_batch(batch, collect([small_class], out), workers=1, progress=lambda _: None)
    assert ran == ["ann.ipynb", "bob.ipynb", "cid.ipynb"]  # in the class' order
    assert [record["total"] for record in records] == [4, 4, 4]
    assert sorted(gradebook(out)) == ["ann.ipynb", "bob.ipynb", "cid.ipynb"]


def test_a_saved_grade_is_reused_only_while_what_decides_it_is_unchanged(
    small_class, tmp_path, monkeypatch
):
    """A recalibration (new thresholds), a change of points or of the grading code makes
    every saved grade stale; the same settings reuse them."""
    import dataclasses

    from autograder.lab import digest
    from autograder.lab.config import load_config
    from autograder.lab.find import default_lab_folder

    config = load_config(default_lab_folder())
    out = tmp_path / "out"
    graded = []

    def run_one(self, submission, digest, hidden):
        graded.append(submission.name)
        return record_of(submission, fake_report(self.config, submission.path, 4), digest,
                         self.run_settings)  # fmt: skip

    def run(config):
        graded.clear()
        batch = Batch(
            config=config, out=out, options=smoke_options(config), hide=[],
            isolation=Isolation(FOLDER),
        )  # fmt: skip
        run_batch(batch, submissions, workers=1, progress=lambda line: None)
        return sorted(graded)

    monkeypatch.setattr(Batch, "run_one", run_one)
    submissions = collect([small_class], out)
    everyone = ["ann.ipynb", "bob.ipynb", "cid.ipynb"]
    assert run(config) == everyone
    assert run(config) == []  # nothing changed: every grade stands
    recalibrated = {p: {k: {q: t / 2 for q, t in table.items()} for k, table in kinds.items()}
                    for p, kinds in config.thresholds.items()}  # fmt: skip
    assert run(dataclasses.replace(config, thresholds=recalibrated)) == everyone
    points = {q: dict(tests) for q, tests in config.points.items()}
    points["q4"]["accuracy"] += 1
    assert run(dataclasses.replace(config, points=points)) == everyone
    assert run(config) == everyone  # back to the first config: graded under it again
    monkeypatch.setattr(digest, "code_digest", lambda folder: "a fix to a check")
    assert run(config) == everyone


def test_atomic_write_keeps_the_old_file_when_writing_fails(tmp_path, monkeypatch):
    target = tmp_path / GRADEBOOK
    write_atomically(target, "old,complete\n")

    def fail(*args):
        raise OSError("disk full")

    monkeypatch.setattr("os.replace", fail)
    with pytest.raises(OSError):
        write_atomically(target, "new,half")
    assert target.read_text() == "old,complete\n"
    assert [path.name for path in tmp_path.iterdir()] == [GRADEBOOK]


def test_bad_batch_arguments_are_clear_errors(small_class, tmp_path):
    with pytest.raises(BatchError, match="does not exist"):
        collect([tmp_path / "nowhere"], tmp_path / "out")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(BatchError, match="No files to grade"):
        collect([empty], tmp_path / "out")
    out = small_class / "out"  # results inside the class folder are not graded next time
    (out / "results").mkdir(parents=True)
    (out / "results" / "ann.ipynb.json").write_text("{}")
    assert "out/results/ann.ipynb.json" not in [s.name for s in collect([small_class], out)]


def test_student_text_cannot_become_a_spreadsheet_formula(tmp_path):
    from autograder.cohort.gradebook import gradebook_csv
    from autograder.lab.config import load_config
    from autograder.lab.find import default_lab_folder

    config = load_config(default_lab_folder())
    record = {
        "file": "=HYPERLINK(\"http://x\")", "student": "", "status": "kernel-died",
        "reason": "@SUM(1)", "scores": {}, "total": 0.0,
    }  # fmt: skip
    row = next(csv.DictReader(gradebook_csv(config, [record]).splitlines()))
    assert row["file"] == '\'=HYPERLINK("http://x")' and row["reason"] == "'@SUM(1)"


def test_a_notebook_of_another_assignment_is_told_apart():
    import nbformat

    from autograder.grading.grade import wrong_assignment
    from autograder.lab.config import load_config
    from autograder.lab.find import default_lab_folder

    config = load_config(default_lab_folder())

    def notebook(code, otter=None):
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)])
        if otter:
            nb.metadata["otter"] = {"assignment_name": otter}
        return nb

    assert wrong_assignment(notebook("x = 1", "rnn_lab"), config) is None
    assert "'hw3', not 'rnn_lab'" in wrong_assignment(notebook("model_lstm = 1", "hw3"), config)
    assert wrong_assignment(notebook("model_lstm = build()"), config) is None  # rebuilt by hand
    assert "sets none of its answers" in wrong_assignment(notebook("answer = 42"), config)


def test_a_class_without_an_output_folder_is_refused(small_class, capsys):
    from autograder.cli import main

    assert main(["grade", str(small_class)]) == 1
    assert "needs -o OUT" in capsys.readouterr().err
