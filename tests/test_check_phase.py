"""The check phase: checkers started while the notebook runs, questions shared out between them,
nothing lost when one dies."""

import os
import subprocess
import sys
import time

import psutil
import pytest

from autograder.answers import ANSWERS_FILE, export_cell_source
from autograder.config import load_config
from autograder.environment import available_cores, grading_environment
from autograder.grade import CheckPhase, auto_questions, checker_shares
from autograder.questions import QUESTIONS
from reference import imdb_models

TRAINING = ["q2", "q4", "q5", "q7"]  # the questions whose checks train a model


def test_training_is_dealt_longest_first_to_the_least_loaded_and_every_question_checked_once():
    questions = auto_questions(load_config())
    shares = checker_shares(questions, 2)
    assert [q for q in shares[0] if q in TRAINING] == ["q4", "q7"]  # 52 + 19 s
    assert shares[1] == ["q2", "q5"]  # 40 + 31 s
    assert sorted(q for share in shares for q in share) == sorted(questions)


def test_one_checker_gets_everything_and_spare_checkers_get_nothing():
    questions = auto_questions(load_config())
    (only,) = checker_shares(questions, 1)
    assert sorted(only) == sorted(questions) and only[-len(TRAINING) :] == TRAINING  # cheap first
    shares = checker_shares(questions, 8)
    assert len(shares) == len(TRAINING) and all(shares)
    assert checker_shares(["q1a_count"], 2) == [["q1a_count"]]


def test_the_grading_parent_process_never_imports_keras():
    """Only the notebook and the checkers need Keras; importing it costs a grade about 3 s."""
    code = "import sys, autograder.cli, autograder.batch; sys.exit('keras' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def exported_answers(work, answers: dict[str, object]) -> None:
    """Write the answers file a notebook that set only ``answers`` would export."""
    namespace = dict(answers)
    exec(export_cell_source(list(answers), str(work / ANSWERS_FILE)), namespace)


def smoke_phase(work, memory: int = 4 * 2**30) -> CheckPhase:
    return CheckPhase(load_config(), work, grading_environment("smoke", "generated"), 300, memory)


def test_checkers_started_before_the_answers_exist_check_them_once_written(tmp_path):
    config = load_config()
    right = QUESTIONS["q1a_count"].expected
    phase = smoke_phase(tmp_path)

    def notebook_run() -> str:
        started = time.monotonic()
        while len(checker_processes()) < 2 and time.monotonic() - started < 30:
            time.sleep(0.1)
        assert len(checker_processes()) == 2 and not (tmp_path / ANSWERS_FILE).exists()
        exported_answers(tmp_path, {"count_feedforward": right, "count_lstm": 7})
        return "ran"

    execution, results = phase.run(2, notebook_run)

    assert execution == "ran"
    questions = auto_questions(config)
    assert [r.question for r in results] == sorted(
        (r.question for r in results), key=questions.index
    )
    assert {r.question for r in results} == set(questions)
    points = {q: sum(r.points for r in results if r.question == q) for q in questions}
    assert points["q1a_count"] == config.question_points("q1a_count")
    assert points["q4_count"] == config.points["q4_count"]["answer_type"]  # an int, but wrong
    assert points["q2"] == points["q7"] == 0  # no model was exported
    assert set(phase.seconds) == {*questions, "check"}  # each question, and the whole phase


def test_a_checker_that_dies_scores_its_questions_zero_with_the_reason(tmp_path):
    config = load_config()
    answers = {"count_feedforward": QUESTIONS["q1a_count"].expected}
    exported_answers(tmp_path, answers | {"model_cnn": imdb_models.build_cnn_model()})
    phase = smoke_phase(tmp_path, memory=30 * 2**20)  # each checker needs Keras: it cannot load
    _, results = phase.run(2, lambda: None)

    assert {r.question for r in results} == set(auto_questions(config))
    assert all(r.points == 0 for r in results)
    assert all("out-of-memory while checking it" in r.message for r in results)


def checker_processes() -> list[psutil.Process]:
    return [
        child
        for child in psutil.Process().children(recursive=True)
        if "autograder.check" in " ".join(child.cmdline())
    ]


def test_a_checker_killed_while_it_waits_for_the_answers_is_replaced(tmp_path):
    right = QUESTIONS["q1a_count"].expected

    def notebook_run() -> None:
        time.sleep(3)
        for checker in checker_processes():
            checker.kill()
        exported_answers(tmp_path, {"count_feedforward": right})

    _, results = smoke_phase(tmp_path).run(2, notebook_run)

    passed = {r.question for r in results if r.points == r.max_points}
    assert "q1a_count" in passed and "q1a" not in passed  # checked, and not all given away
    assert {r.question for r in results} == set(auto_questions(load_config()))


def test_a_failed_notebook_run_stops_the_waiting_checkers_and_is_reported(tmp_path):
    def notebook_run() -> None:
        time.sleep(1)
        raise RuntimeError("the sandbox could not start")

    with pytest.raises(RuntimeError, match="sandbox"):
        smoke_phase(tmp_path).run(2, notebook_run)
    assert not checker_processes()


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
