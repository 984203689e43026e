"""Finding labs: in the working folder's ``assignments/``, or installed with the toolkit.

``--lab`` takes a lab folder's path or a lab's name. A name is looked up in
``./assignments/NAME`` first, then among the installed labs (the package
``rnnlab_assignments``); an installed lab is copied into ``./assignments/NAME`` before use,
because building writes into the lab's folder and an instructor edits the copy.
"""

from __future__ import annotations

import importlib
import re
import shutil
import tomllib
from pathlib import Path

from autograder.lab.config import CALIBRATION_FILE, CONFIG_FILE
from autograder.lab.folder import INTERFACE_FILE, SHIPPED_DIR, LabError

LABS_PACKAGE = "rnnlab_assignments"
WORKING_DIR = "assignments"  # under the working folder
NOT_COPIED = ("build", "dist", "__pycache__", "calibration-runs")


def _labs_package():
    return importlib.import_module(LABS_PACKAGE)


def installed_labs_dir() -> Path:
    """The folder of the labs installed with the toolkit."""
    return Path(_labs_package().__file__).resolve().parent


def default_lab() -> str:
    """The name of the lab used when no ``--lab`` is given (the installed labs' choice)."""
    return _labs_package().DEFAULT_LAB


def default_lab_folder() -> Path:
    """The installed default lab's folder (in a source checkout: ``assignments/<name>``)."""
    return installed_labs_dir() / default_lab()


def is_lab(folder: Path) -> bool:
    return (folder / CONFIG_FILE).is_file() and (folder / INTERFACE_FILE).is_file()


def labs_in(folder: Path) -> dict[str, Path]:
    """The labs directly under ``folder``, by name."""
    if not folder.is_dir():
        return {}
    return {path.name: path for path in sorted(folder.iterdir()) if is_lab(path)}


def available_labs(working: Path | None = None) -> dict[str, tuple[Path, str]]:
    """Every lab ``--lab`` can name: name -> (folder, "working folder" or "installed")."""
    found = {name: (path, "installed") for name, path in labs_in(installed_labs_dir()).items()}
    local = labs_in((working or Path.cwd()).resolve() / WORKING_DIR)
    found.update((name, (path, "working folder")) for name, path in local.items())
    return found


def copy_lab(source: Path, destination: Path) -> Path:
    """Copy a lab folder without its build output. Raises LabError if ``destination`` exists."""
    if destination.exists():
        raise LabError(f"{destination} already exists; pick another name or remove it.")
    shutil.copytree(source, destination, ignore=shutil.ignore_patterns(*NOT_COPIED))
    return destination


def resolve_lab(text: str | None, working: Path | None = None, announce=print) -> Path:
    """The folder of the lab that ``--lab TEXT`` names (the default lab for None).

    A path to a lab folder is used as it is. A name is ``./assignments/NAME`` if that exists,
    else an installed lab, copied there first (``announce`` says so). Raises LabError for a
    name or path that is no lab, listing the labs there are.
    """
    working = (working or Path.cwd()).resolve()
    text = text or default_lab()
    path = Path(text).expanduser()
    if is_lab(path):
        return path.resolve()
    local = working / WORKING_DIR / text
    if is_lab(local):
        return local
    installed = labs_in(installed_labs_dir())
    if text in installed and installed[text] != local:
        copy_lab(installed[text], local)
        announce(f"Copied the installed lab {text!r} to {local}; it is built there.")
        return local
    names = ", ".join(sorted(available_labs(working))) or "none"
    raise LabError(f"{text!r} is neither a lab folder nor a lab's name (labs: {names}).")


LAB_NAME = re.compile(r"[a-z][a-z0-9_]*")
TEXT_SUFFIXES = (".py", ".toml", ".j2", ".txt", ".md")
VARIABLES = re.compile(r'variables="([A-Z0-9_]+)"')


def new_lab(name: str, source: str | None = None, working: Path | None = None) -> Path:
    """Start the lab ``name`` in ``./assignments/NAME`` from a copy of ``source`` (a path or
    a name; the installed labs' starting point when None), renamed throughout: its config's
    name, its shipped modules given names of the new lab's own (``NAME_support.py`` for
    ``other_support.py``), so that the two never collide, and its environment variables
    (``NAME_PROFILE``, ``NAME_DATA``). Returns the new folder.

    Raises LabError for a name that is not a lowercase identifier or is taken.
    """
    if not LAB_NAME.fullmatch(name):
        raise LabError(f"{name!r} is not a lab name: use lowercase letters, digits and _.")
    working = (working or Path.cwd()).resolve()
    origin = resolve_lab(source or _labs_package().STARTER_LAB, working, announce=lambda _: None)
    folder = copy_lab(origin, working / WORKING_DIR / name)
    renames = {
        path.stem: f"{name}_{path.stem.split('_', 1)[-1]}"
        for path in (folder / SHIPPED_DIR).glob("*.py")
    }
    old_name = tomllib.loads((folder / CONFIG_FILE).read_text())["name"]
    # The environment variables a run's settings come in: a Dataset's ``variables`` prefix.
    shipped = " ".join(path.read_text() for path in (folder / SHIPPED_DIR).glob("*.py"))
    for prefix in set(VARIABLES.findall(shipped)):
        renames.update({f"{prefix}_{kind}": f"{name.upper()}_{kind}" for kind in ("PROFILE", "DATA")})  # fmt: skip
    pattern = re.compile(r"\b(" + "|".join(map(re.escape, renames)) + r")\b")
    for path in folder.rglob("*"):
        if path.is_file() and path.suffix in TEXT_SUFFIXES:
            text = pattern.sub(lambda match: renames[match.group(1)], path.read_text())
            text = VARIABLES.sub(f'variables="{name.upper()}"', text)
            if path.name == CONFIG_FILE:
                text = re.sub(
                    rf'^name = "{re.escape(old_name)}"', f'name = "{name}"', text, flags=re.M
                )
            path.write_text(text)
    for old, new in renames.items():
        if (folder / SHIPPED_DIR / f"{old}.py").is_file():
            (folder / SHIPPED_DIR / f"{old}.py").rename(folder / SHIPPED_DIR / f"{new}.py")
    (folder / CALIBRATION_FILE).unlink(missing_ok=True)  # measured for the other lab
    return folder
