"""The lab's questions and the tests behind each one.

A test is one call of a ``lab_checks`` function, passed the notebook's variables
(``globals()``) so that it can name what is missing. What a model may look like comes from
``lab_specs`` (shipped with the notebook; a test names its spec); exact counts are read off
the reference builders, so the reference is the single source of truth for them; points and
thresholds come from the config.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

import lab_checks

from .config import AssignmentConfig

if TYPE_CHECKING:
    import keras


@dataclass(frozen=True)
class TestSpec:
    """One test case of a question: its name in the config's points table and its code."""

    name: str
    hidden: bool
    code: str


@dataclass(frozen=True)
class Reference:
    """A builder in ``reference/``, imported when first called: the grading parent process
    only reads this table, and importing Keras there would add about 3 s to every grade."""

    module: str
    function: str

    def __call__(self) -> keras.Model:
        return getattr(importlib.import_module(f"reference.{self.module}"), self.function)()


def imdb_model(function: str) -> Reference:
    return Reference("imdb_models", function)


def adder_model(function: str) -> Reference:
    return Reference("adder_models", function)


@dataclass(frozen=True)
class ModelQuestion:
    """A question whose answer is a compiled model held in ``variable``; ``spec`` names
    its entry in ``lab_specs.SPECS``.

    ``fixed_total``: the lab fixes every size, so the parameter total must equal the
    reference's; otherwise each layer's count must fit its formula for the student's sizes.
    """

    variable: str
    builder: Reference
    spec: str
    fixed_total: bool
    accuracy_check: str | None = None  # "imdb" or "adder"
    batch_size: int = 32
    extra_epochs: int = 0  # beyond the profile's check epochs, for a cheap but noisy check
    # Its accuracy check of the reference on one core (real reviews; it stops once the threshold
    # is reached), measured: deals out the work.
    check_seconds: float = 0.0

    def training(self) -> dict[str, int]:
        """How the accuracy check trains a fresh copy: keyword arguments of its measurement."""
        return {
            "batch_size": self.batch_size,
            "extra_epochs": self.extra_epochs,
        }


@dataclass(frozen=True)
class CountQuestion:
    """A parameter count worked out by hand, held in ``variable``: the reference model's, or
    only that of its layer of class ``layer``."""

    variable: str
    reference: Reference
    hint: str
    layer: str | None = None

    @property
    def expected(self) -> int:
        model = self.reference()
        if self.layer is None:
            return int(model.count_params())
        return next(
            int(each.count_params()) for each in model.layers if type(each).__name__ == self.layer
        )


@dataclass(frozen=True)
class DemoQuestion:
    """Small wrapper demos, one test each: its name, the variable and its spec's name."""

    demos: tuple[tuple[str, str, str], ...]


@dataclass(frozen=True)
class ManualQuestion:
    """A written answer, graded by a person."""


QUESTIONS = {
    "q1a_count": CountQuestion(
        "count_feedforward",
        imdb_model("build_feedforward_model"),
        "Each Dense layer has (inputs x units) weights plus one bias per unit; add up both layers.",
    ),
    "q1a": ModelQuestion(
        "model_feedforward", imdb_model("build_feedforward_model"), "FEEDFORWARD", True
    ),
    "q1a_why": ManualQuestion(),
    "q1b_count": CountQuestion(
        "count_embedding",
        imdb_model("build_embedding_model"),
        "The embedding holds one vector of 100 numbers per word of the vocabulary; Flatten "
        "turns 500 such vectors into one long input for the Dense layer.",
    ),
    "q2": ModelQuestion(
        "model_cnn", imdb_model("build_cnn_model"), "CNN", False, "imdb", check_seconds=20
    ),
    "q3_count": CountQuestion(
        "count_simple_rnn",
        imdb_model("build_simple_rnn_model"),
        "A SimpleRNN with u units and inputs of size d has u x (u + d + 1) parameters.",
        layer="SimpleRNN",
    ),
    "q4_count": CountQuestion(
        "count_lstm",
        imdb_model("build_lstm_model"),
        "An LSTM has three gates and a candidate value, each computed like a SimpleRNN of the "
        "same size: four times a SimpleRNN's count.",
        layer="LSTM",
    ),
    # On real reviews an LSTM that learns nothing scores up to 0.547 (0.526 by always answering
    # "negative"); after 2 epochs the reference's lower bound fell below that, after 3 it clears it.
    "q4": ModelQuestion(
        "model_lstm",
        imdb_model("build_lstm_model"),
        "LSTM",
        False,
        "imdb",
        extra_epochs=1,
        check_seconds=40,
    ),
    # One more epoch steadies the CNN+LSTM too (20 seeds at 2 epochs hid a tail that fresh
    # seeds showed).
    "q5": ModelQuestion(
        "model_cnn_lstm",
        imdb_model("build_cnn_lstm_model"),
        "CNN_LSTM",
        False,
        "imdb",
        extra_epochs=1,
        check_seconds=22,
    ),
    "q5_compare": ManualQuestion(),
    "q6": DemoQuestion(
        (
            ("time_distributed", "demo_time_distributed", "TIME_DISTRIBUTED_DEMO"),
            ("repeat_vector", "demo_repeat_vector", "REPEAT_VECTOR_DEMO"),
        )
    ),
    "q6_why": ManualQuestion(),
    "q7": ModelQuestion(
        "model_adder",
        adder_model("build_adder_model"),
        "ADDER",
        True,
        "adder",
        check_seconds=15,
    ),
}


