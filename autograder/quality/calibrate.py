"""``rnnlab calibrate``: accuracy thresholds from many seeded runs of the reference solution.

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

import argparse
import datetime
import json
import math
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import psutil

from autograder.environment import available_cores, cores_each, with_threads
from autograder.files import write_atomically
from autograder.lab.config import CALIBRATION_FILE, AssignmentConfig
from autograder.lab.digest import package_versions
from autograder.lab.settings import DataSource, RunSettings

Z_ONE_IN_A_HUNDRED = 2.326  # one-sided 1% point of the normal distribution
Z_CONFIDENCE = 1.645  # one-sided 95% point
RULE = (
    "min(sigmoid(mean - k x sd), lowest run) - sqrt(p(1-p)/n), rounded down to 0.001, where mean "
    "and sd are those of the runs' log-odds log(p/(1-p)) (p clipped to 0.5/n from 0 and 1) and k "
    "is the one-sided normal tolerance factor for 99% coverage at 95% confidence given the "
    "number of runs (3.27 for 20): a bound that 99% of grading runs clear even allowing for a "
    "mean and sd estimated from few runs, never above the lowest run, less one binomial "
    "standard error of an accuracy measured on n held-out examples"
)
VALIDATION_SEED_OFFSET = 10_000
WORKER_MEMORY_BYTES = int(1.5 * 2**30)


@dataclass(frozen=True)
class QuestionCalibration:
    question: str
    accuracies: list[float]
    examples: int  # held-out examples behind each accuracy
    chance_level: float  # what a model that learned nothing scores

    @property
    def threshold(self) -> float:
        return threshold_rule(self.accuracies, self.examples)

    @property
    def chance_ceiling(self) -> float:
        """What a model that learned nothing reaches on a lucky run: its level + 3 std errors."""
        level = self.chance_level
        return level + 3 * math.sqrt(level * (1 - level) / self.examples)

    def summary(self) -> str:
        accuracies = self.accuracies
        return (
            f"{self.question}: mean {statistics.mean(accuracies):.3f}, sd "
            f"{statistics.stdev(accuracies):.3f}, min {min(accuracies):.3f}, max "
            f"{max(accuracies):.3f} over {len(accuracies)} seeds -> threshold {self.threshold:.3f}"
        )


def tolerance_factor(runs: int) -> float:
    """k such that mean - k sd of ``runs`` normal samples is below 99% of the population with
    95% confidence (Natrella's approximation, within 1% of the exact value from 10 runs on).

    A plain 2.326 sd trusts the sample's mean and sd as exact; with 20 runs the reference's
    CNN+LSTM then fell below its threshold in 3 of 20 fresh grading runs.
    """
    a = 1 - Z_CONFIDENCE**2 / (2 * (runs - 1))
    b = Z_ONE_IN_A_HUNDRED**2 - Z_CONFIDENCE**2 / runs
    return (Z_ONE_IN_A_HUNDRED + math.sqrt(Z_ONE_IN_A_HUNDRED**2 - a * b)) / a


def threshold_rule(accuracies: list[float], examples: int) -> float:
    """See ``RULE``.

    The bound is taken on the log-odds scale because accuracies near 1.0 are skewed: on
    generated data an LSTM that usually scores 0.99 now and then dips to 0.87, and a normal
    bound on the accuracies themselves let 3 of 20 fresh runs fall below it.
    """
    edge = 0.5 / examples
    log_odds = [_logit(min(max(a, edge), 1 - edge)) for a in accuracies]
    k = tolerance_factor(len(accuracies))
    bound = _sigmoid(statistics.mean(log_odds) - k * statistics.stdev(log_odds))
    mean = statistics.mean(accuracies)
    allowance = math.sqrt(max(mean * (1 - mean), 0.0) / examples)
    return max(0.0, math.floor((min(bound, min(accuracies)) - allowance) * 1000) / 1000)


def _logit(p: float) -> float:
    return math.log(p / (1 - p))


def _sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x))


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


REFERENCE = "reference"  # the design name of a question's reference builder


def design_names(question) -> list[str]:
    """``reference``, then the function name of each of the question's ``calibration_designs``."""
    return [REFERENCE, *(design.function for design in question.calibration_designs)]


def measure(lab, questions: list[str], seed: int) -> dict[str, dict[str, tuple[float, int]]]:
    """Train the reference of each question once with ``seed``, and each of its
    ``calibration_designs``: ``{question: {design: (accuracy, n)}}`` (``design_names``)."""
    results = {}
    for name in questions:
        question = lab.questions[name]
        measure_accuracy = lab.checks.MEASUREMENTS[question.accuracy_check]
        builders = (question.builder, *question.calibration_designs)
        results[name] = {}
        for design, builder in zip(design_names(question), builders, strict=True):
            measured = measure_accuracy(builder(), seed=seed, **question.training())
            results[name][design] = (measured.accuracy, measured.examples)
    return results


def question_threshold(runs: dict[str, list[float]], examples: int) -> float:
    """A question's threshold: the lowest of ``threshold_rule`` over its designs' runs
    (``{design: accuracies}``), so that the weakest design the spec allows clears it."""
    return min(threshold_rule(accuracies, examples) for accuracies in runs.values())


def close_calls(
    thresholds: dict[str, float], runs: dict[str, dict[str, list[float]]], examples: dict[str, int]
) -> list[str]:
    """A warning for each design whose lowest calibrated run sits less than one binomial
    standard error (sqrt(p(1-p)/n) at that run's accuracy p, n held-out examples) above its
    question's threshold: such a design fails about one grading run in six or more at that
    accuracy, so the threshold is too close to what the design really reaches."""
    warnings = []
    for question, designs in runs.items():
        threshold, n = thresholds.get(question), examples.get(question)
        if threshold is None or not n:
            continue
        for design, accuracies in designs.items():
            lowest = min(accuracies)
            error = math.sqrt(lowest * (1 - lowest) / n)
            if lowest - threshold < error:
                warnings.append(
                    f"{question}'s threshold {threshold:.3f} is within one standard error "
                    f"({error:.3f}) of the lowest calibrated run of {design} ({lowest:.3f}): "
                    "a valid answer of that design would often fail; lower the threshold or "
                    "give the question more training."
                )
    return warnings


def recorded_runs(table: dict) -> dict[str, dict[str, list[float]]]:
    """``{question: {design: accuracies}}`` from a calibration table: the reference's runs
    (``accuracies``) and each calibration design's (``designs``)."""
    designs = table.get("designs", {})
    return {
        question: {REFERENCE: runs, **designs.get(question, {})}
        for question, runs in table.get("accuracies", {}).items()
    }


def calibration_warnings(config: AssignmentConfig) -> list[str]:
    """``close_calls`` for every table of the assignment's calibration file, each prefixed
    with its table's name (``grading.generated``): what ``rnnlab build`` warns about."""
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
    (the lab's ``held_out_examples(task, profile)``)."""
    lab = config.lab
    return {
        q: lab.module.held_out_examples(lab.questions[q].accuracy_check, profile) for q in questions
    }


def default_workers() -> int:
    """One worker per core, as far as memory allows (about 1.5 GiB each)."""
    by_memory = psutil.virtual_memory().available // WORKER_MEMORY_BYTES
    return max(1, min(available_cores(), by_memory))


def run_seeds(
    config: AssignmentConfig,
    questions: list[str],
    seeds: list[int],
    environment: dict,
    workers: int,
    progress,
) -> dict[int, dict[str, tuple[float, int]]]:
    """Measure every seed in ``workers`` processes, each taking every ``workers``-th seed."""
    threads = cores_each(workers)
    results: dict[int, dict[str, tuple[float, int]]] = {}
    lock = threading.Lock()

    def worker(share: list[int]) -> None:
        command = [
            sys.executable, "-m", "autograder.quality.calibrate", "--worker", "--lab", str(config.folder),
            "--questions", *questions, "--seeds", *map(str, share),
        ]  # fmt: skip
        with subprocess.Popen(
            command,
            env=with_threads(environment, threads),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        ) as process:
            for line in process.stdout:
                record = json.loads(line)
                with lock:
                    results[record["seed"]] = record["results"]
                    progress(
                        f"  seed {record['seed']} ({len(results)}/{len(seeds)}, "
                        f"{record['seconds']:.0f} s): "
                        + ", ".join(
                            f"{q} {design} {a:.3f}"
                            for q, designs in record["results"].items()
                            for design, (a, _) in designs.items()
                        )
                    )
            stderr = process.stderr.read()
        if process.returncode != 0:
            raise RuntimeError(f"a calibration worker failed:\n{stderr[-3000:]}")

    shares = [seeds[index::workers] for index in range(workers)]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(worker, [share for share in shares if share]))
    return results


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
    lines = ["# Written by `rnnlab calibrate`; rerun it rather than editing by hand.", ""]
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


def calibrate(
    config: AssignmentConfig,
    *,
    settings: RunSettings,
    seeds: int,
    validate: int,
    workers: int,
    only: list[str] | None = None,
    first_validation_seed: int = VALIDATION_SEED_OFFSET,
    progress=lambda line: print(line, flush=True),
) -> dict:
    """Calibrate, write the thresholds into the assignment's calibration file, and return them.

    ``only`` recalibrates some questions (after a change to their budget) and keeps the
    others' recorded runs, their thresholds re-derived under the current rule. Validation
    seeds start at ``first_validation_seed``: after changing the rule, validate it on seeds
    that did not help choose it.
    """
    profile, kind = settings.profile, settings.data.kind
    questions = accuracy_questions(config, settings.data)
    if only:
        unknown = sorted(set(only) - set(questions))
        if unknown:
            raise ValueError(
                f"{unknown} have no accuracy check on {settings.data} data; pick from {questions}."
            )
        questions = [q for q in questions if q in only]
    environment = settings.environment()
    started = time.perf_counter()
    progress(f"Calibrating {', '.join(questions)}: {seeds} seeds, {workers} worker(s)...")
    runs = run_seeds(config, questions, list(range(seeds)), environment, workers, progress)
    tasks = config.lab.accuracy_tasks
    by_design = {
        q: {d: [runs[s][q][d][0] for s in sorted(runs)] for d in runs[0][q]} for q in questions
    }
    examples = {q: next(iter(runs[0][q].values()))[1] for q in questions}
    thresholds = {}
    for q in questions:
        chance = tasks[config.lab.questions[q].accuracy_check].chance
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
        "seeds": seeds,
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
        checks = run_seeds(config, questions, fresh, environment, workers, progress)

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
        table["validation"] = {
            "seeds": validate,
            "failed_runs": failed_runs,
            **{f"{q}_below": below(q) for q in questions},
        }
        by_design_below = {
            q: {d: below(q, d) for d in checks[fresh[0]][q]} for q in questions if q in designs
        }
        if by_design_below:
            table["design_validation"] = by_design_below
        progress(
            f"  designs failed {failed_runs} of {validate} fresh grading runs: "
            f"{ {q: below(q) for q in questions} } {by_design_below}"
        )
    path = config.folder / CALIBRATION_FILE
    tables = read_calibration(path)
    if only:
        recorded = tables.get(f"{profile}.{kind}", {})
        table = merged(
            recorded,
            table,
            held_out_examples(config, accuracy_questions(config, settings.data), profile),
        )
    tables[f"{profile}.{kind}"] = table
    write_calibration(path, tables)
    progress(f"Wrote {path}")
    return table


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


def rederive(config: AssignmentConfig, *, settings: RunSettings) -> dict:
    """Re-derive a recorded table's thresholds under the current rule, without training."""
    profile, kind = settings.profile, settings.data.kind
    path = config.folder / CALIBRATION_FILE
    tables = read_calibration(path)
    recorded = tables.get(f"{profile}.{kind}")
    if not recorded:
        raise ValueError(f"{path} has no [{profile}.{kind}] table to re-derive.")
    fresh = {"rule": RULE, "thresholds": {}, "accuracies": {}}
    examples = held_out_examples(config, list(recorded["accuracies"]), profile)
    tables[f"{profile}.{kind}"] = merged(recorded, fresh, examples)
    write_calibration(path, tables)
    return tables[f"{profile}.{kind}"]


def worker_main(argv: list[str]) -> int:
    """One calibration worker: a JSON line per seed on stdout."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--worker", action="store_true")
    parser.add_argument("--lab", type=Path, required=True)
    parser.add_argument("--questions", nargs="+", required=True)
    parser.add_argument("--seeds", nargs="+", type=int, required=True)
    args = parser.parse_args(argv)
    from autograder.lab.folder import load_lab

    lab = load_lab(args.lab)
    for seed in args.seeds:
        started = time.perf_counter()
        results = measure(lab, args.questions, seed)
        line = {"seed": seed, "results": results, "seconds": time.perf_counter() - started}
        print(json.dumps(line), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(worker_main(sys.argv[1:]))
