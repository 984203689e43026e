"""The threshold rule: a statistical lower bound of a design's calibrated accuracies, so that
a valid answer fails about 1 grading run in 100 or fewer (``RULE``), and the warnings for
thresholds too close to what a design reaches."""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass

Z_ONE_IN_A_HUNDRED = 2.326  # one-sided 1% point of the normal distribution
Z_CONFIDENCE = 1.645  # one-sided 95% point
# Validation runs use seeds from here on, so that they never helped choose a threshold.
VALIDATION_SEED_OFFSET = 10_000
RULE = (
    "min(sigmoid(mean - k x sd), lowest run) - sqrt(p(1-p)/n), rounded down to 0.001, where mean "
    "and sd are those of the runs' log-odds log(p/(1-p)) (p clipped to 0.5/n from 0 and 1) and k "
    "is the one-sided normal tolerance factor for 99% coverage at 95% confidence given the "
    "number of runs (3.27 for 20): a bound that 99% of grading runs clear even allowing for a "
    "mean and sd estimated from few runs, never above the lowest run, less one binomial "
    "standard error of an accuracy measured on n held-out examples"
)


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
