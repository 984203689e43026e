"""A store of accuracy measurements, so that an architecture already trained is not trained again.

A hidden accuracy test trains a fresh copy of the student's model (``labkit.checks``) and is a
deterministic function of what it trains: the copy's architecture and compile settings, the
seed, the data and the budget. The store keeps, under a digest of all of that, the held-out
accuracy after each epoch of such a run; a later check of the same training reads them back
(``labkit.checks.judge``) instead of training, whatever its threshold. Measurements, not
verdicts: after a recalibration the same entries decide the new thresholds.

Only the trusted checker (``autograder.grading.trusted.check``) opens a store; notebooks never see its folder.
Same training, same accuracies: the same architecture trained in two processes on the same
number of threads gives bit-identical weights on this CPU build (measured for the lab's
embedding, CNN and CNN + LSTM models; ``tests/test_store.py`` checks one). Across thread
counts the CNN's weights differ in their last bits, so the key holds the thread counts.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
from functools import cache
from pathlib import Path

import platformdirs

from autograder.files import write_atomically
from autograder.grading.trusted.canonical import canonical_architecture, canonical_compile
from autograder.lab.digest import file_sha256, files_sha256, package_versions

STORE_DIR = "measurements"  # in an assignment's dist/, a batch's output and the Gradescope zip


CACHE_NAME = "kerasgrade"
OLD_CACHE_NAME = "rnnlab"  # the toolkit's old name: its cache is read, never written


def default_folder() -> Path:
    """Where ``kerasgrade grade FILE`` keeps measurements: the user's cache folder."""
    return Path(platformdirs.user_cache_dir(CACHE_NAME)) / STORE_DIR


def old_folder() -> Path:
    """Where the toolkit kept them under its old name (``rnnlab``)."""
    return Path(platformdirs.user_cache_dir(OLD_CACHE_NAME)) / STORE_DIR


def user_store(config) -> Path | None:
    """The user's store for ``kerasgrade grade FILE``, given the measurements of ``config``'s
    build (``dist/measurements``) that it lacks; None (every check trains, as with
    ``--no-reuse``) when the cache folder cannot be written."""
    folder = default_folder()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        store = MeasurementStore(folder)
        store.adopt(config.dist_dir / STORE_DIR)
        if old_folder().is_dir():
            store.adopt(old_folder())  # what was measured under the old name still counts
    except OSError as error:
        print(f"Not reusing measurements: cannot write {folder} ({error}).", flush=True)
        return None
    return folder


_file_digest = cache(file_sha256)  # a data file is read once per checker


@cache
def _measurement_code(shipped: Path | None) -> str:
    """SHA-256 of the code that loads the data, applies the budget and trains (a change to
    it may change a measurement): the lab's shipped modules (in ``shipped``) and the
    toolkit's checking library."""
    import labkit

    library = Path(labkit.__file__).resolve().parent
    return files_sha256(
        sorted(library.glob("*.py")) + (sorted(shipped.glob("*.py")) if shipped else [])
    )


def _threads() -> dict[str, int]:
    """TensorFlow's thread pools as this checker trains (``environment.with_threads``; unset
    means one thread per core). The same training repeats bit for bit on the same number of
    threads, not across numbers: the CNN's weights after its check differ in their last bits
    between one and two threads (measured), so the thread counts are part of the key."""
    cores = len(os.sched_getaffinity(0))
    return {
        pool: int(os.environ.get(variable) or 0) or cores
        for pool, variable in (
            ("intra_op", "TF_NUM_INTRAOP_THREADS"),
            ("inter_op", "TF_NUM_INTEROP_THREADS"),
        )
    }


def _versions() -> dict[str, str]:
    """Keras' backend and the grading packages' versions (``digest.package_versions``)."""
    import keras

    return {"backend": keras.backend.backend(), **package_versions()}


ENTRIES = "??/*.json"  # an entry's path in a store's folder: KEY[:2]/KEY.json (``_path``)


def entry_files(folder: Path) -> list[Path]:
    """The entries of the store in ``folder``, in order; none for a missing folder."""
    return sorted(Path(folder).glob(ENTRIES))


def entry_texts(folder: Path | None) -> dict[str, str]:
    """The store's entries as ``{path relative to folder: JSON text}``: what travels between
    a cluster's client and its workers (``autograder.cohort``). Empty for None."""
    if folder is None:
        return {}
    return {path.relative_to(folder).as_posix(): path.read_text() for path in entry_files(folder)}


