"""Warm checkers: one process checks submission after submission, measuring exactly as a fresh
one would, and a used checker's death is not blamed on the answers it was checking."""

import json

import pytest
from conftest import RNN_LAB
from test_check_phase import SMOKE, exported_answers

from autograder.grading.trusted.check_phase import CheckPhase
from autograder.grading.trusted.checkers import CheckerPool
from autograder.grading.untrusted.export import ANSWERS_FILE
from autograder.grading.untrusted.limits import Outcome
from autograder.lab.config import load_config
from autograder.lab.find import default_lab_folder

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


class ScriptedChecker:
    """A checker that passes every test, except that it dies (out of memory) after starting
    the question ``dies_on`` when it is at its ``dies_after``-th job or later."""

    def __init__(self, config, jobs: int, dies_on: str, dies_after: int):
        self.config, self.jobs, self.dies_on, self.dies_after = config, jobs, dies_on, dies_after

    def check(self, answers, log, questions, store, timeout, memory):
        with open(log, "x") as events:
            for question in questions:
                events.write(json.dumps({"event": "start", "question": question}) + "\n")
                if question == self.dies_on and self.jobs >= self.dies_after:
                    return Outcome("out-of-memory", -9, "", memory)
                for test in self.config.points[question]:
                    event = {"event": "test", "question": question, "test": test,
                             "passed": True, "message": ""}  # fmt: skip
                    events.write(json.dumps(event) + "\n")
                events.write(
                    json.dumps({"event": "done", "question": question, "seconds": 1}) + "\n"
                )
        self.jobs += 1
        return Outcome(None, 0, "", 0)

    def rss(self):
        return 0


class ScriptedPool:
    """One checker slot; a checker that died is replaced by a fresh one (``jobs == 0``)."""

    size = 1

    def __init__(self, config, first_jobs: int, dies_after: int):
        self.made = [ScriptedChecker(config, first_jobs, "q2", dies_after)]

    def checker(self, index):
        if self.made[-1].jobs < 0:
            self.made.append(
                ScriptedChecker(self.made[-1].config, 0, "q2", self.made[-1].dies_after)
            )
        return self.made[-1]

    def retire(self, index):
        self.made[-1].jobs = -1


@pytest.mark.parametrize(
    "first_jobs, dies_after, q2_points, checkers",
    [
        (3, 1, "all", 2),  # a used checker dies on q2: a fresh one checks it in full
        (0, 0, "none", 2),  # a fresh checker dies on q2: it scores 0, a fresh one checks the rest
    ],
)
def test_only_a_fresh_checker_dying_on_a_question_scores_it_zero(
    tmp_path, monkeypatch, first_jobs, dies_after, q2_points, checkers
):
    config = load_config(default_lab_folder())
    pool = ScriptedPool(config, first_jobs, dies_after)
    original = ScriptedChecker.check

    def check_and_mark_dead(self, *args):
        outcome = original(self, *args)
        if outcome.limit:
            self.jobs = -1  # dead: the pool replaces it
        return outcome

    monkeypatch.setattr(ScriptedChecker, "check", check_and_mark_dead)
    results = CheckPhase(config, tmp_path, pool, 300, 4 * GiB).run()

    q2 = [r for r in results if r.question == "q2"]
    assert len(q2) == len(config.points["q2"])
    wanted = config.question_points("q2") if q2_points == "all" else 0
    assert sum(r.points for r in q2) == wanted
    if q2_points == "none":
        assert all("out-of-memory while checking it" in r.message for r in q2)
    assert {r.question for r in results} == set(config.auto_questions)
    others = [r for r in results if r.question != "q2"]
    assert sum(r.points for r in others) == sum(
        config.question_points(q) for q in config.auto_questions if q != "q2"
    )
    assert len(pool.made) == checkers
