"""Which notebook a submission is: one rule for an .ipynb file, a zip (otter's export or a
whole folder zipped) and a folder (Gradescope's ``submission/``), used by ``kerasgrade grade``,
the batch grader and the Gradescope entry point alike.

What students hand in besides the notebook is set aside: the ``__MACOSX/`` folder and the
``._name`` AppleDouble files that macOS Finder adds to a zip, Jupyter's
``.ipynb_checkpoints/``, and every other hidden file (``.DS_Store``). Of the notebooks left,
one is this assignment's if it is the only one, else the only one whose otter metadata names
the assignment, else the only one with the assignment's file name; otherwise the submission is
ambiguous and the reason lists the candidates. Files are told apart by content: a zip by its
signature, a notebook by its JSON, so ``lab.ipynb.txt`` (a browser's "Save as") is the
notebook it holds; zip member names are read with either slash (Windows' ``Compress-Archive``).
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


def member_path(name: str) -> PurePosixPath:
    """A path inside a submission as its parts: a zip made by Windows PowerShell 5.1's
    ``Compress-Archive`` writes backslashes between them, against the zip specification
    (APPNOTE.TXT 4.4.17: "All slashes MUST be forward slashes")."""
    return PurePosixPath(name.replace("\\", "/"))


def is_clutter(name: str) -> bool:
    """Whether ``name`` (a path relative to the submission) is something an editor, an archiver
    or an operating system added rather than the student: hidden, or inside such a folder."""
    return any(part in CLUTTER_PARTS or part.startswith(".") for part in member_path(name).parts)


def is_notebook_text(text: str) -> bool:
    """Whether ``text`` is a Jupyter notebook's JSON (an object with its cells, or the
    worksheets of format 3), whatever the file is called: a browser that saves the notebook
    as ``lab.ipynb.txt`` changes its name, not what it is."""
    if not text.lstrip().startswith("{"):
        return False
    try:
        data = json.loads(text)
    except ValueError:
        return False
    return isinstance(data, dict) and ("cells" in data or "worksheets" in data)


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
    kept = [name for name in names if not is_clutter(name)]
    candidates = sorted(name for name in kept if name.lower().endswith(NOTEBOOK_SUFFIX))
    if not candidates:  # a notebook saved under another name (``lab.ipynb.txt``)
        candidates = sorted(name for name in kept if _readable_notebook(read, name))
    if not candidates:
        raise InvalidSubmission(f"{where} holds no notebook (.ipynb).")
    if len(candidates) == 1:
        return candidates[0]
    ours = [name for name in candidates if otter_assignment(read(name)) == assignment]
    if len(ours) == 1:
        return ours[0]
    named = [name for name in (ours or candidates) if member_path(name).name == notebook_name]
    if len(named) == 1:
        return named[0]
    raise InvalidSubmission(
        f"{where} holds {len(candidates)} notebooks and none is clearly the one for "
        f"{assignment!r}: {', '.join(candidates)}. Submit only {notebook_name}."
    )


def _readable_notebook(read: Callable[[str], str], name: str) -> bool:
    try:
        return is_notebook_text(read(name))
    except (OSError, UnicodeDecodeError, zipfile.BadZipFile, KeyError):
        return False


def with_top_level_metadata(text: str) -> str:
    """The notebook's JSON with an empty top-level ``metadata`` where it has none (scripts and
    converters that write a notebook's JSON by hand leave it out; nbformat refuses the file
    without it, though nothing in it is needed to run the cells)."""
    try:
        data = json.loads(text)
    except ValueError:
        return text  # nbformat says what is wrong with it
    if isinstance(data, dict) and "cells" in data and "metadata" not in data:
        data["metadata"] = {}
        return json.dumps(data)
    return text


def read_submission(path: Path, assignment: str, notebook_name: str) -> nbformat.NotebookNode:
    """The notebook in a notebook file, or the assignment's notebook in a zip: which one is
    told by the file's content, not its name (a zip by its signature, else a notebook's JSON).
    Raises InvalidSubmission with the reason."""
    try:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                names = [info.filename for info in archive.infolist() if not info.is_dir()]

                def read(name: str) -> str:
                    return decode(archive.read(name))

                text = read(choose_notebook(names, read, assignment, notebook_name, path.name))
        else:
            text = decode(path.read_bytes())
        if not text.strip():
            raise InvalidSubmission(f"{path.name} is empty.")
        notebook = nbformat.reads(with_top_level_metadata(text), as_version=4)
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

    def read(name: str) -> str:
        try:
            return decode(files[name].read_bytes())
        except (OSError, UnicodeDecodeError):
            return ""

    if any(name.lower().endswith(NOTEBOOK_SUFFIX) for name in kept) or any(
        _readable_notebook(read, name) for name in kept if not _is_zip(files[name])
    ):
        return files[choose_notebook(kept, read, assignment, notebook_name, "The submission")]
    archives = [name for name in kept if _is_zip(files[name])]
    if len(archives) == 1:
        return files[archives[0]]
    found = ", ".join(sorted(kept)) or "nothing"
    raise InvalidSubmission(
        f"Expected the lab's notebook ({notebook_name}) or one zip holding it; found {found}."
    )


def is_submission_file(path: Path) -> bool:
    """Whether the file at ``path`` is a notebook or a zip by its content (any name)."""
    if _is_zip(path):
        return True
    try:
        return is_notebook_text(decode(path.read_bytes()))
    except (OSError, UnicodeDecodeError):
        return False


def _is_zip(path: Path) -> bool:
    try:
        return zipfile.is_zipfile(path)
    except OSError:
        return False
