"""``rnnlab grade``: grade one submission in two phases with a trust boundary between them.

1. Execute (untrusted, ``autograder.execute``): the notebook runs in a sandbox and exports
   its answers as data.
2. Check (trusted, ``autograder.check``): a process that never ran student code (kept warm
   across a class by ``autograder.checkers``) reads the answers and runs the tests. Only
   this phase decides scores.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from .answers import ANSWERS_FILE
from .checkers import CheckerPool
from .config import AssignmentConfig
from .environment import available_cores
from .execute import GRADER_ERROR, Execution, execute
from .isolation import Isolation, probe
from .limits import CELL_TIMEOUT_SECONDS, DEFAULT_MEMORY_GIB, PHASE_TIMEOUT_SECONDS
from .questions import answer_names, question_visibility
from .settings import RunSettings
from .submission import InvalidSubmission, find_in_folder, is_submission_file, read_submission
from .written import written_answers

SUBMISSION_SUFFIXES = (".ipynb", ".zip")


class GradeError(RuntimeError):
    """A submission could not be graded at all; the message says why."""


@dataclass(frozen=True)
class TestResult:
    """One test case's outcome. ``hidden``: whether students see it only after the grades
    are published (Gradescope's ``after_published`` visibility), as the notebook marks it."""

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


@dataclass(frozen=True)
class GradeReport:
    submission: Path
    status: str  # the execute phase's status, invalid-file or wrong-assignment
    message: str
    isolation: str
    scores: dict[str, float | None]  # question -> points; None: graded by a person
    possible: dict[str, float]
    results: list[TestResult] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)  # phase or question -> wall time
    isolation_warning: str = ""  # why the isolation is weaker than the strongest; "" if not
    stopped_cells: tuple[str, ...] = ()  # a sentence per cell the per-cell limit interrupted
    written: dict[str, str] = field(default_factory=dict)  # written question -> answer text

    @property
    def graded(self) -> bool:
        """False when the grader failed (``grader-error``): no score stands, rerun it."""
        return self.status != GRADER_ERROR

    @property
    def auto_score(self) -> float:
        return sum(score for score in self.scores.values() if score is not None)

    @property
    def auto_possible(self) -> float:
        return sum(self.possible[q] for q, score in self.scores.items() if score is not None)

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


def check_submission_path(submission: Path) -> None:
    if submission.is_dir():
        return  # a submission folder (Gradescope's): its notebook is chosen when graded
    if not submission.is_file():
        raise GradeError(f"No submission file at {submission}.")
    if submission.suffix.lower() not in SUBMISSION_SUFFIXES and not is_submission_file(
        submission
    ):  # a notebook saved as lab.ipynb.txt is still graded: it is read by its content
        raise GradeError(
            f"{submission.name} is neither a notebook (.ipynb) nor a zip holding one (.zip)."
        )


def auto_questions(config: AssignmentConfig) -> list[str]:
    return [question for question in config.points if not config.is_manual(question)]


def wrong_assignment(notebook, config: AssignmentConfig) -> str | None:
    """Why ``notebook`` is not a submission for this assignment, or None if it is.

    A student's copy carries otter's assignment name in its metadata; a notebook rebuilt
    cell by cell may lose it, so then any of the assignment's answer variables will do.
    """
    name = notebook.metadata.get("otter", {}).get("assignment_name")
    if name:
        return (
            None if name == config.name else f"It is a notebook of {name!r}, not {config.name!r}."
        )
    code = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "code")
    variables = sorted({v for q in auto_questions(config) for v in answer_names(q, config)})
    if any(re.search(rf"\b{variable}\b", code) for variable in variables):
        return None
    return (
        f"It does not look like {config.name!r}: it has no otter metadata for it and sets "
        f"none of its answers ({', '.join(variables[:3])}, ...)."
    )


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
        questions = auto_questions(self.config)
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
                    e["question"],
                    e["test"],
                    points if e["passed"] is True else 0,
                    points,
                    e["message"],
                    question_visibility(e["question"], config)[e["test"]],
                    e.get("measurement"),
                    _fraction(e.get("accuracy")),
                )
                for e in events
                if e["event"] == "test" and e["question"] in done
                for points in [config.points[e["question"]][e["test"]]]  # never the log's figure
            ]
            remaining = [question for question in remaining if question not in done]
            if not remaining or (outcome.returncode == 0 and outcome.limit is None):
                continue
            started = [e["question"] for e in events if e["event"] == "start"]
            if (used or not started) and not retried and outcome.limit != "timeout":
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
            TestResult(question, test, 0, points, message, hidden)
            for question in questions
            for test, points in self.config.points[question].items()
            for hidden in [question_visibility(question, self.config).get(test, False)]
        ]


