"""The starting point of ``kerasgrade new-lab``: one hand count, one model question and one
written question on made-up data (``sklearn.datasets.make_classification``). Replace the
data (``shipped/starter_support.py``), the reference (``reference/models.py``), what may
vary (``vary`` below) and the prose (``template/lab.ipynb.j2``) with your lab's own."""

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
from starter_support import DATASET

MODEL = Reference(f"{__name__}.reference.models", "build_model")

LAB = LabSpec(
    questions={
        "q1_count": CountQuestion(
            variable="count_hidden",
            reference=MODEL,
            hint="A Dense layer has one weight per input and unit, plus one bias per unit.",
            layer="Dense",
        ),
        # Any width of at least 8 and dropout of at most half; Adam-like optimizers at 0.001
        # or more. Calibration trains the slowest of these (SLOWEST) beside the reference.
        "q2": ModelQuestion(
            variable="model_mlp",
            builder=MODEL,
            spec=DerivedSpec(
                vary={"layers[0].units": {"min": 8}, "dropout": 0.5},
                optimizer={**ADAPTIVE_OPTIMIZERS, "learning_rate": (1e-3, 1e-2)},
            ),
            fixed_total=False,
            accuracy_check=DATASET.kind,
            calibration_designs=(SLOWEST,),
            check_seconds=2,
        ),
        "q2_why": ManualQuestion(),
    },
    support_module="starter_support",
    checks_module="starter_checks",
    sandbox_files=("starter_support.py", "profiles.toml"),
    dataset=DATASET,
)
