"""Checks every lab's tests use: read the student's Keras model, compare it with a spec, count
its parameters, and train a fresh copy to score it (``train_and_score``).

Each check returns quietly when the answer is right and raises ``CheckFailed`` (an
``AssertionError``) with one sentence for the student when it is not. The tests pass in what
they expect (specs as dicts, count digests, thresholds), so this module holds no answer and no
threshold, and knows no lab: a lab's own checks module (the RNN lab's ``lab_checks``) adds its
tasks' accuracy measurements and feedback wording and resolves its specs' names. Values taken
from the student's objects are turned into plain ``int``/``str``/``tuple`` before any
comparison, so an object that claims to equal everything cannot pass.

It ships beside every lab's notebook (the ``labkit`` folder) and runs in the trusted checker.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import inspect
import re
from dataclasses import dataclass

import numpy as np

from . import architecture


@dataclass(frozen=True)
class Measurement:
    """An accuracy measured by training a fresh copy, with what it was measured on."""

    accuracy: float
    examples: int  # held-out examples the accuracy is measured on
    budget: str  # the training, in words
    reused: bool = False  # taken from a measurement store, not trained now


# The trusted checker (autograder.grading.trusted.check) sets this to a store of earlier measurements
# (autograder.grading.trusted.store.MeasurementStore): an object with ``key(model, identity) -> str``,
# ``get(key) -> list[float] | None`` and ``put(key, accuracies)``. In a notebook it stays None
# and every accuracy check trains.
MEASUREMENT_STORE = None


# Optimizers that learn within a grader's small budget, and the learning rates at which they
# do: Keras' default for Adam is 0.001, and adaptive optimizers learn at rates within a factor
# of 10 of it; plain SGD does not. A spec's "optimizer" entry (``optimizer_fault``).
ADAPTIVE_OPTIMIZERS = {
    "kinds": ("Adam", "AdamW", "Nadam", "Adamax", "RMSprop"),
    "learning_rate": (1e-4, 1e-2),
}


class CheckFailed(AssertionError):
    """A wrong answer, with a message that says what to fix."""


class ShortOfThreshold(CheckFailed):
    """An accuracy check a fresh copy failed: the message for the student, and the accuracy it
    reached (a fraction), which a build compares with its task's chance level."""

    def __init__(self, message: str, accuracy: float):
        super().__init__(message)
        self.accuracy = accuracy


class GraderProblem(RuntimeError):
    """The assignment's own set-up is wrong (not the student's answer); for the staff."""


def fail(message: str) -> None:
    """Fail the check with ``message``, one sentence for the student."""
    raise CheckFailed(message) from None


# Notes for the student that do not fail a check (a Keras 2 habit, say); the notebook's
# display of a check's result shows and clears them.
NOTES: list[str] = []
KERAS2_ARGUMENTS = re.compile(r"\b(input_length|input_shape|input_dim)\s*=")
# What a Keras error raised while building a model usually means.
LIKELY_CAUSES = (
    (
        re.compile(r"expected ndim=3, found ndim=2|at least 3 dimensions"),
        "a layer that reads a sequence (an LSTM, or TimeDistributed) gets one vector per "
        "example: set return_sequences=True on the recurrent layer before it",
    ),
    (
        re.compile(r"expected ndim=2, found ndim=3"),
        "a layer that needs one vector per example gets a whole sequence: leave "
        "return_sequences off on the last recurrent layer, or add Flatten",
    ),
)


def _first_line(error: Exception, limit: int) -> str:
    text = str(error).strip()
    return text.splitlines()[0][:limit] if text else ""


def student_check(check):
    """Turn any crash inside ``check`` into a ``CheckFailed`` that names the answer.

    A check reads objects the student made, which can break in ways no check foresees; the
    student then reads one sentence instead of a traceback from deep inside Keras.
    """

    @functools.wraps(check)
    def guarded(namespace: dict, name: str, *args, **kwargs):
        try:
            return check(namespace, name, *args, **kwargs)
        except (CheckFailed, GraderProblem):
            raise
        except Exception as error:
            detail = _first_line(error, 200)
            fail(
                f"Checking `{name}` stopped with {type(error).__name__}"
                f"{': ' + detail if detail else ''}. Fix the cell that makes `{name}`, run it "
                "again, then rerun this check."
            )

    return guarded


