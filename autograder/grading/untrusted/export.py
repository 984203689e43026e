"""Export cells: the code the grader runs inside the student's kernel to write the answers out
as data.

They run after each cell that sets an answer and at the end, and append one JSON line per
answer to ``ANSWERS_FILE``: models as their architecture and compile configuration, numbers
and strings as plain JSON. The trusted checker reads that file back
(``autograder.grading.trusted.answers``), treating it as hostile.
"""

from __future__ import annotations

ANSWERS_FILE = "answers.jsonl"

# Runs in the student's kernel, in a namespace of its own whose builtins are the real ones: a
# student's `type`, `json`, `open` or `keras` cannot change what it does. It reads the answers
# from ANSWERS (the notebook's namespace) and appends one JSON line per name to PATH; the
# reader keeps the last line of each name.
EXPORT_CODE = """\
import json
import sys


def describe(value):
    keras = sys.modules.get("keras")  # never imported: no value can be a Keras model
    if keras is not None and isinstance(value, keras.Model):
        return {"kind": "model", "config": value.to_json(), "compile": value.get_compile_config()}
    if type(value).__module__ == "numpy" and getattr(value, "shape", None) == ():
        value = value.item()  # a NumPy number such as np.int64(125501)
    if type(value) in (int, float, str):
        return {"kind": type(value).__name__, "value": value}
    if type(value) in (tuple, list) and len(value) <= 16 and all(
        type(size) is int or (type(size).__module__ == "numpy" and getattr(size, "shape", None) == ()
                              and type(size.item()) is int)
        for size in value
    ):  # a shape such as (3, 3, 16), written by hand
        return {"kind": "shape", "value": [int(size) for size in value]}
    return {"kind": "other", "type": type(value).__name__}


with open(PATH, "a") as out:
    for name in NAMES:
        if name not in ANSWERS and not FINAL:
            continue  # not set yet: a later export says so if it never is
        try:
            record = describe(ANSWERS[name]) if name in ANSWERS else {"kind": "missing"}
            line = json.dumps({"name": name, **record})
        except Exception as error:
            line = json.dumps({"name": name, "kind": "error", "error": repr(error)[:300]})
        out.write(line + "\\n")
"""
# The cell itself: only an import statement (which no rebinding can change) and attributes of
# the real builtins module. builtins.globals() called here is the notebook's namespace.
EXPORT_CELL = """\
import builtins as _rnnlab_builtins
_rnnlab_builtins.exec(
    __CODE__,
    {"__builtins__": _rnnlab_builtins, "__name__": "rnnlab_export", "NAMES": __NAMES__,
     "PATH": __PATH__, "FINAL": __FINAL__, "ANSWERS": _rnnlab_builtins.globals()},
)
"""


def export_cell_source(names: list[str], path: str = ANSWERS_FILE, *, final: bool = True) -> str:
    """The code the grader runs in a submission's kernel to export ``names`` (appended to
    ``path``). ``final`` False: names not set yet are left out (an export between cells)."""
    replacements = {
        "__CODE__": repr(EXPORT_CODE),
        "__NAMES__": repr(list(names)),
        "__PATH__": repr(path),
        "__FINAL__": repr(final),
    }
    source = EXPORT_CELL
    for placeholder, value in replacements.items():
        source = source.replace(placeholder, value)
    return source