class MeasurementStore:
    """Accuracies per epoch under a key, one small JSON file each in ``folder``.

    The interface ``labkit.checks.MEASUREMENT_STORE`` expects: ``key``, ``get``, ``put``.
    ``lab`` (``autograder.lab.folder.Lab``): whose measurement code the keys cover.
    ``last`` says what the latest check did: ``"reused"``, ``"trained"`` or None (no lookup).
    Files are written atomically, so checkers sharing a folder never read half an entry.
    """

    def __init__(self, folder: Path, lab=None):
        self.folder = Path(folder)
        self.shipped = lab.shipped_dir if lab is not None else None
        self.last: str | None = None
        self._claimed: int | None = None  # the lock file descriptor of a claimed training

    def key(self, model, identity: dict) -> str:
        """A 64-hex digest of everything that decides what training ``model`` measures:
        its canonical architecture and compile settings, ``identity`` (task, seed, data
        source, examples, epochs, batch size), a local data file's contents, the
        measurement code, the versions of Keras, its backend and NumPy, and the threads
        TensorFlow trains on."""
        identity = dict(identity)
        data = identity.get("data")
        if isinstance(data, str) and os.path.isfile(data):
            identity["data"] = {"file": _file_digest(os.path.abspath(data))}
        material = {
            "architecture": canonical_architecture(model.to_json()),
            "compile": canonical_compile(model.get_compile_config() or {}),
            "identity": identity,
            "code": _measurement_code(self.shipped),
            "versions": _versions(),
            "threads": _threads(),
        }
        return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()

    def _path(self, key: str) -> Path:
        return self.folder / key[:2] / f"{key}.json"

    def _read(self, key: str) -> list[float] | None:
        """The accuracies recorded under ``key``, or None (none, or an unreadable entry)."""
        try:
            accuracies = json.loads(self._path(key).read_text())["accuracies"]
        except (OSError, ValueError, KeyError, TypeError):
            return None
        if not isinstance(accuracies, list) or not all(
            isinstance(value, float) for value in accuracies
        ):
            return None
        return accuracies

    def get(self, key: str) -> list[float] | None:
        """The accuracies recorded under ``key``, or None (none, or an unreadable entry).

        When there are none, this checker claims the training before it answers: if another
        checker sharing the folder is training the same key (two students of a class with
        the same new architecture, graded side by side), it waits for that training to end
        and reads its result instead of training the same thing again. The claim (an
        exclusive ``flock`` on the key's lock file, which the system drops if the checker
        dies) holds until ``put``, or ends at once when the wait brought an entry."""
        accuracies = self._read(key)
        if accuracies is None and self._claim(key):
            accuracies = self._read(key)  # recorded by the checker that held the claim
            if accuracies is not None:
                self._release()
        if accuracies is not None:
            self.last = "reused"
        return accuracies

    def _claim(self, key: str) -> bool:
        """Hold the claim on training ``key``, waiting while another checker holds it; False
        when the folder cannot hold a lock file (the check then trains unclaimed)."""
        self._release()
        path = self._path(key).with_suffix(".lock")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError:
            return False
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        self._claimed = descriptor
        return True

    def _release(self) -> None:
        """Drop the claim this checker holds, if any."""
        if self._claimed is not None:
            os.close(self._claimed)  # closing the descriptor drops its flock
            self._claimed = None

    def adopt(self, other: Path) -> int:
        """Copy the entries of the store in ``other`` (one written by trusted code: a build's)
        that this one lacks; how many. A missing ``other`` adds nothing."""
        added = 0
        for entry in entry_files(other):
            target = self.folder / entry.parent.name / entry.name
            if not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(entry, target)
                added += 1
        return added

    def put(self, key: str, accuracies: list[float]) -> None:
        """Record ``accuracies`` under ``key``, keeping a longer record already there; then
        drop the claim (``get``), so that checkers waiting for this training read it."""
        self.last = "trained"
        try:
            if len(self._read(key) or []) > len(accuracies):
                return
            record = {"accuracies": [float(a) for a in accuracies]}
            write_atomically(self._path(key), json.dumps(record))
        finally:
            self._release()

    def close(self) -> None:
        """Drop any claim still held (a check that stopped before it recorded anything)."""
        self._release()


class NoReuse:
    """The store of a run that reuses nothing (``--no-reuse``): every accuracy check trains
    and nothing is recorded, but ``last`` still says ``"trained"`` after an accuracy check,
    so its report and ``results.json`` say so as a reusing run's do."""

    def __init__(self):
        self.last: str | None = None

    def key(self, model, identity: dict) -> str:
        return ""  # never looked up

    def get(self, key: str) -> None:
        return None

    def put(self, key: str, accuracies: list[float]) -> None:
        self.last = "trained"

    def close(self) -> None:
        pass
