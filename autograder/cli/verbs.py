"""What each ``kerasgrade`` verb does with its parsed arguments (the parser: ``autograder.cli``)."""

from __future__ import annotations

import argparse

from autograder.errors import RunFailed
from autograder.grading.options import GradingOptions, OptionsError
from autograder.grading.results import Status
from autograder.lab.config import AssignmentConfig, load_config
from autograder.lab.settings import RunSettings


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
    from autograder.lab.questions import DerivedSpec

    derived = any(
        isinstance(getattr(q, "spec", None), DerivedSpec) for q in config.lab.questions.values()
    )
    generated = (
        ", and the wrong variants generated from its specs" if derived and not args.corpus else ""
    )
    print(f"Grading the variant corpus in {corpus}{generated} ({settings})...", flush=True)
    results = verify(config, args.corpus, settings=settings, workers=args.workers, store=args.store)
    print(table(results))
    if not all(result.as_expected for result in results):
        raise RunFailed("some variants were graded wrongly (marked WRONG above)")


def grading_options(args: argparse.Namespace, config: AssignmentConfig) -> GradingOptions:
    """``kerasgrade grade``'s options as one value, the profile's limits where none is given."""
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
    if args.scheduler and args.workers:
        raise OptionsError(
            "--workers sets this machine's threads; on a Dask cluster the workers are the "
            "cluster's: use --scheduler local:N for N local workers."
        )
    if not batch and (args.workers or args.force or args.scheduler):
        option = "--workers" if args.workers else "--force" if args.force else "--scheduler"
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
    from autograder.cohort.cluster import Scheduler
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
        scheduler=Scheduler.parse(args.scheduler) if args.scheduler else None,
    )
    if any(record["status"] == Status.GRADER_ERROR for record in records):
        raise RunFailed("the grader failed on some submissions (status grader-error); rerun")


def calibrate_main(args: argparse.Namespace) -> None:
    from autograder.quality.calibrate import calibrate, rederive
    from autograder.quality.calibration_runs import default_workers

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
        designs_only=args.designs_only,
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
        f"Created the lab {args.name!r} in {folder}; build it with `kerasgrade build --lab {folder}`."
    )