def _fraction(value) -> float | None:
    """A checker's reported accuracy, if it is one."""
    return float(value) if isinstance(value, (int, float)) and 0 <= value <= 1 else None


def _report(
    config,
    submission,
    execution_info,
    results,
    seconds=None,
    isolation_warning="",
    stopped=(),
    written=None,
) -> GradeReport:
    status, message, isolation = execution_info
    scores: dict[str, float | None] = {
        question: None if config.is_manual(question) or status == GRADER_ERROR else 0.0
        for question in config.points
    }
    for result in results:
        scores[result.question] = (scores[result.question] or 0.0) + result.points
    possible = {question: config.question_points(question) for question in config.points}
    return GradeReport(
        submission,
        status,
        message,
        isolation,
        scores,
        possible,
        results,
        seconds or {},
        isolation_warning,
        tuple(stopped),
        written or {},
    )


@dataclass
class NotebookRun:
    """A submission after phase 1 (``run_notebook``), its answers waiting in ``work`` for the
    checks (``check_run``, which removes ``work``)."""

    config: AssignmentConfig
    submission: Path
    notebook: nbformat.NotebookNode
    execution: Execution
    work: Path  # a temporary folder of its own, holding the exported answers
    isolation: Isolation  # the level the notebook ran at, for the report's warning
    seconds: float  # the notebook's run, wall time


def open_submission(
    config: AssignmentConfig, submission: Path
) -> nbformat.NotebookNode | GradeReport:
    """The notebook to grade in ``submission`` (a notebook, an otter zip or a Gradescope
    folder), or the report of why there is none to grade (``invalid-file``,
    ``wrong-assignment``)."""
    try:
        chosen = submission
        if submission.is_dir():
            chosen = find_in_folder(submission, config.name, config.notebook_name)
        notebook = read_submission(chosen, config.name, config.notebook_name)
    except InvalidSubmission as error:
        return _report(config, submission, ("invalid-file", str(error), "not run"), [])
    if mismatch := wrong_assignment(notebook, config):
        return _report(config, submission, ("wrong-assignment", mismatch, "not run"), [])
    return notebook


def run_notebook(
    config: AssignmentConfig,
    submission: Path,
    notebook: nbformat.NotebookNode,
    *,
    settings: RunSettings,
    timeout: float,
    memory: int,
    hidden: list[Path],
    isolation: Isolation,
    cell_timeout: float | None = None,
) -> NotebookRun:
    """Phase 1: run ``notebook`` in a sandbox (``execute``) that cannot see the assignment
    folder, its own work folder or ``hidden`` (the store, the checkers' folders, the inputs),
    for at most ``timeout`` seconds and ``memory`` bytes."""
    names = sorted(
        {name for question in auto_questions(config) for name in answer_names(question, config)}
    )
    work = Path(tempfile.mkdtemp(prefix="rnnlab-grade-"))
    started = time.perf_counter()
    try:
        execution = execute(
            notebook,
            names,
            support_files=config.lab.sandbox_files(),
            limit_training=config.lab.profiles[settings.profile].notebook_epochs == 0,
            hidden=[config.folder, work, *hidden],
            output_dir=work,
            isolation=isolation,
            settings=settings,
            timeout=timeout,
            memory=memory,
            cell_timeout=cell_timeout or CELL_TIMEOUT_SECONDS[settings.profile],
        )
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    seconds = round(time.perf_counter() - started, 1)
    return NotebookRun(config, submission, notebook, execution, work, isolation, seconds)


