"""``rnnlab grade DIR_OR_FILES... -o OUT``: grade a whole class without losing a submission.

Every file found gets a row in the gradebook, whatever happened to it: a notebook that
loops, crashes its kernel or is not a notebook at all is recorded with its status and a
reason, and the others are graded as usual. Each submission's result is saved as soon as it
is known (``OUT/results/``, one JSON file each, written atomically), so an interrupted run
resumes where it stopped; the gradebook, feedback files and HTML report are rebuilt from
those results after each submission.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass
from pathlib import Path

import psutil

from .checkers import CheckerPools
from .config import AssignmentConfig
from .digest import file_sha256, grading_digest
from .environment import available_cores, cores_each
from .execute import GRADER_ERROR
from .grade import (
    GradeError,
    GradeReport,
    NotebookRun,
    check_run,
    check_submission_path,
    open_submission,
    prepare_store,
    run_notebook,
)
from .isolation import Isolation, probe
from .limits import PHASE_TIMEOUT_SECONDS, Stopped, allow_new_commands, stop_everything
from .report import write_html_report
from .settings import RunSettings
from .store import STORE_DIR, MeasurementStore
from .submission import is_clutter

RESULTS_DIR = "results"
FEEDBACK_DIR = "feedback"
GRADEBOOK = "gradebook.csv"
REPORT = "report.html"
# A folder of Gradescope's "Download submissions" export: one student's upload, graded as one
# submission whose notebook is chosen as the Gradescope entry point chooses it.
GRADESCOPE_FOLDER = re.compile(r"^submission_\d+$")
# Student ids in the names that course sites give downloaded files: Gradescope's
# submission_<id> folders and Canvas' <name>_[late_]<id>_<submission id>_<file>.
STUDENT_ID_PATTERNS = (
    re.compile(r"(?:^|/)submission_(\d+)(?:/|$)"),
    re.compile(r"(?:^|/)[a-z]+_(?:late_)?(\d+)_\d+_[^/]*$"),
)
GRADED = "graded"


class BatchError(ValueError):
    """The batch cannot start (a path that does not exist, an output folder in the way)."""


@dataclass(frozen=True)
class Submission:
    path: Path
    name: str  # its path relative to the folder it was found in
    key: str  # unique and safe as a file name: names this submission's outputs
    student: str  # "" when its path does not say


def collect(inputs: list[Path], out: Path) -> list[Submission]:
    """Every file under the input folders (hidden files, checkpoints and ``out`` skipped) and
    every input file, each once, keyed by its path relative to its input."""
    found: dict[Path, str] = {}
    out = out.resolve()
    for given in inputs:
        if not given.exists():
            raise BatchError(f"{given} does not exist.")
        if given.is_file():
            found.setdefault(given.resolve(), given.name)
            continue
        for path in sorted(given.rglob("*")):
            relative = path.relative_to(given)
            if folder := gradescope_folder(given, relative):
                found.setdefault(folder.resolve(), folder.relative_to(given).as_posix())
                continue
            if (
                path.is_file()
                and not is_clutter(relative.as_posix())
                and not path.resolve().is_relative_to(out)
            ):
                found.setdefault(path.resolve(), relative.as_posix())
    if not found:
        raise BatchError(f"No files to grade in {', '.join(map(str, inputs))}.")
    submissions, keys = [], set()
    for path, name in found.items():
        key = re.sub(r"[^A-Za-z0-9._-]", "_", name.replace("/", "__"))
        while key in keys:
            key += "_"
        keys.add(key)
        submissions.append(Submission(path, name, key, student_id(name)))
    return submissions


def gradescope_folder(given: Path, relative: Path) -> Path | None:
    """The ``submission_<id>`` folder that ``relative`` (a path under ``given``) lies in."""
    for depth, part in enumerate(relative.parts[:-1]):
        if GRADESCOPE_FOLDER.match(part):
            return given.joinpath(*relative.parts[: depth + 1])
    return None


def student_id(name: str) -> str:
    for pattern in STUDENT_ID_PATTERNS:
        if match := pattern.search(name.lower()):
            return match.group(1)
    return ""


def write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to a temporary file beside ``path``, then rename it over ``path``: a
    reader (or an interrupted run) sees the old file or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def record_of(submission: Submission, report: GradeReport, digest: str, run: dict) -> dict:
    """What the gradebook keeps of one graded submission."""
    status = GRADED if report.status == "completed" else report.status
    failed = [r for r in report.results if r.points < r.max_points]
    reason = report.message if status != GRADED else (
        f"{len(failed)} test(s) failed; see the feedback file." if failed else "All tests passed."
    )  # fmt: skip
    reason = " ".join([reason, *report.stopped_cells])
    seconds = sum(report.seconds.get(phase, 0) for phase in ("execute", "check"))
    return {
        **_identity(submission, digest, run),
        "status": status,
        "reason": reason,
        "scores": report.scores,
        "possible": report.possible,
        "total": report.auto_score,
        "feedback": f"{report.table()}\n\n{report.feedback()}",
        "tests": [asdict(result) for result in report.results],  # for the report's class faults
        "seconds": round(seconds, 1),
    }


def failure_record(
    submission: Submission, config: AssignmentConfig, digest: str, run: dict, status: str, why: str
) -> dict:
    """A submission that could not be graded: no points, the status and why."""
    return {
        **_identity(submission, digest, run),
        "status": status,
        "reason": why,
        "scores": {
            q: None if config.is_manual(q) or status == GRADER_ERROR else 0.0 for q in config.points
        },
        "possible": {q: config.question_points(q) for q in config.points},
        "total": 0.0,
        "feedback": f"Status: {status}. {why}",
        "seconds": 0.0,
    }


def _identity(submission: Submission, digest: str, run: dict) -> dict:
    """Which file, whose, and under which settings: what decides whether to grade it again."""
    return {
        "key": submission.key,
        "file": submission.name,
        "student": submission.student,
        "sha256": digest,
        **run,
    }


@dataclass
class Batch:
    """One grading run over a class: where results go and how each submission is graded."""

    config: AssignmentConfig
    out: Path
    settings: RunSettings
    timeout: float | None  # per phase of each submission
    memory: int  # bytes per process tree of a phase
    hide: list[Path]  # folders no notebook may see: the inputs and ``out``
    isolation: Isolation  # the level notebooks run at (``isolation.probe``)
    cell_timeout: float | None = None  # per cell of a notebook; None: the profile's
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
            **self.settings.record(),
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
        return record if same and record.get("status") != GRADER_ERROR else None

    def run_one(
        self, submission: Submission, digest: str, hidden: list[Path]
    ) -> NotebookRun | dict:
        """Phase 1 for one submission (``grade.run_notebook``; ``hidden``: the checkers'
        folders): its notebook's run, waiting for its checks, or its record when there is
        nothing to check (an invalid or wrong file, a fault of ours)."""

        def notebook_run() -> NotebookRun | GradeReport:
            check_submission_path(submission.path)
            notebook = open_submission(self.config, submission.path)
            if isinstance(notebook, GradeReport):
                return notebook
            return run_notebook(
                self.config,
                submission.path,
                notebook,
                settings=self.settings,
                timeout=self.phase_timeout,
                memory=self.memory,
                hidden=[*hidden, *self.hide, *([self.store] if self.store else [])],
                isolation=self.isolation,
                cell_timeout=self.cell_timeout,
            )

        return self.recorded(submission, digest, notebook_run)

    def check_one(
        self, submission: Submission, digest: str, run: NotebookRun, checkers: CheckerPools
    ) -> dict:
        """Phase 2 for one submission (``grade.check_run``) with a pool ``checkers`` lends:
        its record."""

        def checked() -> GradeReport:
            with checkers.lend() as pool:
                report = check_run(
                    run, pool, timeout=self.phase_timeout, memory=self.memory, store=self.store
                )
                pool.warm(self.memory)  # ready for its next submission: replaced if it grew
            return report

        return self.recorded(submission, digest, checked)

    @property
    def phase_timeout(self) -> float:
        return self.timeout or PHASE_TIMEOUT_SECONDS[self.settings.profile]

    def recorded(self, submission: Submission, digest: str, step: Callable) -> NotebookRun | dict:
        """``step()``, its report made a record; whatever goes wrong becomes the recorded
        status (``invalid-file``, or ``grader-error`` for a fault of ours)."""
        run = self.run_settings
        try:
            outcome = step()
        except GradeError as error:
            return failure_record(submission, self.config, digest, run, "invalid-file", str(error))
        except Stopped:
            raise
        except Exception as error:  # our fault, not the student's: record it, keep going
            why = f"The grader failed ({type(error).__name__}: {error}); rerun to try again."
            return failure_record(submission, self.config, digest, run, GRADER_ERROR, why)
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
        batch.config, batch.settings.environment(), workers, cores_each(workers)
    )
    if pending:
        checkers.warm(batch.memory)  # while the first notebooks run
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
                write_summaries(batch, [records[s.key] for s in submissions if s.key in records])
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
    write_summaries(batch, ordered)
    return ordered


@dataclass
class Counts:
    total: int
    done: int = 0
    failed: int = 0

    def add(self, status: str) -> None:
        self.done += 1
        self.failed += status != GRADED

    def bar(self, width: int = 20) -> str:
        filled = round(width * self.done / max(1, self.total))
        return (
            f"[{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total} done, "
            f"{self.failed} failed, {self.total - self.done} remaining"
        )


def summary(record: dict) -> str:
    possible = sum(v for q, v in record["possible"].items() if record["scores"][q] is not None)
    text = f"{record['status']}, {record['total']:g}/{possible:g}"
    return text if record["status"] == GRADED else f"{text} ({record['reason']})"


def gradebook_csv(config: AssignmentConfig, records: list[dict]) -> str:
    """One row per submission; manual questions are left blank for the person who grades them."""
    questions = list(config.points)
    possible = sum(config.question_points(q) for q in questions if not config.is_manual(q))
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["file", "student", "status", "reason", *questions, "total", "possible"])
    for record in records:
        text = [record["file"], record["student"], record["status"], record["reason"]]
        scores = ["" if (s := record["scores"].get(q)) is None else f"{s:g}" for q in questions]
        total = "" if record["status"] == GRADER_ERROR else f"{record['total']:g}"
        totals = [total, f"{possible:g}"]
        writer.writerow([*map(spreadsheet_safe, text), *scores, *totals])
    return buffer.getvalue()


def spreadsheet_safe(text: str) -> str:
    """Text a spreadsheet will not run as a formula: file names and error messages come from
    students, and ``=HYPERLINK(...)`` in a cell is code to Excel."""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def write_feedback(out: Path, record: dict) -> None:
    """The student's own file: points per question and every failed test's message."""
    student = f" (student {record['student']})" if record["student"] else ""
    text = f"Submission: {record['file']}{student}\n{record['feedback']}\n"
    write_atomically(out / FEEDBACK_DIR / f"{record['key']}.txt", text)


def write_summaries(batch: Batch, records: list[dict]) -> None:
    """The gradebook and the HTML report over ``records``, each written atomically."""
    write_atomically(batch.out / GRADEBOOK, gradebook_csv(batch.config, records))
    write_html_report(
        batch.out / REPORT,
        batch.config,
        records,
        write_atomically,
        batch.isolation,
        feedback_dir=FEEDBACK_DIR,
    )


def closing_summary(records: list[dict], seconds: float) -> str:
    statuses: dict[str, int] = {}
    for record in records:
        statuses[record["status"]] = statuses.get(record["status"], 0) + 1
    graded_times = [r["seconds"] for r in records if r["seconds"]] or [0.0]
    return (
        f"{len(records)} submission(s): "
        + ", ".join(f"{count} {status}" for status, count in sorted(statuses.items()))
        + f". Wall time {seconds:.0f} s; median per graded submission {statistics.median(graded_times):.0f} s."
    )


def check_hideable(paths: list[Path]) -> None:
    """Refuse to hide a folder the sandbox itself needs (the grader's Python, its temporary
    folder): every notebook would then fail to start."""
    needed = {Path(sys.prefix), Path(sys.base_prefix), Path(tempfile.gettempdir())}
    for path in paths:
        clash = [n for n in needed if n.resolve().is_relative_to(path.resolve())]
        if clash:
            raise BatchError(
                f"{path} holds {clash[0]}, which grading needs, yet notebooks must not see it "
                "(it holds submissions or results). Put the submissions in a folder of their "
                "own and choose an output folder elsewhere."
            )


# What one grading worker may hold at once: its notebook's kernel (about 1 GiB with the lab's
# models) and its warm checker (retired above half the default 4 GiB limit: ``checkers``).
WORKER_MEMORY_BYTES = 3 * 2**30


def default_workers() -> int:
    """Submissions graded at once by default: one per core and one more, as far as memory
    allows (``WORKER_MEMORY_BYTES`` each). A worker spends part of every submission not
    computing (starting its sandbox and kernel, or waiting while another worker's checker
    trains the model it needs, ``store.MeasurementStore.get``); the extra one keeps the cores
    busy meanwhile. On this project's 2-core machine a class of 16 drawn from the variant
    corpus (``benchmarks/batch_grading.py``'s) took 146 s with 3 workers and 164 s with 2."""
    by_memory = psutil.virtual_memory().available // WORKER_MEMORY_BYTES
    return max(1, min(available_cores() + 1, by_memory))


def grade_class(
    config: AssignmentConfig,
    inputs: list[Path],
    out: Path,
    *,
    settings: RunSettings,
    timeout: float | None,
    memory: int,
    workers: int,
    force: bool = False,
    progress: Callable[[str], None] = lambda line: print(line, file=sys.stderr, flush=True),
    cell_timeout: float | None = None,
    reuse: bool = True,
) -> list[dict]:
    """Grade every submission in ``inputs`` into ``out``; notebooks see neither.

    With ``reuse``, accuracy checks share measurements through ``out/measurements``
    (``autograder.store``): an architecture trained once, by any worker, is not trained again.
    """
    if out.exists() and not out.is_dir():
        raise BatchError(f"The output {out} is a file, not a folder.")
    submissions = collect(inputs, out)
    hide = [out, *(path if path.is_dir() else path.parent for path in inputs)]
    if os.geteuid() == 0:  # the levels that hide folders need root (autograder.isolation)
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
    batch = Batch(config, out, settings, timeout, memory, hide, isolation, cell_timeout, store)
    started = time.perf_counter()
    records = run_batch(batch, submissions, workers=workers, force=force, progress=progress)
    progress(closing_summary(records, time.perf_counter() - started))
    progress(
        f"Gradebook: {out / GRADEBOOK}; report: {out / REPORT}; feedback: {out / FEEDBACK_DIR}/"
    )
    return records
