"""``kerasgrade grade DIR -o OUT --scheduler ADDRESS``: a class graded on a Dask cluster.

One Dask task per submission (``remote.grade_remote``): both phases of one submission run
on the worker that took it, in child processes of that worker, as on one host. A task per
phase would move the notebook's answers between hosts and split a submission's fate over
two workers; instead each task holds half a ``grade`` slot (``remote.TASK_SHARE``), so a
slot holds two submissions: one's notebook runs while the other is checked, the run-ahead
the one-host pools have, and the worker still runs one notebook and one check phase per
slot at a time. The checker pool stays warm on the worker between its tasks.

The client is the only writer of ``OUT/``: each result, feedback file, the gradebook, the
report and the measurement store are written here as tasks finish, by the same code as on
one host (``run.Batch``), so resume, ``--force``, Ctrl-C and the report behave the same.

Workers must run the same toolkit and lab as the client: install the same ``kerasgrade``
(and build the lab at the same path, or share it) on every host. Before any work is sent
each worker reports its lab's ``grading_digest`` and isolation level (``remote.prepare``);
a worker whose digest differs is refused with a sentence and retired. A worker that
joins later is checked by its task (``remote.WrongToolkit``: a ``grader-error`` row). Workers
declare how many grades they hold at once as the Dask resource ``grade``, with two
threads per slot (``dask worker ADDRESS --nthreads 2 --resources grade=1``).

A worker that dies while grading (killed, out of memory, its host down) makes the
scheduler give the task to another worker; after ``ALLOWED_FAILURES`` + 1 deaths Dask
raises ``KilledWorker`` and the submission is recorded as ``grader-error`` with the reason,
so a rerun tries it again and no row is lost. A worker's death counts against both
submissions its slot held.
"""

from __future__ import annotations

import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from autograder.cohort.collect import BatchError, Submission
from autograder.cohort.gradebook import Counts, record_from, record_of, summary
from autograder.cohort.remote import (
    GRADE_RESOURCE,
    TASK_SHARE,
    TASKS_PER_SLOT,
    RemoteJob,
    WorkerSetup,
    grade_remote,
    packed,
    prepare,
)
from autograder.environment import default_batch_workers
from autograder.files import write_atomically
from autograder.grading.options import OptionsError
from autograder.grading.results import NOT_RUN, GradeReport, Status
from autograder.grading.trusted.store import entry_texts
from autograder.grading.untrusted.isolation import Isolation
from autograder.lab.digest import grading_digest

# Deaths of a worker while it held a task before Dask gives up on the task (its
# ``distributed.scheduler.allowed-failures``; Dask's default is 3): a submission is tried
# on three workers at most.
ALLOWED_FAILURES = 2
POLL_SECONDS = 10  # how often the client looks for workers while no task finishes
WORKERLESS_SECONDS = 120  # how long a class waits for a cluster with no worker left


class _NotRun(Exception):
    """A task given up on by the client (no worker left), with the reason."""


@dataclass(frozen=True)
class Scheduler:
    """Where a class is graded: a ``LocalCluster`` of ``workers`` here (``address`` None), or
    the running Dask scheduler at ``address`` (``tcp://host:8786``)."""

    address: str | None
    workers: int = 0

    @classmethod
    def parse(cls, text: str) -> Scheduler:
        """``local``, ``local:N`` or a scheduler's address; raises OptionsError otherwise."""
        if text == "local":
            return cls(None, default_batch_workers())
        if text.startswith("local:"):
            count = text.removeprefix("local:")
            if not count.isdigit() or int(count) < 1:
                raise OptionsError(
                    f"--scheduler local:N needs a whole number N >= 1, not {count!r}."
                )
            return cls(None, int(count))
        if "://" in text:
            return cls(text)
        raise OptionsError(
            f"--scheduler takes local, local:N or a scheduler's address such as "
            f"tcp://host:8786, not {text!r}."
        )

    def describe(self) -> str:
        return (
            f"a local Dask cluster of {self.workers} worker(s)"
            if self.address is None
            else self.address
        )


def connect(scheduler: Scheduler):
    """A Dask ``Client`` (and the ``LocalCluster`` it owns, or None)."""
    try:
        import dask
        from distributed import Client, LocalCluster
    except ImportError as error:
        raise BatchError(
            "Grading on a Dask cluster needs the distributed package: pip install 'kerasgrade[cluster]'."
        ) from error
    if scheduler.address is not None:
        return Client(scheduler.address, timeout="30s"), None
    settings = {
        "distributed.scheduler.allowed-failures": ALLOWED_FAILURES,
    }
    with dask.config.set(settings):
        cluster = LocalCluster(
            n_workers=scheduler.workers, threads_per_worker=TASKS_PER_SLOT, processes=True,
            resources={GRADE_RESOURCE: 1}, memory_limit=0, dashboard_address=None,
        )  # fmt: skip
        return Client(cluster), cluster


