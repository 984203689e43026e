"""A lab's training budgets as data, and what every lab's support module does on import.

A lab keeps its profiles in ``profiles.toml`` beside its support module, one table per
profile::

    [grading]
    check_epochs = 2
    notebook_epochs = 0      # the notebook trains nothing when graded

The lab's ``Profile`` dataclass is the schema: each field but ``name`` is a whole number, and
one typed ``int | None`` may be left out, meaning "as much as the lab asks for" (TOML has no
null). Every lab's profile has ``notebook_epochs``: the toolkit cuts a graded notebook's own
training to a token when it is 0. A schema that derives from ``GradingLimits`` also takes the
wall-clock limits the toolkit grades under in that profile (``autograder.grading.options``).
"""

from __future__ import annotations

import dataclasses
import os
import sys
import tomllib
import typing
from pathlib import Path

PROFILES_FILE = "profiles.toml"
REQUIRED_FIELDS = ("name", "notebook_epochs")
GRADING = "grading"  # the profile otter's own grading mode runs in
FULL = "full"  # a student's default, when the lab has one by that name


@dataclasses.dataclass(frozen=True, kw_only=True)
class GradingLimits:
    """Limits of a graded run in one profile, in seconds; left out: the toolkit's default
    (``autograder.grading.options``). A lab's profile schema derives from this to set them.

    ``phase_timeout_seconds`` bounds each phase of a submission (its notebook's run, its
    checks); ``cell_timeout_seconds`` bounds each cell of the notebook (a cell past it is
    interrupted and the next one runs; left out, only the phase's limit applies).
    """

    phase_timeout_seconds: int | None = None
    cell_timeout_seconds: int | None = None


class ProfileError(ValueError):
    """A profiles file that does not fit its schema; the message names the key and the fix."""


def load_profiles(path: Path, schema: type) -> dict:
    """``{name: schema(...)}`` from the TOML file at ``path``, checked against the dataclass
    ``schema``. Raises ProfileError for a missing, unknown or non-integer key, or a schema
    without ``REQUIRED_FIELDS``."""
    hints = typing.get_type_hints(schema)
    fields = [field.name for field in dataclasses.fields(schema) if field.name != "name"]
    if missing := [name for name in REQUIRED_FIELDS if name not in {"name", *fields}]:
        raise ProfileError(f"{schema.__name__} lacks the field(s) {', '.join(missing)}.")
    with open(path, "rb") as handle:
        try:
            tables = tomllib.load(handle)
        except tomllib.TOMLDecodeError as error:
            raise ProfileError(f"{path} is not valid TOML: {error}") from None
    profiles = {}
    for name, table in tables.items():
        where = f"{path.name} [{name}]"
        if unknown := sorted(set(table) - set(fields) - {"name"}):
            raise ProfileError(
                f"{where} has unknown key(s) {unknown}; {schema.__name__} has {fields}."
            )
        values = {"name": name}
        for field in fields:
            optional = type(None) in typing.get_args(hints[field])
            if field not in table:
                if not optional:
                    raise ProfileError(f"{where} lacks {field}, a whole number.")
                values[field] = None
                continue
            value = table[field]
            if type(value) is not int or value < 0:
                raise ProfileError(f"{where}: {field} must be a whole number, not {value!r}.")
            values[field] = value
        profiles[name] = schema(**values)
    return profiles


def profiles_beside(module_file: str, schema: type) -> dict:
    """The profiles in the ``profiles.toml`` next to the module at ``module_file``."""
    return load_profiles(Path(module_file).with_name(PROFILES_FILE), schema)


def otter_is_grading() -> bool:
    """True inside an otter grading run (otter switches its Notebook class into grading mode)."""
    otter = sys.modules.get("otter")
    notebook = getattr(otter, "Notebook", None)
    return bool(getattr(notebook, "_grading_mode", False))


def active_profile(profiles: dict, variable: str):
    """The profile named by the environment variable ``variable``, else ``grading`` in an
    otter grading run, else ``full``, else the first the lab declares. Raises ValueError for a
    name that is no profile."""
    name = os.environ.get(variable) or (GRADING if otter_is_grading() else FULL)
    if not os.environ.get(variable) and name not in profiles and profiles:
        name = next(iter(profiles))
    if name not in profiles:
        raise ValueError(f"{variable}={name!r} is not a profile; use one of {sorted(profiles)}.")
    return profiles[name]


def in_a_notebook() -> bool:
    """True in a Jupyter kernel."""
    shell = getattr(sys.modules.get("IPython"), "get_ipython", lambda: None)()
    return type(shell).__name__ == "ZMQInteractiveShell"


def import_keras_quietly() -> None:
    """Import Keras (and TensorFlow under it) with file descriptor 2 pointed at /dev/null.

    TensorFlow writes its start-up notices (oneDNN is on, CPU features) straight to the
    process's stderr before any log level applies, and a notebook shows them as red text
    under the first cell. Only the import is silenced; an import that fails still raises.
    Done in a notebook only, when Keras is not imported yet.
    """
    if "keras" in sys.modules or not in_a_notebook():
        return
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
            import keras  # noqa: F401
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def set_seeds(seed: int = 0) -> None:
    """Seed Python, NumPy and the Keras backend so that runs repeat."""
    import keras

    keras.utils.set_random_seed(seed)
