"""A lab: one folder that holds everything an assignment is built from, read through a small
interface. The toolkit knows no lab by name; ``kerasgrade labs`` lists the ones it can find.

A lab folder holds::

    assignment.toml      name, title, points per test, fallback accuracy thresholds
    calibration.toml     thresholds measured by ``kerasgrade calibrate`` (optional)
    requirements.txt     what a graded notebook may import
    __init__.py          the interface: the names below
    reference/           the reference builders (``build_*() -> keras.Model``)
    template/lab.ipynb.j2  the notebook, with the helpers of ``autograder.build.notebook``
    shipped/             the modules copied beside the student's notebook (under names of the
                         lab's own, so that labs never collide); ``labkit`` ships with them
    variants/            the variant corpus (``kerasgrade verify-tests``)

and its ``__init__.py`` declares ``LAB = LabSpec(...)`` (below): its questions, its shipped
support and checks modules, the files a graded notebook reads, its data sources and accuracy
tasks.

Built output goes into the lab folder (``build/`` and ``dist/``); an installed lab is first
copied into the working folder (``autograder.lab.find``).
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import inspect
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from autograder.errors import ToolkitError

INTERFACE_FILE = "__init__.py"
SHIPPED_DIR = "shipped"
TEMPLATE_DIR = "template"
REFERENCE_DIR = "reference"
VARIANTS_DIR = "variants"
LIBRARY = "labkit"  # the toolkit's checking library, shipped beside every lab's notebook


@dataclass(frozen=True)
class Download:
    """A data file a named source downloads (the Gradescope image fetches it once, at setup)."""

    source: str  # the named source that downloads it
    origin: str  # URL
    sha256: str
    file_name: str


@dataclass(frozen=True)
class DataOptions:
    """The data sources a lab's runs may name: ``sources`` maps each named source to its data
    kind (the key of the thresholds calibrated for it); ``file_kind`` is the kind of a local
    file given by its path (None: the lab takes no file); ``refused`` maps a source grading
    may not use to the sentence that says why."""

    sources: dict[str, str]
    default: str
    file_kind: str | None = None
    refused: dict[str, str] = field(default_factory=dict)
    download: Download | None = None

    @classmethod
    def of(cls, dataset) -> DataOptions:
        """The one source of a ``labkit.dataset.Dataset``, the default."""
        return cls(sources={dataset.source: dataset.kind}, default=dataset.source)


@dataclass(frozen=True, kw_only=True)
class AccuracyTask:
    """A kind of accuracy check. ``chance``: what guessing scores (calibration keeps
    thresholds above it); ``data_kind``: the one data kind the task always trains on, or None
    when it trains on the run's data source; ``dataset``: the ``labkit.dataset.Dataset`` it
    trains on, from which ``chance`` (when left out) and the held-out count are derived."""

    chance: float | None = None
    data_kind: str | None = None
    dataset: object | None = None

    def __post_init__(self):
        if self.chance is None and self.dataset is None:
            raise LabError("An AccuracyTask needs its chance level or the dataset to derive it.")


@dataclass(frozen=True, kw_only=True)
class LabSpec:
    """A lab's interface, declared once in its ``__init__.py`` as ``LAB = LabSpec(...)``.

    ``questions``: question name -> a question of ``autograder.lab.questions``, in notebook
    order; ``support_module``: the shipped module the notebook imports; ``checks_module``:
    the shipped module the tests call (``check_*`` functions and ``MEASUREMENTS``: accuracy
    task -> function that trains a fresh copy); ``sandbox_files``: the shipped files a
    graded notebook reads beside it.

    ``dataset``: the lab's one ``labkit.dataset.Dataset`` (defined in the support module),
    from which come its profiles, the two environment variables a run's settings are passed
    in, its data source and one accuracy task named after its kind. A lab without one
    declares ``data`` (a ``DataOptions``) and ``accuracy_tasks`` (task -> ``AccuracyTask``),
    and its support module defines ``PROFILES`` (name -> profile with ``notebook_epochs``),
    ``PROFILE_ENV`` and ``DATA_ENV``; ``held_out_examples(task, profile) -> int``: the
    examples an accuracy check of ``task`` is scored on in ``profile`` (calibration's
    binomial error), needed only for tasks without a dataset. Raises LabError when neither
    ``dataset`` nor ``data`` is given.
    """

    questions: dict
    support_module: str
    checks_module: str
    sandbox_files: tuple[str, ...]
    dataset: object | None = None
    data: DataOptions | None = None
    accuracy_tasks: dict[str, AccuracyTask] = field(default_factory=dict)
    held_out_examples: Callable[[str, str], int] | None = None

    def __post_init__(self):
        dataset = self.dataset
        if dataset is None:
            if self.data is None:
                raise LabError("A LabSpec needs its dataset, or its data and accuracy_tasks.")
            return
        if self.data is None:
            object.__setattr__(self, "data", DataOptions.of(dataset))
        if not self.accuracy_tasks:
            tasks = {dataset.kind: AccuracyTask(dataset=dataset, data_kind=dataset.kind)}
            object.__setattr__(self, "accuracy_tasks", tasks)


class LabError(ToolkitError, ValueError):
    """A lab folder that cannot be loaded; the message says what is missing."""


@dataclass(frozen=True)
class Lab:
    """A loaded lab (see the module docstring)."""

    folder: Path
    module: object  # the interface module

    @property
    def package(self) -> str:
        return self.module.__name__

    @property
    def spec(self) -> LabSpec:
        return self.module.LAB

    @property
    def questions(self) -> dict:
        return self.spec.questions

    @property
    def data(self) -> DataOptions:
        return self.spec.data

    @property
    def accuracy_tasks(self) -> dict[str, AccuracyTask]:
        return self.spec.accuracy_tasks

    @property
    def checks_module(self) -> str:
        return self.spec.checks_module

    @property
    def support(self):
        """The shipped support module (imports no Keras)."""
        return importlib.import_module(self.spec.support_module)

    @property
    def checks(self):
        return importlib.import_module(self.spec.checks_module)

    def chance(self, task: str) -> float:
        """What guessing scores on accuracy ``task``: declared, or derived from its dataset
        (``labkit.dataset.Dataset.chance``, which loads the data)."""
        declared = self.accuracy_tasks[task]
        return declared.chance if declared.chance is not None else declared.dataset.chance()

    def held_out_examples(self, task: str, profile: str) -> int:
        """How many held-out examples an accuracy check of ``task`` is scored on in
        ``profile``: its dataset's, else what the lab's ``held_out_examples`` says."""
        declared = self.accuracy_tasks[task]
        if declared.dataset is not None:
            return declared.dataset.held_out()
        return self.spec.held_out_examples(task, profile)

    @property
    def profiles(self) -> dict:
        """Profile name -> profile: the dataset's, else the support module's ``PROFILES``."""
        dataset = self.spec.dataset
        return dataset.profiles if dataset is not None else self.support.PROFILES

    @property
    def variables(self) -> tuple[str, str]:
        """The environment variables a run's profile and data source are passed in: the
        dataset's, else the support module's ``PROFILE_ENV`` and ``DATA_ENV``."""
        dataset = self.spec.dataset
        if dataset is not None:
            return dataset.profile_variable, dataset.data_variable
        return self.support.PROFILE_ENV, self.support.DATA_ENV

    @property
    def shipped_dir(self) -> Path:
        return self.folder / SHIPPED_DIR

    @property
    def template_dir(self) -> Path:
        return self.folder / TEMPLATE_DIR

    @property
    def variants_dir(self) -> Path:
        return self.folder / VARIANTS_DIR

    def shipped_files(self) -> list[Path]:
        """The files copied beside the student's notebook, without the library."""
        return sorted(p for p in self.shipped_dir.iterdir() if p.is_file() and p.suffix != ".pyc")

    def sandbox_files(self) -> list[Path]:
        return [self.shipped_dir / name for name in self.spec.sandbox_files]

    def builders(self) -> dict:
        """Every ``build_*`` function of the reference modules, by name."""
        found = {}
        for path in sorted((self.folder / REFERENCE_DIR).glob("*.py")):
            if path.stem == "__init__":
                continue
            module = importlib.import_module(f"{self.package}.{REFERENCE_DIR}.{path.stem}")
            found.update(
                (name, function)
                for name, function in inspect.getmembers(module, inspect.isfunction)
                if name.startswith("build_") and function.__module__ == module.__name__
            )
        return found

    def code_files(self) -> list[Path]:
        """The lab's code and data that decide a grade (not its build output or corpus)."""
        skipped = {"build", "dist", VARIANTS_DIR, "__pycache__"}
        return sorted(
            path
            for path in self.folder.rglob("*")
            if path.is_file()
            and not skipped & set(path.relative_to(self.folder).parts)
            and path.suffix in (".py", ".toml", ".j2", ".txt")
        )

    def data_kind(self, task: str, source_kind: str) -> str:
        """The thresholds' data kind for an accuracy check of ``task`` on a run whose data
        source has kind ``source_kind``."""
        return self.accuracy_tasks[task].data_kind or source_kind


