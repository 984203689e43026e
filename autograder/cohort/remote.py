"""What a Dask worker does with one submission of a class graded on a cluster
(``autograder.cohort.cluster``): the same two phases as on one host, in child processes of
the worker, and a small JSON-ready result back.

A task carries the submission's bytes (a Gradescope folder as a zip) and the run's options,
never a path the worker must share with the client. The worker grades it in a folder of its
own, with the notebook sandboxed exactly as ``grade.start`` does and the checks run by a pool
of trusted checkers this worker process keeps warm between tasks; the measurement store it
checks against is a fresh copy of the class store as the client holds it when the task
starts (a Dask ``Variable``). It returns the report's record, the store entries its checks
added, and which worker and isolation graded it: never a model, never a pickle from student
code.
"""

from __future__ import annotations

import io
import os
import shutil
import tempfile
import threading
import zipfile
from dataclasses import dataclass
from pathlib import Path

from autograder.environment import cores_each
from autograder.grading.grade import NotebookRun, check_run, start
from autograder.grading.options import GradingOptions
from autograder.grading.results import GradeReport
from autograder.grading.trusted.checkers import CheckerPools
from autograder.grading.trusted.store import entry_texts
from autograder.grading.untrusted.isolation import Isolation, probe
from autograder.lab.config import AssignmentConfig, load_config
from autograder.lab.digest import grading_digest

GRADE_RESOURCE = "grade"  # the Dask resource a worker declares: how many grades it holds at once
# What one task holds of a ``grade`` slot: two tasks per slot, so that a slot's next notebook
# runs while its current submission is checked, as the one-host pools do (``run.run_batch``).
# The worker still runs one notebook and one check phase per slot at a time
# (``_WorkerState.notebooks`` and its checker pools).
TASK_SHARE = 0.5
TASKS_PER_SLOT = round(1 / TASK_SHARE)  # the threads a worker needs per slot


@dataclass(frozen=True, kw_only=True)
class WorkerSetup:
    """What every task of a class tells its worker besides the submission.

    ``lab_folder``: the lab's folder as the client sees it (the same path on every host: an
    installed package or a shared file system); ``digest``: the client's ``grading_digest``,
    which the worker must match; ``store_variable``: the Dask ``Variable`` holding the class
    store's entries (None: train every check); ``host_slots``: grades this worker's host
    runs at once (None: this worker's ``grade`` resource), for the checkers' share of the
    cores; ``hide``: the client's folders no notebook may see (its inputs and output),
    hidden wherever they exist on the worker's host too.
    """

    lab_folder: str
    digest: str
    options: GradingOptions
    store_variable: str | None
    host_slots: int | None = None
    hide: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class RemoteJob:
    """One submission to grade on a worker: ``name``, the file's (or folder's) name;
    ``content``, its bytes (a zip for a folder); ``setup``, the class' ``WorkerSetup``."""

    name: str
    content: bytes
    is_folder: bool
    setup: WorkerSetup


class WrongToolkit(RuntimeError):
    """The worker's toolkit, lab or packages differ from the client's."""


@dataclass
class _WorkerState:
    """What one worker process keeps between tasks: the lab, its checkers, its folders."""

    config: AssignmentConfig
    digest: str
    pools: CheckerPools
    base: Path  # every task's folder lies here; no notebook sees it
    isolation: Isolation
    hide: list[Path]  # the client's folders that exist here
    notebooks: threading.Semaphore  # one notebook running per ``grade`` slot


_STATES: dict[tuple, _WorkerState] = {}
_LOCK = threading.Lock()


def _this_worker():
    """The Dask worker running this code, or None (outside a worker, or no Dask)."""
    try:
        from distributed import get_worker

        return get_worker()
    except (ImportError, ValueError):
        return None


def _address() -> str:
    """This worker's address (empty outside a worker)."""
    worker = _this_worker()
    return worker.address if worker else ""


def worker_slots() -> int:
    """The ``grade`` resource this worker declared (1 when run outside a worker)."""
    resources = getattr(getattr(_this_worker(), "state", None), "total_resources", {})
    return max(1, int(resources.get(GRADE_RESOURCE, 1)))


def grading_environment(environment: dict[str, str] | None = None) -> dict[str, str]:
    """``environment`` (this worker's, by default) without what Dask's nanny put there for
    its own worker process, for the notebooks and checkers this worker starts.

    The nanny sets ``distributed.nanny.pre-spawn-environ`` (``MALLOC_TRIM_THRESHOLD_=65536``
    and ``OMP_``, ``MKL_`` and ``OPENBLAS_NUM_THREADS=1`` by default; ``distributed/nanny.py``)
    in the worker's environment before starting it, and every child inherits it. With it, the
    checks that train a model ran slower than on one host (``benchmarks/batch_grading.py
    --variants 16 --workers 2 --scheduler local:2``, one run each, 2 cores): a trained
    submission's check phase took a median 59 s on ``local:2`` against 38 s in threads, the
    class 1.35x the threads' time; without it 43 s both ways and 1.22x (docs/benchmarks.md).
    A variable whose value differs from the nanny's is the course's own, and stays."""
    import dask

    environment = dict(os.environ if environment is None else environment)
    nanny = dask.config.get("distributed.nanny.pre-spawn-environ", default={}) or {}
    for name, value in nanny.items():
        if environment.get(name) == str(value):
            del environment[name]
    return environment


