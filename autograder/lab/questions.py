"""The kinds of question a lab asks, and the tests behind each one.

A lab lists its questions (``QUESTIONS`` in its interface, ``autograder.lab.folder``) as values of
these classes. A test is one call of a function of the lab's checks module, passed the
notebook's variables (``globals()``) so that it can name what is missing. What a model may
look like comes from the lab's specs (shipped with the notebook; a test names its spec); exact
counts and shapes are read off the reference builders, so the reference is the single source
of truth for them; points and thresholds come from the config.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from autograder.lab.config import AssignmentConfig
from labkit.checks import count_digest, shape_digest
from labkit.derive import ANY, LAYER_KEY

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
    """A reference builder, ``function`` of the module ``module`` (dotted, under the lab's
    package), imported when first called: the grading parent process only reads the question
    table, and importing Keras there would add about 3 s to every grade."""

    module: str
    function: str

    def __call__(self) -> keras.Model:
        return getattr(importlib.import_module(self.module), self.function)()


@dataclass(frozen=True)
class Free:
    """A setting students choose freely (``labkit.derive.ANY``: not checked) whose
    slowest-learning value is ``slowest``: the value it takes in the slowest design a spec
    allows, which calibration trains (``autograder.quality.slowest``). ``"pool_size":
    Free(slowest=3)``: any pooling, the coarsest learning slowest."""

    slowest: object


@dataclass(frozen=True, kw_only=True)
class DerivedSpec:
    """A model question's spec derived from its reference builder when the lab is built
    (``labkit.derive.derive_spec``): the reference's input, output, loss and layers, with
    ``vary`` saying what students may change (``"layers[0].units": {"min": 8}``,
    ``"dropout": True``, ...); ``optimizer``: the optimizers and learning rates allowed;
    ``why``: what the output activation is for, in a message."""

    vary: dict = field(default_factory=dict, hash=False)
    optimizer: dict | None = field(default=None, hash=False)
    why: str | None = None

    def resolve(self, builder: Reference, model: keras.Model | None = None) -> dict:
        """The spec, from ``model`` or else the model ``builder`` builds (imports Keras)."""
        from labkit.derive import derive_spec

        return derive_spec(
            model if model is not None else builder(), builder=builder.function,
            vary={key: _checked(value) for key, value in self.vary.items()},
            optimizer=self.optimizer, why=self.why,
        )  # fmt: skip

    def slowest_values(self) -> list[tuple[int, str, object]]:
        """``(layer index, setting, value)`` for each setting ``vary`` declares ``Free``."""
        found = []
        for key, value in self.vary.items():
            match = LAYER_KEY.match(key)
            if not match:
                continue
            index, setting = int(match.group(1)), match.group(2)
            changes = {setting: value} if setting else value
            found += [(index, name, free.slowest) for name, free in changes.items()
                      if isinstance(free, Free)]  # fmt: skip
        return found


def _checked(allowed):
    """A ``vary`` value as ``labkit.derive`` reads it: ``Free`` is ``ANY`` there."""
    if isinstance(allowed, Free):
        return ANY
    if isinstance(allowed, dict):
        return {name: _checked(value) for name, value in allowed.items()}
    return allowed


class _Slowest:
    """``calibration_designs=(SLOWEST,)``: the slowest design the question's derived spec
    allows, built from its reference and declared bounds when calibrating
    (``autograder.quality.slowest``)."""

    function = "slowest_allowed"  # its name in calibration.toml

    def __repr__(self) -> str:
        return "SLOWEST"


SLOWEST = _Slowest()


@dataclass(frozen=True, kw_only=True)
class ModelQuestion:
    """A question whose answer is a compiled model held in ``variable``; ``spec`` is a
    ``DerivedSpec`` (derived from ``builder`` when the lab is built) or names its entry in
    the specs of the lab's checks module.

    ``fixed_total``: the lab fixes every size, so the parameter total must equal the
    reference's; otherwise each layer's count must fit its formula for the student's sizes.
    """

    variable: str
    builder: Reference
    spec: str | DerivedSpec
    fixed_total: bool
    accuracy_check: str | None = None  # an accuracy task of the lab (its ACCURACY_TASKS)
    batch_size: int = 32
    extra_epochs: int = 0  # beyond the profile's check epochs, for a cheap but noisy check
    # Builders of the slowest-learning designs the spec allows besides the reference: the
    # threshold is calibrated on the weakest of them in each run, so that it passes every
    # valid answer, not only the reference (``autograder.quality.calibrate``).
    # ``SLOWEST`` derives one from a ``DerivedSpec`` (``autograder.quality.slowest``).
    calibration_designs: tuple[Reference | _Slowest, ...] = ()
    # Seconds its accuracy check of the reference takes in a checker of the grading profile
    # (it stops once the threshold is reached), measured: deals the work out among checkers.
    check_seconds: float = 0.0

    def training(self) -> dict[str, int]:
        """How the accuracy check trains a fresh copy: keyword arguments of its measurement."""
        return {
            "batch_size": self.batch_size,
            "extra_epochs": self.extra_epochs,
        }


@dataclass(frozen=True, kw_only=True)
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


@dataclass(frozen=True, kw_only=True)
class ShapeQuestion:
    """An output shape worked out by hand, held in ``variable`` as a tuple of whole numbers:
    that of the reference model's first layer of class ``layer``, without the batch size."""

    variable: str
    reference: Reference
    layer: str
    hint: str

    @property
    def expected(self) -> tuple[int, ...]:
        model = self.reference()
        found = next(each for each in model.layers if type(each).__name__ == self.layer)
        return tuple(int(size) for size in found.output.shape[1:])


