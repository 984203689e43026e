"""Warm checkers: one process checks submission after submission, measuring exactly as a fresh
one would, and a fault in a used checker never costs the next student points."""

import json

from conftest import RNN_LAB
from test_check_phase import SMOKE, exported_answers

from autograder.answers import ANSWERS_FILE
from autograder.checkers import CheckerPool
from autograder.config import load_config
from autograder.grade import CheckPhase, auto_questions
from autograder.labs import default_lab_folder

QUESTIONS = RNN_LAB.questions
GiB = 2**30


def answers_of(folder, *questions):
    """A work folder whose notebook exported the reference's models for ``questions``."""
    folder.mkdir()
    exported_answers(folder, {QUESTIONS[q].variable: QUESTIONS[q].builder() for q in questions})
    return folder / ANSWERS_FILE


def store_entries(folder) -> dict[str, list[float]]:
    return {
        path.stem: json.loads(path.read_text())["accuracies"] for path in folder.glob("??/*.json")
    }


def check(pool, answers, questions, store, log):
    outcome = pool.checker(0).check(answers, log, questions, store, 300, 4 * GiB)
    assert outcome.limit is None and outcome.returncode == 0, outcome.stderr
    return [json.loads(line) for line in log.read_text().splitlines()]


def test_a_used_checker_measures_exactly_as_a_fresh_one(tmp_path):
    """After training other models (another task's too), the CNN's accuracies at each look
    are bit for bit those a fresh checker measures: nothing of an earlier job leaks into the
    next one's training."""
    config = load_config(default_lab_folder())
    earlier = answers_of(tmp_path / "earlier", "q7", "q5")
    cnn = answers_of(tmp_path / "cnn", "q2")
    with CheckerPool(config, SMOKE.environment(), 1) as used:
        check(used, earlier, ["q7", "q5"], tmp_path / "used-store", tmp_path / "earlier.jsonl")
        events = check(used, cnn, ["q2"], tmp_path / "used-store", tmp_path / "used.jsonl")
        assert used.started == 1 and used.checker(0).jobs == 2  # one process did both jobs
    with CheckerPool(config, SMOKE.environment(), 1) as fresh:
        check(fresh, cnn, ["q2"], tmp_path / "fresh-store", tmp_path / "fresh.jsonl")

    measured = [e["measurement"] for e in events if e["event"] == "test" and e["measurement"]]
    assert measured == ["trained"]  # the store knew nothing of the CNN: it trained
    fresh_entries = store_entries(tmp_path / "fresh-store")
    used_entries = store_entries(tmp_path / "used-store")
    assert len(fresh_entries) == 1 and len(used_entries) == 3
    (key,) = fresh_entries
    assert used_entries[key] == fresh_entries[key]


def test_a_checker_serves_the_next_submission_and_a_dead_one_is_replaced(tmp_path):
    config = load_config(default_lab_folder())
    right = QUESTIONS["q1a_count"].expected
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    exported_answers(first, {"count_feedforward": right})
    exported_answers(second, {"count_feedforward": right + 1})
    with CheckerPool(config, SMOKE.environment(), 1) as pool:
        points = []
        for work in (first, second, first):
            results = CheckPhase(config, work, pool, 300, 4 * GiB).run()
            points.append(sum(r.points for r in results if r.question == "q1a_count"))
            if work == second:
                pool.checker(0)._process.kill()  # as a crash between two submissions would
        assert points == [config.question_points("q1a_count"), 0, points[0]]
        assert pool.started == 2  # killed after the second, replaced for the third


def test_a_used_checker_that_dies_gets_a_fresh_one_before_any_answer_is_blamed(tmp_path):
    """A used checker can die of an earlier job's leftovers; the questions go to a fresh
    checker first, and only a fresh one's death scores a question 0."""
    config = load_config(default_lab_folder())
    exported_answers(tmp_path, {"count_feedforward": QUESTIONS["q1a_count"].expected})
    with CheckerPool(config, SMOKE.environment(), 1) as pool:
        pool.checker(0).jobs = 3  # as if it had served three submissions
        results = CheckPhase(config, tmp_path, pool, 300, 30 * 2**20).run()  # no room for Keras
        assert pool.started == 2  # the used checker, then a fresh one
    assert {r.question for r in results} == set(auto_questions(config))
    assert all("out-of-memory while checking it" in r.message for r in results)