def _package_name(folder: Path) -> str:
    digest = hashlib.sha256(str(folder).encode()).hexdigest()[:10]
    return f"_rnnlab_lab_{folder.name.replace('-', '_')}_{digest}"


def load_lab(folder: Path) -> Lab:
    """The lab in ``folder``, its shipped modules made importable; loaded once per folder,
    however the path is spelled (it is resolved first).

    Raises LabError when the folder has no interface or the interface lacks a name.
    """
    return _load_resolved(Path(folder).resolve())


@cache
def _load_resolved(folder: Path) -> Lab:
    """``load_lab`` for a resolved path (the cache's key)."""
    interface = folder / INTERFACE_FILE
    if not interface.is_file():
        raise LabError(f"{folder} is not a lab folder: it has no {INTERFACE_FILE}.")
    shipped = str(folder / SHIPPED_DIR)
    if shipped not in sys.path:
        sys.path.insert(0, shipped)
    name = _package_name(folder)
    spec = importlib.util.spec_from_file_location(
        name, interface, submodule_search_locations=[str(folder)]
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    if not isinstance(getattr(module, "LAB", None), LabSpec):
        raise LabError(
            f"{interface} does not declare its lab: add `LAB = LabSpec(...)` "
            "(autograder.lab.folder.LabSpec)."
        )
    return Lab(folder, module)
