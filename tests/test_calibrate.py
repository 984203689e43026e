"""`kerasgrade calibrate`: the threshold rule, the calibration file, and the worker protocol."""

import math
import shutil
import statistics
from pathlib import Path

import pytest

from autograder.errors import InputError
from autograder.lab.config import CALIBRATION_FILE, load_config
from autograder.lab.find import default_lab_folder, installed_labs_dir
from autograder.lab.settings import DataSource, RunSettings
from autograder.quality.calibrate import accuracy_questions, calibrate, rederive
from autograder.quality.calibration_runs import run_seeds
from autograder.quality.calibration_table import (
    calibration_warnings,
    merged,
    read_calibration,
    write_calibration,
)
from autograder.quality.threshold import (
    RULE,
    close_calls,
    question_threshold,
    threshold_rule,
    tolerance_factor,
)


def test_threshold_is_a_lower_bound_of_the_log_odds_less_a_binomial_allowance():
    accuracies = [0.80, 0.82, 0.84, 0.86, 0.88]
    log_odds = [math.log(a / (1 - a)) for a in accuracies]
    bound = statistics.mean(log_odds) - tolerance_factor(5) * statistics.stdev(log_odds)
    mean = statistics.mean(accuracies)
    expected = 1 / (1 + math.exp(-bound)) - math.sqrt(mean * (1 - mean) / 1000)
    assert threshold_rule(accuracies, 1000) == pytest.approx(math.floor(expected * 1000) / 1000)
    assert threshold_rule(accuracies, 1000) < min(accuracies)


def test_rare_dips_near_perfect_accuracy_stay_above_the_threshold():
    """The LSTM's 20 calibration runs on generated data, then two fresh runs that fell below
    the plain normal bound (0.920) that these runs gave."""
    runs = [0.994, 0.949, 0.994, 0.994, 0.994, 0.998, 0.997, 0.994, 0.973, 0.992]
    runs += [0.94, 0.947, 0.991, 0.994, 0.982, 0.987, 0.993, 0.975, 0.995, 0.996]
    assert threshold_rule(runs, 1000) < 0.865
    assert threshold_rule(runs + [1.0] * 5, 1000) < 0.865  # perfect runs are clipped, not infinite


def test_threshold_never_exceeds_the_lowest_run_and_never_goes_negative():
    steady = [0.9] * 19 + [0.7]  # one bad run among steady ones
    assert threshold_rule(steady, 1000) < 0.7
    assert threshold_rule([0.001, 0.0, 0.002], 10_000) == 0.0


def test_calibrated_thresholds_override_the_configured_ones(tmp_path):
    folder = tmp_path / "rnn_lab"
    shutil.copytree(
        default_lab_folder(),
        folder,
        ignore=shutil.ignore_patterns("build", "dist", CALIBRATION_FILE),
    )
    before = load_config(folder).thresholds
    tables = {"grading.imdb": {"data": "imdb.npz", "seeds": 20, "thresholds": {"q2": 0.612}}}
    write_calibration(folder / CALIBRATION_FILE, tables)
    assert read_calibration(folder / CALIBRATION_FILE) == tables
    after = load_config(folder).thresholds
    assert after["grading"]["imdb"]["q2"] == 0.612
    assert after["grading"]["imdb"]["q4"] == before["grading"]["imdb"]["q4"]
    assert after["smoke"] == before["smoke"]


def test_the_adder_is_calibrated_on_generated_data_only():
    config = load_config(default_lab_folder())
    assert "q7" in accuracy_questions(config, DataSource.parse("generated", config.lab))
    assert accuracy_questions(config, DataSource.parse("keras", config.lab)) == ["q2", "q4", "q5"]


def test_a_worker_process_reports_each_seed():
    lines = []
    runs = run_seeds(
        load_config(default_lab_folder()),
        ["q7"],
        [3],
        RunSettings.of("smoke", "generated").environment(),
        1,
        lines.append,
    )
    accuracy, examples = runs[3]["q7"]["reference"]
    assert 0.0 <= accuracy <= 1.0 and examples == 40_000
    assert lines and lines[0].startswith("  seed 3")


def test_a_local_copy_is_recorded_by_name_and_checksum(tmp_path):
    copy = tmp_path / "imdb.npz"
    copy.write_bytes(b"reviews")
    lab = load_config(default_lab_folder()).lab
    assert DataSource.parse(str(copy), lab).description() == (
        "imdb.npz, sha256 5464105120381493fb3350e3554d1897ba619abe196feed632a60ebc969f734c"
    )
    assert DataSource.parse("generated", lab).description() == "generated"


