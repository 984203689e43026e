"""How a submission is graded, as one value passed from the command line to every phase.

Defaults are resolved once, in ``GradingOptions.of``: the limits come from the lab's profile
(``labkit.profiles.GradingLimits``: ``phase_timeout_seconds``, ``cell_timeout_seconds`` in
the lab's ``profiles.toml``), else from the toolkit's defaults below, so a lab may name its
profiles as it likes.
"""

from __future__ import annotations

from dataclasses import dataclass

from autograder.errors import ToolkitError
from autograder.lab.settings import RunSettings

DEFAULT_PHASE_TIMEOUT_SECONDS = 600.0  # a profile that sets no phase limit
DEFAULT_MEMORY_GIB = 4.0  # per grading phase, whole process tree
GIB = 2**30


class OptionsError(ToolkitError, ValueError):
    """Options that make no sense, alone or together; the message says which and why."""


@dataclass(frozen=True, kw_only=True)
class GradingOptions:
    """What every phase of grading one submission needs to know besides the submission.

    ``settings``: the training budget (profile) and data source; ``phase_timeout``: seconds
    per phase (the notebook's run, then its checks); ``cell_timeout``: seconds per cell of
    the notebook (a cell past it is interrupted and the next one runs; None: only the
    phase's limit); ``memory``: bytes per phase's process tree; ``checkers``: checker
    processes a submission graded alone starts (None: one per core; a class lends its own).
    """

    settings: RunSettings
    phase_timeout: float
    cell_timeout: float | None
    memory: int
    checkers: int | None = None

    @classmethod
    def of(
        cls,
        lab,
        settings: RunSettings,
        *,
        phase_timeout: float | None = None,
        cell_timeout: float | None = None,
        memory_gib: float | None = None,
        checkers: int | None = None,
    ) -> GradingOptions:
        """The options for grading in ``settings`` (a profile of ``lab``, an
        ``autograder.lab.folder.Lab``), each left as None taken from the profile's limits or
        the toolkit's defaults. Raises OptionsError for a limit that is not positive."""
        for name, value in (
            ("phase timeout", phase_timeout),
            ("cell timeout", cell_timeout),
            ("memory", memory_gib),
            ("checkers", checkers),
        ):
            if value is not None and value <= 0:
                raise OptionsError(f"The {name} must be above 0, not {value}.")
        profile = lab.profiles[settings.profile]
        profile_phase = getattr(profile, "phase_timeout_seconds", None)
        cell = cell_timeout or getattr(profile, "cell_timeout_seconds", None)
        return cls(
            settings=settings,
            phase_timeout=float(phase_timeout or profile_phase or DEFAULT_PHASE_TIMEOUT_SECONDS),
            cell_timeout=float(cell) if cell else None,
            memory=int((memory_gib or DEFAULT_MEMORY_GIB) * GIB),
            checkers=checkers,
        )

    def describe(self) -> str:
        """One line for the console: "grading profile, generated data; 600 s per phase, ..."."""
        cells = f"{self.cell_timeout:.0f} s per cell" if self.cell_timeout else "no cell limit"
        return (
            f"{self.settings}; {self.phase_timeout:.0f} s per phase, {cells}, "
            f"{self.memory / GIB:g} GiB per phase"
        )
