"""``rnnlab grade``: grade one submission in two phases with a trust boundary between them.

1. Execute (untrusted, ``autograder.execute``): the notebook runs in a sandbox and exports
   its answers as data.
2. Check (trusted, ``autograder.check``): a fresh process that never ran student code reads
   the answers and runs the tests. Only this phase decides scores.
"""

from __future__ import annotations

import json
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import lab_support

from .answers import ANSWERS_FILE
from .config import AssignmentConfig
from .environment import grading_environment
from .execute import Execution, InvalidSubmission, execute
from .limits import DEFAULT_MEMORY_GIB, DEFAULT_TIMEOUT_SECONDS, supervise
from .questions import answer_names

SUBMISSION_SUFFIXES = (".ipynb", ".zip")


class GradeError(RuntimeError):
    """A submission could not be graded at all; the message says why."""


@dataclass(frozen=True)
class TestResult:
    question: str
    test: str
    points: float
    max_points: float
    message: str


@dataclass(frozen=True)
class GradeReport:
    submission: Path
    status: str  # the execute phase's status, or invalid-file
    message: str
    isolation: str
    scores: dict[str, float | None]  # question -> points; None: graded by a person
    possible: dict[str, float]
    results: list[TestResult] = field(default_factory=list)

    @property
    def auto_score(self) -> float:
        return sum(score for score in self.scores.values() if score is not None)

    @property
    def auto_possible(self) -> float:
        return sum(self.possible[q] for q, score in self.scores.items() if score is not None)

    def table(self) -> str:
        width = max(len(question) for question in self.scores)
        lines = [f"{'question':<{width}}  {'score':>7}  {'of':>5}"]
        for question, score in self.scores.items():
            shown = "manual" if score is None else f"{score:g}"
            lines.append(f"{question:<{width}}  {shown:>7}  {self.possible[question]:>5g}")
        lines.append(f"{'total':<{width}}  {self.auto_score:>7g}  {self.auto_possible:>5g}")
        manual = sum(self.possible[q] for q, score in self.scores.items() if score is None)
        if manual:
            lines.append(f"(plus {manual:g} points graded by hand)")
        return "\n".join(lines)

    def feedback(self) -> str:
        lines = [f"Status: {self.status}. {self.message}", f"Isolation: {self.isolation}."]
        for result in self.results:
            if result.message:
                lines.append(f"- {result.question} ({result.test}): {result.message}")
        return "\n".join(lines)


def check_submission_path(submission: Path) -> None:
    if not submission.is_file():
        raise GradeError(f"No submission file at {submission}.")
    if submission.suffix.lower() not in SUBMISSION_SUFFIXES:
        raise GradeError(
            f"{submission.name} is neither a notebook (.ipynb) nor an otter export (.zip)."
        )


def auto_questions(config: AssignmentConfig) -> list[str]:
    return [question for question in config.points if not config.is_manual(question)]


def run_checks(
    config: AssignmentConfig, work: Path, environment: dict, timeout: float, memory: int
) -> list[TestResult]:
    """Run the trusted checker; if it dies on an answer, score that question 0 and go on."""
    remaining = auto_questions(config)
    results: list[TestResult] = []
    logs = Path(tempfile.mkdtemp(prefix="checks-", dir=work))  # made after the notebook ran
    for attempt in range(len(remaining) + 1):
        if not remaining:
            break
        log = logs / f"checks-{attempt}.jsonl"
        command = [
            sys.executable, "-m", "autograder.check", str(work / ANSWERS_FILE), str(log),
            "--assignment", str(config.folder), "--questions", *remaining,
        ]  # fmt: skip
        outcome = supervise(command, work, environment, timeout, memory)
        events = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
        done = {event["question"] for event in events if event["event"] == "done"}
        results += [
            TestResult(
                e["question"], e["test"], points if e["passed"] is True else 0, points, e["message"]
            )
            for e in events
            if e["event"] == "test" and e["question"] in done
            for points in [config.points[e["question"]][e["test"]]]  # never the log's own figure
        ]
        remaining = [question for question in remaining if question not in done]
        if outcome.returncode == 0 or not remaining:
            continue
        started = [e["question"] for e in events if e["event"] == "start"]
        failed = started[-1] if started and started[-1] not in done else None
        reason = outcome.limit or f"exit status {outcome.returncode}"
        for question in [failed] if failed else remaining:
            message = f"The grader could not check this answer ({reason} while checking it)."
            results += [
                TestResult(question, test, 0, points, message)
                for test, points in config.points[question].items()
            ]
        remaining = [question for question in remaining if question != failed] if failed else []
    return results


def _report(config, submission, execution_info, results) -> GradeReport:
    status, message, isolation = execution_info
    scores: dict[str, float | None] = {
        question: None if config.is_manual(question) else 0.0 for question in config.points
    }
    for result in results:
        scores[result.question] = (scores[result.question] or 0.0) + result.points
    possible = {question: config.question_points(question) for question in config.points}
    return GradeReport(submission, status, message, isolation, scores, possible, results)


def grade(
    config: AssignmentConfig,
    submission: Path,
    *,
    profile: str,
    imdb: str,
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
    memory: int = int(DEFAULT_MEMORY_GIB * 2**30),
    hide: list[Path] | tuple[Path, ...] = (),
) -> GradeReport:
    """Grade ``submission``: execute it in a sandbox, then check its answers in a fresh process.

    The sandbox cannot see the assignment folder, this run's work folder or ``hide``.
    """
    submission = Path(submission)
    check_submission_path(submission)
    names = sorted({name for question in auto_questions(config) for name in answer_names(question)})
    with tempfile.TemporaryDirectory(prefix="rnnlab-grade-") as scratch:
        work = Path(scratch)
        try:
            execution: Execution = execute(
                submission,
                names,
                support_files=[Path(lab_support.__file__)],
                hidden=[config.folder, work, *hide],
                output_dir=work,
                profile=profile,
                imdb=imdb,
                timeout=timeout,
                memory=memory,
            )
        except InvalidSubmission as error:
            return _report(config, submission, ("invalid-file", str(error), "not run"), [])
        results = run_checks(config, work, grading_environment(profile, imdb), timeout, memory)
    info = (execution.status, execution.message, execution.isolation)
    return _report(config, submission, info, results)
