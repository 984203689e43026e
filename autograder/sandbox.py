"""Run one notebook to the end inside the sandbox (the untrusted phase's inner process).

Started by ``autograder.execute`` in the sandbox folder, as an unprivileged user without
network where the machine allows it. It only executes cells; it reads and writes nothing
outside its folder. Exit status: 0 the notebook ran (cell errors included), 3 the kernel
died, 4 the kernel broke in another way (it stopped speaking Jupyter's protocol, say).

Just before the first cell runs it prints ``STARTED`` on its standard output, then points its
standard output at /dev/null, so the kernel (started after) never holds that stream: the
grader reads the line as proof that the sandbox came up, and no notebook can forge or hide it.

``python -m autograder.sandbox --probe PATH...`` is the trivial program that
``autograder.isolation`` starts in a candidate sandbox: it prints, as JSON, its user id, which
of the PATHs it can read, its network interfaces and whether it can start a kernel's Python.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

KERNEL_DIED = 3
KERNEL_BROKE = 4
STARTED = "rnnlab-sandbox-started"


def readable(path: str) -> bool:
    """Whether this process can list (a folder) or open (a file) ``path``."""
    try:
        if os.path.isdir(path):
            os.listdir(path)
        else:
            open(path, "rb").close()
    except OSError:
        return False
    return True


def probe(paths: list[str]) -> dict:
    """What a notebook in this sandbox could reach: run by ``autograder.isolation``."""
    kernel = subprocess.run(
        [sys.executable, "-c", "import ipykernel, nbclient"], capture_output=True
    ).returncode
    return {
        "uid": os.getuid(),
        "readable": [path for path in paths if readable(path)],
        "interfaces": sorted(name for _, name in socket.if_nameindex()),
        "kernel": kernel == 0,
    }


def announce_start() -> None:
    """Tell the grader the sandbox is up, then give up the stream it was told on."""
    print(STARTED, flush=True)
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, sys.stdout.fileno())
    os.close(null)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--probe"]:
        print(json.dumps(probe(argv[1:])))
        return 0

    import nbclient
    import nbformat
    from nbclient.exceptions import DeadKernelError

    notebook = nbformat.read(argv[0], as_version=4)
    client = nbclient.NotebookClient(
        notebook,
        timeout=None,  # the caller enforces one wall-clock limit for the whole run
        allow_errors=True,
        kernel_name="python3",
        record_timing=False,
    )
    announce_start()
    try:
        client.execute()
    except DeadKernelError as error:
        print(f"kernel died: {error}", file=sys.stderr)
        return KERNEL_DIED
    except Exception as error:  # e.g. a kernel whose json module the notebook replaced
        print(f"{type(error).__name__}: {error}", file=sys.stderr)
        return KERNEL_BROKE
    return 0


if __name__ == "__main__":
    sys.exit(main())
