"""The checks behind the lab's tests, public and hidden.

Each check returns quietly when the answer is right and raises ``AssertionError`` with a
message for the student when it is not. The tests pass in what they expect (architecture
specs, counts, thresholds), so this module holds no answer and no threshold. Values taken
from the student's objects are turned into plain ``int``/``str``/``tuple`` before any
comparison, so an object that claims to equal everything cannot pass.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import inspect
import re
from dataclasses import dataclass

import numpy as np

import lab_architecture
import lab_specs
import lab_support

CHECK_SEED = 1234
FRESH_ADDITIONS = 10_000
PREDICT_BATCH = 100  # larger batches predict faster but hold more activations in memory


@dataclass(frozen=True)
class Measurement:
    """An accuracy measured by training a fresh copy, with what it was measured on."""

    accuracy: float
    examples: int  # held-out examples the accuracy is measured on
    budget: str  # the training, in words
    reused: bool = False  # taken from a measurement store, not trained now


# The trusted checker (autograder.check) sets this to a store of earlier measurements
# (autograder.store.MeasurementStore): an object with ``key(model, identity) -> str``,
# ``get(key) -> list[float] | None`` and ``put(key, accuracies)``. In a notebook it stays None
# and every accuracy check trains.
MEASUREMENT_STORE = None


class CheckFailed(AssertionError):
    """A wrong answer, with a message that says what to fix."""


class GraderProblem(RuntimeError):
    """The assignment's own set-up is wrong (not the student's answer); for the staff."""


def _fail(message: str) -> None:
    raise CheckFailed(message) from None


# Notes for the student that do not fail a check (a Keras 2 habit, say); the notebook's
# display of a check's result shows and clears them.
NOTES: list[str] = []
KERAS2_ARGUMENTS = re.compile(r"\b(input_length|input_shape|input_dim)\s*=")
# What a Keras error raised while building usually means in this lab.
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


def _spec(spec: str | dict) -> dict:
    """A spec given by its name in ``lab_specs.SPECS`` or as the dict itself."""
    return lab_specs.SPECS[spec] if isinstance(spec, str) else spec


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
            _fail(
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


def _model(namespace: dict, name: str, spec: dict):
    """The Keras model held in ``name``, or a message that says how to make it."""
    import keras

    model = namespace.get(name)
    if isinstance(model, keras.Model):
        return model
    builder = spec.get("builder", "")
    fault = _builder_fault(namespace, builder) if builder else None
    if fault:
        _fail(fault)
    if callable(model):
        _fail(
            f"`{name}` holds a function, not a model: call it, as in `{name} = {builder or 'f'}()`."
        )
    held = "is not defined yet" if name not in namespace else f"is {type(model).__name__}"
    run = f"calls `{builder}()`" if builder else "makes it"
    _fail(f"`{name}` {held}, not a Keras model: run the cell that {run}.")


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
        _fail(f"`{name}` is not defined yet: run the cell that sets it.")
    answer = namespace[name]
    is_number = type(answer) in (int, float) or isinstance(answer, (np.integer, np.floating))
    if not is_number or not float(answer).is_integer():
        _fail(f"Write the count as a whole number such as 1234; you gave {answer!r:.60}.")
    if digest is not None and count_digest(name, int(answer)) != digest:
        _fail(f"{int(answer):,} is not the right count. {hint}".strip())


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


def _optimizer_fault(model, name: str, allowed: dict) -> str | None:
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
    return _loss_fault(model, name, spec) or _optimizer_fault(model, name, spec["optimizer"])


def _chain(model, name: str, spec: dict, *, match: bool = True) -> list:
    """The model's folded layers (``lab_architecture.LayerView``), matched against ``spec``."""
    try:
        if match:
            return lab_architecture.check_chain(model, name, spec)
        return lab_architecture.describe_model(model, name, tuple(spec["input"]))[0]
    except lab_architecture.ArchitectureFault as fault:
        _fail(str(fault))


def _output_fault(chain: list, name: str, spec: dict) -> str | None:
    got = chain[-1].output_shape[1:]
    if got != tuple(spec["output"]):
        return f"`{name}` outputs shape {got} per example; it should be {tuple(spec['output'])}."
    return None


