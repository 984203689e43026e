"""The ``rnnlab`` command: ``build`` an assignment, ``grade`` a submission, ``verify-tests``
that prove the tests right, ``calibrate`` accuracy thresholds."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .calibrate import VALIDATION_SEED_OFFSET
from .config import DEFAULT_ASSIGNMENT, DEFAULT_CORPUS, load_config
from .limits import DEFAULT_MEMORY_GIB, DEFAULT_TIMEOUT_SECONDS

PROFILES = ("grading", "smoke", "full")


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--assignment", type=Path, default=DEFAULT_ASSIGNMENT,
        help="assignment folder holding assignment.toml (default: %(default)s)",
    )  # fmt: skip
    parser.add_argument(
        "--profile", choices=PROFILES, default="grading",
        help="training budget for the runs that execute notebooks (default: %(default)s)",
    )  # fmt: skip
    parser.add_argument(
        "--imdb", default="generated",
        help="IMDB data: 'generated' (offline, default), 'keras' (download) or a path to imdb.npz",
    )  # fmt: skip


def _add_corpus(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--workers", type=int, default=2,
        help="variant notebooks graded at once (default: %(default)s)",
    )  # fmt: skip
    parser.add_argument(
        "--corpus", type=Path, default=DEFAULT_CORPUS,
        help="folder of variant files (*.toml) and prelude.py (default: %(default)s)",
    )  # fmt: skip


def build_main(args: argparse.Namespace) -> None:
    from .build import build

    config = load_config(args.assignment)
    build(config, args.profile, args.imdb)
    if args.verify:
        verify_main(args)


def verify_main(args: argparse.Namespace) -> None:
    from .verify import table, verify

    config = load_config(args.assignment)
    print(f"Grading the variant corpus in {args.corpus} ({args.profile} profile)...", flush=True)
    results = verify(
        config, args.corpus, profile=args.profile, imdb=args.imdb, workers=args.workers
    )
    print(table(results))
    if not all(result.as_expected for result in results):
        raise RuntimeError("some variants were graded wrongly (marked WRONG above)")


def grade_main(args: argparse.Namespace) -> None:
    from .grade import check_submission_path, grade

    config = load_config(args.assignment)
    check_submission_path(args.submission)
    print(f"Grading {args.submission} ({args.profile} profile, {args.imdb} data)...", flush=True)
    report = grade(
        config,
        args.submission,
        profile=args.profile,
        imdb=args.imdb,
        timeout=args.timeout,
        memory=int(args.memory * 2**30),
        checkers=args.checkers,
    )
    print(report.table())
    print(report.feedback())
    print(report.timing())


def calibrate_main(args: argparse.Namespace) -> None:
    from .calibrate import calibrate, default_workers, rederive

    config = load_config(args.assignment)
    if args.rederive:
        table = rederive(config, profile=args.profile, imdb=args.imdb)
        print(f"Re-derived thresholds under the current rule: {table['thresholds']}")
        return
    calibrate(
        config,
        profile=args.profile,
        imdb=args.imdb,
        seeds=args.seeds,
        validate=args.validate,
        workers=args.workers or default_workers(),
        only=args.questions,
        first_validation_seed=args.first_validation_seed,
    )


def parser() -> argparse.ArgumentParser:
    main_parser = argparse.ArgumentParser(prog="rnnlab", description=__doc__)
    verbs = main_parser.add_subparsers(dest="verb", required=True)

    build_parser = verbs.add_parser("build", help="build the student notebook and the autograder")
    build_parser.add_argument(
        "--verify", action="store_true",
        help="after building, grade the variant corpus as verify-tests does (adds minutes)",
    )  # fmt: skip
    _add_corpus(build_parser)
    _add_common(build_parser)
    build_parser.set_defaults(run=build_main)

    verify_parser = verbs.add_parser(
        "verify-tests",
        help="grade the corpus of valid and wrong variants; fail if any is graded wrongly",
    )
    _add_corpus(verify_parser)
    _add_common(verify_parser)
    verify_parser.set_defaults(run=verify_main)

    calibrate_parser = verbs.add_parser(
        "calibrate", help="set accuracy thresholds from seeded runs of the reference solution"
    )
    calibrate_parser.add_argument(
        "--seeds", type=int, default=20, help="calibration runs (default: %(default)s)"
    )
    calibrate_parser.add_argument(
        "--validate", type=int, default=20,
        help="further runs on fresh seeds that measure the false-fail rate; 0 skips (default: %(default)s)",
    )  # fmt: skip
    calibrate_parser.add_argument(
        "--workers", type=int, default=0,
        help="parallel processes (default: one per core, as memory allows)",
    )  # fmt: skip
    calibrate_parser.add_argument(
        "--questions", nargs="+", metavar="Q",
        help="recalibrate only these (after changing their budget); the others keep their "
        "recorded runs, thresholds re-derived under the current rule",
    )  # fmt: skip
    calibrate_parser.add_argument(
        "--first-validation-seed", type=int, default=VALIDATION_SEED_OFFSET,
        help="validation uses seeds from this one on; after changing the rule, pick seeds "
        "that did not help choose it (default: %(default)s)",
    )  # fmt: skip
    calibrate_parser.add_argument(
        "--rederive", action="store_true",
        help="only re-derive the recorded runs' thresholds under the current rule (no training)",
    )  # fmt: skip
    _add_common(calibrate_parser)
    calibrate_parser.set_defaults(run=calibrate_main)

    grade_parser = verbs.add_parser("grade", help="grade one submission (.ipynb or otter .zip)")
    grade_parser.add_argument("submission", type=Path)
    grade_parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT_SECONDS,
        help="seconds per phase (default: %(default)s)",
    )
    grade_parser.add_argument(
        "--memory",
        type=float,
        default=DEFAULT_MEMORY_GIB,
        help="GiB per process of a phase (default: %(default)s)",
    )
    grade_parser.add_argument(
        "--checkers",
        type=int,
        default=None,
        help="checker processes run at once in the check phase (default: one per core)",
    )
    _add_common(grade_parser)
    grade_parser.set_defaults(run=grade_main)
    return main_parser


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    args = parser().parse_args(argv)
    try:
        args.run(args)
    except (RuntimeError, FileNotFoundError, ValueError) as error:
        print(f"rnnlab {args.verb}: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
