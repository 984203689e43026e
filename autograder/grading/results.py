"""What grading one submission gives, in one model read by every output.

``Status`` names what happened to a submission; ``TestResult`` is one test case's outcome and
``GradeReport`` one submission's, with the scoring rule in one place (``GradeReport.of``).
The console table and feedback (``render_text``), the class' saved records and gradebook rows
(``to_record``/``from_record``) and Gradescope's ``results.json`` (``to_gradescope``) are all
written from it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from enum import StrEnum
from pathlib import Path


class Status(StrEnum):
    """What happened to a submission: the words of the gradebook's ``status`` column.

    The execute phase gives the first six; ``GRADED`` is the gradebook's word for a
    submission whose notebook ran to its end (``COMPLETED``) and whose answers were checked."""

    COMPLETED = "completed"  # the notebook ran to its end
    TIMEOUT = "timeout"  # stopped at the phase's wall-clock limit
    OUT_OF_MEMORY = "out-of-memory"  # stopped at the memory limit
    KERNEL_DIED = "kernel-died"  # a crash, os._exit or a kernel that stopped working
    NOTEBOOK_QUIT = "notebook-quit"  # the notebook called quit() or exit()
    GRADER_ERROR = "grader-error"  # a fault of ours, never the student's: no score stands
    INVALID_FILE = "invalid-file"  # not a notebook, or a zip without exactly one
    WRONG_ASSIGNMENT = "wrong-assignment"  # a notebook of another assignment
    GRADED = "graded"  # in the gradebook: ran to its end and checked


# Gradescope's visibility for a test students see only once the grades are published.
HIDDEN_VISIBILITY = "after_published"
ISOLATION_TEST = "grader (isolation)"  # staff only: how the notebook was isolated
NOT_RUN = "not run"  # the isolation of a submission whose notebook never ran


@dataclass(frozen=True, kw_only=True)
class TestResult:
    """One test case's outcome. ``hidden``: whether students see it only after the grades
    are published (Gradescope's ``after_published`` visibility), as the notebook marks it."""

    __test__ = False  # not a pytest test class, despite its name

    question: str
    test: str
    points: float
    max_points: float
    message: str
    hidden: bool
    # For an accuracy test: "reused" (from the measurement store) or "trained"; else None.
    measurement: str | None = None
    # For a failed accuracy test: the accuracy the fresh copy reached (a fraction); else None.
    accuracy: float | None = None

    @property
    def visibility(self) -> str:
        """``hidden`` or ``visible``, the words of the console table and the class report."""
        return "hidden" if self.hidden else "visible"

    def to_record(self) -> dict:
        return asdict(self)

    @classmethod
    def from_record(cls, record: dict) -> TestResult:
        """The result ``to_record`` gave; keys it does not know (a later version's) ignored."""
        known = {f.name for f in fields(cls)}
        return cls(**{key: value for key, value in record.items() if key in known})


@dataclass(frozen=True, kw_only=True)
class GradeReport:
    """One submission's grade. ``scores`` and ``possible`` map each question to points; a
    score of None is graded by a person (a written question) or not at all (``grader-error``).
    ``seconds`` maps ``execute``, ``check`` and each checked question to wall time."""

    submission: Path | None
    status: Status
    message: str
    isolation: str
    scores: dict[str, float | None]
    possible: dict[str, float]
    results: list[TestResult] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    isolation_warning: str = ""  # why the isolation is weaker than the strongest; "" if not
    stopped_cells: tuple[str, ...] = ()  # a sentence per cell the per-cell limit interrupted
    written: dict[str, str] = field(default_factory=dict)  # written question -> answer text

    @classmethod
    def of(
        cls, config, submission: Path | None, *, status: Status, message: str, isolation: str,
        results: list[TestResult] = (), **rest,
    ) -> GradeReport:  # fmt: skip
        """The report of ``results`` under ``config``'s points: each auto-graded question
        scores the sum of its tests' points (0 without any); written questions, and every
        question of a ``grader-error``, score None. ``rest``: the other fields."""
        scores: dict[str, float | None] = {
            question: None if config.is_manual(question) or status == Status.GRADER_ERROR else 0.0
            for question in config.points
        }
        for result in results:
            scores[result.question] = (scores[result.question] or 0.0) + result.points
        possible = {question: config.question_points(question) for question in config.points}
        return cls(
            submission=submission, status=Status(status), message=message, isolation=isolation,
            scores=scores, possible=possible, results=list(results), **rest,
        )  # fmt: skip

    @classmethod
    def not_graded(cls, config, submission: Path | None, status: Status, message: str):
        """A submission whose notebook never ran (``invalid-file``, ``wrong-assignment``,
        ``grader-error``): no points, and ``message`` says why."""
        return cls.of(config, submission, status=status, message=message, isolation=NOT_RUN)

    @property
    def graded(self) -> bool:
        """False when the grader failed (``grader-error``): no score stands, rerun it."""
        return self.status != Status.GRADER_ERROR

    @property
    def auto_score(self) -> float:
        return sum(score for score in self.scores.values() if score is not None)

    @property
    def auto_possible(self) -> float:
        return sum(self.possible[q] for q, score in self.scores.items() if score is not None)

    @property
    def gradebook_status(self) -> Status:
        """The gradebook's word: ``graded`` for a notebook that ran to its end, else the
        status itself."""
        return Status.GRADED if self.status == Status.COMPLETED else self.status

    @property
    def reason(self) -> str:
        """The gradebook's one-line reason: what happened, or how many tests failed."""
        failed = [r for r in self.results if r.points < r.max_points]
        if self.gradebook_status != Status.GRADED:
            reason = self.message
        elif failed:
            reason = f"{len(failed)} test(s) failed; see the feedback file."
        else:
            reason = "All tests passed."
        return " ".join([reason, *self.stopped_cells])

    def table(self) -> str:
        if not self.graded:
            return "Not graded: the grader failed (see below); rerun to grade it."
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

    def timing(self) -> str:
        """Where the wall time went: the notebook's run, then the checks question by question."""
        if not self.seconds:
            return "Time: not run."
        per_question = ", ".join(
            f"{question} {self.seconds[question]:g} s"
            for question in self.scores
            if self.seconds.get(question, 0) >= 1
        )
        measured = ", ".join(
            f"{result.question} {result.measurement}"
            for result in self.results
            if result.measurement
        )
        return (
            f"Time: notebook {self.seconds.get('execute', 0):g} s, checks "
            f"{self.seconds.get('check', 0):g} s"
            + (f" ({per_question})." if per_question else ".")
            + (f" Accuracy measurements: {measured}." if measured else "")
        )

    def feedback(self) -> str:
        lines = [f"Status: {self.status}. {self.message}", *self.stopped_cells]
        lines.append(f"Isolation: {self.isolation}.")
        if self.isolation_warning:
            lines.append(self.isolation_warning)
        for result in self.results:
            if result.message:
                test = f"{result.test}, hidden test" if result.hidden else result.test
                lines.append(f"- {result.question} ({test}): {result.message}")
        if self.written:
            lines.append("Written answers (graded by a person):")
            for question, answer in self.written.items():
                lines.append(f"- {question}: {answer or '(no answer written)'}")
        return "\n".join(lines)

    def render_text(self) -> str:
        """The student's feedback: the points table, then what happened and every message."""
        return f"{self.table()}\n\n{self.feedback()}"

    def to_record(self) -> dict:
        """What the class' results keep of it (JSON-ready): every field, so that
        ``from_record`` gives it back, and the gradebook's ``status``, ``reason``, ``total``,
        ``feedback`` and ``seconds`` (the two phases' sum)."""
        phases = sum(self.seconds.get(phase, 0) for phase in ("execute", "check"))
        return {
            "status": self.gradebook_status,
            "reason": self.reason,
            "scores": self.scores,
            "possible": self.possible,
            "total": self.auto_score,
            "feedback": self.render_text(),
            "tests": [result.to_record() for result in self.results],
            "seconds": round(phases, 1),
            "report": {
                "submission": str(self.submission) if self.submission else None,
                "status": self.status,
                "message": self.message,
                "isolation": self.isolation,
                "seconds": self.seconds,
                "isolation_warning": self.isolation_warning,
                "stopped_cells": list(self.stopped_cells),
                "written": self.written,
            },
        }

    @classmethod
    def from_record(cls, record: dict) -> GradeReport:
        """The report ``to_record`` gave. Raises KeyError for a record saved before records
        kept the whole report (regrade it with ``--force``)."""
        kept = record["report"]
        return cls(
            submission=Path(kept["submission"]) if kept["submission"] else None,
            status=Status(kept["status"]),
            message=kept["message"],
            isolation=kept["isolation"],
            scores=record["scores"],
            possible=record["possible"],
            results=[TestResult.from_record(result) for result in record["tests"]],
            seconds=kept["seconds"],
            isolation_warning=kept["isolation_warning"],
            stopped_cells=tuple(kept["stopped_cells"]),
            written=kept["written"],
        )

    def to_gradescope(self) -> dict:
        """Gradescope's ``results.json``: one test per test case, hidden ones shown after
        publication, an accuracy test's ``extra_data`` saying whether its measurement was
        ``reused`` from the store or ``trained``; one per written question (0 points: the
        text of the student's answer for the person who grades it against the rubric); and
        one more, worth nothing and never shown to
        students (``hidden``), that tells course staff how the notebook was isolated and why,
        when that is weaker than the strongest.

        Spec: https://gradescope-autograders.readthedocs.io/en/latest/specs/"""
        tests = [
            {
                "name": f"{result.question} ({result.test})",
                "score": result.points,
                "max_score": result.max_points,
                "visibility": HIDDEN_VISIBILITY if result.hidden else "visible",
                "output": result.message or "Passed.",
                **(
                    {"extra_data": {"measurement": result.measurement}}
                    if result.measurement
                    else {}
                ),
            }
            for result in self.results
        ]
        tests += [
            {
                "name": f"{question} (written answer, graded by a person)",
                "score": 0,
                "max_score": 0,
                "visibility": "visible",
                "output": answer or "(no answer written)",
            }
            for question, answer in self.written.items()
        ]
        isolation = " ".join(
            filter(None, [f"The notebook {self.isolation}.", self.isolation_warning])
        )
        tests.append(
            {"name": ISOLATION_TEST, "score": 0, "max_score": 0, "visibility": "hidden",
             "output": isolation}
        )  # fmt: skip
        return {
            "score": sum(test["score"] for test in tests),
            "output": f"{self.status}: {self.message}",
            "stdout_visibility": "hidden",
            "tests": tests,
        }
