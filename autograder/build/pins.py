"""The Gradescope zip's ``constraints.txt``: the build machine's versions, for the Pythons of
the images the zip will be installed on.

Pinning every installed package to this machine's version makes Gradescope train with the
TensorFlow, Keras and NumPy the thresholds were calibrated with. But the pins are installed by
another Python: the image's. A package built for this machine's Python may declare a
``Requires-Python`` that the image's Python does not meet (soupsieve 4.1.3 needs 3.11.5 or
later; Ubuntu 22.04's ``python3.11`` is 3.11.0rc1, Debian 12's is 3.11.2), and then pip stops
with ``ResolutionImpossible`` and the image is never built. So:

- only the packages the grader needs are pinned (the dependency closure of this package,
  followed through installed metadata, under every target Python's environment markers), not
  whatever else this machine has installed;
- a version whose ``Requires-Python`` excludes a target Python is not pinned: pip then picks the
  newest release that installs there. Such a package must not be one that decides a grade
  (``MUST_PIN``): the build fails rather than let grading drift from the calibration.

Everything is read offline from installed metadata (``importlib.metadata``, PEP 566), so the
build stays offline.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import metadata

from packaging.markers import default_environment
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

from autograder.errors import ToolkitError

ROOT_PACKAGE = "kerasgrade"  # the distribution whose requirements are pinned
# The Python each recommended base image installs with setup.sh (``apt-get install python3.11``
# on Ubuntu 22.04 gives 3.11.0rc1 from universe, which pip compares as 3.11.0; Ubuntu 24.04's
# python3 is 3.12.3; Debian 12's is 3.11.2). Read from the archives' Packages indexes.
TARGET_PYTHONS = {
    "Ubuntu 22.04": "3.11.0",
    "Debian 12": "3.11.2",
    "Ubuntu 24.04": "3.12.3",
}
# What computes a grade: a different version could change an accuracy the thresholds were
# calibrated on, so these are always pinned exactly.
MUST_PIN = {"tensorflow-cpu", "keras", "numpy", "otter-grader", "ml-dtypes", "h5py"}


class PinError(ToolkitError, RuntimeError):
    """A package that decides grades cannot be pinned for a target Python."""


@dataclass
class Pins:
    """``versions``: name -> version pinned; ``unpinned``: name -> why it is left to pip."""

    versions: dict[str, str] = field(default_factory=dict)
    unpinned: dict[str, str] = field(default_factory=dict)

    def constraints_txt(self) -> str:
        """A pip constraints file, the reasons for every missing pin as comments."""
        lines = [
            "# The build machine's versions of what the grader needs, for Pythons "
            + ", ".join(f"{python} ({image})" for image, python in TARGET_PYTHONS.items())
            + "."
        ]
        lines += [f"# {name} not pinned: {why}" for name, why in sorted(self.unpinned.items())]
        lines += [f"{name}=={version}" for name, version in sorted(self.versions.items())]
        return "\n".join(lines) + "\n"


def marker_environment(python: str, extra: str = "") -> dict[str, str]:
    """This machine's PEP 508 marker environment with another Python's version."""
    environment = dict(default_environment())
    environment.update(
        python_version=".".join(python.split(".")[:2]), python_full_version=python, extra=extra
    )
    return environment


def requirements_of(distribution: metadata.Distribution) -> list[Requirement]:
    parsed = []
    for text in distribution.requires or []:
        try:
            parsed.append(Requirement(text))
        except InvalidRequirement:  # a malformed line in someone's metadata: not ours to judge
            continue
    return parsed


def needed(root: str = ROOT_PACKAGE, pythons: tuple[str, ...] = ()) -> set[str]:
    """Canonical names of ``root`` and every installed package it needs, with the extras it
    asks for, under any of ``pythons`` (default: ``TARGET_PYTHONS``)."""
    pythons = pythons or tuple(TARGET_PYTHONS.values())
    seen: set[tuple[str, str]] = set()
    pending = [(canonicalize_name(root), "")]
    found: set[str] = set()
    while pending:
        name, extra = pending.pop()
        if (name, extra) in seen:
            continue
        seen.add((name, extra))
        try:
            distribution = metadata.distribution(name)
        except metadata.PackageNotFoundError:  # needed only on another Python or platform
            continue
        found.add(name)
        for requirement in requirements_of(distribution):
            if requirement.marker and not any(
                requirement.marker.evaluate(marker_environment(python, extra)) for python in pythons
            ):
                continue
            child = canonicalize_name(requirement.name)
            pending += [(child, "")] + [(child, e) for e in requirement.extras]
    return found


def pins(root: str = ROOT_PACKAGE, targets: dict[str, str] | None = None) -> Pins:
    """The pins for every package ``root`` needs that install on every target Python.

    Raises PinError if a package in ``MUST_PIN`` is installed at a version some target's
    Python cannot install.
    """
    targets = targets or TARGET_PYTHONS
    result = Pins()
    for name in sorted(needed(root, tuple(targets.values())) - {canonicalize_name(root)}):
        distribution = metadata.distribution(name)
        requires_python = SpecifierSet(distribution.metadata.get("Requires-Python") or "")
        excluded = [
            f"{image}'s Python {python}"
            for image, python in targets.items()
            if not requires_python.contains(python, prereleases=True)
        ]
        if not excluded:
            result.versions[name] = distribution.version
            continue
        why = (
            f"{distribution.version} requires Python {requires_python}, which excludes "
            + ", ".join(excluded)
        )
        if name in MUST_PIN:
            raise PinError(
                f"{name} {why}. It decides grades, so it must be pinned: build the zip with a "
                f"{name} release that supports every target Python."
            )
        result.unpinned[name] = why
    return result
