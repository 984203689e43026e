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

from autograder.cohort.cluster import Scheduler, run_on_cluster
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
    # the level notebooks run at (``isolation.probe``); on a cluster, the weakest of its
    # workers', known once they report it (``cluster.admitted``)
    isolation: Isolation | None
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
        """``step()``, its report made a record (``outcome_of``)."""
        outcome = outcome_of(self.config, submission.path, step)
        if isinstance(outcome, GradeReport):
            return record_of(submission, outcome, digest, self.run_settings)
        return outcome

    def pending(self, submissions: list[Submission], force: bool) -> tuple[dict, list]:
        """The saved records by key (none with ``force``) and the (submission, sha256) pairs
        still to grade."""
        records: dict[str, dict] = {}
        pending: list[tuple[Submission, str]] = []
        for submission in submissions:
            digest = file_sha256(submission.path)
            saved = None if force else self.saved(submission, digest)
            if saved:
                records[submission.key] = saved
            else:
                pending.append((submission, digest))
        return records, pending

    def save(self, record: dict, records: dict, submissions: list[Submission]) -> None:
        """Keep one finished submission's record: its result file (atomically), feedback and
        the class' summaries, rebuilt from every record so far in the class' order."""
        write_atomically(
            self.out / RESULTS_DIR / f"{record['key']}.json", json.dumps(record, indent=1)
        )
        write_feedback(self.out, record)
        records[record["key"]] = record
        done = [records[s.key] for s in submissions if s.key in records]
        write_summaries(self.out, self.config, done, self.isolation)

    def finish(self, records: dict, submissions: list[Submission]) -> list[dict]:
        """Every submission's record in the class' order, feedback and summaries written
        again (a resumed run's feedback file may be gone)."""
        ordered = [records[submission.key] for submission in submissions]
        for record in ordered:
            write_feedback(self.out, record)
        write_summaries(self.out, self.config, ordered, self.isolation)
        return ordered


def outcome_of(config: AssignmentConfig, path: Path, step: Callable):
    """``step()``; whatever goes wrong becomes a report of the status it earns
    (``invalid-file`` for GradeError, ``grader-error`` for a fault of ours). Stopped (Ctrl-C)
    propagates."""
    try:
        return step()
    except GradeError as error:
        return GradeReport.not_graded(config, path, Status.INVALID_FILE, str(error))
    except Stopped:
        raise
    except Exception as error:  # our fault, not the student's: record it, keep going
        why = f"The grader failed ({type(error).__name__}: {error}); rerun to try again."
        return GradeReport.not_graded(config, path, Status.GRADER_ERROR, why)


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
    records, pending = batch.pending(submissions, force)
    if records:
        progress(f"{len(records)} submission(s) already graded (--force regrades them).")
    counts = Counts(total=len(submissions), done=len(records), resumed=len(records))
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
                batch.save(record, records, submissions)
                counts.add(record["status"])
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
    return batch.finish(records, submissions)


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
    scheduler: Scheduler | None = None,
) -> list[dict]:
    """Grade every submission in ``inputs`` into ``out``, ``workers`` at once; notebooks see
    neither. ``force`` regrades submissions an earlier run saved. Raises BatchError for an
    output that is a file or inputs that cannot be hidden from the notebooks.

    With ``reuse``, accuracy checks share measurements through ``out/measurements``
    (``autograder.grading.trusted.store``): an architecture trained once, by any worker, is not trained again.

    With ``scheduler``, the class is graded on that Dask cluster (``cohort.cluster``)
    instead of ``workers`` threads here.
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
    isolation = None  # on a cluster, each worker probes its own (cluster.admitted)
    if scheduler is None:
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
    if scheduler is None:
        records = run_batch(batch, submissions, workers=workers, force=force, progress=progress)
    else:
        records = run_on_cluster(
            batch, submissions, scheduler=scheduler, force=force, progress=progress
        )
    progress(closing_summary(records, time.perf_counter() - started))
    progress(
        f"Gradebook: {out / GRADEBOOK}; report: {out / REPORT}; feedback: {out / FEEDBACK_DIR}/"
    )
    return records
