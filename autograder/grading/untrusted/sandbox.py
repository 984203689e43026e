"""Run one notebook to the end inside the sandbox (the untrusted phase's inner process).

Started by ``autograder.grading.untrusted.execute`` in the sandbox folder, as an unprivileged user without
network where the machine allows it. It only executes cells; it reads and writes nothing
outside its folder. Exit status: 0 the notebook ran (cell errors included), 3 the kernel
died, 4 the kernel broke in another way (it stopped speaking Jupyter's protocol, say).

Just before the first cell runs it prints ``STARTED`` on its standard output, then keeps that
stream for itself (a descriptor the kernel does not inherit) and points descriptor 1 at
/dev/null, so the kernel (started after) never holds it: the grader reads the line as proof
that the sandbox came up, and no notebook can forge or hide it. On the same stream it then
reports, one JSON line each, every cell of the submission as it starts (``{"cell": n,
"first": line}``) and every cell stopped by the per-cell limit (``{"stopped": n,
"seconds": s}``) and the cell that called ``quit()`` or ``exit()`` (``{"quit": n}``, read off
the ``ask_exit`` payload of its reply): a cell running longer than ``--cell-timeout`` seconds is
interrupted (as Jupyter's interrupt button does) and the notebook goes on with the next cell.

``python -m autograder.grading.untrusted.sandbox --probe PATH...`` is the trivial program that
``autograder.grading.untrusted.isolation`` starts in a candidate sandbox: it prints, as JSON, its user id, which
of the PATHs it can read, its network interfaces and whether it can start a kernel's Python.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import time

KERNEL_DIED = 3
KERNEL_BROKE = 4
STARTED = "rnnlab-sandbox-started"
# The metadata key under which each code cell carries its position in the submission: set by
# the grader (``execute``) just before the run and read back by this runner, never kept.
CELL_KEY = "kerasgrade"


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
    """What a notebook in this sandbox could reach: run by ``autograder.grading.untrusted.isolation``."""
    kernel = subprocess.run(
        [sys.executable, "-c", "import ipykernel, nbclient"], capture_output=True
    ).returncode
    return {
        "uid": os.getuid(),
        "readable": [path for path in paths if readable(path)],
        "interfaces": sorted(name for _, name in socket.if_nameindex()),
        "kernel": kernel == 0,
    }


def announce_start():
    """Tell the grader the sandbox is up; return the stream to report on, which no child
    process inherits (descriptor 1 now points at /dev/null)."""
    print(STARTED, flush=True)
    private = os.dup(sys.stdout.fileno())  # not inheritable (PEP 446)
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, sys.stdout.fileno())
    os.close(null)
    return os.fdopen(private, "w", buffering=1)


class CellReporter:
    """nbclient hooks that report each submission cell's start, and the cells stopped by the
    per-cell limit, on the grader's private stream."""

    def __init__(self, stream, cell_timeout: float | None):
        self.stream, self.cell_timeout = stream, cell_timeout
        self.started = 0.0

    def emit(self, event: dict) -> None:
        self.stream.write(json.dumps(event) + "\n")

    def on_cell_start(self, cell, cell_index: int) -> None:
        self.started = time.monotonic()
        if position := cell.get("metadata", {}).get(CELL_KEY, {}).get("cell"):
            first = next((line for line in cell.source.splitlines() if line.strip()), "")
            self.emit({"cell": position, "first": first.strip()[:80]})

    def on_cell_executed(self, cell, cell_index: int, execute_reply) -> None:
        """A cell interrupted at the limit ends with the kernel's KeyboardInterrupt reply."""
        seconds = time.monotonic() - self.started
        position = cell.get("metadata", {}).get(CELL_KEY, {}).get("cell")
        content = (execute_reply or {}).get("content", {})
        if position and any(
            isinstance(payload, dict) and payload.get("source") == "ask_exit"
            for payload in content.get("payload") or ()
        ):  # quit() or exit(): ipykernel's ZMQInteractiveShell.ask_exit; the kernel ends next
            self.emit({"quit": position})
        interrupted = execute_reply is None or content.get("ename") == "KeyboardInterrupt"
        if interrupted and self.cell_timeout and seconds >= self.cell_timeout:
            self.emit({"stopped": position, "seconds": round(seconds)})


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--probe"]:
        print(json.dumps(probe(argv[1:])))
        return 0
    parser = argparse.ArgumentParser(description="Run one notebook in the sandbox.")
    parser.add_argument("notebook")
    parser.add_argument("--cell-timeout", type=float, default=None, help="seconds per cell")
    args = parser.parse_args(argv)

    import nbclient
    import nbformat
    from nbclient.exceptions import DeadKernelError

    notebook = nbformat.read(args.notebook, as_version=4)
    stream = announce_start()
    reporter = CellReporter(stream, args.cell_timeout)
    client = nbclient.NotebookClient(
        notebook,
        timeout=args.cell_timeout,  # the caller enforces the wall-clock limit of the whole run
        interrupt_on_timeout=True,  # a cell past its limit is interrupted; the next one runs
        allow_errors=True,
        kernel_name="python3",
        record_timing=False,
        on_cell_start=reporter.on_cell_start,
        on_cell_executed=reporter.on_cell_executed,
    )
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