def _state(setup: WorkerSetup, config: AssignmentConfig | None = None) -> _WorkerState:
    """This worker process' state for ``setup``, made on first use: the checkers start
    (and import Keras) at once, and the isolation is probed with the folders it hides."""
    environment = setup.options.settings.environment(grading_environment())
    key = (setup.lab_folder, setup.hide, tuple(sorted(environment.items())))
    with _LOCK:
        if key not in _STATES:
            config = config or load_config(Path(setup.lab_folder))
            slots = worker_slots()
            size = cores_each(setup.host_slots or slots)
            pools = CheckerPools(config, environment, slots, size)
            pools.warm(setup.options.memory)
            base = Path(tempfile.mkdtemp(prefix="kerasgrade-worker-"))
            here = [Path(path) for path in setup.hide if Path(path).exists()]
            hidden = [config.folder, base, *pools.folders, *here]
            isolation = probe(tuple(path.resolve() for path in hidden))
            _STATES[key] = _WorkerState(
                config, grading_digest(config), pools, base, isolation, here,
                threading.Semaphore(slots),
            )  # fmt: skip
        return _STATES[key]


def prepare(setup: WorkerSetup) -> dict:
    """What the client checks of each worker before sending it work (run by ``Client.run``):
    its lab's ``grading_digest``, or why it has none. When the digest is the client's, the
    worker's state is made now (``_state``), so that its checkers warm up before the first
    task, and its isolation level is reported."""
    try:
        config = load_config(Path(setup.lab_folder))
        digest = grading_digest(config)
    except Exception as error:  # a worker without the lab: refused by the client, with this
        return {"digest": None, "error": f"{type(error).__name__}: {error}"}
    if digest != setup.digest:
        return {"digest": digest}
    isolation = _state(setup, config).isolation
    return {"digest": digest, "level": isolation.level, "degraded": isolation.degraded}


def _seed(store: Path, variable: str | None) -> set[str]:
    """Write the class store's entries (``{relative path: text}``) into ``store``."""
    store.mkdir(parents=True)
    if variable is None:
        return set()
    from distributed import Variable

    entries = Variable(variable).get(timeout=60)
    for relative, text in entries.items():
        path = store / relative
        path.parent.mkdir(exist_ok=True)
        path.write_text(text)
    return set(entries)


def grade_remote(job: RemoteJob) -> dict:
    """Grade ``job`` on this worker: ``{"report": GradeReport.to_record(), "measurements":
    {relative path: text} added by its checks, "worker": this worker's address}``. Raises WrongToolkit
    when this worker's ``grading_digest`` is not the client's (its grade would not be
    comparable)."""
    # imported here: a circular import otherwise (run imports the cluster, which imports this)
    from autograder.cohort.run import outcome_of

    setup = job.setup
    state = _state(setup)
    if state.digest != setup.digest:
        raise WrongToolkit(
            f"this worker's grading digest is {state.digest}, the client's {setup.digest}"
        )
    folder = Path(tempfile.mkdtemp(dir=state.base))
    try:
        submission = folder / "submission" / job.name
        submission.parent.mkdir()
        if job.is_folder:
            with zipfile.ZipFile(io.BytesIO(job.content)) as archive:
                archive.extractall(submission)
        else:
            submission.write_bytes(job.content)
        store = folder / "measurements"
        seeded = _seed(store, setup.store_variable)
        hidden = [*state.pools.folders, state.base, *state.hide]

        def graded() -> GradeReport:
            with state.notebooks:  # the slot's other task may be checking meanwhile
                run = start(
                    state.config,
                    submission,
                    options=setup.options,
                    hidden=hidden,
                    isolation=state.isolation,
                )
            if not isinstance(run, NotebookRun):
                return run
            with state.pools.lend() as pool:
                report = check_run(run, pool, options=setup.options, store=store)
                pool.warm(setup.options.memory)
            return report

        report = outcome_of(state.config, submission, graded)
        added = {path: text for path, text in entry_texts(store).items() if path not in seeded}
        return {
            "report": report.to_record(),
            "measurements": added,
            "worker": _address(),
        }
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def packed(path: Path) -> bytes:
    """A submission folder (a Gradescope ``submission_<id>``) as zip bytes, names relative to it."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for entry in sorted(path.rglob("*")):
            if entry.is_file():
                archive.write(entry, entry.relative_to(path).as_posix())
    return buffer.getvalue()
