"""``kerasgrade grade``: grade one submission in two phases with a trust boundary between them.

1. Execute (untrusted, ``autograder.grading.untrusted.execute``): the notebook runs in a sandbox and exports
   its answers as data.
2. Check (trusted, ``autograder.grading.trusted.check``): a process that never ran student code (kept warm
   across a class by ``autograder.grading.trusted.checkers``) reads the answers and runs the tests. Only
   this phase decides scores.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat

from autograder.errors import ToolkitError
from autograder.grading.options import GradingOptions
from autograder.grading.results import GradeReport, Status
from autograder.grading.submission import (
    InvalidSubmission,
    find_in_folder,
    is_submission_file,
    read_submission,
)
from autograder.grading.trusted.check_phase import CheckPhase, default_checkers
from autograder.grading.trusted.checkers import CheckerPool
from autograder.grading.untrusted.execute import Execution, execute
from autograder.grading.untrusted.isolation import Isolation, probe
from autograder.grading.written import written_answers
from autograder.lab.config import AssignmentConfig
from autograder.lab.questions import answer_names

SUBMISSION_SUFFIXES = (".ipynb", ".zip")


class GradeError(ToolkitError, RuntimeError):
    """A submission could not be graded at all; the message says why."""


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
    variables = sorted({v for q in config.auto_questions for v in answer_names(q, config)})
    if any(re.search(rf"\b{variable}\b", code) for variable in variables):
        return None
    return (
        f"It does not look like {config.name!r}: it has no otter metadata for it and sets "
        f"none of its answers ({', '.join(variables[:3])}, ...)."
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
    ``wrong-assignment``). Raises GradeError for a path that is no submission
    (``check_submission_path``)."""
    check_submission_path(submission)
    try:
        chosen = submission
        if submission.is_dir():
            chosen = find_in_folder(submission, config.name, config.notebook_name)
        notebook = read_submission(chosen, config.name, config.notebook_name)
    except InvalidSubmission as error:
        return GradeReport.not_graded(config, submission, Status.INVALID_FILE, str(error))
    if mismatch := wrong_assignment(notebook, config):
        return GradeReport.not_graded(config, submission, Status.WRONG_ASSIGNMENT, mismatch)
    return notebook


def run_notebook(
    config: AssignmentConfig,
    submission: Path,
    notebook: nbformat.NotebookNode,
    *,
    options: GradingOptions,
    hidden: list[Path],
    isolation: Isolation,
) -> NotebookRun:
    """Phase 1: run ``notebook`` in a sandbox (``execute``) that cannot see the assignment
    folder, its own work folder or ``hidden`` (the store, the checkers' folders, the inputs),
    within ``options``' limits."""
    names = sorted(
        {name for question in config.auto_questions for name in answer_names(question, config)}
    )
    settings = options.settings
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
            timeout=options.phase_timeout,
            memory=options.memory,
            cell_timeout=options.cell_timeout,
        )
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    seconds = round(time.perf_counter() - started, 1)
    return NotebookRun(config, submission, notebook, execution, work, isolation, seconds)


def start(
    config: AssignmentConfig,
    submission: Path,
    *,
    options: GradingOptions,
    hidden: list[Path],
    isolation: Isolation,
) -> NotebookRun | GradeReport:
    """Phase 1 for ``submission`` as a path: its notebook's run (``run_notebook``), or the
    report of why there is nothing to run (``open_submission``, which raises GradeError for
    a path that is no submission)."""
    notebook = open_submission(config, submission)
    if isinstance(notebook, GradeReport):
        return notebook
    return run_notebook(
        config, submission, notebook, options=options, hidden=hidden, isolation=isolation
    )


def check_run(
    run: NotebookRun, pool: CheckerPool, *, options: GradingOptions, store: Path | None
) -> GradeReport:
    """Phase 2: check ``run``'s answers with the checkers of ``pool`` (``CheckPhase``; at most
    ``options.phase_timeout`` seconds in all, ``options.memory`` bytes per checker;
    measurements reused from and added to ``store``, None: train every check); then remove
    its work folder."""
    config, execution = run.config, run.execution
    ran = dict(status=execution.status, message=execution.message, isolation=execution.isolation)
    ran.update(seconds={"execute": run.seconds}, isolation_warning=run.isolation.warning())
    try:
        if execution.status == Status.GRADER_ERROR:  # nothing ran: no answer to check, no score
            return GradeReport.of(config, run.submission, **ran)
        phase = CheckPhase(config, run.work, pool, options.phase_timeout, options.memory, store)
        phase.start()  # any checker not yet running
        started = time.perf_counter()
        results = phase.run()
        ran["seconds"].update(phase.seconds, check=round(time.perf_counter() - started, 1))
    finally:
        shutil.rmtree(run.work, ignore_errors=True)
    written = written_answers(run.notebook, [q for q in config.points if config.is_manual(q)])
    return GradeReport.of(
        config, run.submission, **ran, results=results, stopped_cells=execution.stopped_cells,
        written=written,
    )  # fmt: skip


def grade(
    config: AssignmentConfig,
    submission: Path,
    *,
    options: GradingOptions,
    hide: list[Path] | tuple[Path, ...] = (),
    isolation: Isolation | None = None,
    store: Path | None = None,
    pool: CheckerPool | None = None,
) -> GradeReport:
    """Grade ``submission``: execute it in a sandbox, then check its answers in processes that
    never ran student code: the checkers of ``pool`` (``autograder.grading.trusted.checkers``:
    a class's grading thread keeps them warm from one submission to the next), or else
    ``options.checkers`` processes (default ``default_checkers()``) started for this
    submission alone. Checkers not yet running start while the notebook runs, so that they
    have imported Keras by the time its answers come.

    ``store`` is a folder of accuracy measurements (``autograder.grading.trusted.store``) the
    checks reuse and add to, hidden from the notebook like the assignment; None trains every
    check. The sandbox cannot see the assignment folder, this run's work folder or ``hide``.
    ``isolation`` is the level to run the notebook at, by default the strongest that starts
    here (``isolation.probe``, run once per process for the same folders). If the sandbox
    fails to start, the status is ``grader-error`` and no score is given. Raises GradeError
    for a path that is no submission.
    """
    submission = Path(submission)
    notebook = open_submission(config, submission)
    if isinstance(notebook, GradeReport):
        return notebook  # nothing to run: no checker is started
    store = prepare_store(store)
    hide = [*hide, store] if store else list(hide)
    isolation = isolation or probe(tuple(Path(path).resolve() for path in [config.folder, *hide]))
    own_pool = pool is None
    if own_pool:
        checkers = options.checkers or default_checkers()
        pool = CheckerPool(config, options.settings.environment(), checkers)
    try:
        pool.warm(options.memory)  # the checkers warm up while the notebook runs
        run = run_notebook(
            config, submission, notebook, options=options, hidden=[pool.folder, *hide],
            isolation=isolation,
        )  # fmt: skip
        return check_run(run, pool, options=options, store=store)
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