def _builder_fault(namespace: dict, builder: str) -> str | None:
    """Why calling the notebook's ``builder`` fails or gives no model, if it does."""
    import keras

    function = namespace.get(builder)
    if not callable(function):
        return None
    try:
        model = function()
    except Exception as error:
        cause = next((why for pattern, why in LIKELY_CAUSES if pattern.search(str(error))), None)
        advice = (
            f"Most likely {cause}."
            if cause
            else "Run the cell that defines it to see the line where it stops."
        )
        return (
            f"`{builder}()` stops with {type(error).__name__} ({_first_line(error, 160)}). {advice}"
        )
    if model is None:
        return f"`{builder}()` returns None: end it with `return model`."
    if not isinstance(model, keras.Model):
        return f"`{builder}()` returns {type(model).__name__}, not a Keras model."
    return None


def model_of(namespace: dict, name: str, spec: dict):
    """The Keras model held in ``name``, or a message that says how to make it."""
    import keras

    model = namespace.get(name)
    if isinstance(model, keras.Model):
        return model
    builder = spec.get("builder", "")
    fault = _builder_fault(namespace, builder) if builder else None
    if fault:
        fail(fault)
    if callable(model):
        fail(
            f"`{name}` holds a function, not a model: call it, as in `{name} = {builder or 'f'}()`."
        )
    held = "is not defined yet" if name not in namespace else f"is {type(model).__name__}"
    run = f"calls `{builder}()`" if builder else "makes it"
    fail(f"`{name}` {held}, not a Keras model: run the cell that {run}.")


def _note_keras2_habits(namespace: dict, model, spec: dict) -> None:
    """Keep a friendly note when the builder uses a Keras 2 argument that Keras 3 drops."""
    source = ""
    with contextlib.suppress(Exception):  # no source for functions defined in odd ways
        source = inspect.getsource(namespace.get(spec.get("builder", "")))
    used = sorted(set(KERAS2_ARGUMENTS.findall(source)))
    used += [a for a in ("input_shape",) if a not in used and any(
        getattr(layer, "_input_shape_arg", None) is not None for layer in model.layers
    )]  # fmt: skip
    if used:
        arguments = " and ".join(f"`{argument}=`" for argument in used)
        what = "is a Keras 2 argument" if len(used) == 1 else "are Keras 2 arguments"
        NOTES.append(
            f"Note: {arguments} {what} that Keras 3 ignores or warns about; start the model "
            "with keras.Input(...) instead, as the question shows."
        )


def count_digest(name: str, count: int) -> str:
    """What a test carries instead of a count: the notebook ships its public tests, so the
    count itself would be there to read; a digest lets the check tell right from wrong."""
    return hashlib.sha256(f"{name}={int(count)}".encode()).hexdigest()[:16]


@student_check
def check_hand_count(namespace: dict, name: str, digest: str | None = None, hint: str = "") -> None:
    """A parameter count worked out by hand, held in ``name``: a whole number, and the
    right one if ``digest`` (``count_digest`` of the right count) is given.

    Only Python and NumPy numbers count, compared as plain ``int`` values, so an object
    that claims to equal everything cannot pass.
    """
    if name not in namespace:
        fail(f"`{name}` is not defined yet: run the cell that sets it.")
    answer = namespace[name]
    is_number = type(answer) in (int, float) or isinstance(answer, (np.integer, np.floating))
    if not is_number or not float(answer).is_integer():
        fail(f"Write the count as a whole number such as 1234; you gave {answer!r:.60}.")
    if digest is not None and count_digest(name, int(answer)) != digest:
        fail(f"{int(answer):,} is not the right count. {hint}".strip())


def shape_digest(name: str, shape: tuple) -> str:
    """``count_digest`` for a shape: what a test carries instead of the right shape."""
    return hashlib.sha256(f"{name}={tuple(int(size) for size in shape)}".encode()).hexdigest()[:16]


NUMBER_WORDS = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five"}


