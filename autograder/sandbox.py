"""Run one notebook to the end inside the sandbox (the untrusted phase's inner process).

Started by ``autograder.execute`` in the sandbox folder, as an unprivileged user without
network where the machine allows it. It only executes cells; it reads and writes nothing
outside its folder. Exit status: 0 the notebook ran (cell errors included), 3 the kernel
died, 4 the kernel broke in another way (it stopped speaking Jupyter's protocol, say).
"""

from __future__ import annotations

import sys

KERNEL_DIED = 3
KERNEL_BROKE = 4


def main(argv: list[str] | None = None) -> int:
    import nbclient
    import nbformat
    from nbclient.exceptions import DeadKernelError

    notebook_path = (argv or sys.argv[1:])[0]
    notebook = nbformat.read(notebook_path, as_version=4)
    client = nbclient.NotebookClient(
        notebook,
        timeout=None,  # the caller enforces one wall-clock limit for the whole run
        allow_errors=True,
        kernel_name="python3",
        record_timing=False,
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
