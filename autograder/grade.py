"""``rnnlab grade``: grade one submission with the built autograder and print a score table.

For now grading goes through ``otter run`` (no Docker), which runs the tests inside the
submission's own kernel; moving the final checks out of that process is the next step.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .config import AssignmentConfig
from .environment import grading_environment

SUBMISSION_SUFFIXES = (".ipynb", ".zip")
SUMMARY_ENTRY = "Public Tests"


class GradeError(RuntimeError):
    """A submission could not be graded at all; the message says why."""


@dataclass(frozen=True)
class QuestionScore:
    name: str
    score: float | None  # None: graded by a person
    max_score: float


@dataclass(frozen=True)
class GradeReport:
    submission: Path
    questions: list[QuestionScore]

    @property
    def auto_score(self) -> float:
        return sum(q.score for q in self.questions if q.score is not None)

    @property
    def auto_possible(self) -> float:
        return sum(q.max_score for q in self.questions if q.score is not None)

    @property
    def manual_possible(self) -> float:
        return sum(q.max_score for q in self.questions if q.score is None)

    def table(self) -> str:
        width = max(len(q.name) for q in self.questions)
        lines = [f"{'question':<{width}}  {'score':>7}  {'of':>5}"]
        for question in self.questions:
            score = "manual" if question.score is None else f"{question.score:g}"
            lines.append(f"{question.name:<{width}}  {score:>7}  {question.max_score:>5g}")
        lines.append(f"{'total':<{width}}  {self.auto_score:>7g}  {self.auto_possible:>5g}")
        if self.manual_possible:
            lines.append(f"(plus {self.manual_possible:g} points graded by hand)")
        return "\n".join(lines)


def check_submission_path(submission: Path) -> None:
    if not submission.is_file():
        raise GradeError(f"No submission file at {submission}.")
    if submission.suffix.lower() not in SUBMISSION_SUFFIXES:
        raise GradeError(
            f"{submission.name} is neither a notebook (.ipynb) nor an otter export (.zip)."
        )


def run_otter(
    submission: Path, zip_path: Path, output_dir: Path, environment: dict[str, str], timeout: float
) -> dict:
    """Run ``otter run`` on one submission and return its Gradescope-style results."""
    command = [
        sys.executable, "-m", "otter", "run", "--no-logo",
        "-a", str(zip_path), "-o", str(output_dir), str(submission),
    ]  # fmt: skip
    try:
        completed = subprocess.run(
            command, env=environment, capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        raise GradeError(f"Grading {submission.name} took longer than {timeout:.0f} s.") from None
    results = output_dir / "results.json"
    if not results.is_file():
        output = (completed.stdout + completed.stderr)[-3000:]
        raise GradeError(f"otter run wrote no results for {submission.name}:\n{output}")
    return json.loads(results.read_text())


def grade(
    config: AssignmentConfig,
    submission: Path,
    zip_path: Path,
    profile: str,
    imdb: str,
    timeout: float,
) -> GradeReport:
    """Grade ``submission`` and return its score per question (manual ones marked)."""
    submission = Path(submission)
    check_submission_path(submission)
    with tempfile.TemporaryDirectory(prefix="rnnlab-grade-") as output_dir:
        results = run_otter(
            submission.resolve(),
            zip_path,
            Path(output_dir),
            grading_environment(profile, imdb),
            timeout,
        )
    scored = {
        test["name"]: float(test["score"])
        for test in results["tests"]
        if test["name"] != SUMMARY_ENTRY
    }
    questions = [
        QuestionScore(
            name,
            None if config.is_manual(name) else scored.get(name, 0.0),
            config.question_points(name),
        )
        for name in config.points
    ]
    return GradeReport(submission, questions)