@student_check
def check_architecture(namespace: dict, name: str, spec: str | dict) -> None:
    """The model in ``name`` has the exercise's layers (as ``spec`` allows them), its output
    shape and, where the exercise compiles it, a loss and an optimizer that can learn."""
    spec = _spec(spec)
    model = _model(namespace, name, spec)
    chain = _chain(model, name, spec)
    fault = _output_fault(chain, name, spec) or (
        _compile_fault(model, name, spec) if "loss" in spec else None
    )
    if fault:
        _fail(fault)
    _note_keras2_habits(namespace, model, spec)


def _check_trainable(model, name: str, spec: dict) -> None:
    """What an accuracy check needs: the right output layer and loss (other layers may differ)."""
    chain = _chain(model, name, spec, match=False)
    if _output_fault(chain, name, spec):
        _fail(
            f"`{name}` outputs shape {chain[-1].output_shape[1:]} per example, not "
            f"{tuple(spec['output'])}, so its answers cannot be scored. The 'layers' check "
            "says what to change."
        )
    fault = lab_architecture.rule_fault(chain[-1], spec["layers"][-1])
    if fault:
        _fail(fault)
    if getattr(model, "loss", None) is None:
        _fail(_compile_fault(model, name, spec))
    fault = _loss_fault(model, name, spec)
    if fault:
        _fail(fault)


@student_check
def check_parameters(
    namespace: dict, name: str, spec: str | dict, total: int | None = None
) -> None:
    """Each layer's parameter count fits the formula for its sizes; the total where fixed."""
    spec = _spec(spec)
    model = _model(namespace, name, spec)
    for view in _chain(model, name, spec, match=False):
        fault = lab_architecture.parameter_fault(view)
        if fault:
            _fail(fault)
    got = int(model.count_params())
    if total is not None and got != int(total):
        _fail(f"`{name}` has {got:,} parameters but the exercise's model has {int(total):,}.")


def fresh_copy(model):
    """A model with the same layers and compile settings but new, untrained weights."""
    import keras

    copy = keras.models.model_from_json(model.to_json())
    copy.compile_from_config(model.get_compile_config())
    return copy


def _threshold(thresholds: dict[str, dict[str, float]], data_kind: str) -> tuple[float, str]:
    profile = lab_support.active_profile()
    try:
        return float(thresholds[profile.name][data_kind]), profile.name
    except KeyError:
        raise GraderProblem(
            f"The assignment has no accuracy threshold for the {profile.name!r} profile on "
            f"{data_kind!r} data; ask your instructor."
        ) from None


def judge(accuracies: list[float], epochs: int, enough: float | None) -> tuple[float, int] | None:
    """What a check trained for ``epochs`` would report, ``(accuracy, epochs trained)``, from
    the held-out accuracy after each epoch of a run of the same training; None when the
    accuracies recorded stop before that run would have.

    The rule of ``_train_and_score``: the first epoch before the last that reaches
    ``enough`` ends training; otherwise the last epoch's accuracy counts.
    """
    for epoch, accuracy in enumerate(accuracies[: epochs - 1]):
        if enough is not None and accuracy >= enough:
            return accuracy, epoch + 1
    if len(accuracies) >= epochs:
        return accuracies[epochs - 1], epochs
    return None