def test_the_tolerance_factor_matches_published_values():
    """One-sided normal tolerance factors, 99% coverage at 95% confidence (NIST tables)."""
    for runs, exact in ((10, 3.981), (20, 3.295), (40, 2.941)):
        assert tolerance_factor(runs) == pytest.approx(exact, rel=0.012)


def test_recalibrating_some_questions_keeps_and_rederives_the_others():
    steady = [0.80, 0.82, 0.84, 0.86, 0.88]
    recorded = {
        "seeds": 5,
        "thresholds": {"q2": 0.9, "q4": 0.1, "q5": 0.5},  # q2 falls, q4 rises
        "accuracies": {"q2": steady, "q4": steady, "q5": [0.5] * 5},
        "validation": {"seeds": 4, "failed_runs": 3, "q2_below": 1, "q4_below": 0, "q5_below": 2},
    }
    fresh = {
        "seeds": 5,
        "thresholds": {"q5": 0.7},
        "accuracies": {"q5": [0.75] * 5},
        "validation": {"seeds": 4, "failed_runs": 0, "q5_below": 0},
    }
    table = merged(recorded, fresh, {"q2": 1000, "q4": 1000, "q5": 1000})
    rederived = threshold_rule(steady, 1000)
    assert table["thresholds"] == {"q2": rederived, "q4": rederived, "q5": 0.7}
    assert table["accuracies"]["q5"] == [0.75] * 5 and table["accuracies"]["q2"] == steady
    # q2's count still bounds its failures (its threshold fell); q4's no longer does.
    assert table["validation"] == {"seeds": 4, "q2_below": 1, "q5_below": 0, "failed_runs": 1}


def test_rederive_rewrites_thresholds_under_the_current_rule(tmp_path):
    folder = tmp_path / "rnn_lab"
    shutil.copytree(default_lab_folder(), folder, ignore=shutil.ignore_patterns("build", "dist"))
    steady = [0.80, 0.82, 0.84, 0.86, 0.88]
    recorded = {
        "rule": "an older rule",
        "thresholds": {"q2": 0.9},
        "accuracies": {"q2": steady},
        "validation": {"seeds": 4, "q2_below": 1, "failed_runs": 1},
    }
    write_calibration(folder / CALIBRATION_FILE, {"grading.imdb": recorded})
    table = rederive(load_config(folder), settings=RunSettings.of("grading", "keras"))
    assert table["thresholds"] == {"q2": threshold_rule(steady, 1000)}
    assert table["rule"] == RULE
    assert table["validation"] == {"seeds": 4, "q2_below": 1, "failed_runs": 1}
    assert read_calibration(folder / CALIBRATION_FILE)["grading.imdb"] == table
    with pytest.raises(ValueError, match="no \\[smoke.imdb\\] table"):
        rederive(load_config(folder), settings=RunSettings.of("smoke", "keras"))


def test_a_question_is_set_on_its_weakest_design():
    runs = {"reference": [0.95, 0.96, 0.97, 0.96], "stacked": [0.70, 0.80, 0.75, 0.78]}
    assert question_threshold(runs, 1000) == threshold_rule(runs["stacked"], 1000)
    assert question_threshold(runs, 1000) < min(runs["stacked"])


def test_a_kept_question_is_rederived_on_its_recorded_designs_too():
    reference, slow = [0.95, 0.96, 0.97, 0.96, 0.95], [0.70, 0.80, 0.75, 0.78, 0.72]
    recorded = {
        "thresholds": {"q4": 0.9, "q5": 0.5},
        "accuracies": {"q4": reference, "q5": [0.5] * 5},
        "designs": {"q4": {"stacked": slow}, "q5": {"smallest": [0.5] * 5}},
    }
    fresh = {
        "thresholds": {"q5": 0.7},
        "accuracies": {"q5": [0.75] * 5},
        "designs": {"q5": {"smallest": [0.74] * 5}},
    }
    table = merged(recorded, fresh, {"q4": 1000, "q5": 1000})
    assert table["thresholds"]["q4"] == threshold_rule(slow, 1000)  # not the reference's
    assert table["designs"] == {"q4": {"stacked": slow}, "q5": {"smallest": [0.74] * 5}}


