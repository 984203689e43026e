"""Which notebook a submission is: one rule for an .ipynb file, a zip (otter's export or a
whole folder zipped) and a folder (Gradescope's ``submission/``), used by ``rnnlab grade``,
the batch grader and the Gradescope entry point alike.

What students hand in besides the notebook is set aside: the ``__MACOSX/`` folder and the
``._name`` AppleDouble files that macOS Finder adds to a zip, Jupyter's
``.ipynb_checkpoints/``, and every other hidden file (``.DS_Store``). Of the notebooks left,
one is this assignment's if it is the only one, else the only one whose otter metadata names
the assignment, else the only one with the assignment's file name; otherwise the submission is
ambiguous and the reason lists the candidates.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable
from pathlib import Path, PurePosixPath

import nbformat

CLUTTER_PARTS = {"__MACOSX", ".ipynb_checkpoints"}
NOTEBOOK_SUFFIX = ".ipynb"


class InvalidSubmission(ValueError):
    """A file that is not a notebook we can run; the message says why."""


def is_clutter(name: str) -> bool:
    """Whether ``name`` (a path relative to the submission) is something an editor, an archiver
    or an operating system added rather than the student: hidden, or inside such a folder."""
    return any(part in CLUTTER_PARTS or part.startswith(".") for part in PurePosixPath(name).parts)


def decode(data: bytes) -> str:
    """A notebook file's text: UTF-8, with or without the byte-order mark Windows editors add."""
    return data.decode("utf-8-sig")


def otter_assignment(text: str) -> str | None:
    """The assignment name in a notebook's otter metadata, or None."""
    try:
        metadata = json.loads(text).get("metadata", {})
        name = metadata.get("otter", {}).get("assignment_name")
    except (ValueError, AttributeError):
        return None
    return name if isinstance(name, str) else None


def choose_notebook(
    names: list[str], read: Callable[[str], str], assignment: str, notebook_name: str, where: str
) -> str:
    """The one of ``names`` that is this assignment's notebook (rule in the module's doc).

    ``read(name)`` gives a candidate's text. Raises InvalidSubmission when there is no
    notebook, or several and none stands out (the message lists them).
    """
    candidates = sorted(
        name for name in names if name.lower().endswith(NOTEBOOK_SUFFIX) and not is_clutter(name)
    )
    if not candidates:
        raise InvalidSubmission(f"{where} holds no notebook (.ipynb).")
    if len(candidates) == 1:
        return candidates[0]
    ours = [name for name in candidates if otter_assignment(read(name)) == assignment]
    if len(ours) == 1:
        return ours[0]
    named = [name for name in (ours or candidates) if PurePosixPath(name).name == notebook_name]
    if len(named) == 1:
        return named[0]
    raise InvalidSubmission(
        f"{where} holds {len(candidates)} notebooks and none is clearly the one for "
        f"{assignment!r}: {', '.join(candidates)}. Submit only {notebook_name}."
    )


def read_submission(path: Path, assignment: str, notebook_name: str) -> nbformat.NotebookNode:
    """The notebook in an .ipynb file, or the assignment's notebook in a zip."""
    try:
        if path.suffix.lower() == ".zip":
            with zipfile.ZipFile(path) as archive:
                names = [info.filename for info in archive.infolist() if not info.is_dir()]

                def read(name: str) -> str:
                    return decode(archive.read(name))

                text = read(choose_notebook(names, read, assignment, notebook_name, path.name))
        else:
            text = decode(path.read_bytes())
        if not text.strip():
            raise InvalidSubmission(f"{path.name} is empty.")
        notebook = nbformat.reads(text, as_version=4)
    except InvalidSubmission:
        raise
    except (zipfile.BadZipFile, UnicodeDecodeError) as error:
        raise InvalidSubmission(f"{path.name} could not be opened: {error}.") from None
    except Exception as error:  # nbformat raises several kinds for text that is not a notebook
        raise InvalidSubmission(f"{path.name} is not a Jupyter notebook ({error}).") from None
    if not any(cell.cell_type == "code" for cell in notebook.cells):
        raise InvalidSubmission(f"{path.name} is a notebook without any code cell.")
    return notebook


def find_in_folder(folder: Path, assignment: str, notebook_name: str) -> Path:
    """The file to grade in a submission folder (Gradescope's ``submission/``): its notebook,
    chosen as in a zip, or else its one zip. Raises InvalidSubmission if there is neither."""
    files = {
        path.relative_to(folder).as_posix(): path for path in folder.rglob("*") if path.is_file()
    }
    kept = [name for name in files if not is_clutter(name)]
    if any(name.lower().endswith(NOTEBOOK_SUFFIX) for name in kept):

        def read(name: str) -> str:
            try:
                return decode(files[name].read_bytes())
            except (OSError, UnicodeDecodeError):
                return ""

        return files[choose_notebook(kept, read, assignment, notebook_name, "The submission")]
    archives = [name for name in kept if name.lower().endswith(".zip")]
    if len(archives) == 1:
        return files[archives[0]]
    found = ", ".join(sorted(kept)) or "nothing"
    raise InvalidSubmission(
        f"Expected the lab's notebook ({notebook_name}) or one zip holding it; found {found}."
    )
