"""The slowest-learning design a derived spec allows, built from the reference and the
declared bounds, for calibration: the threshold is set on the weakest design a valid answer
may have, not only on the reference (``calibrate``).

From the reference's Keras config, ``SlowestDesign`` makes the model where each declared
minimum is taken: every layer's ``units`` or ``filters`` with a ``{"min": m}`` rule at m;
when ``vary["dropout"]`` is a rate (the most dropout allowed), a ``Dropout`` of that rate
after each hidden layer (a Sequential reference only); and the reference's optimizer at the
lowest learning rate the spec allows, with the reference's loss and metrics; a setting
declared ``Free(slowest=v)`` takes v (a pooling's stride with it, where it was the pool size).
What the spec leaves free without a bound (``ANY``, a choice of paddings, a second layer)
stays as the reference has it: a lab whose slowest design depends on those writes its
builder by hand.
"""

from __future__ import annotations

from dataclasses import dataclass

from autograder.lab.questions import SLOWEST, DerivedSpec, ModelQuestion
from autograder.quality.mutations import chain_entries


@dataclass(frozen=True)
class SlowestDesign:
    """The slowest design of ``question`` (a ``ModelQuestion`` with a ``DerivedSpec``):
    called, a compiled Keras model (module docstring). Raises ValueError for a question whose
    spec is not derived or not compiled (no loss)."""

    question: ModelQuestion
    function: str = SLOWEST.function

    def __call__(self):
        question = self.question
        if not isinstance(question.spec, DerivedSpec):
            raise ValueError(
                f"{question.variable}'s spec is not derived: write its slowest design."
            )
        reference = question.builder()
        spec = question.spec.resolve(question.builder, reference)
        if "loss" not in spec:
            raise ValueError(f"{question.variable}'s reference is not compiled: it has no loss.")
        config = reference.get_config()
        entries = chain_entries(config)
        for index, rule in enumerate(spec["layers"][:-1]):
            for key in ("units", "filters"):
                bound = rule.get(key)
                if isinstance(bound, dict) and bound.get("min"):
                    config["layers"][entries[index]]["config"][key] = bound["min"]
        for index, setting, value in question.spec.slowest_values():
            layer = config["layers"][entries[index]]["config"]
            if setting == "pool_size" and layer.get("strides") == layer.get("pool_size"):
                layer["strides"] = value  # strides=None means the pool size (Keras' pooling)
            layer[setting] = value
        rate = spec.get("dropout")
        sequential = type(reference).__name__ == "Sequential"
        if sequential and isinstance(rate, float):
            for entry in reversed(entries[:-1]):  # from the end: earlier indices stay valid
                following = config["layers"][entry + 1 : entry + 2]
                if following and following[0]["class_name"] == "Dropout":
                    following[0]["config"]["rate"] = rate
                    continue
                dropout = {"module": "keras.layers", "class_name": "Dropout",
                           "config": {"rate": rate, "name": f"slowest_dropout_{entry}"},
                           "registered_name": None}  # fmt: skip
                config["layers"].insert(entry + 1, dropout)
        for layer in config["layers"]:  # the recorded input shapes may no longer fit
            layer.pop("build_config", None)
        model = type(reference).from_config(config)
        lowest = spec["optimizer"]["learning_rate"][0]
        optimizer = type(reference.optimizer)(learning_rate=lowest)
        metrics = (reference.get_compile_config() or {}).get("metrics")  # as the reference's
        model.compile(loss=spec["loss"], optimizer=optimizer, metrics=metrics)
        return model


def calibration_builders(question: ModelQuestion) -> tuple:
    """``question.calibration_designs`` with ``SLOWEST`` made its ``SlowestDesign``."""
    return tuple(
        SlowestDesign(question) if design is SLOWEST else design
        for design in question.calibration_designs
    )
