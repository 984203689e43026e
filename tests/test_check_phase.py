"""The check phase: questions shared out between checker processes, nothing lost when one dies."""

import os
import subprocess
import sys
import time

import pytest
from conftest import RNN_LAB

from autograder.environment import available_cores
from autograder.grading.trusted.check_phase import CheckPhase, checker_shares
from autograder.grading.trusted.checkers import CheckerPool
from autograder.grading.untrusted.export import ANSWERS_FILE, export_cell_source
from autograder.lab.config import load_config
from autograder.lab.find import default_lab_folder
from autograder.lab.questions import ModelQuestion
from autograder.lab.settings import RunSettings

QUESTIONS = RNN_LAB.questions

SMOKE = RunSettings.of("smoke", "generated")

TRAINING = ["q2", "q4", "q5", "q7"]  # the questions whose checks train a model


def test_training_is_dealt_longest_first_to_the_least_loaded_and_every_question_checked_once():
    questions = load_config(default_lab_folder()).auto_questions
    shares = checker_shares(questions, 2, QUESTIONS)
    assert shares[0] == ["q4", "q7"]  # 11 + 16 s
    # 13 + 11 s: the lighter share also gets the questions that train nothing, ahead of its own
    assert shares[1][-2:] == ["q2", "q5"] and not set(shares[1][:-2]) & set(TRAINING)
    assert sorted(q for share in shares for q in share) == sorted(questions)


def test_one_checker_gets_everything_and_spare_checkers_get_nothing():
    questions = load_config(default_lab_folder()).auto_questions
    (only,) = checker_shares(questions, 1, QUESTIONS)
    assert sorted(only) == sorted(questions) and only[-len(TRAINING) :] == TRAINING  # cheap first
    shares = checker_shares(questions, 8, QUESTIONS)
    assert len(shares) == len(TRAINING) and all(shares)
    assert checker_shares(["q1a_count"], 2, QUESTIONS) == [["q1a_count"]]


def test_the_grading_parent_process_never_imports_keras():
    """Only the notebook and the checkers need Keras; importing it costs a grade about 3 s."""
    code = "import sys, autograder.cli, autograder.cohort.run; sys.exit('keras' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def exported_answers(work, answers: dict[str, object]) -> None:
    """Write the answers file a notebook that set only ``answers`` would export."""
    namespace = dict(answers)
    exec(export_cell_source(list(answers), str(work / ANSWERS_FILE)), namespace)


def test_results_of_parallel_checkers_come_back_complete_and_in_question_order(tmp_path):
    config = load_config(default_lab_folder())
    right = QUESTIONS["q1a_count"].expected
    exported_answers(tmp_path, {"count_feedforward": right, "count_lstm": 7})
    with CheckerPool(config, SMOKE.environment(), 2) as pool:
        phase = CheckPhase(config, tmp_path, pool, 300, 4 * 2**30)
        results = phase.run()

    questions = config.auto_questions
    assert [r.question for r in results] == sorted(
        (r.question for r in results), key=questions.index
    )
    assert {r.question for r in results} == set(questions)
    points = {q: sum(r.points for r in results if r.question == q) for q in questions}
    assert points["q1a_count"] == config.question_points("q1a_count")
    assert points["q4_count"] == 0  # a whole number, but the wrong one
    assert points["q2"] == points["q7"] == 0  # no model was exported
    assert set(phase.seconds) == set(questions)


def test_a_checker_that_dies_scores_its_questions_zero_with_the_reason(tmp_path):
    config = load_config(default_lab_folder())
    models = {q.variable: q.builder() for q in QUESTIONS.values() if isinstance(q, ModelQuestion)}
    builders = RNN_LAB.builders()
    models["demo_time_distributed"] = builders["build_time_distributed_demo"]()
    models["demo_repeat_vector"] = builders["build_repeat_vector_demo"]()
    exported_answers(tmp_path, {"count_feedforward": QUESTIONS["q1a_count"].expected, **models})
    environment = SMOKE.environment()
    with CheckerPool(config, environment, 2) as pool:
        results = CheckPhase(config, tmp_path, pool, 300, memory=30 * 2**20).run()  # no room
        # each died before it began a question, which need not be the answers' fault: each
        # share was tried once more in a fresh checker before its questions scored 0
        assert pool.started == 4

    assert {r.question for r in results} == set(config.auto_questions)
    assert all(r.points == 0 for r in results)
    assert all("out-of-memory while checking it" in r.message for r in results)


@pytest.mark.parametrize(
    "files, cores",
    [
        ({"cpu.max": "150000 100000"}, 2),  # cgroup v2: 1.5 CPUs -> 2 processes
        ({"cpu.max": "50000 100000"}, 1),
        ({"cpu.max": "max 100000"}, None),  # no quota: the affinity decides
        ({"cpu/cpu.cfs_quota_us": "50000", "cpu/cpu.cfs_period_us": "100000"}, 1),  # v1
        ({"cpu/cpu.cfs_quota_us": "-1", "cpu/cpu.cfs_period_us": "100000"}, None),
        ({}, None),
    ],
)
def test_a_container_cpu_quota_caps_the_cores_used(tmp_path, files, cores):
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    affinity = len(os.sched_getaffinity(0))
    assert available_cores(tmp_path) == min(affinity, cores or affinity)


def test_checkers_started_before_the_notebook_exit_unused_when_it_cannot_run(tmp_path):
    """The checkers start while the notebook runs (to import Keras meanwhile); a notebook whose
    sandbox never started leaves no answers, and closing the pool ends them unused."""
    config = load_config(default_lab_folder())
    pool = CheckerPool(config, SMOKE.environment(), 2)
    CheckPhase(config, tmp_path, pool, 300, 4 * 2**30).start()
    started = time.monotonic()
    pool.close()  # returns once every checker has exited
    assert time.monotonic() - started < 60
    assert pool.started == 2 and not list(tmp_path.rglob("*.jsonl"))  # nothing was checked
