"""constraints.txt pins what the grader needs, at versions every target image's Python installs."""

import pytest

from autograder.build import pins as pins_module
from autograder.build.pins import PinError, needed, pins

TARGETS = {"Ubuntu 22.04": "3.11.0", "Debian 12": "3.11.2", "Ubuntu 24.04": "3.12.3"}


class FakeDistribution:
    def __init__(self, version, requires=(), requires_python=None):
        self.version = version
        self.requires = list(requires)
        self.metadata = {"Requires-Python": requires_python} if requires_python else {}


def installed(monkeypatch, distributions: dict[str, FakeDistribution]) -> None:
    def distribution(name):
        try:
            return distributions[name]
        except KeyError:
            raise pins_module.metadata.PackageNotFoundError(name) from None

    monkeypatch.setattr(pins_module.metadata, "distribution", distribution)


@pytest.fixture()
def machine(monkeypatch):
    """A build machine on Python 3.11.7 whose soupsieve needs 3.11.5 or later."""
    installed(
        monkeypatch,
        {
            "rnnlab": FakeDistribution(
                "0.1",
                [
                    "keras==3.15.1",
                    "otter-grader[grading]==7.0.0",
                    "pytest>=8; extra == 'dev'",
                    "tomli; python_version < '3.11'",
                    "typing-extensions; python_version >= '3.12'",
                ],
            ),
            "keras": FakeDistribution("3.15.1", ["numpy"], ">=3.10"),
            "numpy": FakeDistribution("2.4.6", [], ">=3.11"),
            "otter-grader": FakeDistribution(
                "7.0.0", ["nbconvert", "pypdf; extra == 'grading'"], ">=3.9"
            ),
            "nbconvert": FakeDistribution("7.17.2", ["beautifulsoup4"], ">=3.9"),
            "beautifulsoup4": FakeDistribution("4.15.0", ["soupsieve>1.2"], ">=3.7"),
            "soupsieve": FakeDistribution("4.1.3", [], ">=3.11.5"),
            "pypdf": FakeDistribution("7.1.1", [], ">=3.9"),
            "typing-extensions": FakeDistribution("4.15.0", [], ">=3.9"),
            "pytest": FakeDistribution("9.0.0", [], ">=3.10"),
            "tomli": FakeDistribution("2.3.0", [], ">=3.8"),
            "ruff": FakeDistribution("0.15.0", [], ">=3.7"),
        },
    )


def test_only_what_the_grader_needs_is_pinned(machine):
    assert needed("rnnlab", tuple(TARGETS.values())) == {
        "rnnlab", "keras", "numpy", "otter-grader", "nbconvert", "beautifulsoup4",
        "soupsieve", "pypdf", "typing-extensions",
    }  # fmt: skip
    # dev tools, Python-3.10-only backports and unrelated packages stay out; an extra asked
    # for (otter-grader[grading]) and a dependency of the newest target Python are followed


def test_a_version_an_older_target_python_cannot_install_is_left_to_pip(machine):
    found = pins("rnnlab", TARGETS)
    assert "soupsieve" not in found.versions
    assert "3.11.0" in found.unpinned["soupsieve"] and "3.11.2" in found.unpinned["soupsieve"]
    assert found.versions["keras"] == "3.15.1" and found.versions["numpy"] == "2.4.6"
    text = found.constraints_txt()
    assert "keras==3.15.1\n" in text and "soupsieve==" not in text
    assert "# soupsieve not pinned: 4.1.3 requires Python >=3.11.5" in text
    assert "rnnlab==" not in text  # the package itself comes from the zip


def test_a_package_that_decides_grades_is_never_left_to_pip(machine, monkeypatch):
    monkeypatch.setattr(pins_module, "MUST_PIN", {"numpy"})
    assert "numpy" in pins("rnnlab", TARGETS).versions
    with pytest.raises(PinError, match="numpy 2.4.6 requires Python >=3.11.*decides grades"):
        pins("rnnlab", {"Ubuntu 20.04": "3.8.10", **TARGETS})


def test_this_machines_pins_cover_the_grading_stack():
    text = pins().constraints_txt()
    for name in ("tensorflow-cpu", "keras", "numpy", "otter-grader", "nbclient"):
        assert f"\n{name}==" in text, name
    assert "\npytest==" not in text and "\nruff==" not in text  # dev tools are not installed
