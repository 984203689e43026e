"""The Gradescope autograder zip, to Gradescope's specification, built by ``kerasgrade build``.

Gradescope unpacks the zip into ``/autograder/source``, runs ``setup.sh`` once when it builds
the image, then for each submission runs ``run_autograder``, which calls
``python -m autograder.gradescope.run``. Everything that needs the network happens in
``setup.sh``: installing the grader with every package pinned to the versions the build used
(``constraints.txt``), and fetching the lab's data file (checked against its checksum) when
the assignment grades on one. The scripts are templates in ``templates/``.
"""

from __future__ import annotations

import importlib.util
import zipfile
from importlib import metadata
from pathlib import Path

from autograder.build.pins import pins, requirements_of
from autograder.errors import MissingFile
from autograder.grading.trusted.store import STORE_DIR, entry_files
from autograder.lab.config import AssignmentConfig
from autograder.lab.digest import file_sha256
from autograder.lab.find import NOT_COPIED
from autograder.lab.settings import DataSource
from autograder.templating import render

TOOLKIT_PACKAGES = ("autograder", "labkit")  # what grading imports besides the lab
DISTRIBUTION = "kerasgrade"
TOOLKIT_DIR = "kerasgrade"  # in the zip: the toolkit's packages and requirements
ZIP_NAME = "gradescope_autograder.zip"
ASSIGNMENT_DIR = "assignment"

DATA_DIR = "data"  # under the Gradescope root, readable by the sandboxed notebook
CONSTRAINTS = "constraints.txt"


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
    zip holds the toolkit's packages (``kerasgrade/``, installed by setup.sh) and the lab itself (without
    its build output) in ``source/assignment``.
    """
    file = data_file(config, data)
    destination.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(destination, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(_executable("setup.sh"), render(__file__, "setup.sh.j2"))
        grading_data = f"$ROOT/{file}" if file else data.name
        run_autograder = render(__file__, "run_autograder.j2", data_source=grading_data)
        archive.writestr(_executable("run_autograder"), run_autograder)
        archive.writestr(_executable("fetch_data.sh"), fetch_data_script(config, data))
        if data.path is not None:
            archive.write(data.path, file)
        archive.writestr(CONSTRAINTS, pins().constraints_txt())
        archive.writestr(
            f"{TOOLKIT_DIR}/requirements.txt", "\n".join(toolkit_requirements()) + "\n"
        )
        for package in TOOLKIT_PACKAGES:
            folder = Path(importlib.util.find_spec(package).origin).parent
            for path in _files(folder):
                archive.write(path, f"{TOOLKIT_DIR}/{package}/{path.relative_to(folder)}")
        for path in entry_files(config.dist_dir / STORE_DIR):
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
    """The setup step that puts the data file where grading reads it, checksum checked.
    Raises MissingFile for a local data file that is not there."""
    file = data_file(config, data)
    if file is None:
        return render(__file__, "fetch_data.sh.j2", data_file=None)
    if data.path is None:
        download = config.lab.data.download
        origin, digest = download.origin, download.sha256
    else:
        if not data.path.is_file():
            raise MissingFile(f"No data file at {data.path} to put in the Gradescope zip.")
        origin, digest = None, file_sha256(data.path)
    return render(__file__, "fetch_data.sh.j2", data_file=file, origin=origin, sha256=digest)


def _executable(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.external_attr = 0o755 << 16
    return info