def answer_names(name: str) -> list[str]:
    """The notebook variables that question ``name`` reads."""
    question = QUESTIONS[name]
    if isinstance(question, DemoQuestion):
        return [variable for _, variable, _ in question.demos]
    if isinstance(question, (ModelQuestion, CountQuestion)):
        return [question.variable]
    return []


def _call(function: str, variable: str, *args: str, **kwargs: str) -> str:
    """A test's code: one check called with the notebook's variables and the answer's name."""
    arguments = ", ".join(
        ["globals()", repr(variable), *args, *(f"{key}={value}" for key, value in kwargs.items())]
    )
    return f"import lab_checks\nlab_checks.{function}({arguments})\n"


def question_visibility(name: str) -> dict[str, bool]:
    """Whether each test case of question ``name`` is hidden, by test name in notebook order.

    Read from the question's kind alone, with no model built: the grading parent, which never
    imports Keras, labels its results with it. ``question_tests`` takes its flags from here.
    """
    question = QUESTIONS[name]
    if isinstance(question, CountQuestion):
        return {"value": False}
    if isinstance(question, DemoQuestion):
        return {test: False for test, _, _ in question.demos}
    if isinstance(question, ModelQuestion):
        accuracy = {"accuracy": True} if question.accuracy_check else {}
        return {"layers": False, "params": True, **accuracy}
    return {}


def question_tests(name: str, config: AssignmentConfig) -> list[TestSpec]:
    """The test cases of question ``name``, in notebook order."""
    question, hidden = QUESTIONS[name], question_visibility(name)
    if isinstance(question, CountQuestion):
        # Public: the model summary printed next to each count gives the value away anyway,
        # so a check that says "passed" must mean the count is right.
        return [
            TestSpec(
                "value",
                hidden["value"],
                _call(
                    "check_hand_count",
                    question.variable,
                    digest=repr(lab_checks.count_digest(question.variable, question.expected)),
                    hint=repr(question.hint),
                ),
            ),
        ]
    if isinstance(question, DemoQuestion):
        return [
            TestSpec(test, hidden[test], _call("check_architecture", variable, repr(spec)))
            for test, variable, spec in question.demos
        ]
    if isinstance(question, ModelQuestion):
        variable, spec = question.variable, repr(question.spec)
        total = repr(int(question.builder().count_params())) if question.fixed_total else "None"
        tests = [
            TestSpec("layers", hidden["layers"], _call("check_architecture", variable, spec)),
            TestSpec(
                "params",
                hidden["params"],
                _call("check_parameters", variable, spec, total=total),
            ),
        ]
        if question.accuracy_check:
            tests.append(
                TestSpec(
                    "accuracy",
                    hidden["accuracy"],
                    _call(
                        "check_accuracy",
                        variable,
                        spec,
                        task=repr(question.accuracy_check),
                        thresholds=repr(config.thresholds_for(name)),
                        **{key: repr(value) for key, value in question.training().items()},
                    ),
                )
            )
        return tests
    return []