def test_nested_design_tables_survive_the_calibration_file(tmp_path):
    tables = {
        "grading.generated": {
            "seeds": 2,
            "thresholds": {"q4": 0.9},
            "accuracies": {"q4": [0.95, 0.96]},
            "designs": {"q4": {"lstm_stacked_widest_dropout": [0.91, 0.93]}},
            "design_validation": {"q4": {"reference": 0, "lstm_stacked_widest_dropout": 1}},
        }
    }
    write_calibration(tmp_path / CALIBRATION_FILE, tables)
    assert read_calibration(tmp_path / CALIBRATION_FILE) == tables


def test_a_threshold_within_a_standard_error_of_a_designs_lowest_run_is_named():
    runs = {"q4": {"reference": [0.99, 0.98], "stacked": [0.93, 0.97]}}
    # one standard error at 0.93 on 1,000 examples is about 0.008
    assert close_calls({"q4": 0.90}, runs, {"q4": 1000}) == []
    (warning,) = close_calls({"q4": 0.925}, runs, {"q4": 1000})
    assert "q4's threshold 0.925" in warning and "stacked (0.930)" in warning


def test_the_build_warns_of_a_recorded_close_call(tmp_path):
    folder = tmp_path / "rnn_lab"
    shutil.copytree(default_lab_folder(), folder, ignore=shutil.ignore_patterns("build", "dist"))
    table = {
        "thresholds": {"q4": 0.925},
        "accuracies": {"q4": [0.99, 0.98]},
        "designs": {"q4": {"lstm_stacked_widest_dropout": [0.93, 0.97]}},
    }
    write_calibration(folder / CALIBRATION_FILE, {"grading.generated": table})
    (warning,) = calibration_warnings(load_config(folder))
    assert warning.startswith("[grading.generated] q4's threshold 0.925 is within one standard")
    table["thresholds"]["q4"] = 0.90
    write_calibration(folder / CALIBRATION_FILE, {"grading.generated": table})
    assert calibration_warnings(load_config(folder)) == []


def _breast_cancer_copy(tmp_path, recorded_runs: int) -> Path:
    folder = tmp_path / "breast_cancer"
    shutil.copytree(installed_labs_dir() / "breast_cancer", folder,
                    ignore=shutil.ignore_patterns("build", "dist", "calibration.toml"))  # fmt: skip
    runs = ", ".join(["0.93"] * recorded_runs)
    (folder / CALIBRATION_FILE).write_text(
        f"[smoke.tumours]\nseeds = {recorded_runs}\n\n[smoke.tumours.thresholds]\nq2 = 0.9\n\n"
        f"[smoke.tumours.accuracies]\nq2 = [{runs}]\n\n"
        "[smoke.tumours.validation]\nseeds = 1\nq2_below = 1\nfailed_runs = 1\n"
    )
    return folder


def test_designs_only_trains_the_designs_and_keeps_the_references_recorded_runs(tmp_path):
    """A design added after the reference was calibrated costs only its own runs, on fewer
    seeds if it is slow: the reference's runs (all of them) and its count of fresh seeds
    below come from the record, and the table says how many seeds each side had."""
    config = load_config(_breast_cancer_copy(tmp_path, 3))
    settings = RunSettings.of("smoke", "sklearn", config.lab)
    table = calibrate(config, settings=settings, seeds=2, validate=1, workers=1, only=["q2"],
                      designs_only=True, progress=lambda _: None)  # fmt: skip
    assert table["accuracies"]["q2"] == [0.93, 0.93, 0.93]
    assert table["seeds"] == 3 and table["design_seeds"] == 2
    (design,) = table["designs"]["q2"]
    assert design == "slowest_allowed" and len(table["designs"]["q2"][design]) == 2
    validation = table["design_validation"]["q2"]
    assert validation["reference"] == 1 and set(validation) == {"reference", design}
    assert table["validation"]["q2_below"] == 1 + validation[design]
    assert table["validation"]["seeds"] == 1 and table["validation"]["design_seeds"] == 1
    assert table["thresholds"]["q2"] <= 0.93
    assert read_calibration(config.folder / CALIBRATION_FILE)["smoke.tumours"] == table


def test_designs_only_needs_the_references_runs_recorded(tmp_path):
    config = load_config(_breast_cancer_copy(tmp_path, 1))
    settings = RunSettings.of("smoke", "sklearn", config.lab)
    with pytest.raises(InputError, match="records 1 runs of q2's reference, fewer than the 2"):
        calibrate(config, settings=settings, seeds=2, validate=0, workers=1, only=["q2"],
                  designs_only=True, progress=lambda _: None)  # fmt: skip
