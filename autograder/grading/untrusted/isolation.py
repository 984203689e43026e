"""How strongly notebooks are isolated on this machine: found out by starting the sandbox.

Three levels, strongest first:

``namespaces``
    A user id of its own (no account), its own network namespace (loopback only), process
    namespace and mount namespace, in which the grader's folders are covered by an empty
    tmpfs. Needs root with CAP_SYS_ADMIN: a root shell on a machine, Gradescope's container,
    ``docker run --cap-add SYS_ADMIN``.
``user``
    A user id of its own, the grader's folders made unreadable to it by file permissions
    (other users' bits removed, ``chmod o-rwx``); the network and the process list are the
    machine's. Root without CAP_SYS_ADMIN: Docker's default, a chroot.
``folder``
    The grader's own user, in a folder of its own. Not root, or no unprivileged user can run
    the grader's Python (a venv made from a Python under /root).

``probe`` starts each level on a trivial program (``autograder.grading.untrusted.sandbox --probe``), checks what
that program could reach, and keeps the first level that really holds; nothing is assumed
from the user id or the tools present.
"""

from __future__ import annotations

import functools
import json
import os
import shlex
import shutil
import stat
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from autograder.grading.untrusted import sandbox

NAMESPACES, USER, FOLDER = "namespaces", "user", "folder"
# User ids that no account uses; each sandbox draws one, so two notebooks graded at the same
# time cannot read or write each other's sandbox (both folders are mode 0700).
SANDBOX_UIDS = range(1_000_000, 2_000_000_000)
PROBE_UID = SANDBOX_UIDS[0]
PROBE_SECONDS = 120

DESCRIPTIONS = {
    NAMESPACES: "ran as an unprivileged user of its own, without network, with the grader's "
    "folders hidden",
    USER: "ran as an unprivileged user of its own, with the grader's folders unreadable to it "
    "by file permissions, but with the machine's network and able to list the grader's "
    "processes",
    FOLDER: "ran as the grader's own user, isolated by folder only, with the network it has",
}


def level_of(description: str) -> str:
    """The level whose ``Isolation.description`` is ``description``. Raises KeyError."""
    return {text: level for level, text in DESCRIPTIONS.items()}[description]


WARNING = "WARNING: weaker than the grader's full isolation. "


@dataclass(frozen=True)
class Isolation:
    """The level in force, and why it is not the strongest (empty at ``namespaces``)."""

    level: str
    degraded: str = ""

    @property
    def description(self) -> str:
        """What the notebook ran with, for reports."""
        return DESCRIPTIONS[self.level]

    @property
    def runs_as_other_user(self) -> bool:
        return self.level != FOLDER

    def warning(self) -> str:
        """Why this level is weaker than the strongest and what would lift it, for the console,
        the batch report and results.json, each after the description; empty at full."""
        if not self.degraded:
            return ""
        return f"{WARNING}{self.degraded}"

    @classmethod
    def from_report(cls, description: str, warning: str) -> Isolation:
        """The level a saved report describes (its ``description``), with the reason its
        ``warning()`` gave. Raises KeyError for a description of no level."""
        return cls(level_of(description), warning.removeprefix(WARNING))

    def command(self, run: list[str], hidden: list[Path], uid: int) -> list[str]:
        """The command that runs ``run`` at this level as ``uid``, ``hidden`` out of reach.

        At ``namespaces`` every step is chained with ``&&``: if a folder cannot be hidden, the
        notebook does not run.
        """
        if self.level == FOLDER:
            return run
        if self.level == USER:
            return [*drop_privileges(uid), *run]
        steps = ["ip link set lo up"]
        steps += [
            f"mount -t tmpfs -o size=1m,mode=000 none {shlex.quote(str(p))}"
            for p in outermost(hidden)
        ]
        steps.append("exec " + shlex.join([*drop_privileges(uid), *run]))
        return [
            "unshare",
            "--net",
            "--pid",  # its own process list: the grader's command lines (paths) stay unseen
            "--fork",
            "--mount-proc",
            "--mount",
            "--propagation",
            "private",
            "sh",
            "-c",
            " && ".join(steps),
        ]


def drop_privileges(uid: int) -> list[str]:
    """The command prefix that runs what follows as ``uid`` (group too), with no capability."""
    return ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--inh-caps=-all"]


def outermost(paths: list[Path]) -> list[Path]:
    """The paths not inside another one of them (hiding a folder hides what it holds)."""
    resolved = sorted({path.resolve() for path in paths}, key=lambda path: len(path.parts))
    kept: list[Path] = []
    for path in resolved:
        if not any(path.is_relative_to(parent) for parent in kept):
            kept.append(path)
    return kept


