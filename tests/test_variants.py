"""The hidden and public tests are right both ways, proven on the variant corpus in variants/.

Every valid variant must get full marks on its question and every wrong one must lose
marks with feedback that names its fault. The fast test runs each variant's structure and
count tests in-process (answers still cross the JSON boundary); the slow one grades the
whole corpus through `kerasgrade verify-tests`, the real sandbox-then-checker path, accuracy
training included.
"""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import RNN_LAB

from autograder.grading.trusted.answers import read_answers
from autograder.grading.trusted.canonical import canonical_architecture, canonical_compile
from autograder.grading.trusted.check import run_test, unreadable_answer
from autograder.grading.untrusted.export import export_cell_source
from autograder.lab.config import load_config
from autograder.lab.questions import answer_names, question_tests
from autograder.lab.settings import RunSettings
from autograder.quality.verify import PRELUDE_FILE, load_corpus, table, verify

CONFIG = load_config(RNN_LAB.folder)
CORPUS = load_corpus(RNN_LAB.variants_dir)
PRELUDE = (RNN_LAB.variants_dir / PRELUDE_FILE).read_text()


def structure_results(variant, tmp_path: Path) -> list[tuple[bool, str]]:
    """Run the variant's cell, export its answers, and run every test but the training one."""
    namespace: dict = {}
    exec(PRELUDE + variant.code, namespace)
    names = answer_names(variant.question, CONFIG)
    exec(export_cell_source(names, str(tmp_path / "answers.jsonl")), namespace)
    answers = read_answers(tmp_path / "answers.jsonl", names)
    tests = question_tests(variant.question, CONFIG)
    unreadable = unreadable_answer(variant.question, answers, CONFIG)
    if unreadable:
        return [(False, unreadable)]
    return [run_test(test.code, answers) for test in tests if test.name != "accuracy"]


def test_corpus_covers_every_auto_graded_question_both_ways():
    config = CONFIG
    for question in config.points:
        if config.is_manual(question):
            continue
        kinds = [variant.valid for variant in CORPUS if variant.question == question]
        assert kinds.count(True) >= 3 and kinds.count(False) >= 4, question


@pytest.mark.parametrize(
    "variant",
    CORPUS,
    ids=[f"{v.question}-{'valid' if v.valid else 'wrong'}-{v.name}" for v in CORPUS],
)
def test_variant_structure_and_counts(variant, tmp_path):
    results = structure_results(variant, tmp_path)
    messages = [message for _, message in results]
    if variant.valid or variant.untrainable:  # only the accuracy test may catch the latter
        assert all(passed for passed, _ in results), messages
    else:
        assert not all(passed for passed, _ in results), variant.name
        assert any(variant.fault in message for message in messages), messages


@pytest.mark.slow
def test_the_corpus_is_graded_right_and_alike_with_measurements_reused(tmp_path):
    """The whole corpus through the real sandbox-then-checker path, accuracy training
    included, with a fresh measurement store: every verdict as expected. Then again with
    the store the first run filled: no accuracy check trains, and every variant gets the
    same points and the same messages (a reused measurement decides exactly as training)."""
    settings = RunSettings.of("smoke", "generated")
    store = tmp_path / "measurements"
    trained = verify(CONFIG, settings=settings, workers=2, store=store, progress=print)
    assert all(verdict.as_expected for verdict in trained), table(trained)
    assert "trained" in {m for verdict in trained for m in verdict.measurements}
    reused = verify(CONFIG, settings=settings, workers=2, store=store, progress=print)
    assert {m for verdict in reused for m in verdict.measurements} == {"reused"}

    def outcome(verdicts):
        return sorted((v.variant.question, v.variant.name, v.points, v.messages) for v in verdicts)

    assert outcome(reused) == outcome(trained)


# The measurements of the corpus' trainings in the grading profile on generated reviews, made
# by `kerasgrade verify-tests --store assignments/rnn_lab/variants/measurements` (docs/measurement-store.md, "What a
# CI run proves"). Keyed by what decides a training, so a changed variant, training code or
# package version trains again rather than reusing a stale figure.
GRADING_MEASUREMENTS = RNN_LAB.variants_dir / "measurements"
# Each question's calibration designs (reference/slow_designs.py), as the corpus writes them.
CALIBRATION_VARIANTS = {
    ("q2", "coarse_pool_most_dropout"),
    ("q4", "stacked_widest_most_dropout"),
    ("q5", "smallest_allowed"),
}


@pytest.mark.parametrize("question, name", sorted(CALIBRATION_VARIANTS))
def test_each_calibration_design_is_in_the_corpus_as_written(question, name):
    """The grading-profile proof covers the very designs the thresholds were calibrated on."""
    (variant,) = [v for v in CORPUS if (v.question, v.name) == (question, name)]
    namespace: dict = {}
    exec(PRELUDE + variant.code, namespace)
    written = namespace[answer_names(question, CONFIG)[0]]
    (design,) = CONFIG.lab.questions[question].calibration_designs
    calibrated = design()
    assert canonical_architecture(written.to_json()) == canonical_architecture(calibrated.to_json())
    assert canonical_compile(written.get_compile_config()) == canonical_compile(
        calibrated.get_compile_config()
    )


@pytest.mark.slow
def test_the_corpus_is_graded_right_in_the_grading_profile(tmp_path):
    """The profile that grades, against the calibrated thresholds: every valid variant (the
    calibration designs and every other architecture) gets full marks and every wrong one
    loses marks with its fault named. Accuracies come from the committed measurements where
    they still decide; whatever is not recorded trains here."""
    assert {(v.question, v.name) for v in CORPUS if v.valid} >= CALIBRATION_VARIANTS
    store = tmp_path / "measurements"
    shutil.copytree(GRADING_MEASUREMENTS, store)
    settings = RunSettings.of("grading", "generated")
    verdicts = verify(CONFIG, settings=settings, workers=2, store=store, progress=print)
    print(table(verdicts))
    assert all(verdict.as_expected for verdict in verdicts), table(verdicts)


def test_verify_tests_refuses_a_corpus_that_is_not_there(tmp_path):
    command = [sys.executable, "-m", "autograder.cli", "verify-tests", "--corpus", str(tmp_path)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert result.returncode != 0 and "No variant files" in result.stderr
