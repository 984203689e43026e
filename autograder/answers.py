"""Answers as data: exported from the untrusted kernel, read back by the trusted checker.

The export cell runs inside the student's kernel and writes one JSON line per answer:
models as their architecture and compile configuration, numbers and strings as plain
JSON. The reader treats that file as hostile: it never unpickles or imports anything from
it, caps the size of each line and of the file, checks the schema, and rebuilds models
with Keras' safe mode from built-in Keras classes only (no Lambda, no custom code).
"""

from __future__ import annotations

import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ANSWERS_FILE = "answers.jsonl"
MAX_LINE_BYTES = 1_000_000  # a model config is a few kilobytes
MAX_FILE_BYTES = 512_000_000  # read in chunks; only kept lines are held in memory
MAX_CONFIG_INTEGER = 1_000_000  # larger sizes would make the checker allocate too much
READ_CHUNK = 1 << 16

EXPORT_CELL = '''\
def _rnnlab_export(names, path):
    """Write each answer as one JSON line (added by the grader)."""
    import json

    import keras

    def describe(value):
        if isinstance(value, keras.Model):
            return {"kind": "model", "config": value.to_json(), "compile": value.get_compile_config()}
        if type(value).__module__ == "numpy" and getattr(value, "shape", None) == ():
            value = value.item()  # a NumPy number such as np.int64(125501)
        if type(value) in (int, float, str):
            return {"kind": type(value).__name__, "value": value}
        return {"kind": "other", "type": type(value).__name__}

    with open(path, "w") as out:
        for name in names:
            try:
                record = describe(globals()[name]) if name in globals() else {"kind": "missing"}
                line = json.dumps({"name": name, **record})
            except Exception as error:
                line = json.dumps({"name": name, "kind": "error", "error": repr(error)[:300]})
            out.write(line + "\\n")


_rnnlab_export(__NAMES__, __PATH__)
'''


def export_cell_source(names: list[str], path: str = ANSWERS_FILE) -> str:
    """The code the grader appends to a submission to export ``names``."""
    return EXPORT_CELL.replace("__NAMES__", repr(list(names))).replace("__PATH__", repr(path))


@dataclass(frozen=True)
class Unreadable:
    """An answer the checker could not accept, with the reason shown to the student."""

    reason: str

    def __repr__(self) -> str:  # shows up in a check's message as the answer's value
        return f"<unreadable answer: {self.reason}>"


class AnswerRejected(ValueError):
    """An exported answer that breaks the schema or the limits."""


def _iter_lines(path: Path):
    """Yield each line (bytes, or None when over the limit) without ever holding a huge line."""
    descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    with os.fdopen(descriptor, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise AnswerRejected("the answers file is not a regular file")
        total = 0
        while total < MAX_FILE_BYTES:
            line = handle.readline(MAX_LINE_BYTES + 1)
            if not line:
                return
            total += len(line)
            if len(line) <= MAX_LINE_BYTES:
                yield line
                continue
            while line and not line.endswith(b"\n") and total < MAX_FILE_BYTES:
                line = handle.readline(READ_CHUNK)
                total += len(line)
            yield None


def _check_safe_config(node: Any, where: str) -> None:
    """Only built-in Keras objects, no Lambda layers, no absurd sizes."""
    if isinstance(node, dict):
        class_name = node.get("class_name")
        module = node.get("module")
        if class_name == "Lambda":
            raise AnswerRejected(
                f"{where} uses a Lambda layer; write the model with Keras' built-in layers only"
            )
        if module is not None and not (isinstance(module, str) and module.split(".")[0] == "keras"):
            raise AnswerRejected(f"{where} uses {module}.{class_name}, which is not part of Keras")
        if isinstance(node.get("registered_name"), str) and ">" in node["registered_name"]:
            raise AnswerRejected(f"{where} uses the custom object {node['registered_name']}")
        for value in node.values():
            _check_safe_config(value, where)
    elif isinstance(node, list):
        for value in node:
            _check_safe_config(value, where)
    elif isinstance(node, int) and not isinstance(node, bool) and abs(node) > MAX_CONFIG_INTEGER:
        raise AnswerRejected(f"{where} has a size of {node:,}, far larger than this lab needs")


def rebuild_model(record: dict, name: str):
    """A compiled Keras model from an exported architecture, in safe mode."""
    import keras

    config_text, compile_config = record.get("config"), record.get("compile")
    if not isinstance(config_text, str):
        raise AnswerRejected("the model's architecture is missing")
    try:
        config = json.loads(config_text)
    except ValueError:
        raise AnswerRejected("the model's architecture is not valid JSON") from None
    _check_safe_config(config, f"`{name}`")
    _check_safe_config(compile_config, f"`{name}`'s compile settings")
    try:
        model = keras.saving.deserialize_keras_object(config, safe_mode=True)
    except Exception as error:
        raise AnswerRejected(
            f"Keras could not rebuild the model ({type(error).__name__})"
        ) from None
    if not isinstance(model, keras.Model):
        raise AnswerRejected("the exported object is not a Keras model")
    if isinstance(compile_config, dict):
        try:
            model.compile_from_config(compile_config)
        except Exception as error:
            raise AnswerRejected(
                f"Keras could not apply the model's compile settings ({type(error).__name__})"
            ) from None
    return model


def _value(record: dict, name: str):
    kind = record.get("kind")
    if kind == "model":
        return rebuild_model(record, name)
    if kind in ("int", "float", "str"):
        value = record.get("value")
        expected = {"int": int, "float": float, "str": str}[kind]
        if type(value) is not expected:
            raise AnswerRejected(
                f"the exported {kind} holds an object of type `{type(value).__name__}`"
            )
        return value
    if kind == "missing":
        raise AnswerRejected(f"`{name}` was never defined; run every cell before you submit")
    if kind == "other" and record.get("type") == "ellipsis":
        return Unreadable(f"`{name}` is still `...`; replace it with your answer")
    if kind == "other":
        kind_of_value = f"{record.get('type', 'value')!s:.60}"
        return Unreadable(f"`{name}` holds an object of type `{kind_of_value}`, not an answer")
    if kind == "error":
        raise AnswerRejected(f"`{name}` could not be exported ({str(record.get('error'))[:200]})")
    raise AnswerRejected(f"unknown answer kind {kind!r}")


def read_answers(path: Path, names: list[str]) -> dict[str, Any]:
    """Each expected name mapped to its rebuilt value, or to ``Unreadable`` with the reason."""
    answers: dict[str, Any] = {
        name: Unreadable("the notebook exported no answer for it") for name in names
    }
    try:
        lines = list(_iter_lines(Path(path)))
    except FileNotFoundError:
        return {name: Unreadable("the notebook produced no answers file") for name in names}
    except (OSError, AnswerRejected) as error:
        return {name: Unreadable(f"the answers file could not be read ({error})") for name in names}
    seen: set[str] = set()
    for line in lines:
        if line is None:
            continue  # an oversized line has no readable name; its answer stays unreadable
        try:
            record = json.loads(line)
        except ValueError:
            continue
        name = record.get("name") if isinstance(record, dict) else None
        if name not in answers or name in seen:
            continue  # unknown names and repeats cannot replace the first answer
        seen.add(name)
        try:
            answers[name] = _value(record, name)
        except AnswerRejected as error:
            answers[name] = Unreadable(str(error))
    for name in names:
        if name not in seen and any(line is None for line in lines):
            answers[name] = Unreadable("its exported answer was larger than the 1 MB limit")
    return answers
