"""Phase 2 (trusted): check exported answers in a process that never ran student code.

Run as ``python -m autograder.grading.trusted.check ANSWERS RESULTS --assignment DIR --questions q1 q2 ...
[--store DIR]`` to check one set of answers; with ``--store``, accuracy checks reuse and
record measurements there (``autograder.grading.trusted.store``). With ``--serve`` instead of the
positional arguments and ``--questions``, it imports what checking needs at once (while
the notebook runs) and then checks one job after another, each a JSON line on stdin
(``{"job": N, "answers": PATH, "results": PATH, "questions": [...], "store": PATH or
null}``), printing ``{"finished": N}`` on stdout after each, until stdin closes
(``autograder.grading.trusted.checkers`` keeps such warm checkers across a class).
It rebuilds each answer from data (``autograder.grading.trusted.answers``), runs each question's tests (the
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
from typing import TextIO

from autograder.grading.trusted.answers import Unreadable, last_records, rebuild_answers
from autograder.lab.config import load_config
from autograder.lab.questions import answer_names, question_tests


def run_test(code: str, answers: dict) -> tuple[bool, str]:
    """Run one test's code with the answers as its only variables: whether it passed, and
    the message for the student."""
    passed, message, _ = run_measured_test(code, answers)
    return passed, message


def run_measured_test(code: str, answers: dict) -> tuple[bool, str, float | None]:
    """``run_test``, and the accuracy a failed accuracy test measured (None otherwise)."""
    from labkit.checks import CheckFailed

    try:
        exec(code, {"__builtins__": __builtins__, **answers})  # our own generated test code
    except CheckFailed as failure:
        return False, str(failure), getattr(failure, "accuracy", None)
    except Exception as error:
        message = f"The check could not run on this answer ({type(error).__name__}: {error})."
        return False, message, None
    return True, "", None


def unreadable_answer(name: str, answers: dict, config) -> str | None:
    """Why question ``name``'s answers could not be read, or None when they all could."""
    reasons = [
        answer.reason if f"`{variable}`" in answer.reason else f"`{variable}`: {answer.reason}"
        for variable in answer_names(name, config)
        if isinstance(answer := answers.get(variable), Unreadable)
    ]
    return "Your answer could not be read: " + "; ".join(reasons) if reasons else None


def check_question(name: str, config, records: dict, emit, store) -> None:
    """Emit a result line for every test of question ``name``.

    Its answers are rebuilt only now, after the ``start`` event: if rebuilding or training
    one answer kills this process, the grading parent knows which question it was and checks
    the others in a fresh process. ``store``: where accuracy checks look first
    (``store.MeasurementStore``, or ``store.NoReuse``); its ``last`` after a test says whether
    that test reused a measurement or trained.
    """
    emit({"event": "start", "question": name})
    started = time.perf_counter()
    answers = rebuild_answers(records, answer_names(name, config))
    unreadable = unreadable_answer(name, answers, config)
    for test in question_tests(name, config):
        store.last = None
        accuracy = None
        if unreadable:
            passed, message = False, unreadable
        else:
            passed, message, accuracy = run_measured_test(test.code, answers)
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
                "measurement": store.last,
                "accuracy": accuracy,
            }
        )
    emit({"event": "done", "question": name, "seconds": round(time.perf_counter() - started, 1)})


# A checker started while the notebook runs lowers its priority: its warm-up then takes only
# the cores the notebook leaves idle, and once the notebook is done the checkers (all at
# this niceness) have the machine to themselves.
WARM_NICENESS = 19


def lower_priority(niceness: int) -> None:
    """Lower this process' CPU priority by ``niceness``. Under Linux's autogroup scheduling
    (``/proc/sys/kernel/sched_autogroup_enabled``) niceness ranks processes only within one
    session, and a checker runs in a session of its own (``limits.Watched``), so the
    session's niceness (``/proc/self/autogroup``, see ``man 7 sched``) is raised as well."""
    os.nice(niceness)
    with contextlib.suppress(OSError):
        Path("/proc/self/autogroup").write_text(str(niceness))


