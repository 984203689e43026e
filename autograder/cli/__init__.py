"""The ``kerasgrade`` command: ``build`` an assignment, ``grade`` a submission, ``verify-tests``
that prove the tests right, ``calibrate`` accuracy thresholds; ``labs`` lists the labs and
``new-lab`` starts one."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from autograder.cli import verbs
from autograder.errors import ToolkitError
from autograder.grading.options import DEFAULT_MEMORY_GIB
from autograder.quality.threshold import VALIDATION_SEED_OFFSET
from labkit.profiles import ProfileError


def option(*flags: str, **settings) -> tuple[tuple[str, ...], dict]:
    """One argument of a verb: ``argparse.add_argument``'s flags and settings, as data."""
    return flags, settings


LAB_OPTIONS = (
    option("--lab", "--assignment", dest="lab", metavar="PATH|NAME",
           help="the lab: its folder, or a name from `kerasgrade labs` (default: the worked example)"),
    option("--profile", default="grading",
           help="training budget for the runs that execute notebooks: one of the lab's "
           "profiles (default: %(default)s)"),
    option("--data",
           help="the lab's data source: one of its named sources or a path to a data file "
           "(default: the lab's own default, offline)"),
)  # fmt: skip
CORPUS_OPTIONS = (
    option("--workers", type=int, default=2,
           help="variant notebooks graded at once (default: %(default)s)"),
    option("--corpus", type=Path,
           help="folder of variant files (*.toml) and prelude.py (default: the lab's variants/, "
           "with the wrong variants generated from its derived specs)"),
    option("--store", type=Path, metavar="FOLDER",
           help="reuse and add to the accuracy measurements in FOLDER, such as the lab's "
           "variants/measurements (default: train every accuracy check)"),
)  # fmt: skip
BUILD_OPTIONS = (
    option("--verify", action="store_true",
           help="after building, grade the variant corpus as verify-tests does (adds minutes)"),
)  # fmt: skip
CALIBRATE_OPTIONS = (
    option("--seeds", type=int, default=20, help="calibration runs (default: %(default)s)"),
    option("--validate", type=int, default=20,
           help="further runs on fresh seeds that measure the false-fail rate; 0 skips "
           "(default: %(default)s)"),
    option("--workers", type=int, default=0,
           help="parallel processes (default: one per core, as memory allows)"),
    option("--questions", nargs="+", metavar="Q",
           help="recalibrate only these (after changing their budget); the others keep their "
           "recorded runs, thresholds re-derived under the current rule"),
    option("--first-validation-seed", type=int, default=VALIDATION_SEED_OFFSET,
           help="validation uses seeds from this one on; after changing the rule, pick seeds "
           "that did not help choose it (default: %(default)s)"),
    option("--designs-only", action="store_true",
           help="train only the questions' calibration designs, taking the reference's runs "
           "from the recorded table (after adding a design)"),
    option("--rederive", action="store_true",
           help="only re-derive the recorded runs' thresholds under the current rule "
           "(no training)"),
)  # fmt: skip
GRADE_OPTIONS = (
    option("submissions", type=Path, nargs="+", metavar="SUBMISSION",
           help="a notebook or otter export zip; or folders and files of a class (needs -o)"),
    option("-o", "--out", type=Path,
           help="grade a class: write the gradebook, feedback files and report into this folder"),
    option("--workers", type=int, default=0,
           help="with -o: submissions graded at once (default: one per core and one more, as "
           "memory allows)"),
    option("--force", action="store_true",
           help="with -o: regrade submissions already graded by an earlier run"),
    option("--scheduler", metavar="ADDRESS",
           help="with -o: grade on a Dask cluster: a scheduler's address (tcp://host:8786), "
           "or local / local:N for N workers on this machine (needs kerasgrade[cluster])"),
    option("--timeout", type=float,
           help="seconds per phase (default: the profile's phase_timeout_seconds, else 600)"),
    option("--cell-timeout", type=float,
           help="seconds per cell of a notebook; a cell past it is interrupted and the next one "
           "runs (default: the profile's cell_timeout_seconds, else none)"),
    option("--memory", type=float, default=DEFAULT_MEMORY_GIB,
           help="GiB per process tree of a phase (default: %(default)s)"),
    option("--checkers", type=int,
           help="without -o: checker processes run at once in the check phase (default: one "
           "per core)"),
    option("--no-reuse", dest="reuse", action="store_false",
           help="train every accuracy check from scratch instead of reusing the measurement of "
           "an identical training (kept in OUT/measurements with -o, else in the user's cache)"),
)  # fmt: skip
NEW_LAB_OPTIONS = (
    option("name", help="the new lab's name (letters, digits and _)"),
    option("--from", dest="source", metavar="PATH|NAME",
           help="the lab to copy (default: the installed labs' starting point)"),
)  # fmt: skip
# verb -> (help, what runs it, its arguments), in the order ``kerasgrade --help`` lists them.
VERBS = {
    "build": ("build the student notebook and the autograder", "build_main",
              BUILD_OPTIONS + CORPUS_OPTIONS + LAB_OPTIONS),
    "verify-tests": ("grade the corpus of valid and wrong variants; fail if any is graded "
                     "wrongly", "verify_main", CORPUS_OPTIONS + LAB_OPTIONS),
    "calibrate": ("set accuracy thresholds from seeded runs of the reference solution",
                  "calibrate_main", CALIBRATE_OPTIONS + LAB_OPTIONS),
    "grade": ("grade one submission (.ipynb or otter .zip), or a whole class into a folder (-o)",
              "grade_main", GRADE_OPTIONS + LAB_OPTIONS),
    "labs": ("list the labs installed and in ./assignments", "labs_main", ()),
    "new-lab": ("start a new lab in ./assignments/NAME from a copy of an existing one",
                "new_lab_main", NEW_LAB_OPTIONS),
}  # fmt: skip


def program_name() -> str:
    """``kerasgrade``, or ``rnnlab`` when run by its old name (an alias for one release)."""
    name = Path(sys.argv[0]).name
    return name if name in ("kerasgrade", "rnnlab") else "kerasgrade"


def parser() -> argparse.ArgumentParser:
    """The ``kerasgrade`` parser: one subcommand per entry of ``VERBS``."""
    main_parser = argparse.ArgumentParser(prog=program_name(), description=__doc__)
    subparsers = main_parser.add_subparsers(dest="verb", required=True)
    for verb, (summary, function, arguments) in VERBS.items():
        verb_parser = subparsers.add_parser(verb, help=summary)
        for flags, settings in arguments:
            verb_parser.add_argument(*flags, **settings)
        verb_parser.set_defaults(run=getattr(verbs, function))
    return main_parser


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    args = parser().parse_args(argv)
    try:
        args.run(args)
    except (ToolkitError, ProfileError) as error:  # any other exception is a bug: traceback
        print(f"{program_name()} {args.verb}: {error}", file=sys.stderr)
        return 1
    return 0
