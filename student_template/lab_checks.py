"""The checks behind the lab's tests, public and hidden.

Each check returns quietly when the answer is right and raises ``AssertionError`` with a
message for the student when it is not. The tests pass in what they expect (architecture
specs, counts, thresholds), so this module holds no answer and no threshold. Values taken
from the student's objects are turned into plain ``int``/``str``/``tuple`` before any
comparison, so an object that claims to equal everything cannot pass.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import lab_architecture
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


class CheckFailed(AssertionError):
    """A wrong answer, with a message that says what to fix."""


def _fail(message: str) -> None:
    raise CheckFailed(message)


def _require_model(model, name: str) -> None:
    import keras

    if not isinstance(model, keras.Model):
        _fail(
            f"`{name}` should be a Keras model, but it is {type(model).__name__}. "
            "Run the cell that builds it (and make the builder `return` the model)."
        )


def check_hand_count(answer, expected: int | None = None, hint: str = "") -> None:
    """A parameter count worked out by hand: a whole number, and the right one if ``expected``.

    Only Python and NumPy numbers count, compared as plain ``int`` values, so an object
    that claims to equal everything cannot pass.
    """
    is_number = type(answer) in (int, float) or isinstance(answer, (np.integer, np.floating))
    if not is_number or not float(answer).is_integer():
        _fail(f"Write the count as a whole number such as 1234; you gave {answer!r:.60}.")
    if expected is not None and int(answer) != int(expected):
        _fail(f"{int(answer):,} is not the right count. {hint}".strip())


def _loss_name(loss) -> str:
    if isinstance(loss, str):
        return loss
    return str(getattr(loss, "name", None) or getattr(loss, "__name__", type(loss).__name__))


def _check_loss(model, name: str, wanted: str) -> None:
    loss = getattr(model, "loss", None)
    if loss is None:
        _fail(
            f"`{name}` is not compiled yet: call `{name}.compile(...)` with a loss and an optimizer."
        )
    got = _loss_name(loss)
    if got.lower().replace("_", "") != wanted.replace("_", ""):
        _fail(f"`{name}` is compiled with the loss {got!r}; this task needs {wanted!r}.")
    config = loss.get_config() if hasattr(loss, "get_config") else {}
    if config.get("from_logits"):
        _fail(
            f"`{name}`'s loss is set to from_logits=True, but the model's output layer already "
            "turns scores into probabilities: drop from_logits."
        )


def _chain(model, name: str, spec: dict, *, match: bool = True) -> list:
    """The model's folded layers (``lab_architecture.LayerView``), matched against ``spec``."""
    _require_model(model, name)
    try:
        if match:
            return lab_architecture.check_chain(model, name, spec)
        return lab_architecture.describe_model(model, name, tuple(spec["input"]))[0]
    except lab_architecture.ArchitectureFault as fault:
        _fail(str(fault))


def check_architecture(model, name: str, spec: dict) -> None:
    """The model has the exercise's layers (as ``spec`` allows them) and its loss."""
    chain = _chain(model, name, spec)
    got_output = chain[-1].output_shape[1:]
    if got_output != tuple(spec["output"]):
        _fail(
            f"`{name}` outputs shape {got_output} per example; it should be {tuple(spec['output'])}."
        )
    _check_loss(model, name, spec["loss"])


def _check_trainable(model, name: str, spec: dict) -> None:
    """What an accuracy check needs: the right output layer and loss (other layers may differ)."""
    chain = _chain(model, name, spec, match=False)
    got_output = chain[-1].output_shape[1:]
    if got_output != tuple(spec["output"]):
        _fail(
            f"`{name}` outputs shape {got_output} per example, not {tuple(spec['output'])}, "
            "so its answers cannot be scored. The 'layers' check says what to change."
        )
    fault = lab_architecture.rule_fault(chain[-1], spec["layers"][-1])
    if fault:
        _fail(fault)
    _check_loss(model, name, spec["loss"])


def check_parameters(model, name: str, spec: dict, total: int | None = None) -> None:
    """Each layer's parameter count fits the formula for its sizes; the total where fixed."""
    for view in _chain(model, name, spec, match=False):
        fault = lab_architecture.parameter_fault(view)
        if fault:
            _fail(fault)
    got = int(model.count_params())
    if total is not None and got != int(total):
        _fail(f"`{name}` has {got:,} parameters but the exercise's model has {int(total):,}.")


