"""Gradescope's grading entry point, ``python -m autograder.gradescope.run``.

The autograder zip (``autograder.build.gradescope_zip``) has ``run_autograder`` call this for
each submission: the same two-phase grading as ``kerasgrade grade``, writing
``/autograder/results/results.json`` in Gradescope's format. Grading needs no network.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from autograder.build.gradescope_zip import ASSIGNMENT_DIR
from autograder.grading.grade import grade
from autograder.grading.options import GradingOptions
from autograder.grading.submission import InvalidSubmission, find_in_folder
from autograder.grading.trusted.store import STORE_DIR
from autograder.lab.config import load_config
from autograder.lab.settings import RunSettings

# Each grading phase stops after 4 minutes, so that two phases end inside Gradescope's
# recommended 10-minute limit and an endless loop still gets its results.json written.
GRADESCOPE_PHASE_SECONDS = 240.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Grade the submission in a Gradescope tree.")
    parser.add_argument("--root", type=Path, default=Path("/autograder"))
    parser.add_argument("--profile", help="default: the lab's profile variable, else grading")
    parser.add_argument("--data", help="default: the lab's data variable, else its default")
    parser.add_argument(
        "--timeout",
        type=float,
        default=GRADESCOPE_PHASE_SECONDS,
        help="seconds per phase (default: %(default)s)",
    )
    args = parser.parse_args(argv)

    config = load_config(args.root / "source" / ASSIGNMENT_DIR)
    settings = RunSettings.from_environment(config.lab)
    settings = RunSettings.of(
        args.profile or settings.profile, args.data or settings.data.name, config.lab
    )
    results_dir = args.root / "results"
    results_dir.mkdir(parents=True, exist_ok=True)
    try:
        submission = find_in_folder(args.root / "submission", config.name, config.notebook_name)
        options = GradingOptions.of(config.lab, settings, phase_timeout=args.timeout)
        report = grade(
            config,
            submission,
            options=options,
            hide=[args.root / "source", results_dir],
            store=args.root / "source" / STORE_DIR,
        )
    except (InvalidSubmission, FileNotFoundError, RuntimeError) as error:
        payload = {"score": 0, "output": str(error), "stdout_visibility": "hidden", "tests": []}
    else:
        if not report.graded:  # our fault: no results.json, so Gradescope shows the run failed
            print(f"Not graded: {report.message}", file=sys.stderr)
            print(report.isolation_warning, file=sys.stderr)
            return 1
        payload = report.to_gradescope()
    (results_dir / "results.json").write_text(json.dumps(payload, indent=2))
    print(payload.get("output", ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
