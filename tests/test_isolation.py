"""Isolation is what really starts on this machine: each level is probed by starting it, a
weaker one is said plainly, and a sandbox that does not start is the grader's fault."""

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from autograder.cohort.collect import Submission as BatchSubmission
from autograder.cohort.gradebook import gradebook_csv, record_of
from autograder.grading.grade import grade
from autograder.grading.options import GradingOptions
from autograder.grading.untrusted.isolation import FOLDER, NAMESPACES, USER, Isolation, probe
from autograder.lab.settings import RunSettings

ROOT = os.geteuid() == 0 and sys.platform == "linux" and shutil.which("setpriv")
PROBE = """\
import json, sys
from pathlib import Path
from autograder.grading.untrusted.isolation import probe
found = probe(tuple(Path(path) for path in sys.argv[1:]))
print(json.dumps({"level": found.level, "warning": found.warning()}))
"""


def probe_under(prefix: list[str], hidden: list[Path]) -> dict:
    """The level a fresh grader process started with ``prefix`` finds."""
    completed = subprocess.run(
        [*prefix, sys.executable, "-c", PROBE, *map(str, hidden)],
        capture_output=True, text=True, check=True, timeout=300,
    )  # fmt: skip
    return json.loads(completed.stdout)


@pytest.fixture()
def readable_course_folder():
    """A folder every user can read, as an instructor's checkout usually is (pytest's own
    temporary folders are not: they are mode 0700)."""
    folder = Path(tempfile.mkdtemp(prefix="rnnlab-course-", dir="/var/tmp"))
    folder.chmod(0o755)
    (folder / "assignment.toml").write_text("thresholds = 'secret'\n")
    yield folder
    shutil.rmtree(folder)


@pytest.mark.skipif(not ROOT, reason="dropping a capability and other user ids need root")
def test_without_cap_sys_admin_notebooks_still_run_as_a_user_of_their_own(
    readable_course_folder,
):
    if probe(()).level == FOLDER:
        pytest.skip("no unprivileged user can run this Python (a venv made under /root?)")
    found = probe_under(["setpriv", "--bounding-set=-sys_admin"], [readable_course_folder])
    assert found["level"] == USER, found
    assert "CAP_SYS_ADMIN" in found["warning"] and "--cap-add SYS_ADMIN" in found["warning"]
    assert "chmod o-rwx" in found["warning"]
    assert readable_course_folder.stat().st_mode & 0o007 == 0  # other users locked out


def test_a_grader_that_is_not_root_isolates_by_folder_and_says_so(monkeypatch):
    probe.cache_clear()
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    try:
        found = probe(())
    finally:
        probe.cache_clear()
    assert found.level == FOLDER and not found.runs_as_other_user
    assert "not root" in found.warning() and "could read the grader's folders" in found.warning()


def test_where_namespaces_start_they_are_used_without_a_warning():
    available = subprocess.run(
        ["unshare", "--net", "--pid", "--fork", "--mount", "--propagation", "private", "true"],
        capture_output=True,
    )
    if not ROOT or available.returncode != 0:
        pytest.skip("this machine gives the grader no namespaces (not root, or no CAP_SYS_ADMIN)")
    if probe(()).level == FOLDER:
        pytest.skip("no unprivileged user can run this Python (a venv made under /root?)")
    assert probe(()) == Isolation(NAMESPACES) and probe(()).warning() == ""


def test_a_sandbox_that_cannot_start_is_a_grader_error_not_a_zero(built, tmp_path):
    # Namespaces forced where a folder to hide does not exist: the mount fails before the
    # notebook starts (and without root, unshare itself fails).
    solution = built.dist_dir / "autograder" / built.notebook_name
    report = grade(
        built, solution, options=GradingOptions.of(built.lab, RunSettings.of("smoke", "generated")),
        hide=[tmp_path / "gone"], isolation=Isolation(NAMESPACES, "forced by the test"),
    )  # fmt: skip
    assert report.status == "grader-error" and not report.graded
    assert "could not start the notebook's sandbox" in report.message
    assert all(score is None for score in report.scores.values())  # no zero recorded
    assert "check" not in report.seconds  # nothing was checked
    assert "Not graded" in report.table()

    submission = BatchSubmission(solution, "rnn_lab.ipynb", "rnn_lab.ipynb", "")
    record = record_of(submission, report, "digest", {})
    row = gradebook_csv(built, [record]).splitlines()[1]
    assert row.startswith("rnn_lab.ipynb,,grader-error,")
    assert ",,,,,,,,,,,,,84" in row  # every score and the total blank, not 0
