"""Phase 2 (trusted): check exported answers in a process that never ran student code.

Run as ``python -m autograder.check ANSWERS RESULTS --assignment DIR --questions q1 q2 ...
[--store DIR] [--ready FILE]``; with ``--store``, accuracy checks reuse and record measurements
there (``autograder.store``). With ``--ready``, it is started before ANSWERS exists: it imports
what checking needs, then waits until FILE exists and reads ANSWERS only if FILE says
``check`` (``cancel``: there are none).
It rebuilds each answer from data (``autograder.answers``), runs each question's tests (the
same calls of the lab's checks module the notebook's otter tests make) and appends one JSON line per
event to RESULTS as it goes, so a crash loses at most the question being checked.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import time
from pathlib import Path

from .answers import Unreadable, last_records, rebuild_answers
from .config import load_config
from .questions import answer_names, question_tests


def run_test(code: str, answers: dict) -> tuple[bool, str]:
    """Run one test's code with the answers as its only variables."""
    from labkit.checks import CheckFailed

    try:
        exec(code, {"__builtins__": __builtins__, **answers})  # our own generated test code
    except CheckFailed as failure:
        return False, str(failure)
    except Exception as error:
        return False, f"The check could not run on this answer ({type(error).__name__}: {error})."
    return True, ""


def unreadable_answer(name: str, answers: dict, config) -> str | None:
    """Why question ``name``'s answers could not be read, or None when they all could."""
    reasons = [
        answer.reason if f"`{variable}`" in answer.reason else f"`{variable}`: {answer.reason}"
        for variable in answer_names(name, config)
        if isinstance(answer := answers.get(variable), Unreadable)
    ]
    return "Your answer could not be read: " + "; ".join(reasons) if reasons else None


def check_question(name: str, config, records: dict, emit, store=None) -> None:
    """Emit a result line for every test of question ``name``.

    Its answers are rebuilt only now, after the ``start`` event: if rebuilding or training
    one answer kills this process, the grading parent knows which question it was and checks
    the others in a fresh process.
    """
    emit({"event": "start", "question": name})
    started = time.perf_counter()
    answers = rebuild_answers(records, answer_names(name, config))
    unreadable = unreadable_answer(name, answers, config)
    for test in question_tests(name, config):
        if store is not None:
            store.last = None
        if unreadable:
            passed, message = False, unreadable
        else:
            passed, message = run_test(test.code, answers)
        emit(
            {
                "event": "test",
                "question": name,
                "test": test.name,
                "hidden": test.hidden,
                "passed": passed,
                "points": config.points[name][test.name] if passed else 0,
                "max_points": config.points[name][test.name],
                "message": message,
                "measurement": store.last if store is not None else None,
            }
        )
    emit({"event": "done", "question": name, "seconds": round(time.perf_counter() - started, 1)})


READY_POLL_SECONDS = 0.05
# A checker started while the notebook runs lowers its priority: its warm-up then takes only
# the cores the notebook leaves idle, and once the notebook is done the checkers (all at
# this niceness) have the machine to themselves.
WARM_NICENESS = 19


def lower_priority(niceness: int) -> None:
    """Lower this process' CPU priority by ``niceness``. Under Linux's autogroup scheduling
    (``/proc/sys/kernel/sched_autogroup_enabled``) niceness ranks processes only within one
    session, and a checker runs in a session of its own (``limits.supervise``), so the
    session's niceness (``/proc/self/autogroup``, see ``man 7 sched``) is raised as well."""
    os.nice(niceness)
    with contextlib.suppress(OSError):
        Path("/proc/self/autogroup").write_text(str(niceness))


def warm_up(config) -> None:
    """Import what checking needs before the answers exist: Keras (about 3 s) and the lab's
    checks module."""
    import importlib

    import keras  # noqa: F401

    importlib.import_module(config.lab.checks_module)


def wait_until_ready(ready: Path) -> bool:
    """Wait for the grading parent's signal in ``ready``: True to check, False to stop."""
    while not ready.exists():  # it appears whole (CheckPhase._signal renames it into place)
        time.sleep(READY_POLL_SECONDS)
    return ready.read_text() == "check"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("answers", type=Path)
    parser.add_argument("results", type=Path)
    parser.add_argument("--assignment", type=Path, required=True)
    parser.add_argument("--questions", nargs="+", required=True)
    parser.add_argument("--store", type=Path, help="folder of measurements to reuse and add to")
    parser.add_argument("--ready", type=Path, help="warm up, then wait for this file")
    args = parser.parse_args(argv)
    config = load_config(args.assignment)
    if args.ready:
        lower_priority(WARM_NICENESS)  # yield to the notebook running meanwhile
        warm_up(config)
        if not wait_until_ready(args.ready):
            return 0
    store = None
    if args.store:
        import labkit.checks

        from .store import MeasurementStore

        store = labkit.checks.MEASUREMENT_STORE = MeasurementStore(args.store, config.lab)

    names = sorted(
        {variable for question in args.questions for variable in answer_names(question, config)}
    )
    records = last_records(args.answers, names)  # read once; models rebuilt per question
    with open(args.results, "x") as results:  # a file planted beforehand is refused

        def emit(event: dict) -> None:
            results.write(json.dumps(event) + "\n")
            results.flush()

        for question in args.questions:
            check_question(question, config, records, emit, store)
    return 0


if __name__ == "__main__":
    sys.exit(main())
