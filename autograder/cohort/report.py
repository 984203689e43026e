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

import jinja2

from autograder.grading.results import Status
from autograder.grading.untrusted.isolation import Isolation
from autograder.lab.config import AssignmentConfig

BAR_WIDTH = 28
CHART_HEIGHT = 90
TOP_MESSAGES = 3  # the most common failure messages shown per test
LINKS_SHOWN = 10  # feedback links shown per message; the rest are counted
NO_MESSAGE = "(no message)"
NO_RESULT = "No result was recorded for this test (no points given)."
DIGITS = re.compile(r"\d+")

TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>{{ title }}: grading report</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; } td, th { padding: 0.2em 0.8em; border-bottom: 1px solid #ddd; text-align: left; }
.charts { display: flex; flex-wrap: wrap; gap: 1.5em; }
figure { margin: 0; } figcaption { font-weight: bold; }
rect { fill: #4a7ab5; } text { font-size: 10px; }
.warning { border-left: 4px solid #c0392b; padding-left: 0.6em; }
td { vertical-align: top; } .faults ul { margin: 0; padding-left: 1.2em; }
.message { white-space: pre-wrap; font-family: ui-monospace, monospace; }
.students { font-size: 0.9em; color: #555; }
</style></head><body>
<h1>{{ title }}: grading report</h1>
<p{% if isolation.degraded %} class="warning"{% endif %}>Isolation: notebooks {{ isolation.description }}.
{% if isolation.degraded %}<strong>{{ isolation.warning() }}</strong>{% endif %}</p>
<p>{{ records|length }} submission(s):
{% for status, count in statuses %}{{ count }} {{ status }}{% if not loop.last %}, {% endif %}{% endfor %}.
Mean total of the graded ones: {{ "%.1f"|format(mean_total) }} of {{ possible|round(1) }}.
{% if measurements.total %}Accuracy checks: {{ measurements.reused }} of {{ measurements.total }}
reused a stored measurement of the same training, the others trained.{% endif %}</p>
<h2>Score distributions</h2>
<div class="charts">
{% for chart in charts %}
<figure><figcaption>{{ chart.title }}</figcaption>
<svg width="{{ chart.width }}" height="{{ height + 30 }}" role="img" aria-label="{{ chart.title }}">
{% for bar in chart.bars %}
<rect x="{{ bar.x }}" y="{{ bar.y }}" width="{{ bar_width - 4 }}" height="{{ bar.height }}"><title>{{ bar.count }} at {{ bar.label }}</title></rect>
<text x="{{ bar.x }}" y="{{ height + 12 }}">{{ bar.label }}</text>
<text x="{{ bar.x }}" y="{{ bar.y - 2 }}">{{ bar.count }}</text>
{% endfor %}
</svg></figure>
{% endfor %}
</div>
<h2>What the class got wrong</h2>
<p>For each test, in notebook order: how many of the submissions graded normally lost points
on it, and the messages they were given most often. Messages that differ only in their numbers
are counted together, and one of them is shown. Each file name opens that student's feedback.</p>
{% if unrecorded %}<p class="warning">{{ unrecorded }} graded submission(s) were saved before
the grader kept results per test, so they are not counted here; regrade them with --force to
include them.</p>{% endif %}
{% if faults %}
<table class="faults"><tr><th>question</th><th>test</th><th>failed</th><th>most common messages</th></tr>
{% for row in faults %}<tr><td>{{ row.question }}</td><td>{{ row.test }}{% if row.visibility %} ({{ row.visibility }}){% endif %}</td>
<td>{{ row.failed }} of {{ row.graded }}</td>
<td>{% if row.messages %}<ul>
{% for message in row.messages %}<li>{{ message.count }} &times; <span class="message">{{ message.example }}</span>
<div class="students">{% for link in message.links %}<a href="{{ link.href }}">{{ link.text }}</a>{% if not loop.last %}, {% endif %}{% endfor %}{% if message.more %} and {{ message.more }} more{% endif %}</div></li>
{% endfor %}{% if row.other_messages %}<li>{{ row.other_count }} more, with {{ row.other_messages }} other message(s)</li>{% endif %}
</ul>{% else %}Nobody failed it.{% endif %}</td></tr>
{% endfor %}</table>
{% else %}<p>No submission has been graded normally yet.</p>{% endif %}
<h2>Submissions not graded normally</h2>
{% if failed %}
<table><tr><th>file</th><th>student</th><th>status</th><th>reason</th></tr>
{% for record in failed %}<tr><td>{{ record.file }}</td><td>{{ record.student }}</td><td>{{ record.status }}</td><td>{{ record.reason }}</td></tr>
{% endfor %}</table>
{% else %}<p>None: every submission ran to the end.</p>{% endif %}
</body></html>
"""


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
    environment = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    html = environment.from_string(TEMPLATE).render(
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
    )
    write(path, html)
