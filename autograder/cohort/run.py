"""``kerasgrade grade DIR_OR_FILES... -o OUT``: grade a whole class without losing a submission.

Every file found gets a row in the gradebook, whatever happened to it: a notebook that
loops, crashes its kernel or is not a notebook at all is recorded with its status and a
reason, and the others are graded as usual. Each submission's result is saved as soon as it
is known (``OUT/results/``, one JSON file each, written atomically), so an interrupted run
resumes where it stopped; the gradebook, feedback files and HTML report are rebuilt from
those results after each submission.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

from autograder.cohort.collect import BatchError, Submission, check_hideable, collect
from autograder.cohort.gradebook import (
    FEEDBACK_DIR,
    GRADEBOOK,
    REPORT,
    RESULTS_DIR,
    Counts,
    closing_summary,
    record_of,
    summary,
    write_feedback,
    write_summaries,
)
from autograder.environment import cores_each
from autograder.files import write_atomically
from autograder.grading.grade import (
    GradeError,
    NotebookRun,
    check_run,
    prepare_store,
    start,
)
from autograder.grading.options import GradingOptions
from autograder.grading.results import GradeReport, Status
from autograder.grading.trusted.checkers import CheckerPools
from autograder.grading.trusted.store import STORE_DIR, MeasurementStore
from autograder.grading.untrusted.isolation import Isolation, probe
from autograder.grading.untrusted.limits import Stopped, allow_new_commands, stop_everything
from autograder.lab.config import AssignmentConfig
from autograder.lab.digest import file_sha256, grading_digest


@dataclass(kw_only=True)
class Batch:
    """One grading run over a class: where results go and how each submission is graded."""

    config: AssignmentConfig
    out: Path
    options: GradingOptions  # the same for every submission
    hide: list[Path]  # folders no notebook may see: the inputs and ``out``
    isolation: Isolation  # the level notebooks run at (``isolation.probe``)
    store: Path | None = None  # accuracy measurements to reuse and add to; None: train all

    def __post_init__(self) -> None:
        self.store = prepare_store(self.store)  # resolved and made once, for every submission

    @property
    def run_settings(self) -> dict:
        """What must match, besides the file, for a saved result to stand in for grading
        again: the run's settings and the digest of the config, thresholds and grading code
        (``digest.grading_digest``)."""
        return {
            "assignment": self.config.name,
            **self.options.settings.record(),
            "grading_digest": grading_digest(self.config),
        }

    def result_path(self, submission: Submission) -> Path:
        return self.out / RESULTS_DIR / f"{submission.key}.json"

    def saved(self, submission: Submission, digest: str) -> dict | None:
        """The saved result for this very file under the same settings, if any."""
        try:
            record = json.loads(self.result_path(submission).read_text())
        except (OSError, ValueError):
            return None
        same = record.get("sha256") == digest and all(
            record.get(key) == value for key, value in self.run_settings.items()
        )
        return record if same and record.get("status") != Status.GRADER_ERROR else None

    def run_one(
        self, submission: Submission, digest: str, hidden: list[Path]
    ) -> NotebookRun | dict:
        """Phase 1 for one submission (``grade.run_notebook``; ``hidden``: the checkers'
        folders): its notebook's run, waiting for its checks, or its record when there is
        nothing to check (an invalid or wrong file, a fault of ours)."""

        def notebook_run() -> NotebookRun | GradeReport:
            return start(
                self.config,
                submission.path,
                options=self.options,
                hidden=[*hidden, *self.hide, *([self.store] if self.store else [])],
                isolation=self.isolation,
            )

        return self.recorded(submission, digest, notebook_run)

    def check_one(
        self, submission: Submission, digest: str, run: NotebookRun, checkers: CheckerPools
    ) -> dict:
        """Phase 2 for one submission (``grade.check_run``) with a pool ``checkers`` lends:
        its record."""

        def checked() -> GradeReport:
            with checkers.lend() as pool:
                report = check_run(run, pool, options=self.options, store=self.store)
                pool.warm(self.options.memory)  # ready for its next submission: replaced if it grew
            return report

        return self.recorded(submission, digest, checked)

    def recorded(self, submission: Submission, digest: str, step: Callable) -> NotebookRun | dict:
        """``step()``, its report made a record; whatever goes wrong becomes the recorded
        status (``invalid-file``, or ``grader-error`` for a fault of ours)."""
        run = self.run_settings
        try:
            outcome = step()
        except GradeError as error:
            failed = GradeReport.not_graded(
                self.config, submission.path, Status.INVALID_FILE, str(error)
            )
            return record_of(submission, failed, digest, run)
        except Stopped:
            raise
        except Exception as error:  # our fault, not the student's: record it, keep going
            why = f"The grader failed ({type(error).__name__}: {error}); rerun to try again."
            failed = GradeReport.not_graded(self.config, submission.path, Status.GRADER_ERROR, why)
            return record_of(submission, failed, digest, run)
        if isinstance(outcome, GradeReport):
            return record_of(submission, outcome, digest, run)
        return outcome


def run_batch(
    batch: Batch,
    submissions: list[Submission],
    *,
    workers: int,
    force: bool = False,
    progress: Callable[[str], None] = lambda line: print(line, file=sys.stderr, flush=True),
) -> list[dict]:
    """Grade ``submissions`` (``workers`` at once), saving each result as it comes; return
    every submission's record, the saved ones included."""
    records: dict[str, dict] = {}
    pending: list[tuple[Submission, str]] = []
    for submission in submissions:
        digest = file_sha256(submission.path)
        saved = None if force else batch.saved(submission, digest)
        if saved:
            records[submission.key] = saved
        else:
            pending.append((submission, digest))
    if records:
        progress(f"{len(records)} submission(s) already graded (--force regrades them).")
    counts = Counts(total=len(submissions), done=len(records))
    progress(f"Grading {len(pending)} submission(s), {workers} at a time...")
    checkers = CheckerPools(
        batch.config, batch.options.settings.environment(), workers, cores_each(workers)
    )
    if pending:
        checkers.warm(batch.options.memory)  # while the first notebooks run
    # The notebooks run ``workers`` at a time, in the class' order, and their checks as pools
    # of checkers come free: a notebook does not wait for the checks of the one before, so a
    # submission whose checks must train a model (one nobody handed in before) is found while
    # other notebooks still run, not at the end of the class, where its training would run
    # alone on one core. A notebook waiting for its checks holds only its answers file.
    notebooks = ThreadPoolExecutor(max_workers=max(1, workers))
    checks = ThreadPoolExecutor(max_workers=max(1, workers))
    digests = dict(pending)
    place = {submission.key: index for index, submission in enumerate(submissions)}
    waiting: dict[Future, NotebookRun] = {}  # checks not yet run hold a folder of answers
    futures = {
        notebooks.submit(batch.run_one, submission, digest, checkers.folders): submission
        for submission, digest in pending
    }
    try:
        while futures:
            finished, _ = wait(futures, return_when=FIRST_COMPLETED)
            faults = [f.exception() for f in finished if f.exception() is not None]
            for future in sorted(finished, key=lambda f: place[futures[f].key]):
                submission = futures.pop(future)
                if future.exception() is not None:
                    continue  # raised below, once every result that came with it is saved
                outcome = future.result()
                if isinstance(outcome, NotebookRun):  # its checks come next
                    digest = digests[submission]
                    check = checks.submit(batch.check_one, submission, digest, outcome, checkers)
                    futures[check], waiting[check] = submission, outcome
                    continue
                record = outcome
                write_atomically(batch.result_path(submission), json.dumps(record, indent=1))
                write_feedback(batch.out, record)
                records[submission.key] = record
                counts.add(record["status"])
                done = [records[s.key] for s in submissions if s.key in records]
                write_summaries(batch.out, batch.config, done, batch.isolation)
                progress(f"{counts.bar()}  {submission.name}: {summary(record)}")
            if faults:
                raise faults[0]
    except BaseException:  # Ctrl-C: stop the running notebooks, keep what was saved
        stop_everything()
        for executor in (notebooks, checks):
            executor.shutdown(cancel_futures=True)
        for check, run in waiting.items():
            if check.cancelled():
                shutil.rmtree(run.work, ignore_errors=True)
        checkers.close()
        allow_new_commands()
        progress(f"Interrupted: {len(records)} result(s) saved; rerun to grade the rest.")
        raise
    notebooks.shutdown()
    checks.shutdown()
    checkers.close()
    ordered = [records[submission.key] for submission in submissions]
    for record in ordered:
        write_feedback(batch.out, record)  # again for the resumed ones: the file may be gone
    write_summaries(batch.out, batch.config, ordered, batch.isolation)
    return ordered


