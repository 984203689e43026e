"""The batch's HTML report: score distributions per question, what the class got wrong test
by test (with links to the students' feedback files) and the submissions that failed.

One self-contained file (inline SVG, no script, no network), so it opens anywhere. Every
value from a submission (file names, reasons, test messages) is escaped by Jinja's autoescape.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from autograder.grading.results import Status
from autograder.grading.untrusted.isolation import Isolation
from autograder.lab.config import AssignmentConfig
from autograder.templating import render

BAR_WIDTH = 28
CHART_HEIGHT = 90
TOP_MESSAGES = 3  # the most common failure messages shown per test
LINKS_SHOWN = 10  # feedback links shown per message; the rest are counted
NO_MESSAGE = "(no message)"
NO_RESULT = "No result was recorded for this test (no points given)."
DIGITS = re.compile(r"\d+")


@dataclass(frozen=True)
class Bar:
    x: int
    y: int
    height: int
    count: int
    label: str


@dataclass(frozen=True)
class Chart:
    title: str
    bars: list[Bar]

    @property
    def width(self) -> int:
        return max(BAR_WIDTH * len(self.bars) + 10, 120)


def histogram(title: str, values: list[float]) -> Chart:
    """One bar per distinct score: the points are few and discrete, so no binning is needed."""
    counts = sorted(Counter(values).items())
    tallest = max((count for _, count in counts), default=1)
    bars = []
    for index, (value, count) in enumerate(counts):
        height = round(CHART_HEIGHT * count / tallest)
        bars.append(
            Bar(5 + index * BAR_WIDTH, CHART_HEIGHT - height + 12, height, count, f"{value:g}")
        )
    return Chart(title, bars)


@dataclass(frozen=True)
class Link:
    href: str  # relative to the report
    text: str


@dataclass(frozen=True)
class Message:
    """Failures of one test whose messages differ at most in their numbers."""

    example: str  # the commonest exact wording in the group
    count: int
    links: list[Link]  # the first LINKS_SHOWN students' feedback files
    more: int  # students in the group beyond those linked


@dataclass(frozen=True)
class FaultRow:
    """One row of "What the class got wrong": a test and how the class failed it."""

    question: str
    test: str
    failed: int
    graded: int
    messages: list[Message]  # the TOP_MESSAGES commonest groups
    other_messages: int  # groups not shown
    other_count: int  # failures in the groups not shown
    visibility: str = ""  # "hidden" or "visible" as recorded; "" for records saved without it


def message_key(message: str) -> str:
    """What messages are grouped by: runs of digits become N, so "64 units" and "32 units"
    (or "accuracy 0.81" and "accuracy 0.79") count as one fault."""
    return DIGITS.sub("N", message)


def feedback_link(record: dict, feedback_dir: str) -> Link:
    """The link from the report (in the output folder) to this student's feedback file."""
    return Link(f"{feedback_dir}/{quote(record['key'])}.txt", record["file"])