def minimal_environment(folder: Path) -> dict[str, str]:
    """PATH and locale, with every cache and config folder pointing into ``folder``."""
    environment = {key: os.environ[key] for key in ("PATH", "LANG", "LC_ALL") if key in os.environ}
    environment.update(
        USER="student",  # the sandbox's user id has no account for Python to look up
        LOGNAME="student",
        HOME=str(folder),
        TMPDIR=str(folder),
        KERAS_HOME=str(folder / ".keras"),
        JUPYTER_RUNTIME_DIR=str(folder / ".jupyter"),
        IPYTHONDIR=str(folder / ".ipython"),
        MPLCONFIGDIR=str(folder / ".matplotlib"),
        PYTHONDONTWRITEBYTECODE="1",
    )
    return environment


def start(candidate: Isolation, hidden: list[Path]) -> tuple[dict | None, str]:
    """Start ``candidate``'s sandbox on the probe program: what it reported, or why not."""
    with tempfile.TemporaryDirectory(prefix="rnnlab-probe-") as scratch:
        folder = Path(scratch)
        if candidate.runs_as_other_user:
            os.chown(folder, PROBE_UID, PROBE_UID)
        run = [sys.executable, "-m", sandbox.__name__, "--probe", *map(str, hidden)]
        try:
            completed = subprocess.run(
                candidate.command(run, hidden, PROBE_UID),
                cwd=folder,
                env=minimal_environment(folder),
                capture_output=True,
                text=True,
                timeout=PROBE_SECONDS,
            )
        except (OSError, subprocess.TimeoutExpired) as error:
            return None, str(error)
    if completed.returncode != 0:
        lines = completed.stderr.strip().splitlines() or [f"exit status {completed.returncode}"]
        return None, lines[-1][-300:]
    try:
        return json.loads(completed.stdout.strip().splitlines()[-1]), ""
    except (ValueError, IndexError):
        return None, f"the probe printed {completed.stdout[-200:]!r}"


def fault(candidate: Isolation, report: dict) -> str:
    """What a started sandbox failed to hold, or empty."""
    if candidate.runs_as_other_user and report["uid"] != PROBE_UID:
        return f"it ran as user {report['uid']}, not {PROBE_UID}"
    if report["readable"]:
        return f"it could read {', '.join(report['readable'])}"
    if candidate.level == NAMESPACES and report["interfaces"] != ["lo"]:
        return f"it had the network interfaces {', '.join(report['interfaces'])}"
    if not report["kernel"]:
        return f"it could not start a kernel with {sys.executable}"
    return ""


def protect(paths: list[Path]) -> list[Path]:
    """Remove other users' access to each of ``paths`` (``chmod o-rwx``); the ones changed."""
    changed = []
    for path in outermost([path for path in paths if path.exists()]):
        mode = path.stat().st_mode
        if mode & stat.S_IRWXO:
            path.chmod(stat.S_IMODE(mode) & ~stat.S_IRWXO)
            changed.append(path)
    return changed


@functools.cache
def probe(hidden: tuple[Path, ...]) -> Isolation:
    """The strongest level that really starts here and keeps ``hidden`` out of reach.

    At ``user`` level, folders in ``hidden`` that other users could read are made unreadable
    to them (``chmod o-rwx``, left so; the owner's and group's access are untouched). Cached:
    a run probes once for the folders it hides.
    """
    hidden_list = [Path(path) for path in hidden]
    reasons = []
    if os.geteuid() != 0 or sys.platform != "linux":
        reasons.append("The grader is not root, so notebooks cannot run as another user.")
    elif not all(shutil.which(tool) for tool in ("unshare", "setpriv", "ip", "mount")):
        reasons.append(
            "The tools unshare, setpriv, ip and mount (util-linux, iproute2) are missing."
        )
    else:
        report, why = start(Isolation(NAMESPACES), hidden_list)
        why = why or fault(Isolation(NAMESPACES), report)
        if not why:
            return Isolation(NAMESPACES)
        reasons.append(
            f"Notebooks could not get namespaces of their own ({why}); in a container, that is "
            "Docker's default, which drops CAP_SYS_ADMIN: run it with --cap-add SYS_ADMIN "
            "for full isolation."
        )
        protected = protect(hidden_list)
        report, why = start(Isolation(USER), hidden_list)
        why = why or fault(Isolation(USER), report)
        if not why:
            if protected:
                reasons.append(
                    "Other users' access was removed from "
                    + ", ".join(map(str, protected))
                    + " (chmod o-rwx) to keep them from notebooks."
                )
            return Isolation(USER, " ".join(reasons))
        reasons.append(
            f"Running as a user of its own failed too ({why}); make the grader's venv from a "
            "system-wide Python (/usr/bin/python3 -m venv) so another user can run it."
        )
    reasons.append("A hostile notebook could read the grader's folders and other submissions.")
    return Isolation(FOLDER, " ".join(reasons))
