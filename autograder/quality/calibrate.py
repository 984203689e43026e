"""``kerasgrade calibrate``: accuracy thresholds from many seeded runs of the reference solution.

Each run trains fresh copies of the reference models exactly as the hidden accuracy tests
do (the lab's checks module's ``MEASUREMENTS``), only with another seed and always
for the whole budget, scored at each of the test's looks; a run's figure is its best look,
since a test passes as soon as a look reaches its threshold (``labkit.checks.judge``). The
threshold for a question is a statistical lower bound of those accuracies (``RULE``), so
the reference fails about 1 grading run in 100 or fewer; ``--validate`` measures that rate
on fresh seeds. Results, with how they were obtained, go to ``calibration.toml`` in the
assignment folder, whose thresholds take precedence over ``assignment.toml``'s.
"""

from __future__ import annotations

import datetime
import time

from autograder.errors import InputError
from autograder.lab.config import CALIBRATION_FILE, AssignmentConfig
from autograder.lab.settings import DataSource, RunSettings
from autograder.quality.calibration_runs import run_seeds
from autograder.quality.calibration_table import (
    REFERENCE,
    held_out_examples,
    merged,
    read_calibration,
    versions_line,
    write_calibration,
)
from autograder.quality.threshold import (
    RULE,
    VALIDATION_SEED_OFFSET,
    QuestionCalibration,
    close_calls,
    question_threshold,
)


def accuracy_questions(config: AssignmentConfig, data: DataSource) -> list[str]:
    """Questions with an accuracy test on this data source (a task that always trains on data
    of one kind, only where the source has that kind)."""
    from autograder.lab.questions import ModelQuestion

    lab = config.lab
    return [
        name
        for name, question in lab.questions.items()
        if isinstance(question, ModelQuestion)
        and question.accuracy_check
        and lab.data_kind(question.accuracy_check, data.kind) == data.kind
    ]