def check_output_shape(model, name: str, input_shape: tuple, expected: tuple) -> None:
    """Feeding zeros of ``input_shape`` gives an output of shape ``expected``."""
    _require_model(model, name)
    got = tuple(int(size) for size in model(np.zeros(input_shape, dtype="float32")).shape)
    if got != tuple(expected):
        _fail(f"`{name}` turns input {tuple(input_shape)} into {got}; expected {tuple(expected)}.")


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
        raise RuntimeError(
            f"The assignment has no accuracy threshold for the {profile.name!r} profile on "
            f"{data_kind!r} data; ask your instructor."
        ) from None


def _train_and_score(
    trainee, x, y, epochs: int, batch_size: int, score, enough: float | None
) -> tuple[float, int]:
    """Train ``trainee`` for ``epochs`` and score it on held-out data: ``(accuracy, epochs)``.

    With ``enough``, it is also scored after each earlier epoch, and training stops as soon
    as it reaches ``enough``: a check asks whether a fresh copy reaches its threshold within
    the budget, and one that has reached it need not train on (the reference CNN does after
    1 of its 2 epochs). Thresholds are calibrated on the last epoch alone, so these earlier
    looks can only lower the rate at which a correct model fails.
    """
    import keras

    class StopWhenEnough(keras.callbacks.Callback):
        reached: float | None = None

        def on_epoch_end(self, epoch, logs=None):
            if epoch + 1 < epochs and (accuracy := score(self.model)) >= enough:
                self.reached, self.model.stop_training = accuracy, True

    stopper = StopWhenEnough()
    callbacks = [] if enough is None else [stopper]
    history = trainee.fit(
        x, y, epochs=epochs, batch_size=batch_size, verbose=0, callbacks=callbacks
    )
    accuracy = score(trainee) if stopper.reached is None else stopper.reached
    return accuracy, len(history.epoch)


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
    data = lab_support.load_imdb(profile=profile)

    def score(trainee) -> float:
        scores = np.asarray(trainee.predict(data.x_test, batch_size=PREDICT_BATCH, verbose=0))
        return float(np.mean((scores[:, 0] > 0.5) == (data.y_test == 1)))

    accuracy, epochs = _train_and_score(
        fresh_copy(model),
        data.x_train,
        data.y_train,
        profile.check_epochs + extra_epochs,
        batch_size,
        score,
        enough,
    )
    return Measurement(
        accuracy, len(data.y_test), f"{epochs} epoch(s) on {len(data.x_train)} reviews"
    )


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
    training = lab_support.load_additions(profile.adder_problems, seed=seed, train_fraction=1.0)
    fresh_pairs = lab_support.addition_pairs(
        FRESH_ADDITIONS, seed=seed + 1, exclude=frozenset(training.pairs)
    )
    x_fresh, y_fresh = lab_support.encode_additions(fresh_pairs)

    def score(trainee) -> float:
        predicted = trainee.predict(x_fresh, batch_size=PREDICT_BATCH, verbose=0)
        return float(np.mean(np.argmax(predicted, axis=-1) == np.argmax(y_fresh, axis=-1)))

    accuracy, epochs = _train_and_score(
        fresh_copy(model),
        training.x_train,
        training.y_train,
        profile.adder_check_epochs + extra_epochs,
        batch_size,
        score,
        enough,
    )
    examples = FRESH_ADDITIONS * y_fresh.shape[1]
    return Measurement(accuracy, examples, f"{epochs} epoch(s) on {len(training.pairs)} problems")


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


def check_accuracy(
    model,
    name: str,
    spec: dict,
    task: str,
    thresholds: dict[str, dict[str, float]],
    batch_size: int,
    extra_epochs: int = 0,
) -> None:
    """A fresh copy of the model, trained within the profile's budget for ``task`` ("imdb" or
    "adder"), reaches the threshold for the data it was measured on after one of its epochs."""
    _check_trainable(model, name, spec)
    data_kind = lab_support.imdb_source_kind() if task == "imdb" else lab_support.GENERATED_SOURCE
    threshold, profile_name = _threshold(thresholds, data_kind)
    result = MEASUREMENTS[task](model, batch_size, extra_epochs=extra_epochs, enough=threshold)
    if result.accuracy < threshold:
        scored, where_to_look = FEEDBACK[task]
        _fail(
            f"A fresh copy of `{name}`, trained for {result.budget} ({profile_name} profile), "
            f"{scored.format(accuracy=result.accuracy, examples=result.examples)}; it needs at "
            f"least {threshold:.1%}. Its output layer and loss are right, so look at "
            f"{where_to_look}."
        )
