"""A small lab on scikit-learn's breast-cancer data: a hand count and a two-layer network."""

from cancer_support import DATASET

from autograder.lab.folder import LabSpec
from autograder.lab.questions import (
    SLOWEST,
    CountQuestion,
    DerivedSpec,
    ManualQuestion,
    ModelQuestion,
    Reference,
)
from labkit.checks import ADAPTIVE_OPTIMIZERS

MLP = Reference(f"{__name__}.reference.cancer_models", "build_mlp_model")

LAB = LabSpec(
    questions={
        "q1_count": CountQuestion(
            variable="count_hidden",
            reference=MLP,
            hint="A Dense layer has one weight per input and unit, plus one bias per unit.",
            layer="Dense",
        ),
        # Any width of at least 8 and dropout of at most half; Adam-like optimizers at 0.001
        # or more, where the narrowest allowed network still learns in the grading budget.
        "q2": ModelQuestion(
            variable="model_mlp",
            builder=MLP,
            spec=DerivedSpec(
                vary={"layers[0].units": {"min": 8}, "dropout": 0.5},
                optimizer={**ADAPTIVE_OPTIMIZERS, "learning_rate": (1e-3, 1e-2)},
            ),
            fixed_total=False,
            accuracy_check=DATASET.kind,
            calibration_designs=(SLOWEST,),  # 8 units, Dropout(0.5), Adam at 0.001
            check_seconds=2,
        ),
        "q2_why": ManualQuestion(),
    },
    support_module="cancer_support",
    checks_module="cancer_checks",
    sandbox_files=("cancer_support.py", "profiles.toml"),
    dataset=DATASET,
)
