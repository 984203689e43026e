"""Answers as data, read back by the trusted checker from what the untrusted kernel exported
(``autograder.grading.untrusted.export``).

The last line of a name wins (a "missing" line never replaces a value), so an answer set
before a cell that hangs or kills the kernel, or deletes the name, still counts. The reader
treats the file as hostile: it never unpickles or imports anything from
it, caps the size of each line and of the file, checks the schema, and rebuilds models
with Keras' safe mode from built-in Keras classes only (no Lambda, no custom code).
"""

from __future__ import annotations

import json
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from autograder.grading.trusted.model_size import refusal

MAX_LINE_BYTES = 1_000_000  # a model config is a few kilobytes
MAX_FILE_BYTES = 512_000_000  # read in chunks; only kept lines are held in memory
MAX_CONFIG_INTEGER = 1_000_000  # larger sizes would make the checker allocate too much
READ_CHUNK = 1 << 16


@dataclass(frozen=True)
class Unreadable:
    """An answer the checker could not accept, with the reason shown to the student."""

    reason: str

    def __repr__(self) -> str:  # shows up in a check's message as the answer's value
        return f"<unreadable answer: {self.reason}>"


class AnswerRejected(ValueError):
    """An exported answer that breaks the schema or the limits."""


@dataclass(frozen=True)
class OversizedLine:
    """A line over the limit, of which only the start is kept (to read whose answer it was)."""

    head: bytes

    @property
    def name(self) -> str | None:
        """The answer's name: the export writes it first (``{"name": "model_cnn", ...``)."""
        match = re.match(rb'\{"name": "([A-Za-z_][A-Za-z0-9_]{0,100})"', self.head)
        return match.group(1).decode() if match else None


def _iter_lines(path: Path):
    """Yield each line (bytes, or an OversizedLine when over the limit) without ever holding a
    huge line."""
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
            oversized = OversizedLine(line[:200])
            while line and not line.endswith(b"\n") and total < MAX_FILE_BYTES:
                line = handle.readline(READ_CHUNK)
                total += len(line)
            yield oversized


# Where a model config may take a function from (Keras' serialisation writes a function as
# ``{"class_name": "function", "module": ..., "config": its name}``): the modules of
# modeling functions (Keras' ``BUILTIN_MODULES`` in keras/src/saving/serialization_lib.py,
# and its ops), or ``builtins``: how Keras writes ``loss=keras.losses.binary_crossentropy``,
# a name it then looks up in those modules alone.
# A function from anywhere else in Keras (``keras.config.set_epsilon``, say) would run as a
# layer's activation and could change settings that a warm checker keeps for later jobs.
FUNCTION_MODULES = (
    "activations", "constraints", "initializers", "losses", "metrics", "regularizers", "ops",
)  # fmt: skip


def _modeling_function(module: Any) -> bool:
    """Whether a function reference's ``module`` is one a model may take functions from."""
    if module == "builtins":
        return True
    parts = module.split(".") if isinstance(module, str) else []
    if parts[:2] == ["keras", "src"]:  # the module a function is defined in
        parts = ["keras", *parts[2:]]
    return len(parts) >= 2 and parts[0] == "keras" and parts[1] in FUNCTION_MODULES


def _check_safe_config(node: Any, where: str) -> None:
    """Only built-in Keras objects, functions only from modeling modules
    (``FUNCTION_MODULES``), no Lambda layers, no absurd sizes."""
    if isinstance(node, dict):
        class_name = node.get("class_name")
        module = node.get("module")
        if class_name == "Lambda":
            raise AnswerRejected(
                f"{where} uses a Lambda layer; write the model with Keras' built-in layers only"
            )
        if class_name == "function":
            if not _modeling_function(module):
                raise AnswerRejected(
                    f"{where} uses the function {module}.{node.get('config')}, which is not "
                    "a layer's activation, a loss, a metric or an initializer"
                )
        elif module is not None and not (
            isinstance(module, str) and module.split(".")[0] == "keras"
        ):
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


CHECKER_DTYPE = "float32"


def train_in_checker_dtype(node: Any) -> None:
    """Set every layer's dtype policy in a model config to float32, in place.

    The checker decides the precision it trains in: a notebook's global policy such as
    ``mixed_float16`` (advice for GPUs) would only make the checker's CPU training slower, and
    the thresholds were calibrated in float32. Keras serialises a layer's policy as
    ``{"class_name": "DTypePolicy", "config": {"name": ...}}``; an input's integer dtype is a
    plain string and stays as it is.
    """
    if isinstance(node, dict):
        if node.get("class_name") in ("DTypePolicy", "FloatDTypePolicy") and isinstance(
            node.get("config"), dict
        ):
            node["config"]["name"] = CHECKER_DTYPE
        for value in node.values():
            train_in_checker_dtype(value)
    elif isinstance(node, list):
        for value in node:
            train_in_checker_dtype(value)


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
    if too_big := refusal(config):
        raise AnswerRejected(f"`{name}` is too big for the grader to train: {too_big}")
    train_in_checker_dtype(config)
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
    if kind == "shape":
        value = record.get("value")
        if type(value) is not list or not all(type(size) is int for size in value):
            raise AnswerRejected("the exported shape holds something other than whole numbers")
        return tuple(value)
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


def last_records(path: Path, names: list[str]) -> dict[str, dict | Unreadable]:
    """Read the answers file once: each of ``names`` mapped to its last exported record (a
    name is exported after each cell that sets it and at the end: the last line wins), or to
    ``Unreadable`` with the reason; a name never exported is left out.

    A record saying the name is missing never replaces a value exported before it: a student
    who frees memory after a check (``del model_cnn``; common Colab advice) keeps the answer
    the name held when its cell ran. A name rebound to another value is still replaced.
    """
    last: dict[str, dict | Unreadable] = {}
    too_large = Unreadable("its exported answer was larger than the 1 MB limit")
    unnamed_oversized = False
    try:
        for line in _iter_lines(Path(path)):
            if isinstance(line, OversizedLine):
                if line.name in names:
                    last[line.name] = too_large
                unnamed_oversized |= line.name is None
                continue
            try:
                record = json.loads(line)
            except ValueError:
                continue
            name = record.get("name") if isinstance(record, dict) else None
            if name in names and not (record.get("kind") == "missing" and name in last):
                last[name] = record  # a later `del name` (freeing memory) erases no answer
    except FileNotFoundError:
        return {name: Unreadable("the notebook produced no answers file") for name in names}
    except (OSError, AnswerRejected) as error:
        return {name: Unreadable(f"the answers file could not be read ({error})") for name in names}
    if unnamed_oversized:
        last = {name: last.get(name, too_large) for name in names}
    return last


def rebuild_answers(records: dict[str, dict | Unreadable], names: list[str]) -> dict[str, Any]:
    """Each of ``names`` rebuilt from its record (``last_records``), or ``Unreadable``."""
    answers: dict[str, Any] = {}
    for name in names:
        record = records.get(name, Unreadable("the notebook exported no answer for it"))
        try:
            answers[name] = record if isinstance(record, Unreadable) else _value(record, name)
        except AnswerRejected as error:
            answers[name] = Unreadable(str(error))
    return answers


def read_answers(path: Path, names: list[str]) -> dict[str, Any]:
    """Each expected name mapped to its rebuilt value, or to ``Unreadable`` with the reason;
    only the last exported line of a name is rebuilt."""
    return rebuild_answers(last_records(path, names), names)
