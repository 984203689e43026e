"""Labs as folders: the toolkit names none, finds them, copies an installed one before building
it, starts a new one, and builds and grades the second lab end to end."""

import re
import shutil
from pathlib import Path

import pytest

from autograder.grading.options import GradingOptions
from autograder.lab.config import load_config
from autograder.lab.find import available_labs, installed_labs_dir, new_lab, resolve_lab
from autograder.lab.folder import LabError, load_lab

TOOLKIT = Path(__file__).resolve().parent.parent / "autograder"
LAB_NAMES = re.compile(
    r"rnn_lab|imdb|adder|digits_cnn|digits_|breast_cancer|cancer_|tumour", re.IGNORECASE
)


def test_the_toolkit_names_no_lab():
    """A lab is found through its folder's interface, never by name in the toolkit."""
    named = [
        f"{path.name}:{number}: {line.strip()}"
        for path in sorted(TOOLKIT.rglob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if LAB_NAMES.search(line)
    ]
    assert named == []


def test_both_labs_are_installed_and_listed(tmp_path):
    labs = available_labs(tmp_path)
    assert {"rnn_lab", "digits_cnn", "breast_cancer"} <= set(labs)
    assert all(where == "installed" for _, where in labs.values())


def test_a_named_installed_lab_is_copied_into_the_working_folder_once(tmp_path):
    said = []
    folder = resolve_lab("digits_cnn", tmp_path, announce=said.append)
    assert folder == tmp_path / "assignments" / "digits_cnn"
    assert (folder / "shipped" / "digits_support.py").is_file()
    assert not (folder / "dist").exists() and len(said) == 1
    config_file = folder / "assignment.toml"
    config_file.write_text(config_file.read_text().replace("title = ", 'title = "Edited" # ', 1))
    assert resolve_lab("digits_cnn", tmp_path, announce=said.append) == folder  # the edited copy
    assert len(said) == 1 and load_config(folder).title == "Edited"
    assert resolve_lab(str(folder), tmp_path) == folder  # a path is used as it is


def test_an_unknown_lab_is_refused_with_the_labs_there_are(tmp_path):
    with pytest.raises(LabError, match="'nolab' is neither a lab folder nor a lab's name.*rnn_lab"):
        resolve_lab("nolab", tmp_path)


def test_a_folder_without_the_interface_is_refused(tmp_path):
    with pytest.raises(LabError, match="has no __init__.py"):
        load_lab(tmp_path)
    shutil.copytree(installed_labs_dir() / "digits_cnn", tmp_path / "broken")
    interface = tmp_path / "broken" / "__init__.py"
    interface.write_text(interface.read_text().replace("LAB = LabSpec(", "LABS = LabSpec(", 1))
    with pytest.raises(LabError, match=r"does not declare its lab: add `LAB = LabSpec\(...\)`"):
        load_lab(tmp_path / "broken")


def test_a_new_lab_gets_its_own_module_names_and_name(tmp_path):
    folder = new_lab("shapes_lab", working=tmp_path)
    shipped = sorted(path.name for path in (folder / "shipped").glob("*.py"))
    assert shipped == ["shapes_lab_checks.py", "shapes_lab_support.py"]
    texts = {
        p.name: p.read_text() for p in folder.rglob("*") if p.suffix in (".py", ".j2", ".toml")
    }
    assert not {name for name, text in texts.items() if re.search(r"starter|STARTER", text)}
    # nothing of another lab's subject
    assert not {name for name, text in texts.items() if LAB_NAMES.search(text)}
    assert "SHAPES_LAB_PROFILE" in texts["shapes_lab_support.py"]
    assert 'variables="SHAPES_LAB"' in (folder / "shipped" / "shapes_lab_support.py").read_text()
    config = load_config(folder)
    assert config.name == "shapes_lab" and config.lab.checks_module == "shapes_lab_checks"
    assert config.lab.support.__file__ == str(folder / "shipped" / "shapes_lab_support.py")
    with pytest.raises(LabError, match="already exists"):
        new_lab("shapes_lab", working=tmp_path)
    with pytest.raises(LabError, match="not a lab name"):
        new_lab("Shapes Lab", working=tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("lab", "points", "variants"),
    [("digits_cnn", 22, 30), ("breast_cancer", 16, 7), ("starter", 16, 7)],
)
def test_a_small_lab_builds_and_grades_end_to_end(tmp_path, lab, points, variants):
    """A lab other than the RNN lab, built only from its folder (the breast-cancer lab is the
    one written from the docs page): the solution gets every automatic point, the untouched
    notebook none, its variant corpus is graded as each variant expects, and its Gradescope
    zip grades the solution at full marks."""
    from autograder.build.assign import build
    from autograder.grading.grade import grade
    from autograder.lab.settings import RunSettings
    from autograder.quality.verify import verify

    config = load_config(resolve_lab(lab, tmp_path, announce=lambda _: None))
    settings = RunSettings.of("smoke", "sklearn", config.lab)
    options = GradingOptions.of(config.lab, settings)
    zip_path = build(config, settings)
    assert zip_path.is_file()
    solution = grade(config, config.dist_dir / "autograder" / config.notebook_name, options=options)
    assert solution.auto_score == solution.auto_possible == points
    untouched = grade(config, config.dist_dir / "student" / config.notebook_name, options=options)
    assert untouched.graded and untouched.auto_score == 0
    verdicts = verify(config, settings=settings, workers=2, progress=lambda _: None)
    assert len(verdicts) >= variants and all(v.as_expected for v in verdicts)

    # Its Gradescope zip, unpacked as Gradescope does, grades the solution with its own code.
    from test_gradescope import assert_follows_spec, run_autograder, unpack

    root = tmp_path / "gradescope"
    unpack(zip_path, root)
    shutil.copy(config.dist_dir / "autograder" / config.notebook_name, root / "submission")
    results = run_autograder(root)
    assert_follows_spec(results)
    assert results["score"] == points


def test_profiles_are_data_checked_against_the_labs_schema(tmp_path):
    """A lab's budgets live in profiles.toml; a key the schema lacks, a missing whole number
    or a value of the wrong type is refused with the key named."""
    from dataclasses import dataclass

    from labkit.profiles import ProfileError, load_profiles

    @dataclass(frozen=True)
    class Profile:
        name: str
        check_epochs: int
        train_images: int | None
        notebook_epochs: int | None

    path = tmp_path / "profiles.toml"
    path.write_text("[grading]\ncheck_epochs = 2\nnotebook_epochs = 0\n")
    assert load_profiles(path, Profile) == {"grading": Profile("grading", 2, None, 0)}
    for text, fault in (
        ("[grading]\ncheck_epoch = 2\n", r"unknown key\(s\) \['check_epoch'\]"),
        ("[grading]\nnotebook_epochs = 0\n", "lacks check_epochs"),
        ('[grading]\ncheck_epochs = "2"\n', "check_epochs must be a whole number, not '2'"),
        ("[grading]\ncheck_epochs = 2.5\n", "check_epochs must be a whole number"),
    ):
        path.write_text(text)
        with pytest.raises(ProfileError, match=fault):
            load_profiles(path, Profile)


def test_each_lab_reads_its_profiles_from_its_own_file():
    from autograder.lab.find import labs_in

    for name, folder in labs_in(installed_labs_dir()).items():
        lab = load_lab(folder)
        assert (lab.shipped_dir / "profiles.toml").is_file(), name
        assert {"full", "grading", "smoke"} <= set(lab.profiles), name
        assert lab.profiles["grading"].notebook_epochs == 0, name


def test_a_lab_is_loaded_once_however_its_path_is_spelled():
    folder = installed_labs_dir() / "rnn_lab"
    assert load_lab(folder) is load_lab(folder.parent / "." / ".." / folder.parent.name / "rnn_lab")


def test_a_threshold_nobody_set_falls_back_to_halfway_from_chance():
    """The breast-cancer lab sets no threshold by hand: the grading profile's is calibrated,
    the others fall back to halfway from the data's chance level (0.615) to 1."""
    config = load_config(installed_labs_dir() / "breast_cancer")
    assert config.lab.chance("tumours") == pytest.approx(104 / 169)
    fallbacks = {(profile, value) for _, profile, _, value in config.fallback_thresholds()}
    assert fallbacks == {("smoke", 0.807), ("full", 0.807)}
    thresholds = config.thresholds_for("q2")
    assert thresholds["smoke"]["tumours"] == 0.807
    assert thresholds["grading"]["tumours"] == 0.895  # calibration.toml's
