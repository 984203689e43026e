"""Gradescope: the autograder zip (built by ``rnnlab build``) and its grading entry point.

Gradescope unpacks the zip into ``/autograder/source``, runs ``setup.sh`` once when it builds
the image, then for each submission runs ``run_autograder``, which calls
``python -m autograder.gradescope``: the same two-phase grading as ``rnnlab grade``, writing
``/autograder/results/results.json`` in Gradescope's format.

Everything that needs the network happens in ``setup.sh``: installing the grader with every
package pinned to the versions the build used, and fetching the real IMDB reviews (checked
against their checksum) when the assignment grades on them. Grading itself needs no network.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import zipfile
from pathlib import Path

import lab_support

from .config import CALIBRATION_FILE, CONFIG_FILE, AssignmentConfig, load_config
from .grade import GradeReport, grade
from .pins import pins
from .settings import GENERATED, DataSource, RunSettings
from .store import STORE_DIR
from .submission import InvalidSubmission, find_in_folder

PROJECT_ROOT = Path(__file__).resolve().parent.parent
PACKAGE_DIRS = ("autograder", "reference", "student_template")
ZIP_NAME = "gradescope_autograder.zip"
ASSIGNMENT_DIR = "assignment"
HIDDEN_VISIBILITY = "after_published"
ISOLATION_TEST = "grader (isolation)"  # staff only: how the notebook was isolated
# Each grading phase stops after 4 minutes, so that two phases end inside Gradescope's
# recommended 10-minute limit and an endless loop still gets its results.json written.
GRADESCOPE_PHASE_SECONDS = 240.0

DATA_FILE = "data/imdb.npz"  # under the Gradescope root, readable by the sandboxed notebook
CONSTRAINTS = "constraints.txt"

SETUP_SH = """\
#!/usr/bin/env bash
# Runs once, when Gradescope builds the image: Python 3.11 or later, then the grader with
# every package at the version the build used, then the data grading needs (no network later).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive  # Ubuntu's tzdata would otherwise wait for an answer
ROOT="${AUTOGRADER_ROOT:-/autograder}"
apt-get update -q
apt-get install -y -q python3 python3-venv python3-pip util-linux iproute2 curl
PYTHON=python3
if ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    apt-get install -y -q python3.11 python3.11-venv  # Ubuntu 22.04 ships 3.10
    PYTHON=python3.11
fi
"$PYTHON" -m venv "$ROOT/venv"
"$ROOT/venv/bin/pip" install -q --upgrade pip
"$ROOT/venv/bin/pip" install -q -c "$ROOT/source/constraints.txt" "$ROOT/source/rnnlab"
bash "$ROOT/source/fetch_data.sh"
"""

RUN_AUTOGRADER = """\
#!/usr/bin/env bash
# Runs for every submission: two-phase grading, results in $ROOT/results/results.json.
ROOT="${AUTOGRADER_ROOT:-/autograder}"
exec "${AUTOGRADER_PYTHON:-$ROOT/venv/bin/python}" -m autograder.gradescope --root "$ROOT" \\
    --imdb "__IMDB__"
"""

FETCH_GENERATED = """\
#!/usr/bin/env bash
# This assignment grades on generated reviews: there is nothing to fetch.
"""

FETCH_DATA = """\
#!/usr/bin/env bash
# The IMDB reviews the thresholds were calibrated on, checked against their checksum.
set -euo pipefail
ROOT="${AUTOGRADER_ROOT:-/autograder}"
mkdir -p "$ROOT/data"
__GET__
echo "__SHA256__  $ROOT/__DATA__" | sha256sum --check --quiet || {
    echo "The IMDB file does not match the one the assignment was built with." >&2; exit 1; }
