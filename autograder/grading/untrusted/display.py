"""Inside a grading run's kernel: a plotting backend the grader cannot show costs nothing.

``%matplotlib widget`` (ipympl, common in JupyterLab tutorials), ``%matplotlib qt`` or a
backend name the machine lacks raises inside IPython's magic, and IPython then stops the
whole cell: the imports on the lines after it never run, and every answer that needs them
is lost. A backend only decides where figures are shown, and nobody looks at them in a
grading run, so the grader's first cell (``autograder.grading.untrusted.execute``) calls ``forgive_backends``:
from then on ``%matplotlib`` falls back to the ``inline`` backend, with one line saying so,
when the backend asked for cannot be loaded. A backend that loads is used as asked.
"""

from __future__ import annotations

NOTICE = (
    "[grading run] `%matplotlib {line}` is not available where notebooks are graded "
    "({error}); figures are drawn inline instead."
)
FALLBACK = "inline"


def forgive_backends() -> None:
    """Wrap this kernel's ``%matplotlib`` line magic (IPython's ``register_magic_function``)
    so that a backend that cannot be loaded falls back to ``inline``. Does nothing outside
    IPython or where the magic does not exist."""
    from IPython import get_ipython

    shell = get_ipython()
    original = shell.find_line_magic("matplotlib") if shell is not None else None
    if original is None:
        return

    def matplotlib(line: str = ""):
        try:
            return original(line)
        except Exception as error:  # ImportError, ValueError, KeyError: whatever the backend raises
            print(NOTICE.format(line=line.strip(), error=f"{type(error).__name__}: {error}"))
            return original(FALLBACK)

    matplotlib.__doc__ = original.__doc__
    shell.register_magic_function(matplotlib, "line", "matplotlib")