def grade_class(
    config: AssignmentConfig,
    inputs: list[Path],
    out: Path,
    *,
    options: GradingOptions,
    workers: int,
    force: bool = False,
    progress: Callable[[str], None] = lambda line: print(line, file=sys.stderr, flush=True),
    reuse: bool = True,
) -> list[dict]:
    """Grade every submission in ``inputs`` into ``out``, ``workers`` at once; notebooks see
    neither. ``force`` regrades submissions an earlier run saved. Raises BatchError for an
    output that is a file or inputs that cannot be hidden from the notebooks.

    With ``reuse``, accuracy checks share measurements through ``out/measurements``
    (``autograder.grading.trusted.store``): an architecture trained once, by any worker, is not trained again.
    """
    if out.exists() and not out.is_dir():
        raise BatchError(f"The output {out} is a file, not a folder.")
    submissions = collect(inputs, out)
    hide = [out, *(path if path.is_dir() else path.parent for path in inputs)]
    if (
        os.geteuid() == 0
    ):  # the levels that hide folders need root (autograder.grading.untrusted.isolation)
        check_hideable(hide)
    out.mkdir(parents=True, exist_ok=True)
    hide = [path.resolve() for path in hide]
    isolation = probe(tuple(path.resolve() for path in [config.folder, *hide]))
    progress(f"Isolation: notebooks {isolation.description}.")
    if isolation.degraded:
        progress(isolation.warning())
    store = out / STORE_DIR if reuse else None
    if store is not None:
        MeasurementStore(store).adopt(config.dist_dir / STORE_DIR)  # the build's
    batch = Batch(
        config=config, out=out, options=options, hide=hide, isolation=isolation, store=store
    )
    started = time.perf_counter()
    records = run_batch(batch, submissions, workers=workers, force=force, progress=progress)
    progress(closing_summary(records, time.perf_counter() - started))
    progress(
        f"Gradebook: {out / GRADEBOOK}; report: {out / REPORT}; feedback: {out / FEEDBACK_DIR}/"
    )
    return records
