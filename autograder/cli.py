"""The ``rnnlab`` command: ``build`` an assignment, ``grade`` a submission."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .config import DEFAULT_ASSIGNMENT, load_config
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


def build_main(args: argparse.Namespace) -> None:
    from .build import build

    build(load_config(args.assignment), args.profile, args.imdb)


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
    )
    print(report.table())
    print(report.feedback())


def parser() -> argparse.ArgumentParser:
    main_parser = argparse.ArgumentParser(prog="rnnlab", description=__doc__)
    verbs = main_parser.add_subparsers(dest="verb", required=True)

    build_parser = verbs.add_parser("build", help="build the student notebook and the autograder")
    _add_common(build_parser)
    build_parser.set_defaults(run=build_main)

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
        help="GiB per phase (default: %(default)s)",
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
