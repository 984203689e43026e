"""The slowest design a derived spec allows, derived from the reference and its bounds."""

import pytest

from autograder.grading.trusted.canonical import canonical_architecture, canonical_compile
from autograder.lab.config import load_config
from autograder.lab.find import installed_labs_dir
from autograder.lab.questions import SLOWEST, DerivedSpec, Reference
from autograder.quality.calibration_runs import design_names
from autograder.quality.slowest import SlowestDesign, calibration_builders

CANCER = load_config(installed_labs_dir() / "breast_cancer").lab


def assert_same_design(derived, by_hand):
    """The same layers and the same compile settings, metrics aside (they do not train)."""
    assert canonical_architecture(derived.to_json()) == canonical_architecture(by_hand.to_json())
    compiled = [canonical_compile(m.get_compile_config()) for m in (derived, by_hand)]
    for config in compiled:
        config.pop("metrics")
    assert compiled[0] == compiled[1]


def narrowest_by_hand():
    """The builder the breast-cancer lab wrote by hand before its slowest design was derived
    (calibrated as ``build_narrowest_mlp_model``, 2026-12-07)."""
    import keras

    model = keras.Sequential([keras.Input((30,)), keras.layers.Dense(8, activation="relu"),
                              keras.layers.Dropout(0.5), keras.layers.Dense(1, activation="sigmoid")])  # fmt: skip
    model.compile(loss="binary_crossentropy", optimizer=keras.optimizers.Adam(1e-3))
    return model


def test_the_breast_cancer_labs_slowest_design_is_the_one_it_wrote_by_hand(monkeypatch):
    """8 units (the declared minimum), Dropout(0.5) (the most allowed), Adam at 0.001 (the
    lowest rate allowed): the network the lab used to write, layer for layer (metrics aside,
    which do not train), and so the same accuracy at the same seed in the grading profile."""
    question = CANCER.questions["q2"]
    assert question.calibration_designs == (SLOWEST,)
    (design,) = calibration_builders(question)
    derived, by_hand = design(), narrowest_by_hand()
    assert_same_design(derived, by_hand)
    assert design_names(question) == ["reference", "slowest_allowed"]
    monkeypatch.setenv("CANCER_PROFILE", "grading")
    measure = CANCER.checks.MEASUREMENTS[question.accuracy_check]
    accuracies = [measure(m, seed=3, **question.training()).accuracy for m in (derived, by_hand)]
    assert accuracies[0] == accuracies[1]


def smallest_cnn_by_hand():
    """The builder the digits lab wrote by hand (``reference/slow_designs.py``) before its
    slowest design was derived; its threshold (calibration.toml, 2026-12-01) was set on it."""
    import keras
    from keras import layers

    model = keras.Sequential([keras.Input((8, 8, 1)), layers.Conv2D(8, (3, 3), activation="relu"),
                              layers.MaxPooling2D(3), layers.Flatten(),
                              layers.Dense(10, activation="softmax")])  # fmt: skip
    model.compile(loss="sparse_categorical_crossentropy", optimizer=keras.optimizers.Adam(1e-3))
    return model


def test_the_digits_labs_slowest_design_takes_the_pooling_declared_free_with_its_slowest_value():
    """8 filters (the declared minimum), pooling of 3 with strides of 3 (``Free(slowest=3)``:
    a stride left to Keras is the pool size), Adam at 0.001: layer for layer the design the
    digits lab calibrated on when it wrote it by hand."""
    digits = load_config(installed_labs_dir() / "digits_cnn").lab
    question = digits.questions["q3"]
    assert question.spec.slowest_values() == [(1, "pool_size", 3)]
    (design,) = calibration_builders(question)
    derived, by_hand = design(), smallest_cnn_by_hand()
    assert_same_design(derived, by_hand)


def test_a_dropout_the_reference_has_takes_the_most_allowed_rate():
    import keras

    from autograder.lab.questions import ModelQuestion

    question = ModelQuestion(
        variable="model", builder=Reference(__name__, "with_dropout"), fixed_total=False,
        spec=DerivedSpec(vary={"layers[0].units": {"min": 4}, "dropout": 0.3}),
    )  # fmt: skip
    model = SlowestDesign(question)()
    kinds = [(layer.__class__.__name__, getattr(layer, "units", getattr(layer, "rate", None)))
             for layer in model.layers]  # fmt: skip
    assert kinds == [("Dense", 4), ("Dropout", 0.3), ("Dense", 1)]
    assert float(keras.ops.convert_to_numpy(model.optimizer.learning_rate)) == pytest.approx(1e-4)


def with_dropout():
    import keras

    model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(16, activation="relu"),
                              keras.layers.Dropout(0.1), keras.layers.Dense(1, activation="sigmoid")])  # fmt: skip
    model.compile(loss="binary_crossentropy", optimizer=keras.optimizers.Adam(1e-3))
    return model


def test_a_spec_that_is_not_derived_is_refused():
    from autograder.lab.questions import ModelQuestion

    question = ModelQuestion(
        variable="m", builder=CANCER.questions["q2"].builder, spec="q2", fixed_total=False
    )
    with pytest.raises(ValueError, match="not derived"):
        SlowestDesign(question)()
