"""The toolkit's own templates (shell scripts, the HTML report): jinja2 files kept beside the
module that fills them, in its room's ``templates/`` folder."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import jinja2


@cache
def _environment(folder: Path, autoescape: bool) -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(folder),
        undefined=jinja2.StrictUndefined,  # a value left out is an error, not an empty string
        autoescape=autoescape,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render(module_file: str, name: str, *, html: bool = False, **values) -> str:
    """The template ``name`` in the ``templates/`` folder beside ``module_file`` (a module's
    ``__file__``), filled with ``values``; ``html`` escapes them for HTML. Raises
    jinja2.UndefinedError for a value the template uses but was not given."""
    folder = Path(module_file).resolve().parent / "templates"
    return _environment(folder, html).get_template(name).render(**values)