def warm_up(config) -> None:
    """Import what checking needs before the answers exist: Keras (about 5 s of CPU) and the
    lab's checks module, frozen out of the garbage collector's passes
    (``autograder.grading.startup``)."""
    from autograder.grading.startup import import_frozen

    import_frozen("keras", config.lab.checks_module)


def check_answers(
    config, answers: Path, results: Path, questions: list[str], store: Path | None
) -> None:
    """Check ``questions`` on the answers file ``answers``, appending events to ``results``
    (a new file: one planted beforehand is refused with ``FileExistsError``)."""
    import labkit.checks
    from autograder.grading.trusted.store import MeasurementStore, NoReuse

    measurements = MeasurementStore(store, config.lab) if store else NoReuse()
    labkit.checks.MEASUREMENT_STORE = measurements
    names = sorted(
        {variable for question in questions for variable in answer_names(question, config)}
    )
    records = last_records(answers, names)  # read once; models rebuilt per question
    with open(results, "x") as log, contextlib.closing(measurements):

        def emit(event: dict) -> None:
            log.write(json.dumps(event) + "\n")
            log.flush()

        for question in questions:
            check_question(question, config, records, emit, measurements)


def forget_answers() -> None:
    """Leave nothing of one job's answers for the next: Keras' global state (its models,
    name counters and seeds: ``keras.utils.clear_session``) and the notes for the student
    (``check_answers`` sets the store afresh for each job). Every accuracy check seeds
    itself before it builds its copy, so a check in a used checker trains exactly as in a
    fresh one (``tests/test_checkers.py``)."""
    import keras

    import labkit.checks

    keras.utils.clear_session(free_memory=True)  # collects garbage too
    labkit.checks.NOTES.clear()


def keras_settings() -> dict:
    """Keras' global settings (``keras.config``) that decide how a model trains."""
    import keras

    return {
        "floatx": keras.config.floatx(),
        "epsilon": keras.config.epsilon(),
        "image_data_format": keras.config.image_data_format(),
        "dtype_policy": keras.config.dtype_policy().name,
        "max_epochs": keras.config.max_epochs(),
        "max_steps_per_epoch": keras.config.max_steps_per_epoch(),
    }


def serve(config, jobs, replies) -> None:
    """Check each job read from ``jobs`` (JSON lines, see the module's docstring), replying
    ``{"finished": N}`` on ``replies`` after each; return when ``jobs`` ends.

    Raises SystemExit when a job has changed Keras' global settings (no answer should be
    able to: ``answers.rebuild_model`` takes functions only from Keras' modeling modules),
    so that no later job runs under them: the grading parent replaces this checker."""
    lower_priority(WARM_NICENESS)  # yield to the notebook running meanwhile
    warm_up(config)
    settings = keras_settings()
    for line in jobs:
        job = json.loads(line)
        store = Path(job["store"]) if job.get("store") else None
        check_answers(config, Path(job["answers"]), Path(job["results"]), job["questions"], store)
        replies.write(json.dumps({"finished": job["job"]}) + "\n")
        replies.flush()  # the grading parent goes on while this checker clears up
        forget_answers()
        if keras_settings() != settings:
            raise SystemExit("A job changed Keras' global settings; this checker stops.")


def replies_apart() -> TextIO:
    """This process' stdout for replies alone: anything else written to stdout (a print in a
    lab's checks, a progress bar) goes to stderr instead, so it cannot garble a reply."""
    replies = os.fdopen(os.dup(sys.stdout.fileno()), "w", buffering=1)
    sys.stdout.flush()
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    return replies


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("answers", type=Path, nargs="?")
    parser.add_argument("results", type=Path, nargs="?")
    parser.add_argument("--assignment", type=Path, required=True)
    parser.add_argument("--questions", nargs="+")
    parser.add_argument("--store", type=Path, help="folder of measurements to reuse and add to")
    parser.add_argument("--serve", action="store_true", help="check jobs read from stdin")
    args = parser.parse_args(argv)
    config = load_config(args.assignment)
    if args.serve:
        serve(config, sys.stdin, replies_apart())
        return 0
    if not (args.answers and args.results and args.questions):
        parser.error("ANSWERS, RESULTS and --questions are needed unless --serve is given")
    check_answers(config, args.answers, args.results, args.questions, args.store)
    return 0


if __name__ == "__main__":
    sys.exit(main())