def _train_and_score(
    trainee, load, epochs: int, batch_size: int, enough: float | None, identity: dict
) -> tuple[float, int, bool]:
    """Train ``trainee`` for ``epochs`` and score it on held-out data: ``(accuracy, epochs,
    reused)``.

    With ``enough``, it is also scored after each earlier epoch, and training stops as soon
    as it reaches ``enough``: a check asks whether a fresh copy reaches its threshold within
    the budget, and one that has reached it need not train on (the reference CNN does after
    1 of its 2 epochs). Thresholds are calibrated on the last epoch alone, so these earlier
    looks can only lower the rate at which a correct model fails.

    With a ``MEASUREMENT_STORE``, the accuracies of a run of this very training (the store's
    key covers the copy's architecture and compile settings and ``identity``: data, budget,
    seed) are reused when they decide the outcome, and a run that trains is recorded.
    ``load()`` returns ``(x, y, score)``: the training data and a function that scores a model
    on held-out data; it is called only when training is needed.
    """
    import keras

    store = MEASUREMENT_STORE
    key = None
    if store is not None:
        key = store.key(trainee, {**identity, "epochs": epochs, "batch_size": batch_size})
        known = store.get(key)
        if known is not None and (outcome := judge(known, epochs, enough)) is not None:
            return (*outcome, True)
    x, y, score = load()
    accuracies: list[float] = []

    class ScoreEachEpoch(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch + 1 < epochs:  # the last epoch is scored after fit
                accuracies.append(score(self.model))
                if enough is not None and accuracies[-1] >= enough:
                    self.model.stop_training = True

    scoring = enough is not None or key is not None
    history = trainee.fit(
        x, y, epochs=epochs, batch_size=batch_size, verbose=0,
        callbacks=[ScoreEachEpoch()] if scoring else [],
    )  # fmt: skip
    if len(history.epoch) == epochs:
        accuracies.append(score(trainee))
    if key is not None:
        store.put(key, accuracies)
    if not scoring:  # only the last epoch was scored
        return accuracies[-1], epochs, False
    accuracy, trained = judge(accuracies, epochs, enough)
    return accuracy, trained, False


def imdb_accuracy(
    model,
    batch_size: int,
    seed: int = CHECK_SEED,
    extra_epochs: int = 0,
    enough: float | None = None,
) -> Measurement:
    """Train a fresh copy within the active profile's budget; its held-out accuracy.

    The checks and the threshold calibration both measure through here, so a threshold
    is calibrated against exactly the training a grading run does (calibration trains the
    whole budget, without ``enough``).
    """
    profile = lab_support.active_profile()
    lab_support.set_seeds(seed)
    trainee = fresh_copy(model)  # loading the data below draws no random number
    loaded = {}

    def load():
        data = loaded["data"] = lab_support.load_imdb(profile=profile)

        def score(trained) -> float:
            scores = np.asarray(trained.predict(data.x_test, batch_size=PREDICT_BATCH, verbose=0))
            return float(np.mean((scores[:, 0] > 0.5) == (data.y_test == 1)))

        return data.x_train, data.y_train, score

    source = lab_support.imdb_source_name()
    reviews = [profile.train_reviews, profile.test_reviews]
    # Either of Keras' sources holds 25,000 reviews a split, more than a capped profile keeps;
    # for the whole of them, or a local file of any size, the counts come from the data.
    if None in reviews or source not in (lab_support.GENERATED_SOURCE, "keras"):
        load()
        reviews = [len(loaded["data"].y_train), len(loaded["data"].y_test)]
    identity = {"task": "imdb", "seed": seed, "data": source, "reviews": reviews}
    accuracy, epochs, reused = _train_and_score(
        trainee, load, profile.check_epochs + extra_epochs, batch_size, enough, identity
    )
    train_reviews, test_reviews = reviews
    budget = f"{epochs} epoch(s) on {train_reviews} reviews"
    return Measurement(accuracy, test_reviews, budget, reused)


def adder_accuracy(
    model,
    batch_size: int,
    seed: int = CHECK_SEED,
    extra_epochs: int = 0,
    enough: float | None = None,
) -> Measurement:
    """Train a fresh copy within the profile's budget; its accuracy per answer character.

    Per character, not per whole answer: after a grading budget of seconds a correct
    adder gets about 0.47 of the characters of new problems right (always guessing each
    position's most common character gets 0.32) but under 1% of whole answers, too few
    to tell a working model from a broken one.
    """
    profile = lab_support.active_profile()
    lab_support.set_seeds(seed)
    trainee = fresh_copy(model)  # making the problems below draws no random number of Keras'

    def load():
        training = lab_support.load_additions(profile.adder_problems, seed=seed, train_fraction=1.0)
        fresh_pairs = lab_support.addition_pairs(
            FRESH_ADDITIONS, seed=seed + 1, exclude=frozenset(training.pairs)
        )
        x_fresh, y_fresh = lab_support.encode_additions(fresh_pairs)

        def score(trained) -> float:
            predicted = trained.predict(x_fresh, batch_size=PREDICT_BATCH, verbose=0)
            return float(np.mean(np.argmax(predicted, axis=-1) == np.argmax(y_fresh, axis=-1)))

        return training.x_train, training.y_train, score

    identity = {
        "task": "adder",
        "seed": seed,
        "problems": [profile.adder_problems, FRESH_ADDITIONS],
    }
    accuracy, epochs, reused = _train_and_score(
        trainee, load, profile.adder_check_epochs + extra_epochs, batch_size, enough, identity
    )
    examples = FRESH_ADDITIONS * lab_support.ANSWER_LENGTH
    budget = f"{epochs} epoch(s) on {profile.adder_problems} problems"
    return Measurement(accuracy, examples, budget, reused)


MEASUREMENTS = {"imdb": imdb_accuracy, "adder": adder_accuracy}
# What a failed accuracy check tells the student, per task: what was scored, where to look.
FEEDBACK = {
    "imdb": (
        "labelled {accuracy:.1%} of {examples} held-out reviews correctly",
        "the layers in between: their order, their sizes and anything you added",
    ),
    "adder": (
        f"wrote {{accuracy:.1%}} of the answer characters of {FRESH_ADDITIONS} new problems right",
        "the encoder and decoder: their sizes and what each one reads",
    ),
}


@student_check
def check_accuracy(
    namespace: dict,
    name: str,
    spec: str | dict,
    task: str,
    thresholds: dict[str, dict[str, float]],
    batch_size: int,
    extra_epochs: int = 0,
) -> None:
    """A fresh copy of the model, trained within the profile's budget for ``task`` ("imdb" or
    "adder"), reaches the threshold for the data it was measured on after one of its epochs."""
    spec = _spec(spec)
    model = _model(namespace, name, spec)
    _check_trainable(model, name, spec)
    data_kind = lab_support.imdb_source_kind() if task == "imdb" else lab_support.GENERATED_SOURCE
    threshold, profile_name = _threshold(thresholds, data_kind)
    result = MEASUREMENTS[task](model, batch_size, extra_epochs=extra_epochs, enough=threshold)
    if result.accuracy < threshold:
        scored, where_to_look = FEEDBACK[task]
        optimizer = _optimizer_fault(model, name, spec["optimizer"])
        advice = optimizer or (
            f"Its output layer, loss and optimizer are right, so look at {where_to_look}."
        )
        _fail(
            f"A fresh copy of `{name}`, trained for {result.budget} ({profile_name} profile), "
            f"{scored.format(accuracy=result.accuracy, examples=result.examples)}; it needs at "
            f"least {threshold:.1%}. {advice}"
        )


# --------------------------------------------------------------------------- notebook display

FAILED_CHECK = re.compile(r"CheckFailed: (.+)")
OTHER_ERROR = re.compile(r"^\s*(\w+(?:Error|Exception)): ?(.*)$", re.MULTILINE)


def failure_sentence(doctest_output: str) -> str:
    """The sentence a student needs from otter's report of a failed test case.

    Otter reports a failed OK-format test case with doctest's whole transcript (the test's
    source, a traceback through this module). Our checks raise ``CheckFailed`` with one
    sentence; anything else is reduced to its exception's last line.
    """
    if match := FAILED_CHECK.search(doctest_output):
        return match.group(1).strip()
    errors = OTHER_ERROR.findall(doctest_output)
    if errors:
        kind, text = errors[-1]
        return f"The check stopped with {kind}: {text.strip()}"
    return doctest_output.strip()


def brief_results(test_file) -> tuple[str, list[str]]:
    """An otter ``TestFile``'s result in a student's words: a headline, then one line per
    failed public test case (or, when all passed, the notes the checks left)."""
    failed = [
        failure_sentence(result.message or "")
        for result in test_file.test_case_results
        if not result.passed and not result.test_case.hidden
    ]
    if not failed:
        notes, NOTES[:] = list(NOTES), []
        return f"{test_file.name}: all public checks passed.", notes
    NOTES.clear()
    return f"{test_file.name}: {len(failed)} public check(s) failed.", failed


def _html(test_file) -> str:
    from html import escape

    headline, lines = brief_results(test_file)
    mark = "❌ " if not test_file.passed_all else ""
    items = "".join(f"<li>{mark}{escape(line)}</li>" for line in lines)
    return f"<p><strong>{escape(headline)}</strong></p>" + (f"<ul>{items}</ul>" if items else "")


def _text(test_file, printer, cycle) -> None:
    headline, lines = brief_results(test_file)
    printer.text("\n".join([headline, *(f"  - {line}" for line in lines)]))


def show_results_briefly() -> None:
    """Have the notebook show each ``grader.check`` result as a headline and one sentence
    per failed check (IPython's display formatters; nothing happens outside IPython)."""
    with contextlib.suppress(Exception):  # outside IPython, or without otter: keep defaults
        from IPython import get_ipython
        from otter.test_files.abstract_test import TestFile

        formatters = get_ipython().display_formatter.formatters
        formatters["text/html"].for_type(TestFile, _html)
        formatters["text/plain"].for_type(TestFile, _text)


show_results_briefly()