chmod -R a+rX "$ROOT/data"
"""
GET_BUNDLED = 'cp "$ROOT/source/__DATA__" "$ROOT/__DATA__"'
GET_DOWNLOAD = 'curl -fsSL --retry 3 -o "$ROOT/__DATA__" "__ORIGIN__"'


def write_zip(config: AssignmentConfig, destination: Path, data: DataSource) -> Path:
    """Our own autograder zip, to Gradescope's specification (setup.sh, run_autograder).

    ``data`` is what grading uses: ``generated``, ``keras`` (downloaded by setup.sh) or a
    local copy of imdb.npz (carried in the zip).
    """
    grading_data = GENERATED if data.name == GENERATED else f"$ROOT/{DATA_FILE}"
    destination.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(destination, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(_executable("setup.sh"), SETUP_SH)
        archive.writestr(
            _executable("run_autograder"), RUN_AUTOGRADER.replace("__IMDB__", grading_data)
        )
        archive.writestr(_executable("fetch_data.sh"), fetch_data_script(data))
        if data.path is not None:
            archive.write(data.path, DATA_FILE)
        archive.writestr(CONSTRAINTS, pins().constraints_txt())
        archive.write(PROJECT_ROOT / "pyproject.toml", "rnnlab/pyproject.toml")
        archive.write(PROJECT_ROOT / "README.md", "rnnlab/README.md")
        for folder in PACKAGE_DIRS:
            for path in sorted((PROJECT_ROOT / folder).rglob("*")):
                if path.is_file() and "__pycache__" not in path.parts:
                    archive.write(path, f"rnnlab/{path.relative_to(PROJECT_ROOT)}")
        for path in sorted((config.dist_dir / STORE_DIR).glob("??/*.json")):
            archive.write(path, f"{STORE_DIR}/{path.parent.name}/{path.name}")
        for name in (CONFIG_FILE, CALIBRATION_FILE, "requirements.txt"):
            if (config.folder / name).is_file():
                archive.write(config.folder / name, f"{ASSIGNMENT_DIR}/{name}")
    return destination


def fetch_data_script(data: DataSource) -> str:
    """The setup step that puts the reviews where grading reads them, checksum checked."""
    if data.name == GENERATED:
        return FETCH_GENERATED
    if data.path is None:  # keras
        get = GET_DOWNLOAD.replace("__ORIGIN__", lab_support.IMDB_ORIGIN)
        digest = lab_support.IMDB_SHA256
    else:
        path = data.path
        if not path.is_file():
            raise FileNotFoundError(f"No IMDB file at {path} to put in the Gradescope zip.")
        get, digest = GET_BUNDLED, hashlib.sha256(path.read_bytes()).hexdigest()
    script = FETCH_DATA.replace("__GET__", get).replace("__SHA256__", digest)
    return script.replace("__DATA__", DATA_FILE)


def _executable(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.external_attr = 0o755 << 16
    return info


def results_json(report: GradeReport) -> dict:
    """Gradescope's results format: one entry per test, hidden tests shown after publication;
    an accuracy test's ``extra_data`` says whether its measurement was ``reused`` from the
    store or ``trained``; one entry per written question, worth nothing, holding the
    student's answer for the
    person who grades it against the rubric; and one more, worth nothing and never shown to
    students (``hidden``), that tells course staff how the notebook was isolated and why,
    when that is weaker than the strongest.

    Spec: https://gradescope-autograders.readthedocs.io/en/latest/specs/"""
    tests = [
        {
            "name": f"{result.question} ({result.test})",
            "score": result.points,
            "max_score": result.max_points,
            "visibility": HIDDEN_VISIBILITY if result.hidden else "visible",
            "output": result.message or "Passed.",
            **({"extra_data": {"measurement": result.measurement}} if result.measurement else {}),
        }
        for result in report.results
    ]
    tests += [
        {
            "name": f"{question} (written answer, graded by a person)",
            "score": 0,
            "max_score": 0,
            "visibility": "visible",
            "output": answer or "(no answer written)",
        }
        for question, answer in report.written.items()
    ]
    isolation = " ".join(
        filter(None, [f"The notebook {report.isolation}.", report.isolation_warning])
    )
    tests.append(
        {
            "name": ISOLATION_TEST,
            "score": 0,
            "max_score": 0,
            "visibility": "hidden",
            "output": isolation,
        }
    )
    return {
        "score": sum(test["score"] for test in tests),
        "output": f"{report.status}: {report.message}",
        "stdout_visibility": "hidden",
        "tests": tests,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Grade the submission in a Gradescope tree.")
    parser.add_argument("--root", type=Path, default=Path("/autograder"))
    from_environment = RunSettings.from_environment()
    parser.add_argument("--profile", default=from_environment.profile)
    parser.add_argument("--imdb", default=from_environment.data.name)
    parser.add_argument(
        "--timeout",
        type=float,
        default=GRADESCOPE_PHASE_SECONDS,
        help="seconds per phase (default: %(default)s)",
    )
    args = parser.parse_args(argv)

    config = load_config(args.root / "source" / ASSIGNMENT_DIR)
    results_dir = args.root / "results"
    results_dir.mkdir(parents=True, exist_ok=True)
    try:
        submission = find_in_folder(args.root / "submission", config.name, config.notebook_name)
        report = grade(
            config,
            submission,
            settings=RunSettings.of(args.profile, args.imdb),
            timeout=args.timeout,
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
        payload = results_json(report)
    (results_dir / "results.json").write_text(json.dumps(payload, indent=2))
    print(payload.get("output", ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