@student_check
def check_hand_shape(
    namespace: dict,
    name: str,
    digest: str | None = None,
    hint: str = "",
    *,
    axes: tuple[str, ...] | None = None,
    example: str = "(6, 6, 8)",
    one: str = "example",
) -> None:
    """An output shape worked out by hand, held in ``name``: a tuple of whole numbers (one per
    axis, without the batch size), and the right one if ``digest`` (``shape_digest`` of the
    right shape) is given. Only Python and NumPy integers count, compared as plain ``int``.

    A lab whose shapes have named axes passes them (``axes=("rows", "columns",
    "channels")``, with an ``example`` shape and what ``one`` example is, "image"): the
    messages then name the axes, and a shape with one number too many is taken for one that
    kept Keras' batch size."""
    if name not in namespace:
        fail(f"`{name}` is not defined yet: run the cell that sets it.")
    answer = namespace[name]
    size = NUMBER_WORDS.get(len(axes), str(len(axes))) if axes else ""
    named = f"{size} whole numbers ({', '.join(axes)})" if axes else "whole numbers"
    if type(answer) not in (tuple, list):
        fail(f"Write the shape as a tuple of {named} such as {example}; you gave {answer!r:.60}.")
    if axes and len(answer) == len(axes) + 1:
        fail(
            f"`{name}` has {len(answer)} numbers; give the shape of one {one}, "
            f"({', '.join(axes)}), without the batch size that Keras shows first."
        )
    if axes and len(answer) != len(axes):
        fail(
            f"`{name}` has {len(answer)} numbers; a shape here has {size}: "
            f"{', '.join(axes[:-1])} and {axes[-1]}, such as {example}."
        )
    if not all(type(size) is int or isinstance(size, np.integer) for size in answer):
        if axes:
            fail(
                f"Write each size in `{name}` as a whole number such as 5 (not 5.0 or '5'); you "
                f"gave {answer!r:.60}."
            )
        fail(f"Write the shape as a tuple of {named} such as {example}; you gave {answer!r:.60}.")
    shape = tuple(int(size) for size in answer)
    if digest is not None and shape_digest(name, shape) != digest:
        fail(f"{shape} is not the right shape. {hint}".strip())


def _single(values):
    """The one loss of a model compiled with a list or dict of one loss, else ``values``."""
    if isinstance(values, dict):
        values = list(values.values())
    if isinstance(values, (list, tuple)) and len(values) == 1:
        return values[0]
    return values


def _loss_name(loss) -> str:
    if isinstance(loss, str):
        return loss
    return str(getattr(loss, "name", None) or getattr(loss, "__name__", type(loss).__name__))


def _loss_fault(model, name: str, spec: dict) -> str | None:
    loss, wanted = _single(getattr(model, "loss", None)), spec["loss"]
    got = _loss_name(loss)
    if got.lower().replace("_", "") != wanted.replace("_", ""):
        return f"`{name}` is compiled with the loss {got!r}; this task needs {wanted!r}."
    config = loss.get_config() if hasattr(loss, "get_config") else {}
    if config.get("from_logits"):
        return (
            f"`{name}`'s loss is set to from_logits=True, but the model's output layer already "
            "turns scores into probabilities: drop from_logits."
        )
    return None


def optimizer_fault(model, name: str, allowed: dict) -> str | None:
    """An optimizer or learning rate that cannot learn within the grader's budget."""
    optimizer = getattr(model, "optimizer", None)
    optimizer = getattr(optimizer, "inner_optimizer", optimizer)  # mixed precision wraps it
    kind = type(optimizer).__name__
    if kind not in allowed["kinds"]:
        return (
            f"`{name}` is compiled with the {kind} optimizer; the lab uses Adam "
            f"(optimizer='adam'), and a fresh copy trained with {kind} learns too little in "
            "the grader's small budget."
        )
    try:
        rate = float(np.asarray(optimizer.learning_rate))
    except (TypeError, ValueError):  # a schedule: its rate changes as it trains
        return None
    low, high = allowed["learning_rate"]
    if not low <= rate <= high:
        return (
            f"`{name}`'s optimizer has a learning rate of {rate:g}, far from the 0.001 the lab "
            f"uses (Adam's default): a fresh copy would not learn well in the grader's small "
            f"budget, so use optimizer='adam' or a rate between {low:g} and {high:g}."
        )
    return None


