"""The checks behind the lab's tests, public and hidden.

Each check returns quietly when the answer is right and raises ``AssertionError`` with a
message for the student when it is not. The tests pass in what they expect (layer lists,
counts, thresholds), so this module holds no answer and no threshold.
"""

from __future__ import annotations

import numpy as np

import lab_support

CHECK_SEED = 1234
FRESH_ADDITIONS = 10_000


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
    """A parameter count worked out by hand: a whole number, and the right one if ``expected``."""
    if type(answer) is not int:
        _fail(f"Write the count as a whole number such as 1234; you gave {answer!r}.")
    if expected is not None and answer != int(expected):
        _fail(f"{answer:,} is not the right count. {hint}".strip())


def describe_layers(model) -> list[tuple[str, tuple]]:
    """Each layer's class name and output shape, e.g. ``("LSTM", (None, 100))``."""
    return [(type(layer).__name__, tuple(layer.output.shape)) for layer in model.layers]


def output_shape(model) -> tuple:
    """The model's output shape, batch dimension included (``None``)."""
    return tuple(model.layers[-1].output.shape)


def loss_name(model) -> str | None:
    """The compiled loss as a lower-case name, e.g. ``binary_crossentropy``; None if uncompiled."""
    loss = getattr(model, "loss", None)
    if loss is None:
        return None
    if isinstance(loss, str):
        return loss.lower()
    return str(getattr(loss, "name", None) or getattr(loss, "__name__", type(loss).__name__))


def check_model(model, name: str, expected_layers: list[tuple[str, tuple]], loss: str) -> None:
    """Layer kinds, output shapes and compiled loss match the exercise."""
    _require_model(model, name)
    actual = describe_layers(model)
    for position, (got, wanted) in enumerate(zip(actual, expected_layers, strict=False), start=1):
        if got[0] != wanted[0]:
            _fail(
                f"Layer {position} of `{name}` is a {got[0]}, but the exercise asks for a {wanted[0]} there."
            )
        if tuple(got[1]) != tuple(wanted[1]):
            _fail(
                f"Layer {position} of `{name}` ({got[0]}) outputs shape {got[1]}, "
                f"but it should output {tuple(wanted[1])}. Check its size and settings."
            )
    if len(actual) != len(expected_layers):
        kinds = ", ".join(kind for kind, _ in expected_layers)
        _fail(f"`{name}` has {len(actual)} layers but should have {len(expected_layers)}: {kinds}.")
    got_loss = loss_name(model)
    if got_loss is None:
        _fail(
            f"`{name}` is not compiled yet: call `{name}.compile(...)` with a loss and an optimizer."
        )
    if got_loss != loss:
        _fail(f"`{name}` is compiled with the loss {got_loss!r}; this task needs {loss!r}.")


def check_param_count(model, name: str, expected: int) -> None:
    """The model has exactly the parameter count of the exercise's architecture."""
    _require_model(model, name)
    if int(model.count_params()) != int(expected):
        _fail(
            f"`{name}` has {int(model.count_params()):,} parameters but should have {int(expected):,}."
        )


def check_output_shape(model, name: str, input_shape: tuple, expected: tuple) -> None:
    """Feeding zeros of ``input_shape`` gives an output of shape ``expected``."""
    _require_model(model, name)
    output = model(np.zeros(input_shape, dtype="float32"))
    if tuple(output.shape) != tuple(expected):
        _fail(
            f"`{name}` turns input {tuple(input_shape)} into {tuple(output.shape)}; expected {tuple(expected)}."
        )


def fresh_copy(model):
    """A model with the same layers and compile settings but new, untrained weights."""
    import keras

    config = model.get_compile_config()
    if config is None:
        _fail("The model is not compiled: call `.compile(...)` before it can be trained.")
    copy = keras.models.model_from_json(model.to_json())
    copy.compile_from_config(config)
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


def check_imdb_accuracy(
    model, name: str, thresholds: dict[str, dict[str, float]], batch_size: int
) -> None:
    """A fresh copy of the model, trained within the profile's budget, beats the threshold."""
    _require_model(model, name)
    threshold, profile_name = _threshold(thresholds, lab_support.imdb_source_kind())
    profile = lab_support.active_profile()
    lab_support.set_seeds(CHECK_SEED)
    data = lab_support.load_imdb(profile=profile)
    if output_shape(model)[1:] != (1,):
        _fail(
            f"`{name}` should output one probability per review, not shape {output_shape(model)}."
        )
    trainee = fresh_copy(model)
    epochs = profile.check_epochs
    trainee.fit(data.x_train, data.y_train, epochs=epochs, batch_size=batch_size, verbose=0)
    scores = np.asarray(trainee.predict(data.x_test, verbose=0))[:, 0]
    accuracy = float(np.mean((scores > 0.5) == (data.y_test == 1)))
    if accuracy < threshold:
        _fail(
            f"A fresh copy of `{name}`, trained for {epochs} epoch(s) on {len(data.x_train)} reviews "
            f"({profile_name} profile), labelled {accuracy:.1%} of held-out reviews correctly; "
            f"it needs at least {threshold:.1%}. Check the output layer (one unit, sigmoid), the "
            "loss (binary cross-entropy) and the order of the layers."
        )


def check_adder_accuracy(
    model, name: str, thresholds: dict[str, dict[str, float]], batch_size: int
) -> None:
    """A fresh copy, trained within the profile's budget, solves fresh additions."""
    _require_model(model, name)
    threshold, profile_name = _threshold(thresholds, lab_support.GENERATED_SOURCE)
    profile = lab_support.active_profile()
    lab_support.set_seeds(CHECK_SEED)
    training = lab_support.load_additions(
        profile.adder_problems, seed=CHECK_SEED, train_fraction=1.0
    )
    fresh_pairs = lab_support.addition_pairs(
        FRESH_ADDITIONS, seed=CHECK_SEED + 1, exclude=frozenset(training.pairs)
    )
    x_fresh, y_fresh = lab_support.encode_additions(fresh_pairs)
    if output_shape(model)[1:] != y_fresh.shape[1:]:
        _fail(
            f"`{name}` answers with shape {output_shape(model)[1:]}, but each answer is "
            f"{y_fresh.shape[1]} characters, each a softmax over {y_fresh.shape[2]} symbols."
        )
    trainee = fresh_copy(model)
    epochs = profile.adder_check_epochs
    trainee.fit(training.x_train, training.y_train, epochs=epochs, batch_size=batch_size, verbose=0)
    accuracy = lab_support.whole_answer_accuracy(trainee, x_fresh, y_fresh)
    if accuracy < threshold:
        _fail(
            f"A fresh copy of `{name}`, trained for {epochs} epoch(s) on {len(training.pairs)} "
            f"problems ({profile_name} profile), got {accuracy:.1%} of {FRESH_ADDITIONS} new "
            f"problems entirely right; it needs at least {threshold:.1%}. Check that the decoder "
            "returns sequences and that the output is a softmax over the 12 characters."
        )
