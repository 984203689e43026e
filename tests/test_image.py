"""The Gradescope zip on a bare Debian 12 image (scripts/try-image.sh): setup.sh installs, the
solution gets full marks and the untouched notebook 0, with and without CAP_SYS_ADMIN.

Not in the default run (it needs root, debootstrap and the package registries, and takes about
6 minutes): ``python -m pytest -m image``.
"""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.image
SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "try-image.sh"


def registries_reachable() -> bool:
    probe = ["curl", "-fsI", "--max-time", "10"]
    return all(
        subprocess.run([*probe, url], capture_output=True).returncode == 0
        for url in (
            "http://deb.debian.org/debian/dists/bookworm/Release",
            "https://pypi.org/simple/",
        )
    )


def test_the_zip_installs_and_grades_on_a_bare_debian_12(built):
    if os.geteuid() != 0:
        pytest.skip("debootstrap, chroot and mounts need root")
    if not shutil.which("debootstrap"):
        pytest.skip("debootstrap is not installed (apt-get install debootstrap)")
    if not shutil.which("curl") or not registries_reachable():
        pytest.skip("Debian's archive or PyPI cannot be reached from here")
    zip_path = built.dist_dir / "autograder" / "gradescope_autograder.zip"
    completed = subprocess.run(
        ["bash", str(SCRIPT), "--suite", "bookworm", str(zip_path)],
        capture_output=True, text=True, timeout=3600,
    )  # fmt: skip
    output = completed.stdout
    assert completed.returncode == 0, output[-3000:] + completed.stderr[-3000:]
    assert re.search(r"setup\.sh on bookworm \(Python 3\.11\.\d+\): succeeded", output)
    assert re.search(r"== solution: 84/84 in", output), output
    assert re.search(r"== untouched notebook: 0/84 in", output), output
    assert re.search(r"== solution, no CAP_SYS_ADMIN: 84/84 in", output), output
    assert re.search(r"== untouched notebook, no CAP_SYS_ADMIN: 0/84 in", output), output
    assert "by file permissions" in output  # the weaker level, said in results.json
