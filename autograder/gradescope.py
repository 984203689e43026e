"""Gradescope: the autograder zip (built by ``rnnlab build``) and its grading entry point.

Gradescope unpacks the zip into ``/autograder/source``, runs ``setup.sh`` once when it builds
the image, then for each submission runs ``run_autograder``, which calls
``python3 -m autograder.gradescope``: the same two-phase grading as ``rnnlab grade``, writing
``/autograder/results/results.json`` in Gradescope's format.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import zipfile
from pathlib import Path

from .config import CALIBRATION_FILE, CONFIG_FILE, AssignmentConfig, load_config
from .grade import GradeReport, grade

PROJECT_ROOT = Path(__file__).resolve().parent.parent
PACKAGE_DIRS = ("autograder", "reference", "student_template")
ZIP_NAME = "gradescope_autograder.zip"
ASSIGNMENT_DIR = "assignment"
HIDDEN_VISIBILITY = "after_published"
# Each grading phase stops after 4 minutes, so that two phases end inside Gradescope's
# recommended 10-minute limit and an endless loop still gets its results.json written.
PHASE_TIMEOUT_SECONDS = 240.0

SETUP_SH = """\
#!/usr/bin/env bash
# Runs once, when Gradescope builds the image: install Python and the grader.
set -euo pipefail
apt-get update -q && apt-get install -y -q python3 python3-pip python3-venv util-linux iproute2
python3 -m venv /autograder/venv
/autograder/venv/bin/pip install -q --upgrade pip
/autograder/venv/bin/pip install -q /autograder/source/rnnlab
"""

RUN_AUTOGRADER = """\
#!/usr/bin/env bash
# Runs for every submission: two-phase grading, results in /autograder/results/results.json.
exec /autograder/venv/bin/python -m autograder.gradescope --root /autograder
"""


def write_zip(config: AssignmentConfig, destination: Path) -> Path:
    """Our own autograder zip, to Gradescope's specification (setup.sh, run_autograder)."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(destination, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(_executable("setup.sh"), SETUP_SH)
        archive.writestr(_executable("run_autograder"), RUN_AUTOGRADER)
        archive.write(PROJECT_ROOT / "pyproject.toml", "rnnlab/pyproject.toml")
        archive.write(PROJECT_ROOT / "README.md", "rnnlab/README.md")
        for folder in PACKAGE_DIRS:
            for path in sorted((PROJECT_ROOT / folder).rglob("*")):
                if path.is_file() and "__pycache__" not in path.parts:
                    archive.write(path, f"rnnlab/{path.relative_to(PROJECT_ROOT)}")
        for name in (CONFIG_FILE, CALIBRATION_FILE, "requirements.txt"):
            if (config.folder / name).is_file():
                archive.write(config.folder / name, f"{ASSIGNMENT_DIR}/{name}")
    return destination


def _executable(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.external_attr = 0o755 << 16
    return info


def find_submission(folder: Path) -> Path:
    """The one notebook (or otter export zip) a student uploaded."""
    candidates = sorted(
        path
        for path in folder.rglob("*")
        if path.suffix.lower() in (".ipynb", ".zip") and ".ipynb_checkpoints" not in path.parts
    )
    notebooks = [path for path in candidates if path.suffix.lower() == ".ipynb"]
    chosen = notebooks or candidates
    if len(chosen) != 1:
        names = ", ".join(path.name for path in chosen) or "nothing"
        raise FileNotFoundError(f"Expected exactly one notebook in the submission, found {names}.")
    return chosen[0]


def results_json(report: GradeReport, hidden: dict[tuple[str, str], bool]) -> dict:
    """Gradescope's results format: one entry per test, hidden tests shown after publication."""
    tests = [
        {
            "name": f"{result.question} ({result.test})",
            "score": result.points,
            "max_score": result.max_points,
            "visibility": HIDDEN_VISIBILITY
            if hidden[(result.question, result.test)]
            else "visible",
            "output": result.message or "Passed.",
        }
        for result in report.results
    ]
    return {
        "score": sum(test["score"] for test in tests),
        "output": f"{report.status}: {report.message}",
        "stdout_visibility": "hidden",
        "tests": tests,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Grade the submission in a Gradescope tree.")
    parser.add_argument("--root", type=Path, default=Path("/autograder"))
    parser.add_argument("--profile", default="grading")
    parser.add_argument("--imdb", default=os.environ.get("RNNLAB_IMDB", "generated"))
    parser.add_argument(
        "--timeout",
        type=float,
        default=PHASE_TIMEOUT_SECONDS,
        help="seconds per phase (default: %(default)s)",
    )
    args = parser.parse_args(argv)

    from .questions import question_tests

    config = load_config(args.root / "source" / ASSIGNMENT_DIR)
    results_dir = args.root / "results"
    results_dir.mkdir(parents=True, exist_ok=True)
    try:
        submission = find_submission(args.root / "submission")
        report = grade(
            config,
            submission,
            profile=args.profile,
            imdb=args.imdb,
            timeout=args.timeout,
            hide=[args.root / "source", results_dir],
        )
    except (FileNotFoundError, RuntimeError) as error:
        payload = {"score": 0, "output": str(error), "tests": []}
    else:
        hidden = {
            (question, test.name): test.hidden
            for question in config.points
            for test in question_tests(question, config)
        }
        payload = results_json(report, hidden)
    (results_dir / "results.json").write_text(json.dumps(payload, indent=2))
    print(payload.get("output", ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