def calibrate(
    config: AssignmentConfig,
    *,
    settings: RunSettings,
    seeds: int,
    validate: int,
    workers: int,
    only: list[str] | None = None,
    designs_only: bool = False,
    first_validation_seed: int = VALIDATION_SEED_OFFSET,
    progress=lambda line: print(line, flush=True),
) -> dict:
    """Calibrate, write the thresholds into the assignment's calibration file, and return them.

    ``only`` recalibrates some questions (after a change to their budget) and keeps the
    others' recorded runs, their thresholds re-derived under the current rule. Validation
    seeds start at ``first_validation_seed``: after changing the rule, validate it on seeds
    that did not help choose it.

    ``designs_only`` trains only the questions' ``calibration_designs`` and takes all the
    reference's recorded runs from the table (a design added after the reference was
    calibrated, at half the cost or less). The designs may use fewer seeds than the
    reference did (a slow design, on a budget): the rule's tolerance factor grows as runs
    get fewer, so fewer runs only lower a threshold. The table then records ``design_seeds``
    beside the reference's ``seeds``. The reference's recorded count of fresh seeds below its
    threshold is kept: adding a design never raises a threshold, so that count still bounds
    it; a question's count of fresh seeds where any design fell below is then the sum of the
    reference's and the designs' (an upper bound). Raises InputError when the table records
    fewer than two reference runs or no validation for a question, or it has no design.
    """
    profile, kind = settings.profile, settings.data.kind
    questions = accuracy_questions(config, settings.data)
    if only:
        unknown = sorted(set(only) - set(questions))
        if unknown:
            raise InputError(
                f"{unknown} have no accuracy check on {settings.data} data; pick from {questions}."
            )
        questions = [q for q in questions if q in only]
    environment = settings.environment()
    path = config.folder / CALIBRATION_FILE
    tables = read_calibration(path)
    recorded = tables.get(f"{profile}.{kind}", {})
    if designs_only:
        _check_recorded_reference(config, questions, recorded)
    started = time.perf_counter()
    what = "designs of " if designs_only else ""
    progress(f"Calibrating {what}{', '.join(questions)}: {seeds} seeds, {workers} worker(s)...")
    runs = run_seeds(
        config, questions, list(range(seeds)), environment, workers, progress, designs_only
    )
    by_design = {
        q: {d: [runs[s][q][d][0] for s in sorted(runs)] for d in runs[0][q]} for q in questions
    }
    if designs_only:  # every recorded run of the reference, not only those at these seeds
        by_design = {
            q: {REFERENCE: list(recorded["accuracies"][q]), **by_design[q]} for q in questions
        }
    examples = {q: next(iter(runs[0][q].values()))[1] for q in questions}
    thresholds = {}
    for q in questions:
        chance = config.lab.chance(config.lab.questions[q].accuracy_check)
        for design, accuracies in by_design[q].items():
            calibration = QuestionCalibration(f"{q} {design}", accuracies, examples[q], chance)
            progress("  " + calibration.summary())
        thresholds[q] = question_threshold(by_design[q], examples[q])
        progress(f"  {q}: threshold {thresholds[q]:.3f}, the lowest of its designs'")
        if thresholds[q] <= QuestionCalibration(q, [0.0, 0.0], examples[q], chance).chance_ceiling:
            progress(f"  WARNING: {q}'s threshold does not separate it from chance")
    for warning in close_calls(thresholds, by_design, examples):
        progress(f"  WARNING: {warning}")
    rounded = {
        q: {d: [round(a, 4) for a in runs] for d, runs in by_design[q].items()} for q in by_design
    }
    table = {
        "data": settings.data.description(),
        **({"design_seeds": seeds} if designs_only else {"seeds": seeds}),
        "date": datetime.date.today().isoformat(),
        "versions": versions_line(),
        "rule": RULE,
        "minutes": round((time.perf_counter() - started) / 60, 1),
        "thresholds": thresholds,
        "accuracies": {q: rounded[q][REFERENCE] for q in questions},
    }
    designs = {
        q: {d: runs for d, runs in rounded[q].items() if d != REFERENCE}
        for q in questions
        if len(rounded[q]) > 1
    }
    if designs:
        table["designs"] = designs
    if validate:
        progress(f"Validating on {validate} fresh seeds...")
        fresh = list(range(first_validation_seed, first_validation_seed + validate))
        checks = run_seeds(config, questions, fresh, environment, workers, progress, designs_only)

        def below(q: str, design: str | None = None) -> int:
            return sum(
                any(
                    accuracy < thresholds[q]
                    for d, (accuracy, _) in checks[s][q].items()
                    if design in (None, d)
                )
                for s in fresh
            )

        failed_runs = sum(
            any(a < thresholds[q] for q in questions for a, _ in checks[s][q].values())
            for s in fresh
        )
        counts = {q: below(q) for q in questions}
        by_design_below = {
            q: {d: below(q, d) for d in checks[fresh[0]][q]} for q in questions if q in designs
        }
        if designs_only:  # the reference's fresh runs are the recorded ones (docstring)
            for q in questions:
                kept = recorded.get("design_validation", {}).get(q, {}).get(REFERENCE)
                kept = recorded["validation"][f"{q}_below"] if kept is None else kept
                by_design_below[q] = {REFERENCE: kept, **by_design_below[q]}
                counts[q] += kept
            failed_runs = sum(counts.values())
        table["validation"] = {
            ("design_seeds" if designs_only else "seeds"): validate,
            "failed_runs": failed_runs,
            **{f"{q}_below": count for q, count in counts.items()},
        }
        if by_design_below:
            table["design_validation"] = by_design_below
        progress(
            f"  designs failed {failed_runs} of {validate} fresh grading runs: "
            f"{counts} {by_design_below}"
        )
    if only:
        table = merged(
            recorded,
            table,
            held_out_examples(config, accuracy_questions(config, settings.data), profile),
        )
    tables[f"{profile}.{kind}"] = table
    write_calibration(path, tables)
    progress(f"Wrote {path}")
    return table


def _check_recorded_reference(
    config: AssignmentConfig, questions: list[str], recorded: dict
) -> None:
    """What ``designs_only`` needs from the recorded table (see ``calibrate``)."""
    for q in questions:
        if not config.lab.questions[q].calibration_designs:
            raise InputError(f"{q} has no calibration_designs to calibrate.")
        runs = recorded.get("accuracies", {}).get(q, [])
        if len(runs) < 2:
            raise InputError(
                f"The calibration table records {len(runs)} runs of {q}'s reference, fewer than "
                "the 2 a threshold needs: calibrate it without --designs-only first."
            )
        if f"{q}_below" not in recorded.get("validation", {}):
            raise InputError(
                f"The calibration table records no validation of {q}'s reference: calibrate it "
                "without --designs-only first."
            )


def rederive(config: AssignmentConfig, *, settings: RunSettings) -> dict:
    """Re-derive a recorded table's thresholds under the current rule, without training."""
    profile, kind = settings.profile, settings.data.kind
    path = config.folder / CALIBRATION_FILE
    tables = read_calibration(path)
    recorded = tables.get(f"{profile}.{kind}")
    if not recorded:
        raise InputError(f"{path} has no [{profile}.{kind}] table to re-derive.")
    fresh = {"rule": RULE, "thresholds": {}, "accuracies": {}}
    examples = held_out_examples(config, list(recorded["accuracies"]), profile)
    tables[f"{profile}.{kind}"] = merged(recorded, fresh, examples)
    write_calibration(path, tables)
    return tables[f"{profile}.{kind}"]
