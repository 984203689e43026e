"""Gradescope: the autograder zip (built by ``rnnlab build``) and its grading entry point.

Gradescope unpacks the zip into ``/autograder/source``, runs ``setup.sh`` once when it builds
the image, then for each submission runs ``run_autograder``, which calls
``python -m autograder.gradescope.run``: the same two-phase grading as ``rnnlab grade``, writing
``/autograder/results/results.json`` in Gradescope's format.

Everything that needs the network happens in ``setup.sh``: installing the grader with every
package pinned to the versions the build used, and fetching the lab's data file (checked
against its checksum) when the assignment grades on one. Grading itself needs no network.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import zipfile
from importlib import metadata
from pathlib import Path

from autograder.build.pins import pins, requirements_of
from autograder.errors import MissingFile
from autograder.grading.grade import grade
from autograder.grading.options import GradingOptions
from autograder.grading.submission import InvalidSubmission, find_in_folder
from autograder.grading.trusted.store import STORE_DIR
from autograder.lab.config import AssignmentConfig, load_config
from autograder.lab.digest import file_sha256
from autograder.lab.find import NOT_COPIED
from autograder.lab.settings import DataSource, RunSettings

TOOLKIT_PACKAGES = ("autograder", "labkit")  # what grading imports besides the lab
DISTRIBUTION = "rnnlab"
ZIP_NAME = "gradescope_autograder.zip"
ASSIGNMENT_DIR = "assignment"
# Each grading phase stops after 4 minutes, so that two phases end inside Gradescope's
# recommended 10-minute limit and an endless loop still gets its results.json written.
GRADESCOPE_PHASE_SECONDS = 240.0

DATA_DIR = "data"  # under the Gradescope root, readable by the sandboxed notebook
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
"$ROOT/venv/bin/pip" install -q -c "$ROOT/source/constraints.txt" \
    -r "$ROOT/source/rnnlab/requirements.txt"
# The toolkit's own packages, copied where the sandboxed notebook can import them too
# (it cannot read $ROOT/source).
SITE="$("$ROOT/venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
cp -R "$ROOT/source/rnnlab/"* "$SITE/"
rm -f "$SITE/requirements.txt"
bash "$ROOT/source/fetch_data.sh"
"""

RUN_AUTOGRADER = """\
#!/usr/bin/env bash
# Runs for every submission: two-phase grading, results in $ROOT/results/results.json.
ROOT="${AUTOGRADER_ROOT:-/autograder}"
exec "${AUTOGRADER_PYTHON:-$ROOT/venv/bin/python}" -m autograder.gradescope.run --root "$ROOT" \\
    --data "__DATA_SOURCE__"
"""

FETCH_NOTHING = """\
#!/usr/bin/env bash
# This assignment grades on data the lab makes or ships itself: there is nothing to fetch.
"""

FETCH_DATA = """\
#!/usr/bin/env bash
# The data file the thresholds were calibrated on, checked against its checksum.
set -euo pipefail
ROOT="${AUTOGRADER_ROOT:-/autograder}"
mkdir -p "$ROOT/data"
__GET__
echo "__SHA256__  $ROOT/__DATA__" | sha256sum --check --quiet || {
    echo "The data file does not match the one the assignment was built with." >&2; exit 1; }
chmod -R a+rX "$ROOT/data"
"""
GET_BUNDLED = 'cp "$ROOT/source/__DATA__" "$ROOT/__DATA__"'
GET_DOWNLOAD = 'curl -fsSL --retry 3 -o "$ROOT/__DATA__" "__ORIGIN__"'


def data_file(config: AssignmentConfig, data: DataSource) -> str | None:
    """Where grading reads ``data`` under the Gradescope root, or None when it reads no file
    (a source the lab makes itself)."""
    download = config.lab.data.download
    if data.path is not None:
        return f"{DATA_DIR}/{data.path.name}"
    if download is not None and data.name == download.source:
        return f"{DATA_DIR}/{download.file_name}"
    return None


def write_zip(config: AssignmentConfig, destination: Path, data: DataSource) -> Path:
    """Our own autograder zip, to Gradescope's specification (setup.sh, run_autograder).

    ``data`` is what grading uses: a source the lab makes itself, one that setup.sh
    downloads (the lab's ``DataOptions.download``) or a local file (carried in the zip). The
    zip holds the toolkit's packages (``rnnlab/``, installed by setup.sh) and the lab itself (without
    its build output) in ``source/assignment``.
    """
    file = data_file(config, data)
    destination.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(destination, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(_executable("setup.sh"), SETUP_SH)
        grading_data = f"$ROOT/{file}" if file else data.name
        archive.writestr(
            _executable("run_autograder"), RUN_AUTOGRADER.replace("__DATA_SOURCE__", grading_data)
        )
        archive.writestr(_executable("fetch_data.sh"), fetch_data_script(config, data))
        if data.path is not None:
            archive.write(data.path, file)
        archive.writestr(CONSTRAINTS, pins().constraints_txt())
        archive.writestr("rnnlab/requirements.txt", "\n".join(toolkit_requirements()) + "\n")
        for package in TOOLKIT_PACKAGES:
            folder = Path(importlib.util.find_spec(package).origin).parent
            for path in _files(folder):
                archive.write(path, f"rnnlab/{package}/{path.relative_to(folder)}")
        for path in sorted((config.dist_dir / STORE_DIR).glob("??/*.json")):
            archive.write(path, f"{STORE_DIR}/{path.parent.name}/{path.name}")
        for path in _files(config.folder):
            archive.write(path, f"{ASSIGNMENT_DIR}/{path.relative_to(config.folder)}")
    return destination


def _files(folder: Path) -> list[Path]:
    """The files under ``folder`` but not in build output or caches."""
    return [
        path
        for path in sorted(folder.rglob("*"))
        if path.is_file() and not set(NOT_COPIED) & set(path.relative_to(folder).parts)
    ]


def toolkit_requirements() -> list[str]:
    """What the installed toolkit requires (its metadata, extras left out): the zip installs
    these, pinned by constraints.txt, then copies in the toolkit's packages, so the zip
    is the same whether the toolkit was installed from a wheel or a checkout."""
    return [
        str(requirement)
        for requirement in requirements_of(metadata.distribution(DISTRIBUTION))
        if requirement.marker is None or "extra" not in str(requirement.marker)
    ]


def fetch_data_script(config: AssignmentConfig, data: DataSource) -> str:
    """The setup step that puts the data file where grading reads it, checksum checked."""
    file = data_file(config, data)
    if file is None:
        return FETCH_NOTHING
    if data.path is None:
        download = config.lab.data.download
        get = GET_DOWNLOAD.replace("__ORIGIN__", download.origin)
        digest = download.sha256
    else:
        path = data.path
        if not path.is_file():
            raise MissingFile(f"No data file at {path} to put in the Gradescope zip.")
        get, digest = GET_BUNDLED, file_sha256(path)
    script = FETCH_DATA.replace("__GET__", get).replace("__SHA256__", digest)
    return script.replace("__DATA__", file)


def _executable(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.external_attr = 0o755 << 16
    return info


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
