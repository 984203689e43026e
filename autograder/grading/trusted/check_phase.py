"""Phase 2 of grading (trusted): the checks of one submission's exported answers, dealt
among the checker processes of a pool (``autograder.grading.trusted.checkers``), with the retry policy for a
checker that dies."""

from __future__ import annotations

import json
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from autograder.environment import available_cores
from autograder.grading.results import Status, TestResult
from autograder.grading.trusted.checkers import CheckerPool
from autograder.grading.untrusted.export import ANSWERS_FILE
from autograder.lab.config import AssignmentConfig
from autograder.lab.questions import question_visibility


def default_checkers() -> int:
    """One checker process per core. On this project's 2-core machine two TensorFlow
    trainings side by side each run about half as fast as one alone, so two checkers gain
    little over one in training; they still split the start-up, the answers' rebuilding and
    the non-training checks, and a side-by-side run favoured two."""
    return available_cores()


def checker_shares(questions: list[str], checkers: int, table: dict) -> list[list[str]]:
    """Deal the questions that train a model so that each checker trains about as long: the
    longest first, each to the checker with the least so far. The rest (seconds in all) go to
    the checker with the least training, ahead of it; each share stays in notebook order.
    ``table``: the lab's questions by name, with their ``check_seconds``."""
    training = [q for q in questions if getattr(table[q], "accuracy_check", None)]
    count = max(1, min(checkers, len(training)))
    shares: list[list[str]] = [[] for _ in range(count)]
    loads = [0.0] * count
    for question in sorted(training, key=lambda q: -table[q].check_seconds):
        lightest = loads.index(min(loads))
        shares[lightest].append(question)
        loads[lightest] += table[question].check_seconds
    shares = [sorted(share, key=training.index) for share in shares]
    lightest = loads.index(min(loads))
    shares[lightest] = [q for q in questions if q not in training] + shares[lightest]
    return shares


@dataclass
class CheckPhase:
    """Phase 2 for one submission: trusted checker processes (``pool``) read its exported
    answers."""

    config: AssignmentConfig
    work: Path  # holds the exported answers
    pool: CheckerPool  # its checkers, kept warm from one submission to the next
    timeout: float  # for the whole phase, all checker processes and restarts included
    memory: int  # bytes, per checker process
    store: Path | None = None  # measurements to reuse and add to; None: train every check
    seconds: dict[str, float] = field(default_factory=dict)  # question -> checking time
    deadline: float = 0.0  # time.monotonic() at which the phase stops, set by run()

    def start(self) -> None:
        """Start the checkers that are not running yet, now, before the answers exist (while
        the notebook runs): each imports what checking needs, then waits for its job."""
        self.pool.warm(self.memory)

    def run(self) -> list[TestResult]:
        """The answers are in place: check every auto-graded question, one share of them per
        checker of the pool; the results in question order."""
        questions = self.config.auto_questions
        shares = checker_shares(questions, self.pool.size, self.config.lab.questions)
        self.deadline = time.monotonic() + self.timeout
        logs = Path(tempfile.mkdtemp(prefix="checks-", dir=self.work))
        with ThreadPoolExecutor(max_workers=len(shares)) as threads:
            try:
                found = threads.map(
                    lambda numbered: self.check_share(numbered[1], numbered[0], logs),
                    enumerate(shares),
                )
                results = [result for share in found for result in share]
            except BaseException:  # Ctrl-C: end the checkers, so that their threads return
                self.pool.close()
                raise
        return sorted(results, key=lambda result: questions.index(result.question))

    def check_share(self, remaining: list[str], index: int, logs: Path) -> list[TestResult]:
        """Check ``remaining`` with the pool's checker ``index``. If a fresh checker dies on
        an answer, that question scores 0 and a fresh checker checks the rest. A death that
        need not be the answers' fault (a used checker's: an earlier job may have left it
        short of memory; or one before any question began) gets the same questions checked
        again in a fresh checker, once per share, with the failed attempt's time given back,
        before any answer is blamed. When the phase's time runs out, the question being
        checked and those after it score 0."""
        config = self.config
        results: list[TestResult] = []
        deadline, retried = self.deadline, False
        for attempt in range(len(remaining) + 2):
            if not remaining:
                break
            log = logs / f"share-{index}-{attempt}.jsonl"
            checker = self.pool.checker(index)
            used = checker.jobs > 0
            began = time.monotonic()
            time_left = max(1.0, deadline - began)
            answers = self.work / ANSWERS_FILE
            outcome = checker.check(answers, log, remaining, self.store, time_left, self.memory)
            events = (
                [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
            )
            done = {event["question"] for event in events if event["event"] == "done"}
            self.seconds.update(
                (e["question"], e["seconds"]) for e in events if e["event"] == "done"
            )
            results += [
                TestResult(
                    question=e["question"],
                    test=e["test"],
                    points=points if e["passed"] is True else 0,
                    max_points=points,
                    message=e["message"],
                    hidden=question_visibility(e["question"], config)[e["test"]],
                    measurement=e.get("measurement"),
                    accuracy=_fraction(e.get("accuracy")),
                )
                for e in events
                if e["event"] == "test" and e["question"] in done
                for points in [config.points[e["question"]][e["test"]]]  # never the log's figure
            ]
            remaining = [question for question in remaining if question not in done]
            if not remaining or (outcome.returncode == 0 and outcome.limit is None):
                continue
            started = [e["question"] for e in events if e["event"] == "start"]
            if (used or not started) and not retried and outcome.limit != Status.TIMEOUT:
                retried = True
                deadline += time.monotonic() - began
                continue  # the same questions again, in a fresh checker
            failed = started[-1] if started and started[-1] not in done else None
            reason = outcome.limit or f"exit status {outcome.returncode}"
            why = f"{reason} while checking it"
            results += self.not_checked([failed] if failed else remaining, why)
            remaining = [question for question in remaining if question != failed] if failed else []
        return results + self.not_checked(remaining, "every checker tried failed")

    def not_checked(self, questions: list[str], why: str) -> list[TestResult]:
        """Every test of ``questions`` at 0 points, saying ``why`` the grader could not check
        it."""
        message = f"The grader could not check this answer ({why})."
        return [
            TestResult(
                question=question,
                test=test,
                points=0,
                max_points=points,
                message=message,
                hidden=hidden,
            )
            for question in questions
            for test, points in self.config.points[question].items()
            for hidden in [question_visibility(question, self.config).get(test, False)]
        ]


def _fraction(value) -> float | None:
    """A checker's reported accuracy, if it is one."""
    return float(value) if isinstance(value, (int, float)) and 0 <= value <= 1 else None
