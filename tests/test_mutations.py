"""Wrong variants generated from a derived spec (autograder.quality.mutations): each one's code
runs, and the public layers check or the accuracy test (the frozen one) catches it."""

import pytest

from autograder.lab.config import load_config
from autograder.lab.find import installed_labs_dir
from autograder.lab.questions import question_tests
from autograder.quality.mutations import generated_variants


@pytest.mark.parametrize(("lab", "question"), [("breast_cancer", "q2"), ("digits_cnn", "q3")])
def test_every_mutant_runs_and_is_caught_by_the_structure_checks_or_marked_untrainable(
    lab, question
):
    config = load_config(installed_labs_dir() / lab)
    variants = generated_variants(config)
    names = [variant.name for variant in variants]
    assert names == [
        "mutant_linear_output", "mutant_wrong_loss",
        f"mutant_too_few_{'units' if lab == 'breast_cancer' else 'filters'}",
        "mutant_missing_layer", "mutant_sgd", "mutant_every_layer_frozen",
    ]  # fmt: skip
    prelude = (config.lab.variants_dir / "prelude.py").read_text()
    tests = {test.name: test.code for test in question_tests(question, config)}
    for variant in variants:
        namespace: dict = {}
        exec(prelude + "\n" + variant.code, namespace)  # noqa: S102  (our own generated code)
        failures = []
        for name in ("layers", "params"):
            try:
                exec(tests[name], namespace)  # noqa: S102
            except AssertionError as fault:
                failures.append(str(fault))
        if variant.untrainable:
            assert not failures, (variant.name, failures)  # only training can reveal it
        else:
            assert failures and variant.fault in failures[0], (variant.name, failures)