def _compile_fault(model, name: str, spec: dict) -> str | None:
    """What is wrong with the model's loss and optimizer, if anything."""
    if getattr(model, "loss", None) is None or getattr(model, "optimizer", None) is None:
        where = (
            f"inside `{spec['builder']}`, before it returns the model"
            if spec.get("builder")
            else ""
        )
        return (
            f"`{name}` is not compiled: call `model.compile(...)` with a loss and an optimizer {where}".rstrip()
            + "."
        )
    return _loss_fault(model, name, spec) or optimizer_fault(model, name, spec["optimizer"])


def _chain(model, name: str, spec: dict, *, match: bool = True) -> list:
    """The model's folded layers (``architecture.LayerView``), matched against ``spec``."""
    try:
        if match:
            return architecture.check_chain(model, name, spec)
        return architecture.describe_model(model, name, tuple(spec["input"]))[0]
    except architecture.ArchitectureFault as fault:
        fail(str(fault))


def _output_fault(chain: list, name: str, spec: dict) -> str | None:
    got = chain[-1].output_shape[1:]
    if got != tuple(spec["output"]):
        return f"`{name}` outputs shape {got} per example; it should be {tuple(spec['output'])}."
    return None


@student_check
def check_architecture(namespace: dict, name: str, spec: dict) -> None:
    """The model in ``name`` has the exercise's layers (as ``spec`` allows them), its output
    shape and, where the exercise compiles it, a loss and an optimizer that can learn."""
    model = model_of(namespace, name, spec)
    chain = _chain(model, name, spec)
    fault = _output_fault(chain, name, spec) or (
        _compile_fault(model, name, spec) if "loss" in spec else None
    )
    if fault:
        fail(fault)
    _note_keras2_habits(namespace, model, spec)


def check_trainable(model, name: str, spec: dict) -> None:
    """What an accuracy check needs: the right output layer and loss (other layers may differ)."""
    chain = _chain(model, name, spec, match=False)
    if _output_fault(chain, name, spec):
        fail(
            f"`{name}` outputs shape {chain[-1].output_shape[1:]} per example, not "
            f"{tuple(spec['output'])}, so its answers cannot be scored. The 'layers' check "
            "says what to change."
        )
    fault = architecture.rule_fault(chain[-1], spec["layers"][-1])
    if fault:
        fail(fault)
    if getattr(model, "loss", None) is None:
        fail(_compile_fault(model, name, spec))
    fault = _loss_fault(model, name, spec)
    if fault:
        fail(fault)


@student_check
def check_parameters(namespace: dict, name: str, spec: dict, total: int | None = None) -> None:
    """Each layer's parameter count fits the formula for its sizes; the total where fixed."""
    model = model_of(namespace, name, spec)
    for view in _chain(model, name, spec, match=False):
        fault = architecture.parameter_fault(view)
        if fault:
            fail(fault)
    got = int(model.count_params())
    if total is not None and got != int(total):
        fail(f"`{name}` has {got:,} parameters but the exercise's model has {int(total):,}.")


def fresh_copy(model):
    """A model with the same layers and compile settings but new, untrained weights."""
    import keras

    copy = keras.models.model_from_json(model.to_json())
    copy.compile_from_config(model.get_compile_config())
    return copy


def threshold(thresholds: dict[str, dict[str, float]], profile: str, data_kind: str) -> float:
    """The accuracy a fresh copy must reach: ``thresholds[profile][data_kind]``, as the
    assignment's config gives it to the test. Raises GraderProblem when there is none."""
    try:
        return float(thresholds[profile][data_kind])
    except KeyError:
        raise GraderProblem(
            f"The assignment has no accuracy threshold for the {profile!r} profile on "
            f"{data_kind!r} data; ask your instructor."
        ) from None


def look_positions(epochs: int, first_epoch_looks: int = 1) -> list[float]:
    """Where a check scores its copy, in epochs trained: ``first_epoch_looks`` evenly spaced
    looks in the first epoch (the last of them at its end), then one at the end of each later
    epoch. ``look_positions(3, 4) == [0.25, 0.5, 0.75, 1, 2, 3]``."""
    early = [look / first_epoch_looks for look in range(1, max(1, first_epoch_looks))]
    return [*early, *range(1, epochs + 1)]


