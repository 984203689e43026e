"""The batch's HTML report: what the class got wrong, test by test, from graded records."""

import re
from pathlib import Path

import pytest

from autograder.cohort import gradebook, report
from autograder.cohort.collect import Submission
from autograder.cohort.gradebook import record_of, write_feedback
from autograder.cohort.report import class_faults, message_key, write_html_report
from autograder.grading.results import GradeReport, Status, TestResult
from autograder.grading.untrusted.isolation import FOLDER, Isolation
from autograder.lab.config import load_config
from autograder.lab.find import default_lab_folder
from autograder.lab.questions import question_visibility

RUN = {"assignment": "rnn_lab", "profile": "smoke", "data": "generated"}
UNITS_64 = "Layer 3 (LSTM) has 64 units; the reference has 128."
UNITS_32 = "Layer 3 (LSTM) has 32 units; the reference has 128."
HOSTILE = "Accuracy 0.5 <script>alert('x')</script> is under 0.8."


@pytest.fixture(scope="module")
def config():
    return load_config(default_lab_folder())


def graded_record(config, name: str, failing: dict[tuple[str, str], str]) -> dict:
    """The batch's record of ``name`` graded normally, failing the tests in ``failing``
    (``(question, test) -> message``) and passing every other auto-graded test."""
    results = [
        TestResult(question=question, test=test,
                   points=0 if (question, test) in failing else points, max_points=points,
                   message=failing.get((question, test), ""),
                   hidden=question_visibility(question, config)[test],
                   measurement="reused" if test == "accuracy" and question != "q7" else
                   "trained" if test == "accuracy" else None)
        for question, tests in config.points.items()
        if not config.is_manual(question)
        for test, points in tests.items()
    ]  # fmt: skip
    scores = {q: None if config.is_manual(q) else 0.0 for q in config.points}
    for result in results:
        scores[result.question] += result.points
    possible = {q: config.question_points(q) for q in config.points}
    graded = GradeReport(
        submission=Path(name), status=Status.COMPLETED, message="ran", isolation="test",
        scores=scores, possible=possible, results=results,
    )  # fmt: skip
    return record_of(submission(name), graded, "digest", RUN)


def submission(name: str) -> Submission:
    return Submission(Path(name), name, name.replace("/", "__"), "")


def render(config, records: list[dict], out: Path) -> str:
    """The report over ``records`` as ``batch`` writes it, feedback files included."""
    for record in records:
        write_feedback(out, record)
    written = {}
    write_html_report(
        out / gradebook.REPORT, config, records, lambda path, text: written.update({path: text}),
        Isolation(FOLDER), feedback_dir=gradebook.FEEDBACK_DIR,
    )  # fmt: skip
    return written[out / gradebook.REPORT]


@pytest.fixture()
def small_class(config):
    layers = ("q1a", "layers")
    return [
        graded_record(config, "ann.ipynb", {layers: UNITS_64, ("q2", "accuracy"): HOSTILE}),
        graded_record(config, "bob.ipynb", {layers: UNITS_32}),
        graded_record(config, "sub/cid.ipynb", {layers: "The model has 2 layers, not 4."}),
        graded_record(config, "dan.ipynb", {}),
        record_of(
            submission("eve.ipynb"),
            GradeReport.not_graded(config, Path("eve.ipynb"), Status.KERNEL_DIED, "died"),
            "digest",
            RUN,
        ),  # fmt: skip
    ]


def test_the_report_counts_each_tests_failures_and_groups_messages_by_their_words(
    config, small_class
):
    rows, unrecorded = class_faults(config, small_class, "feedback")
    assert unrecorded == 0
    auto = [(q, t) for q, tests in config.points.items() if not config.is_manual(q) for t in tests]
    assert [(row.question, row.test) for row in rows] == auto  # notebook order, every test
    by_test = {(row.question, row.test): row for row in rows}
    layers = by_test["q1a", "layers"]
    assert (layers.failed, layers.graded) == (3, 4)  # the kernel-died one is not counted
    assert [(m.count, m.example) for m in layers.messages] == [
        (2, UNITS_64),  # 64 and 32 units: one fault
        (1, "The model has 2 layers, not 4."),
    ]
    assert [link.text for link in layers.messages[0].links] == ["ann.ipynb", "bob.ipynb"]
    assert layers.messages[1].links[0].href == "feedback/sub__cid.ipynb.txt"
    assert (by_test["q1a", "params"].failed, by_test["q1a", "params"].messages) == (0, [])
    assert by_test["q2", "accuracy"].failed == 1
    grouped = "Layer N (LSTM) has N units; the reference has N."
    assert message_key(UNITS_64) == message_key(UNITS_32) == grouped


def test_the_report_links_each_student_to_a_feedback_file_and_escapes_messages(
    config, small_class, tmp_path
):
    html = render(config, small_class, tmp_path)
    section = html[html.index("What the class got wrong") : html.index("not graded normally")]
    assert "<script>" not in html and "&lt;script&gt;" in section
    assert "3 of 4" in section and "2 &times;" in section and UNITS_64 in section
    assert UNITS_32 not in section  # one example shown per group
    hrefs = re.findall(r'<a href="([^"]+)">([^<]+)</a>', section)
    assert ("feedback/sub__cid.ipynb.txt", "sub/cid.ipynb") in hrefs
    for href, name in hrefs:  # each link opens that student's own feedback file
        assert f"Submission: {name}" in (tmp_path / href).read_text()
    assert "Nobody failed it." in section
    assert "(hidden)" in section and "(visible)" in section  # each row's visibility
    # 4 graded submissions x 4 accuracy tests, q7's trained: 12 of 16 reused
    assert "Accuracy checks: 12 of 16\nreused a stored measurement" in html


def test_a_large_class_shows_few_links_and_few_messages_per_test(config, tmp_path):
    layers = ("q1a", "layers")
    same = [graded_record(config, f"s{i:02}.ipynb", {layers: f"Has {i} units."}) for i in range(12)]
    rare = [
        graded_record(config, f"r{i}.ipynb", {layers: f"Rare fault {'x' * i}."}) for i in range(4)
    ]
    old = graded_record(config, "old.ipynb", {})
    del old["tests"]  # saved by a grader that kept no per-test results
    rows, unrecorded = class_faults(config, [*same, *rare, old], "feedback")
    row = next(row for row in rows if (row.question, row.test) == layers)
    assert (row.failed, row.graded, unrecorded) == (16, 16, 1)
    assert len(row.messages) == report.TOP_MESSAGES and row.messages[0].count == 12
    assert len(row.messages[0].links) == report.LINKS_SHOWN and row.messages[0].more == 2
    assert (row.other_messages, row.other_count) == (2, 2)
    html = render(config, [*same, *rare, old], tmp_path)
    assert "and 2 more" in html and "2 more, with 2 other message(s)" in html
    assert "1 graded submission(s) were saved before" in html


def test_the_time_line_lists_only_the_checks_that_took_a_second():
    def timing(**seconds) -> str:
        scores, possible = {"q4": 10.0, "q7": 10.0}, {"q4": 10.0, "q7": 10.0}
        return GradeReport(submission=Path("a"), status=Status.COMPLETED, message="ran",
                           isolation="test", scores=scores, possible=possible,
                           seconds={"execute": 12.9, **seconds}).timing()  # fmt: skip

    assert timing(check=0.7, q4=0.3, q7=0.4) == "Time: notebook 12.9 s, checks 0.7 s."
    assert (
        timing(check=31.7, q4=31.3, q7=0.4) == "Time: notebook 12.9 s, checks 31.7 s (q4 31.3 s)."
    )