def lost_points(record: dict, tests: list[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """``(question, test) -> message`` for each of ``tests`` that cost ``record`` points; a
    test with no recorded result earned none."""
    results = {(result["question"], result["test"]): result for result in record["tests"]}
    lost = {}
    for test in tests:
        result = results.get(test)
        if result is None:
            lost[test] = NO_RESULT
        elif result["points"] < result["max_points"]:
            lost[test] = result["message"] or NO_MESSAGE
    return lost


def group_messages(failed: list[tuple[dict, str]], feedback_dir: str) -> list[Message]:
    """``failed`` (record, message) pairs grouped by ``message_key``, commonest first (ties
    in order of first appearance)."""
    groups: dict[str, list[tuple[dict, str]]] = {}
    for record, message in failed:
        groups.setdefault(message_key(message), []).append((record, message))
    ordered = sorted(groups.values(), key=len, reverse=True)  # stable: ties keep their order
    return [
        Message(
            Counter(message for _, message in group).most_common(1)[0][0],
            len(group),
            [feedback_link(record, feedback_dir) for record, _ in group[:LINKS_SHOWN]],
            max(0, len(group) - LINKS_SHOWN),
        )
        for group in ordered
    ]


def fault_row(
    test: tuple[str, str],
    graded: int,
    failed: list[tuple[dict, str]],
    feedback_dir: str,
    visibility: str = "",
) -> FaultRow:
    """The row for ``test``, failed by ``failed`` (record, message) of ``graded`` submissions."""
    messages = group_messages(failed, feedback_dir)
    rest = messages[TOP_MESSAGES:]
    return FaultRow(
        *test,
        len(failed),
        graded,
        messages[:TOP_MESSAGES],
        len(rest),
        sum(m.count for m in rest),
        visibility,
    )


def class_faults(
    config: AssignmentConfig, records: list[dict], feedback_dir: str
) -> tuple[list[FaultRow], int]:
    """A row per auto-graded test in notebook order, over the submissions graded normally
    (none if there are none); and how many of those were saved without per-test results, so
    are left out."""
    graded = [record for record in records if record["status"] == Status.GRADED]
    counted = [record for record in graded if "tests" in record]
    tests = [
        (question, test)
        for question, points in config.points.items()
        if not config.is_manual(question)
        for test in points
    ]
    lost = [(record, lost_points(record, tests)) for record in counted]
    visibility = {
        (result["question"], result["test"]): "hidden" if result["hidden"] else "visible"
        for record in counted
        for result in record["tests"]
        if "hidden" in result
    }
    rows = [
        fault_row(
            test, len(counted), [(r, here[test]) for r, here in lost if test in here],
            feedback_dir, visibility.get(test, ""),
        )
        for test in tests
    ]  # fmt: skip
    return (rows if counted else []), len(graded) - len(counted)


def measurement_counts(records: list[dict]) -> dict[str, int]:
    """How many accuracy checks in ``records`` ran (``total``) and how many of them reused a
    stored measurement (``reused``) rather than training (``autograder.grading.trusted.store``)."""
    kinds = [
        result.get("measurement")
        for record in records
        for result in record.get("tests", [])
        if result.get("measurement")
    ]
    return {"total": len(kinds), "reused": kinds.count("reused")}


def write_html_report(
    path: Path,
    config: AssignmentConfig,
    records: list[dict],
    write: Callable[[Path, str], None],
    isolation: Isolation,
    feedback_dir: str = "feedback",
) -> None:
    """Render the report for ``records`` and hand it to ``write`` (an atomic writer);
    ``isolation`` is the level the notebooks ran at, its warning shown when it is degraded;
    ``feedback_dir`` is the feedback files' folder, relative to the report's."""
    graded = [record for record in records if record["status"] == Status.GRADED]
    auto = [q for q in config.points if not config.is_manual(q)]
    charts = [histogram("total", [record["total"] for record in graded])]
    charts += [
        histogram(f"{q} (of {config.question_points(q):g})", [r["scores"][q] for r in graded])
        for q in auto
    ]
    faults, unrecorded = class_faults(config, records, feedback_dir)
    html = render(
        __file__,
        "report.html.j2",
        html=True,
        title=config.title,
        isolation=isolation,
        records=records,
        statuses=sorted(Counter(record["status"] for record in records).items()),
        mean_total=sum(r["total"] for r in graded) / len(graded) if graded else 0.0,
        possible=sum(config.question_points(q) for q in auto),
        charts=charts,
        height=CHART_HEIGHT,
        bar_width=BAR_WIDTH,
        faults=faults,
        unrecorded=unrecorded,
        measurements=measurement_counts(records),
        failed=[record for record in records if record["status"] != Status.GRADED],
        workers=sorted(
            Counter(
                (record["worker"], record["report"]["isolation"])
                for record in records
                if record.get("worker")  # graded on a cluster (cohort.cluster)
            ).items()
        ),
    )
    write(path, html)