def judge(
    accuracies: list[float], positions: list[float], enough: float | None
) -> tuple[float, float] | None:
    """What a check that looks at ``positions`` (``look_positions``) would report,
    ``(accuracy, epochs trained)``, from the held-out accuracy at each look of a run of the same
    training; None when the accuracies recorded stop before that run would have.

    The rule of ``train_and_score``: the first look before the last that reaches ``enough``
    ends training; otherwise the last look (the end of the budget) counts. So a check passes
    exactly when its best look reaches the threshold, and without ``enough`` (calibration) a
    run to the end reports its best look: the figure a threshold is then set on.
    """
    if enough is None:
        if len(accuracies) >= len(positions):
            return max(accuracies[: len(positions)]), positions[-1]
        return None
    for accuracy, position in zip(accuracies[: len(positions) - 1], positions, strict=False):
        if accuracy >= enough:
            return accuracy, position
    if len(accuracies) >= len(positions):
        return accuracies[len(positions) - 1], positions[-1]
    return None


def train_and_score(
    model,
    load,
    epochs: int,
    batch_size: int,
    enough: float | None,
    identity: dict,
    first_epoch_looks: int = 1,
    fresh: bool = True,
) -> tuple[float, float, bool]:
    """Train a fresh copy of ``model`` (``fresh_copy``; with ``fresh=False``, ``model``
    itself) for ``epochs`` and score it on held-out data: ``(accuracy, epochs trained,
    reused)``. The copy is made only when training is needed, after the caller's seeds are
    set, so it draws the same initial weights whether or not the store was asked first; a
    reused measurement then allocates no weights (a review model holds about 13 million).

    It is scored at each look (``look_positions``: the end of each epoch, and
    ``first_epoch_looks`` times in the first). With ``enough``, training stops as soon as a
    look reaches it: a check asks whether a fresh copy reaches its threshold within the
    budget, and one that has reached it need not train on (the reference CNN does half-way
    through its first epoch). Without ``enough`` (calibration) it trains the whole budget and
    reports its best look, the figure a check compares with its threshold (``judge``): a stack
    of LSTMs may learn in its first epoch, fall back to chance in its third and recover later,
    and the check passes it at the first. Scoring draws no random number and changes no
    weight, so a copy trains the same whether or not it is looked at.

    With a ``MEASUREMENT_STORE``, the accuracies of a run of this very training (the store's
    key covers ``model``'s architecture and compile settings, from which the copy is made, and
    ``identity``: data, budget, seed) are reused when they decide the outcome, and a run that
    trains is recorded.
    ``load()`` returns ``(x, y, score)``: the training data and a function that scores a model
    on held-out data; it is called only when training is needed.
    """
    import keras

    positions = look_positions(epochs, first_epoch_looks)
    store = MEASUREMENT_STORE
    key = None
    if store is not None:
        budget = {"epochs": epochs, "batch_size": batch_size, "looks": positions}
        key = store.key(model, {**identity, **budget})
        known = store.get(key)
        if known is not None and (outcome := judge(known, positions, enough)) is not None:
            return (*outcome, True)
    trainee = fresh_copy(model) if fresh else model
    x, y, score = load()
    steps = -(-len(y) // batch_size)  # batches per epoch, the last one maybe short
    # After which batch of the first epoch each early look comes; with fewer batches than
    # looks, two looks fall after one batch and score it once for both.
    early_steps = [-(-steps * look // first_epoch_looks) for look in range(1, first_epoch_looks)]
    accuracies: list[float] = []

    class ScoreAtEachLook(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch

        def on_train_batch_end(self, batch, logs=None):
            if self.epoch == 0 and (due := early_steps.count(batch + 1)):
                self.look(due)

        def on_epoch_end(self, epoch, logs=None):
            if not self.model.stop_training:  # a look during the epoch already ended it
                self.look()

        def look(self, looks: int = 1):
            accuracies.extend([score(self.model)] * looks)
            last = len(accuracies) == len(positions)
            if last or (enough is not None and accuracies[-1] >= enough):
                self.model.stop_training = True

    trainee.fit(x, y, epochs=epochs, batch_size=batch_size, verbose=0,
                callbacks=[ScoreAtEachLook()])  # fmt: skip
    if key is not None:
        store.put(key, accuracies)
    return (*judge(accuracies, positions, enough), False)


class SpecBook:
    """A lab's specs by name (its specs module's ``SPECS``), and the checks that take a spec
    by its name, as the tests a notebook carries name them (``"CNN"``), not the spec itself."""

    def __init__(self, specs: dict[str, dict]):
        self.specs = specs

    def spec(self, spec: str | dict) -> dict:
        """A spec given by its name or as the dict itself."""
        return self.specs[spec] if isinstance(spec, str) else spec

    def check_architecture(self, namespace: dict, name: str, spec: str | dict) -> None:
        """``check_architecture`` with the spec named."""
        check_architecture(namespace, name, self.spec(spec))

    def check_parameters(
        self, namespace: dict, name: str, spec: str | dict, total: int | None = None
    ) -> None:
        """``check_parameters`` with the spec named."""
        check_parameters(namespace, name, self.spec(spec), total)


def check_accuracy_of(
    namespace: dict,
    name: str,
    spec: dict,
    measure,
    threshold_wanted: float,
    profile: str,
    feedback: tuple[str, str],
) -> None:
    """The accuracy check every lab's ``check_accuracy`` makes once it has its task's pieces:
    the model in ``name`` must be trainable (output layer and loss as ``spec`` says), and
    ``measure(model, enough=threshold_wanted)`` (a ``Measurement`` of a fresh copy trained
    within the ``profile``'s budget) must reach ``threshold_wanted``. ``feedback``: what was
    scored (a format with ``accuracy`` and ``examples``) and where to look when it falls short.
    """
    model = model_of(namespace, name, spec)
    check_trainable(model, name, spec)
    result = measure(model, enough=threshold_wanted)
    if result.accuracy < threshold_wanted:
        scored, where_to_look = feedback
        advice = optimizer_fault(model, name, spec["optimizer"]) or (
            f"Its output layer, loss and optimizer are right, so look at {where_to_look}."
        )
        raise ShortOfThreshold(
            f"A fresh copy of `{name}`, trained for {result.budget} ({profile} profile), "
            f"{scored.format(accuracy=result.accuracy, examples=result.examples)}; it needs at "
            f"least {threshold_wanted:.1%}. {advice}",
            result.accuracy,
        ) from None


class DatasetChecks:
    """The accuracy check of a lab whose model questions all train on one
    ``labkit.dataset.Dataset``: what a lab's checks module otherwise writes by hand.

    ``specs``: the lab's ``SpecBook`` of named specs (default none: the tests carry their
    specs); ``scored``: what a failed check says was scored, a
    format with ``accuracy`` and ``examples`` ("labelled {accuracy:.1%} of {examples}
    held-out images correctly"); ``where_to_look``: where a model whose output layer, loss and
    optimizer are right should look when it falls short; ``seed``: the fresh copies' seed.
    ``measurements`` is the lab's ``MEASUREMENTS`` (task -> measurement), ``check_accuracy``
    the function its accuracy tests call.
    """

    def __init__(
        self, dataset, specs: SpecBook | None = None, *, scored: str, where_to_look: str, seed: int
    ):
        self.dataset, self.specs, self.seed = dataset, specs or SpecBook({}), seed
        self.feedback = (scored, where_to_look)
        self.measurements = {dataset.kind: self.measure}
        self.check_accuracy = student_check(self._check_accuracy)

    def measure(self, model, batch_size: int, seed: int | None = None, extra_epochs: int = 0,
                enough: float | None = None) -> Measurement:  # fmt: skip
        """``Dataset.measure`` at the checks' seed unless ``seed`` is given (calibration)."""
        return self.dataset.measure(
            model, batch_size=batch_size, seed=self.seed if seed is None else seed,
            extra_epochs=extra_epochs, enough=enough,
        )  # fmt: skip

    def _check_accuracy(
        self,
        namespace: dict,
        name: str,
        spec: str | dict,
        task: str,
        thresholds: dict[str, dict[str, float]],
        batch_size: int,
        extra_epochs: int = 0,
    ) -> None:
        """A fresh copy of the model in ``name``, trained within the profile's budget,
        reaches the threshold for the lab's data after one of its epochs."""
        if task != self.dataset.kind:
            raise GraderProblem(f"This lab has no accuracy task {task!r}; ask your instructor.")
        profile = self.dataset.active_profile().name
        check_accuracy_of(
            namespace,
            name,
            self.specs.spec(spec),
            functools.partial(self.measure, batch_size=batch_size, extra_epochs=extra_epochs),
            threshold(thresholds, profile, self.dataset.kind),
            profile,
            self.feedback,
        )