def check_run(
    run: NotebookRun, pool: CheckerPool, *, timeout: float, memory: int, store: Path | None
) -> GradeReport:
    """Phase 2: check ``run``'s answers with the checkers of ``pool`` (``CheckPhase``; at most
    ``timeout`` seconds in all, ``memory`` bytes per checker; measurements reused from and
    added to ``store``, None: train every check); then remove its work folder."""
    config, execution = run.config, run.execution
    info = (execution.status, execution.message, execution.isolation)
    seconds = {"execute": run.seconds}
    try:
        if execution.status == GRADER_ERROR:  # nothing ran: no answer to check, no score
            return _report(config, run.submission, info, [], seconds, run.isolation.warning())
        phase = CheckPhase(config, run.work, pool, timeout, memory, store)
        phase.start()  # any checker not yet running
        started = time.perf_counter()
        results = phase.run()
        seconds.update(phase.seconds, check=round(time.perf_counter() - started, 1))
    finally:
        shutil.rmtree(run.work, ignore_errors=True)
    written = written_answers(run.notebook, [q for q in config.points if config.is_manual(q)])
    return _report(
        config,
        run.submission,
        info,
        results,
        seconds,
        run.isolation.warning(),
        execution.stopped_cells,
        written,
    )


def grade(
    config: AssignmentConfig,
    submission: Path,
    *,
    settings: RunSettings,
    timeout: float | None = None,
    memory: int = int(DEFAULT_MEMORY_GIB * 2**30),
    hide: list[Path] | tuple[Path, ...] = (),
    checkers: int | None = None,
    isolation: Isolation | None = None,
    cell_timeout: float | None = None,
    store: Path | None = None,
    pool: CheckerPool | None = None,
) -> GradeReport:
    """Grade ``submission``: execute it in a sandbox, then check its answers in processes that
    never ran student code: the checkers of ``pool`` (``autograder.checkers``: a class's
    grading thread keeps them warm from one submission to the next), or else ``checkers``
    processes (default ``default_checkers()``) started for this submission alone. Checkers
    not yet running start while the notebook runs, so that they have imported Keras by the
    time its answers come.

    ``store`` is a folder of accuracy measurements (``autograder.store``) the checks reuse
    and add to, hidden from the notebook like the assignment; None trains every check.

    The sandbox cannot see the assignment folder, this run's work folder or ``hide``.
    ``timeout`` is per phase, by default the profile's ``PHASE_TIMEOUT_SECONDS``;
    ``cell_timeout`` per cell of the notebook, by default the profile's
    ``CELL_TIMEOUT_SECONDS`` (a cell past it is interrupted and the next one runs).
    ``isolation`` is the level to run the notebook at, by default the strongest that starts
    here (``isolation.probe``, run once per process for the same folders). If the sandbox
    fails to start, the status is ``grader-error`` and no score is given.
    """
    submission = Path(submission)
    check_submission_path(submission)
    timeout = timeout or PHASE_TIMEOUT_SECONDS[settings.profile]
    notebook = open_submission(config, submission)
    if isinstance(notebook, GradeReport):
        return notebook
    store = prepare_store(store)
    hide = [*hide, store] if store else list(hide)
    isolation = isolation or probe(tuple(Path(path).resolve() for path in [config.folder, *hide]))
    own_pool = pool is None
    if own_pool:
        pool = CheckerPool(config, settings.environment(), checkers or default_checkers())
    try:
        pool.warm(memory)  # the checkers warm up while the notebook runs
        run = run_notebook(
            config,
            submission,
            notebook,
            settings=settings,
            timeout=timeout,
            memory=memory,
            hidden=[pool.folder, *hide],
            isolation=isolation,
            cell_timeout=cell_timeout,
        )
        return check_run(run, pool, timeout=timeout, memory=memory, store=store)
    finally:
        if own_pool:
            pool.close()


def prepare_store(store: Path | None) -> Path | None:
    """``store`` as an absolute path, its folder made; None stays None (train every check)."""
    if store is None:
        return None
    store = Path(store).resolve()
    store.mkdir(parents=True, exist_ok=True)
    return store