def admitted(client, setup: WorkerSetup, progress) -> tuple[list[str], Isolation]:
    """The workers that may grade (the client's ``grading_digest``, a ``grade`` resource),
    made ready (``remote.prepare``), and the weakest isolation among them; a sentence for
    each worker refused. Raises BatchError when none may."""
    resources = {a: w.get("resources", {}) for a, w in client.scheduler_info()["workers"].items()}
    slotted = [address for address, declared in resources.items() if GRADE_RESOURCE in declared]
    for address in sorted(set(resources) - set(slotted)):
        progress(f"Refused worker {address}: it declares no `{GRADE_RESOURCE}` resource; "
                 f"start it with --resources {GRADE_RESOURCE}=1.")  # fmt: skip
    found = client.run(prepare, setup, workers=slotted) if slotted else {}
    good, levels = [], []
    for address, seen in sorted(found.items()):
        if seen["digest"] != setup.digest:
            why = seen.get("error") or f"its grading digest is {seen['digest']}, not {setup.digest}"
            progress(f"Refused worker {address}: {why}; install the same kerasgrade and lab there.")
            client.retire_workers([address], close_workers=True)  # else it would take tasks
            continue
        isolation = Isolation(seen["level"], seen["degraded"])
        progress(f"Worker {address}: notebooks {isolation.description}.")
        good.append(address)
        levels.append(isolation)
    if not good:
        raise BatchError(
            "No worker of the cluster can grade this lab (see the lines above): every worker "
            "needs the same kerasgrade and lab as this machine and a `grade` resource."
        )
    return good, max(levels, key=lambda isolation: bool(isolation.degraded))


def recorded_isolation(records: list[dict]) -> Isolation | None:
    """The weakest isolation that saved ``records`` ran their notebooks at; None when none
    ran one."""
    reports = [record.get("report", {}) for record in records]
    ran = [report for report in reports if report.get("isolation", NOT_RUN) != NOT_RUN]
    if not ran:
        return None
    weakest = max(ran, key=lambda report: bool(report.get("isolation_warning")))
    return Isolation.from_report(weakest["isolation"], weakest.get("isolation_warning", ""))


def run_on_cluster(
    batch,
    submissions: list[Submission],
    *,
    scheduler: Scheduler,
    force: bool = False,
    progress: Callable[[str], None] = lambda line: print(line, file=sys.stderr, flush=True),
) -> list[dict]:
    """``run.run_batch`` with the grading done by the Dask cluster ``scheduler`` names."""
    records, pending = batch.pending(submissions, force)
    if records:
        progress(f"{len(records)} submission(s) already graded (--force regrades them).")
    counts = Counts(total=len(submissions), done=len(records), resumed=len(records))
    if not pending:  # no worker asked: the report names the levels the records ran at
        batch.isolation = recorded_isolation(list(records.values()))
        return batch.finish(records, submissions)
    progress(f"Connecting to {scheduler.describe()}...")
    client, cluster = connect(scheduler)
    futures: dict = {}
    reuse = {"trained": 0, "twice": 0, "client": 0.0}  # counts, and seconds of the client's writes
    try:
        variable = None
        if batch.store is not None:
            from distributed import Variable

            variable = Variable(f"kerasgrade-store-{uuid.uuid4().hex}", client=client)
        setup = WorkerSetup(
            lab_folder=str(batch.config.folder),
            digest=grading_digest(batch.config),
            options=batch.options,
            store_variable=variable.name if variable else None,
            host_slots=scheduler.workers if scheduler.address is None else None,
            hide=tuple(str(path) for path in batch.hide),
        )
        workers, batch.isolation = admitted(client, setup, progress)
        if batch.isolation.degraded:
            progress(batch.isolation.warning())
        entries = entry_texts(batch.store)
        if variable is not None:
            variable.set(entries)
        progress(f"Grading {len(pending)} submission(s) on {len(workers)} worker(s)...")
        for submission, sha256 in pending:
            path = submission.path
            job = RemoteJob(
                name=path.name,
                content=packed(path) if path.is_dir() else path.read_bytes(),
                is_folder=path.is_dir(),
                setup=setup,
            )
            future = client.submit(
                grade_remote, job, key=f"grade-{submission.key}-{uuid.uuid4().hex[:8]}",
                resources={GRADE_RESOURCE: TASK_SHARE}, pure=False,
            )  # fmt: skip
            futures[future] = (submission, sha256)
        for future, failed in _finished(client, futures, progress):
            submission, sha256 = futures.pop(future)
            writing = time.perf_counter()
            record, added = _record(batch, submission, sha256, future, failed)
            fresh = _adopt(batch.store, added, entries, reuse)
            if fresh and variable is not None:
                variable.set(entries)
            batch.save(record, records, submissions)
            reuse["client"] += time.perf_counter() - writing
            counts.add(record["status"])
            progress(f"{counts.bar()}  {submission.name}: {summary(record)}")
    except BaseException:  # Ctrl-C: keep what was saved, stop what runs
        client.cancel(list(futures))
        progress(f"Interrupted: {len(records)} result(s) saved; rerun to grade the rest.")
        raise
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    if batch.store is not None:
        progress(
            f"Measurements: {reuse['trained']} training(s) on the cluster added to the store; "
            f"{reuse['twice']} were trained twice (two workers met the same new architecture "
            "at the same time)."
        )
    graded = len(pending)
    progress(
        f"The client's writes (results, feedback, gradebook, report, store): "
        f"{reuse['client']:.1f} s for {graded} result(s), {reuse['client'] / graded:.3f} s each."
    )
    return batch.finish(records, submissions)


