"""Inside a grading run's kernel: training that a notebook starts itself costs a token amount.

The checker trains its own fresh copy of every model, so what a notebook trains never counts
toward its grade. A lab's own training helpers may already skip training in a
grading run; a student who calls ``model.fit`` directly, with the lab's epochs, would make the
notebook train everything and could run past the time limit with every answer right. So the
grader's first cell (``autograder.grading.untrusted.execute``), in a profile whose notebook trains nothing,
calls ``limit_training_now``, which makes:

- ``keras.Model.fit`` train one step of one epoch (and validate on one batch), so the History
  it returns has every key a plotting cell reads;
- ``keras.Model.train_on_batch`` train on its first call per model, then return that call's
  result without training (a loop of thousands of calls costs one step).

A call with ``epochs=0`` (the lab's helpers) passes through unchanged. Nothing here runs in
the trusted checker, which trains through the original methods.
"""

from __future__ import annotations

import functools
import inspect
import sys

NOTICE = (
    "[grading run] {what} trains one step only: the grader trains its own copy of every "
    "model, so the notebook's own training does not count toward the grade."
)
MARK = "_rnnlab_token_training"


def limit_training_now() -> None:
    """Limit training in this kernel (the grader adds the call when the run's profile trains
    nothing in the notebook). Keras is imported here, before the notebook's first cell,
    with the garbage collector paused and then frozen (``autograder.grading.startup``: a third less
    CPU)."""
    from autograder.grading.startup import import_frozen

    import_frozen("keras")
    import keras

    limit_training(keras.Model)


def limit_training(model_class) -> None:
    """Make ``model_class.fit`` and ``train_on_batch`` train a token amount (module docstring)."""
    if getattr(model_class.fit, MARK, False):
        return
    original_fit, original_step = model_class.fit, model_class.train_on_batch
    signature = inspect.signature(original_fit)
    told: set[str] = set()

    def tell(what: str) -> None:
        if what not in told:
            told.add(what)
            print(NOTICE.format(what=what), file=sys.stderr)

    @functools.wraps(original_fit)
    def fit(self, *args, **kwargs):
        bound = signature.bind(self, *args, **kwargs)
        arguments = bound.arguments
        if arguments.get("epochs", 1) == 0:
            return original_fit(*bound.args, **bound.kwargs)
        tell("model.fit")
        arguments.update(epochs=1, initial_epoch=0, steps_per_epoch=1)
        if arguments.get("validation_data") is not None or arguments.get("validation_split"):
            arguments["validation_steps"] = 1
        return original_fit(*bound.args, **bound.kwargs)

    @functools.wraps(original_step)
    def train_on_batch(self, *args, **kwargs):
        remembered = self.__dict__.get(MARK)
        if remembered is not None:
            return remembered
        tell("model.train_on_batch")
        result = original_step(self, *args, **kwargs)
        self.__dict__[MARK] = result
        return result

    setattr(fit, MARK, True)
    model_class.fit, model_class.train_on_batch = fit, train_on_batch
