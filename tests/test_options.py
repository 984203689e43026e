"""One options value for grading: limits from the lab's profiles (whatever they are called),
overrides from the command line, and options that make no sense together refused."""

import dataclasses
import os
import subprocess
import sys
from types import SimpleNamespace

import pytest

from autograder.cli import main
from autograder.grading.options import (
    DEFAULT_PHASE_TIMEOUT_SECONDS,
    GIB,
    GradingOptions,
    OptionsError,
)
from autograder.lab.find import default_lab_folder
from autograder.lab.folder import load_lab
from labkit.profiles import GradingLimits, ProfileError, load_profiles


@dataclasses.dataclass(frozen=True)
class QuickProfile(GradingLimits):
    name: str
    notebook_epochs: int | None


def lab_with(**profiles) -> SimpleNamespace:
    return SimpleNamespace(profiles=profiles)


def settings(profile: str) -> SimpleNamespace:
    return SimpleNamespace(profile=profile)


def test_a_profile_of_any_name_gets_the_toolkits_limits_when_it_sets_none():
    lab = lab_with(quick=QuickProfile(name="quick", notebook_epochs=0))
    options = GradingOptions.of(lab, settings("quick"))
    assert options.phase_timeout == DEFAULT_PHASE_TIMEOUT_SECONDS
    assert options.cell_timeout is None  # only the phase's limit
    assert options.memory == 4 * GIB and options.checkers is None


def test_the_profiles_limits_apply_and_the_command_line_overrides_them():
    profile = QuickProfile(
        name="quick", notebook_epochs=0, phase_timeout_seconds=90, cell_timeout_seconds=15
    )
    lab = lab_with(quick=profile)
    assert GradingOptions.of(lab, settings("quick")).phase_timeout == 90
    assert GradingOptions.of(lab, settings("quick")).cell_timeout == 15
    given = GradingOptions.of(lab, settings("quick"), phase_timeout=30, cell_timeout=5)
    assert (given.phase_timeout, given.cell_timeout) == (30, 5)
    assert GradingOptions.of(lab, settings("quick"), memory_gib=0.5).memory == GIB // 2


def test_the_shipped_labs_keep_their_limits():
    lab = load_lab(default_lab_folder())
    limits = {
        name: (options.phase_timeout, options.cell_timeout)
        for name in ("grading", "smoke", "full")
        for options in [GradingOptions.of(lab, settings(name))]
    }
    assert limits == {"grading": (600, 60), "smoke": (600, 120), "full": (3600, None)}


@pytest.mark.parametrize("option", ["phase_timeout", "cell_timeout", "memory_gib", "checkers"])
def test_a_limit_that_is_not_positive_is_refused(option):
    lab = lab_with(quick=QuickProfile(name="quick", notebook_epochs=0))
    with pytest.raises(OptionsError, match="must be above 0"):
        GradingOptions.of(lab, settings("quick"), **{option: 0})


def test_limits_in_a_profiles_file_are_checked_like_budgets(tmp_path):
    path = tmp_path / "profiles.toml"
    path.write_text("[quick]\nnotebook_epochs = 0\ncell_timeout_seconds = 20\n")
    assert load_profiles(path, QuickProfile)["quick"].cell_timeout_seconds == 20
    path.write_text('[quick]\nnotebook_epochs = 0\ncell_timeout_seconds = "20"\n')
    with pytest.raises(ProfileError, match="cell_timeout_seconds must be a whole number"):
        load_profiles(path, QuickProfile)


def test_a_student_without_a_full_profile_gets_the_labs_first(monkeypatch):
    from labkit.profiles import active_profile

    monkeypatch.delenv("QUICK_PROFILE", raising=False)
    profiles = {"quick": "the first", "tiny": "the second"}
    assert active_profile(profiles, "QUICK_PROFILE") == "the first"
    monkeypatch.setenv("QUICK_PROFILE", "huge")
    with pytest.raises(ValueError, match="is not a profile"):
        active_profile(profiles, "QUICK_PROFILE")


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["-o", "OUT", "--checkers", "2"], "--checkers sets the checkers of one submission"),
        (["--force"], "--force applies to a class graded into a folder: add -o OUT"),
        (["--workers", "3"], "--workers applies to a class graded into a folder"),
    ],
)
def test_options_that_make_no_sense_together_are_refused(tmp_path, capsys, arguments, message):
    notebook = tmp_path / "rnn_lab.ipynb"
    notebook.write_text("{}")
    arguments = [a.replace("OUT", str(tmp_path / "out")) for a in arguments]
    assert main(["grade", str(notebook), *arguments]) == 1
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()  # refused before anything was written


def test_a_bug_shows_its_traceback_rather_than_a_one_line_message(tmp_path):
    """Only the toolkit's own errors (ToolkitError) become one line; a bug keeps its traceback."""
    program = (
        "import sys\n"
        "from autograder.cli import main, verbs\n"
        "def broken(args): raise KeyError('a bug')\n"
        "verbs.labs_main = broken\n"
        "sys.exit(main(['labs']))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, env=os.environ
    )
    assert result.returncode != 0
    assert "Traceback" in result.stderr and "KeyError: 'a bug'" in result.stderr


def test_the_old_command_name_still_works():
    """``rnnlab`` is kept as an alias of ``kerasgrade`` for one release."""
    bin_dir = os.path.dirname(sys.executable)
    for name in ("kerasgrade", "rnnlab"):
        result = subprocess.run(
            [os.path.join(bin_dir, name), "labs"], capture_output=True, text=True
        )
        assert result.returncode == 0 and "rnn_lab" in result.stdout, name
    refused = subprocess.run(
        [os.path.join(bin_dir, "rnnlab"), "grade", "x.ipynb", "--force"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert refused.stderr.startswith("rnnlab grade: ")  # messages use the name it was run by
