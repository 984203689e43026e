"""The ``rnnlab`` command: ``build`` an assignment, ``grade`` a submission, ``verify-tests``
that prove the tests right, ``calibrate`` accuracy thresholds; ``labs`` lists the labs and
``new-lab`` starts one."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from autograder.errors import RunFailed, ToolkitError
from autograder.grading.options import DEFAULT_MEMORY_GIB, GradingOptions, OptionsError
from autograder.grading.results import Status
from autograder.lab.config import AssignmentConfig, load_config
from autograder.lab.settings import RunSettings
from autograder.quality.calibrate import VALIDATION_SEED_OFFSET
from labkit.profiles import ProfileError


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--lab", "--assignment", dest="lab", metavar="PATH|NAME",
        help="the lab: its folder, or a name from `rnnlab labs` (default: the worked example)",
    )  # fmt: skip
    parser.add_argument(
        "--profile", default="grading",
        help="training budget for the runs that execute notebooks: one of the lab's profiles "
        "(default: %(default)s)",
    )  # fmt: skip
    parser.add_argument(
        "--data",
        help="the lab's data source: one of its named sources or a path to a data file "
        "(default: the lab's own default, offline)",
    )  # fmt: skip


def _add_corpus(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--workers", type=int, default=2,
        help="variant notebooks graded at once (default: %(default)s)",
    )  # fmt: skip
    parser.add_argument(
        "--corpus", type=Path,
        help="folder of variant files (*.toml) and prelude.py (default: the lab's variants/)",
    )  # fmt: skip
    parser.add_argument(
        "--store", type=Path, metavar="FOLDER",
        help="reuse and add to the accuracy measurements in FOLDER, such as the lab's "
        "variants/measurements (default: train every accuracy check)",
    )  # fmt: skip


def lab_config(args: argparse.Namespace) -> AssignmentConfig:
    """The config of the lab ``--lab`` names (an installed lab is copied here first)."""
    from autograder.lab.find import resolve_lab

    return load_config(resolve_lab(args.lab))


def run_settings(args: argparse.Namespace, config: AssignmentConfig) -> RunSettings:
    """The ``--profile`` and ``--data`` given, as one value for the lab."""
    return RunSettings.of(args.profile, args.data or config.lab.data.default, config.lab)


def build_main(args: argparse.Namespace) -> None:
    from autograder.build.assign import build

    config = lab_config(args)
    build(config, run_settings(args, config))
    if args.verify:
        verify_main(args)


def verify_main(args: argparse.Namespace) -> None:
    from autograder.quality.verify import table, verify

    config = lab_config(args)
    settings = run_settings(args, config)
    corpus = args.corpus or config.lab.variants_dir
    print(f"Grading the variant corpus in {corpus} ({settings})...", flush=True)
    results = verify(config, corpus, settings=settings, workers=args.workers, store=args.store)
    print(table(results))
    if not all(result.as_expected for result in results):
        raise RunFailed("some variants were graded wrongly (marked WRONG above)")


def grading_options(args: argparse.Namespace, config: AssignmentConfig) -> GradingOptions:
    """``rnnlab grade``'s options as one value, the profile's limits where none is given."""
    return GradingOptions.of(
        config.lab,
        run_settings(args, config),
        phase_timeout=args.timeout,
        cell_timeout=args.cell_timeout,
        memory_gib=args.memory,
        checkers=args.checkers,
    )


def refuse_mixed_options(args: argparse.Namespace, batch: bool) -> None:
    """Refuse options that mean nothing for this kind of run, rather than ignore them."""
    if batch and args.checkers is not None:
        raise OptionsError(
            "--checkers sets the checkers of one submission graded alone; a class graded "
            "with -o runs one pool of checkers per worker: use --workers instead."
        )
    if not batch and (args.workers or args.force):
        option = "--workers" if args.workers else "--force"
        raise OptionsError(f"{option} applies to a class graded into a folder: add -o OUT.")


def grade_main(args: argparse.Namespace) -> None:
    """One file without ``-o``: print its report. Otherwise: a batch into the ``-o`` folder."""
    single = len(args.submissions) == 1 and not args.submissions[0].is_dir()
    batch = bool(args.out) or not single
    refuse_mixed_options(args, batch)
    if batch:
        grade_class_main(args)
        return
    from autograder.grading.grade import check_submission_path, grade
    from autograder.grading.trusted.store import user_store

    config = lab_config(args)
    submission = args.submissions[0]
    check_submission_path(submission)
    options = grading_options(args, config)
    print(f"Grading {submission} ({options.settings})...", flush=True)
    store = user_store(config) if args.reuse else None
    report = grade(config, submission, options=options, store=store)
    print(report.table())
    print(report.feedback())
    print(report.timing())
    if not report.graded:
        raise RunFailed("the grader failed (status grader-error); rerun to grade it")


def grade_class_main(args: argparse.Namespace) -> None:
    from autograder.cohort.run import grade_class
    from autograder.environment import default_batch_workers

    if not args.out:
        raise OptionsError("grading a folder or several files needs -o OUT, the results folder")
    config = lab_config(args)
    records = grade_class(
        config,
        args.submissions,
        args.out,
        options=grading_options(args, config),
        workers=args.workers or default_batch_workers(),
        force=args.force,
        reuse=args.reuse,
    )
    if any(record["status"] == Status.GRADER_ERROR for record in records):
        raise RunFailed("the grader failed on some submissions (status grader-error); rerun")


def calibrate_main(args: argparse.Namespace) -> None:
    from autograder.quality.calibrate import calibrate, default_workers, rederive

    config = lab_config(args)
    if args.rederive:
        table = rederive(config, settings=run_settings(args, config))
        print(f"Re-derived thresholds under the current rule: {table['thresholds']}")
        return
    calibrate(
        config,
        settings=run_settings(args, config),
        seeds=args.seeds,
        validate=args.validate,
        workers=args.workers or default_workers(),
        only=args.questions,
        first_validation_seed=args.first_validation_seed,
    )


def labs_main(args: argparse.Namespace) -> None:
    """List the labs ``--lab`` can name."""
    from autograder.lab.find import available_labs, default_lab

    for name, (folder, where) in available_labs().items():
        mark = " (default)" if name == default_lab() else ""
        print(f"{name}{mark}  [{where}]  {folder}")


def new_lab_main(args: argparse.Namespace) -> None:
    """Start a lab from a copy of another (the installed labs' starting point unless
    ``--from`` says)."""
    from autograder.lab.find import new_lab

    folder = new_lab(args.name, args.source)
    print(
        f"Created the lab {args.name!r} in {folder}; build it with `rnnlab build --lab {folder}`."
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

    grade_parser = verbs.add_parser(
        "grade",
        help="grade one submission (.ipynb or otter .zip), or a whole class into a folder (-o)",
    )
    grade_parser.add_argument(
        "submissions", type=Path, nargs="+", metavar="SUBMISSION",
        help="a notebook or otter export zip; or folders and files of a class (needs -o)",
    )  # fmt: skip
    grade_parser.add_argument(
        "-o", "--out", type=Path,
        help="grade a class: write the gradebook, feedback files and report into this folder",
    )  # fmt: skip
    grade_parser.add_argument(
        "--workers", type=int, default=0,
        help="with -o: submissions graded at once (default: one per core and one more, as "
        "memory allows)",
    )  # fmt: skip
    grade_parser.add_argument(
        "--force", action="store_true",
        help="with -o: regrade submissions already graded by an earlier run",
    )  # fmt: skip
    grade_parser.add_argument(
        "--timeout",
        type=float,
        default=None,
        help="seconds per phase (default: the profile's phase_timeout_seconds, else 600)",
    )
    grade_parser.add_argument(
        "--cell-timeout",
        type=float,
        default=None,
        help="seconds per cell of a notebook; a cell past it is interrupted and the next one "
        "runs (default: the profile's cell_timeout_seconds, else none)",
    )
    grade_parser.add_argument(
        "--memory",
        type=float,
        default=DEFAULT_MEMORY_GIB,
        help="GiB per process tree of a phase (default: %(default)s)",
    )
    grade_parser.add_argument(
        "--checkers",
        type=int,
        default=None,
        help="without -o: checker processes run at once in the check phase (default: one per core)",
    )
    grade_parser.add_argument(
        "--no-reuse", dest="reuse", action="store_false",
        help="train every accuracy check from scratch instead of reusing the measurement of an "
        "identical training (kept in OUT/measurements with -o, else in the user's cache)",
    )  # fmt: skip
    _add_common(grade_parser)
    grade_parser.set_defaults(run=grade_main)

    labs_parser = verbs.add_parser("labs", help="list the labs installed and in ./assignments")
    labs_parser.set_defaults(run=labs_main)

    new_parser = verbs.add_parser(
        "new-lab", help="start a new lab in ./assignments/NAME from a copy of an existing one"
    )
    new_parser.add_argument("name", help="the new lab's name (letters, digits and _)")
    new_parser.add_argument(
        "--from", dest="source", default=None, metavar="PATH|NAME",
        help="the lab to copy (default: the installed labs' starting point)",
    )  # fmt: skip
    new_parser.set_defaults(run=new_lab_main)
    return main_parser


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    args = parser().parse_args(argv)
    try:
        args.run(args)
    except (ToolkitError, ProfileError) as error:  # any other exception is a bug: traceback
        print(f"rnnlab {args.verb}: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
