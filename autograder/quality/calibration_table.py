"""A lab's calibration file (``calibration.toml``): one table per profile and data kind, with
the runs behind each threshold, how they were obtained and the validation on fresh seeds;
read, written, merged when only some questions are recalibrated, and checked for close calls."""

from __future__ import annotations

import json
from pathlib import Path

from autograder.files import write_atomically
from autograder.lab.config import CALIBRATION_FILE, AssignmentConfig
from autograder.lab.digest import package_versions
from autograder.quality.threshold import close_calls, question_threshold

REFERENCE = "reference"  # the design name of a question's reference builder


def recorded_runs(table: dict) -> dict[str, dict[str, list[float]]]:
    """``{question: {design: accuracies}}`` from a calibration table: the reference's runs
    (``accuracies``) and each calibration design's (``designs``)."""
    designs = table.get("designs", {})
    return {
        question: {REFERENCE: runs, **designs.get(question, {})}
        for question, runs in table.get("accuracies", {}).items()
    }


def versions_line() -> str:
    """The grading packages' versions as a calibration records them: "keras 3.15.1, ..."."""
    return ", ".join(f"{name} {version}" for name, version in package_versions().items())


def _toml_value(value) -> str:
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    return repr(value)


def write_calibration(path: Path, tables: dict[str, dict]) -> None:
    """Write ``{"grading.<data kind>": {key: value or {key: value}}}`` as TOML, tables in order."""
    lines = ["# Written by `kerasgrade calibrate`; rerun it rather than editing by hand.", ""]
    for name, table in sorted(tables.items()):
        lines += _table_lines(name, table)
        lines.append("")
    write_atomically(path, "\n".join(lines))


def _table_lines(name: str, table: dict) -> list[str]:
    """``[name]`` with the table's values, then each inner table as ``[name.key]``, in order."""
    lines = [f"[{name}]"]
    lines += [
        f"{key} = {_toml_value(value)}"
        for key, value in table.items()
        if not isinstance(value, dict)
    ]
    for key, value in table.items():
        if isinstance(value, dict):
            lines += ["", *_table_lines(f"{name}.{key}", value)]
    return lines


def read_calibration(path: Path) -> dict[str, dict]:
    """The tables of an existing calibration file, keyed like ``write_calibration``'s."""
    import tomllib

    if not path.is_file():
        return {}
    with open(path, "rb") as handle:
        data = tomllib.load(handle)
    return {
        f"{profile}.{kind}": table
        for profile, kinds in data.items()
        for kind, table in kinds.items()
    }


def merged(recorded: dict, fresh: dict, examples: dict[str, int]) -> dict:
    """``fresh`` (some questions) joined with the other questions of a ``recorded`` table.

    A kept question's threshold is re-derived from its recorded runs under the current rule.
    Its count of validation runs below the threshold still holds as an upper bound if the
    threshold did not rise; otherwise it is dropped. ``failed_runs`` becomes the sum of the
    per-question counts, an upper bound on the runs where any question failed.
    """
    scalars = {key: value for key, value in fresh.items() if not isinstance(value, dict)}
    table = {**recorded, **scalars, "thresholds": {}, "accuracies": {}}
    renewed = set(fresh["accuracies"])
    validation = {
        key: count
        for key, count in recorded.get("validation", {}).items()
        if key == "seeds" or (key.endswith("_below") and key.removesuffix("_below") not in renewed)
    }
    for part in ("designs", "design_validation"):  # the renewed questions' come from fresh
        kept = {q: value for q, value in recorded.get(part, {}).items() if q not in renewed}
        table[part] = {**kept, **fresh.get(part, {})}
        if not table[part]:
            del table[part]
    accuracies = {**recorded.get("accuracies", {}), **fresh["accuracies"]}
    runs = recorded_runs({"accuracies": accuracies, "designs": table.get("designs", {})})
    for question in accuracies:
        table["accuracies"][question] = runs[question][REFERENCE]
        if question in fresh["thresholds"]:
            table["thresholds"][question] = fresh["thresholds"][question]
            continue
        threshold = question_threshold(runs[question], examples[question])
        if threshold > recorded.get("thresholds", {}).get(question, 0.0):
            validation.pop(f"{question}_below", None)
            table.get("design_validation", {}).pop(question, None)
        table["thresholds"][question] = threshold
    validation.update(fresh.get("validation", {}))
    table.pop("validation", None)
    if validation:
        validation["failed_runs"] = sum(
            count for key, count in validation.items() if key.endswith("_below")
        )
        table["validation"] = validation
    return table


def calibration_warnings(config: AssignmentConfig) -> list[str]:
    """``close_calls`` for every table of the assignment's calibration file, each prefixed
    with its table's name (``grading.generated``): what ``kerasgrade build`` warns about."""
    warnings = []
    for name, table in read_calibration(config.folder / CALIBRATION_FILE).items():
        profile = name.split(".", 1)[0]
        runs = recorded_runs(table)
        examples = held_out_examples(config, list(runs), profile)
        warnings += [
            f"[{name}] {w}" for w in close_calls(table.get("thresholds", {}), runs, examples)
        ]
    return warnings


def held_out_examples(
    config: AssignmentConfig, questions: list[str], profile: str
) -> dict[str, int]:
    """How many held-out examples each question's accuracy is measured on, in this profile
    (``Lab.held_out_examples``)."""
    lab = config.lab
    return {q: lab.held_out_examples(lab.questions[q].accuracy_check, profile) for q in questions}