def _finished(client, futures: dict, progress):
    """``(future, None)`` for each task as it finishes, then ``(future, why)`` for each one
    left when no worker with a ``grade`` slot has been seen for ``WORKERLESS_SECONDS`` (a
    cluster whose workers all went away): those are cancelled rather than waited for."""
    from distributed import wait

    left, workerless = set(futures), 0.0
    while left:
        try:
            done, _ = wait(list(left), timeout=POLL_SECONDS, return_when="FIRST_COMPLETED")
        except TimeoutError:
            workers = client.scheduler_info()["workers"].values()
            slots = any(GRADE_RESOURCE in worker.get("resources", {}) for worker in workers)
            workerless = 0.0 if slots else workerless + POLL_SECONDS
            if workerless < WORKERLESS_SECONDS:
                continue
            why = (
                f"No worker of the cluster was left to grade it for {WORKERLESS_SECONDS} s; "
                "rerun when the cluster has workers again."
            )
            progress(f"No worker for {WORKERLESS_SECONDS} s: {len(left)} submission(s) not graded.")
            client.cancel(list(left))
            for future in list(left):
                left.discard(future)
                yield future, why
            return
        for future in done:
            left.discard(future)
            yield future, None


def _record(
    batch, submission: Submission, sha256: str, future, failed: str | None = None
) -> tuple[dict, dict]:
    """A finished task's record and the store entries it brought; a task that failed (its
    workers died, ``KilledWorker``; or our fault) or that ``failed`` says was not run
    becomes a ``grader-error`` record."""
    from distributed import KilledWorker

    run = batch.run_settings
    try:
        if failed:
            raise _NotRun(failed)
        result = future.result()
    except KilledWorker:
        why = (
            f"Every worker that graded it died ({ALLOWED_FAILURES + 1} tries: killed, out of "
            "memory, or its host went down); rerun to try again, or grade it alone with "
            "`kerasgrade grade FILE` to see why."
        )
    except _NotRun as error:
        why = str(error)
    except Exception as error:
        why = (
            f"The grader failed on a worker ({type(error).__name__}: {error}); rerun to try again."
        )
    else:
        report = result["report"]
        report["report"]["submission"] = str(submission.path)
        record = record_from(submission, report, sha256, run)
        return {**record, "worker": result["worker"]}, result["measurements"]
    failed = GradeReport.not_graded(batch.config, submission.path, Status.GRADER_ERROR, why)
    return record_of(submission, failed, sha256, run), {}


def _adopt(store: Path | None, added: dict[str, str], entries: dict, reuse: dict) -> bool:
    """Write a task's new store entries into the class store (the client is its only
    writer); count them, and those another task had brought already. True when any is new."""
    if store is None:
        return False
    fresh = False
    for relative, text in added.items():
        reuse["trained"] += 1
        if relative in entries:
            reuse["twice"] += 1
            continue
        write_atomically(store / relative, text)
        entries[relative] = text
        fresh = True
    return fresh