@dataclass(frozen=True, kw_only=True)
class DemoQuestion:
    """Small wrapper demos, one test each: its name, the variable and its spec's name."""

    demos: tuple[tuple[str, str, str], ...]


@dataclass(frozen=True)
class ManualQuestion:
    """A written answer, graded by a person."""


def answer_names(name: str, config: AssignmentConfig) -> list[str]:
    """The notebook variables that question ``name`` reads."""
    question = config.lab.questions[name]
    if isinstance(question, DemoQuestion):
        return [variable for _, variable, _ in question.demos]
    if isinstance(question, (ModelQuestion, CountQuestion, ShapeQuestion)):
        return [question.variable]
    return []


def _call(module: str, function: str, variable: str, *args: str, **kwargs: str) -> str:
    """A test's code: one check of the lab's checks ``module`` called with the notebook's
    variables and the answer's name."""
    arguments = ", ".join(
        ["globals()", repr(variable), *args, *(f"{key}={value}" for key, value in kwargs.items())]
    )
    return f"import {module}\n{module}.{function}({arguments})\n"


def question_visibility(name: str, config: AssignmentConfig) -> dict[str, bool]:
    """Whether each test case of question ``name`` is hidden, by test name in notebook order.

    Read from the question's kind alone, with no model built: the grading parent, which never
    imports Keras, labels its results with it. ``question_tests`` takes its flags from here.
    """
    question = config.lab.questions[name]
    if isinstance(question, (CountQuestion, ShapeQuestion)):
        return {"value": False}
    if isinstance(question, DemoQuestion):
        return {test: False for test, _, _ in question.demos}
    if isinstance(question, ModelQuestion):
        accuracy = {"accuracy": True} if question.accuracy_check else {}
        return {"layers": False, "params": True, **accuracy}
    return {}


def question_tests(name: str, config: AssignmentConfig) -> list[TestSpec]:
    """The test cases of question ``name``, in notebook order."""
    question, hidden = config.lab.questions[name], question_visibility(name, config)
    module = config.lab.checks_module
    if isinstance(question, (CountQuestion, ShapeQuestion)):
        # Public: the model summary printed next to each count or shape gives the value away
        # anyway, so a check that says "passed" must mean the value is right.
        if isinstance(question, CountQuestion):
            check, digest = "check_hand_count", count_digest(question.variable, question.expected)
        else:
            check, digest = "check_hand_shape", shape_digest(question.variable, question.expected)
        arguments = {"digest": repr(digest), "hint": repr(question.hint)}
        return [
            TestSpec("value", hidden["value"], _call(module, check, question.variable, **arguments))
        ]
    if isinstance(question, DemoQuestion):
        return [
            TestSpec(test, hidden[test], _call(module, "check_architecture", variable, repr(spec)))
            for test, variable, spec in question.demos
        ]
    if isinstance(question, ModelQuestion):
        variable = question.variable
        spec = repr(
            question.spec
            if isinstance(question.spec, str)
            else question.spec.resolve(question.builder)
        )
        total = repr(int(question.builder().count_params())) if question.fixed_total else "None"
        tests = [
            TestSpec(
                "layers", hidden["layers"], _call(module, "check_architecture", variable, spec)
            ),
            TestSpec(
                "params",
                hidden["params"],
                _call(module, "check_parameters", variable, spec, total=total),
            ),
        ]
        if question.accuracy_check:
            tests.append(
                TestSpec(
                    "accuracy",
                    hidden["accuracy"],
                    _call(
                        module,
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
