"""What a class' grading writes for people: each submission's record (the saved result),
the gradebook (CSV), the students' feedback files, the HTML report and the console's
progress lines."""

from __future__ import annotations

import csv
import io
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from autograder.cohort.collect import Submission
from autograder.cohort.report import write_html_report
from autograder.files import write_atomically
from autograder.grading.results import NOT_RUN, GradeReport, Status
from autograder.grading.untrusted.isolation import level_of
from autograder.lab.config import AssignmentConfig

RESULTS_DIR = "results"
FEEDBACK_DIR = "feedback"
GRADEBOOK = "gradebook.csv"
REPORT = "report.html"


def record_of(submission: Submission, report: GradeReport, digest: str, run: dict) -> dict:
    """What the class' results keep of one submission (``GradeReport.to_record``), with which
    file it was, whose, and under which settings (``run``): what decides whether to grade it
    again."""
    return record_from(submission, report.to_record(), digest, run)


def record_from(submission: Submission, report: dict, digest: str, run: dict) -> dict:
    """``record_of`` for a report already made a record (on a cluster's worker)."""
    identity = {
        "key": submission.key,
        "file": submission.name,
        "student": submission.student,
        "sha256": digest,
        **run,
    }
    return {**identity, **report}


@dataclass
class Counts:
    """How far a class' grading is: ``done`` of ``total`` (``resumed`` of them saved by an
    earlier run), ``failed`` of them not ``graded``."""

    total: int
    done: int = 0
    failed: int = 0
    resumed: int = 0
    started: float = field(default_factory=time.perf_counter)

    def add(self, status: str) -> None:
        self.done += 1
        self.failed += status != Status.GRADED

    def bar(self) -> str:
        """tqdm's meter (bar, count, time spent and left, from the rate of this run's
        submissions), then the failed and remaining counts: one line, fit for a log."""
        meter = tqdm.format_meter(
            self.done, self.total, time.perf_counter() - self.started, ncols=72,
            unit=" submission", initial=self.resumed,
        )  # fmt: skip
        return f"{meter}  {self.failed} failed, {self.total - self.done} remaining"


def summary(record: dict) -> str:
    possible = sum(v for q, v in record["possible"].items() if record["scores"][q] is not None)
    text = f"{record['status']}, {record['total']:g}/{possible:g}"
    return text if record["status"] == Status.GRADED else f"{text} ({record['reason']})"


def gradebook_csv(config: AssignmentConfig, records: list[dict]) -> str:
    """One row per submission; manual questions are left blank for the person who grades them.
    The last columns say how the notebook ran: ``isolation`` (its level, ``isolation_level``)
    and, for a class graded on a cluster, the Dask ``worker`` that graded it."""
    questions = list(config.points)
    possible = sum(config.question_points(q) for q in questions if not config.is_manual(q))
    on_cluster = any(record.get("worker") for record in records)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    header = ["file", "student", "status", "reason", *questions, "total", "possible", "isolation"]
    writer.writerow(header + ["worker"] * on_cluster)
    for record in records:
        text = [record["file"], record["student"], record["status"], record["reason"]]
        scores = ["" if (s := record["scores"].get(q)) is None else f"{s:g}" for q in questions]
        total = "" if record["status"] == Status.GRADER_ERROR else f"{record['total']:g}"
        totals = [total, f"{possible:g}"]
        ran = [isolation_level(record)] + [record.get("worker") or ""] * on_cluster
        writer.writerow([*map(spreadsheet_safe, text), *scores, *totals, *ran])
    return buffer.getvalue()


def isolation_level(record: dict) -> str:
    """The level the record's notebook ran at (``namespaces``, ``user``, ``folder``), or
    ``not run``."""
    description = record.get("report", {}).get("isolation", NOT_RUN)
    try:
        return level_of(description)
    except KeyError:  # NOT_RUN
        return description


def spreadsheet_safe(text: str) -> str:
    """Text a spreadsheet will not run as a formula: file names and error messages come from
    students, and ``=HYPERLINK(...)`` in a cell is code to Excel."""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def write_feedback(out: Path, record: dict) -> None:
    """The student's own file: points per question and every failed test's message."""
    student = f" (student {record['student']})" if record["student"] else ""
    text = f"Submission: {record['file']}{student}\n{record['feedback']}\n"
    write_atomically(out / FEEDBACK_DIR / f"{record['key']}.txt", text)


def write_summaries(out: Path, config: AssignmentConfig, records: list[dict], isolation) -> None:
    """The gradebook and the HTML report over ``records`` in ``out``, each written atomically;
    ``isolation``: the level the class' notebooks ran at, for the report."""
    write_atomically(out / GRADEBOOK, gradebook_csv(config, records))
    write_html_report(
        out / REPORT, config, records, write_atomically, isolation, feedback_dir=FEEDBACK_DIR
    )


def closing_summary(records: list[dict], seconds: float) -> str:
    statuses: dict[str, int] = {}
    for record in records:
        statuses[record["status"]] = statuses.get(record["status"], 0) + 1
    graded_times = [r["seconds"] for r in records if r["seconds"]] or [0.0]
    return (
        f"{len(records)} submission(s): "
        + ", ".join(f"{count} {status}" for status, count in sorted(statuses.items()))
        + f". Wall time {seconds:.0f} s; median per graded submission {statistics.median(graded_times):.0f} s."
    )
