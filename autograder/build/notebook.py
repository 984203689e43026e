"""Render the master notebook (otter-grader v1 format) from the jinja2 template.

The template is a plain-text notebook: ``#%% [markdown]``, ``#%% [code]`` and ``#%% [raw]``
lines start cells. It pulls in the solution code from the lab's ``reference/`` and the test
cells from ``autograder.lab.questions``, so neither is written twice.
"""

from __future__ import annotations

import ast
import inspect
import re
import textwrap
from pathlib import Path

import jinja2
import nbformat

from autograder.errors import InputError
from autograder.lab.config import AssignmentConfig
from autograder.lab.folder import LIBRARY
from autograder.lab.questions import CountQuestion, ShapeQuestion, question_tests

TEMPLATE_NAME = "lab.ipynb.j2"
# The toolkit's includes, which any lab's template may pull in: {% include "kerasgrade/X.j2" %}
# for X in otter_config (otter's assignment config, the shipped files listed), how_it_works
# (the public checks, the hidden tests, what may vary) and submitting (with the points table).
INCLUDES_DIR = Path(__file__).parent / "templates"
CELL_MARKER = re.compile(r"^#%% \[(markdown|code|raw)\][ \t]*$", re.MULTILINE)
KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}


def builder_source(builders: dict, name: str) -> str:
    """The whole reference function, for worked examples students are given."""
    return inspect.getsource(builders[name]).rstrip()


def builder_body(builders: dict, name: str) -> str:
    """The reference function's statements without its docstring, indented as in the source."""
    source = textwrap.dedent(inspect.getsource(builders[name]))
    function = ast.parse(source).body[0]
    statements = function.body[1:] if ast.get_docstring(function) else function.body
    lines = source.splitlines()
    return "\n".join(lines[statements[0].lineno - 1 : statements[-1].end_lineno])


def question_header(name: str, config: AssignmentConfig) -> str:
    """The raw ``# BEGIN QUESTION`` cell with the question's points from the config."""
    if config.is_manual(name):
        body = f"name: {name}\nmanual: true\npoints: {config.question_points(name):g}"
    else:
        tests = question_tests(name, config)
        unknown = {test.name for test in tests} ^ set(config.points[name])
        if unknown:
            raise InputError(
                f"Points for {name} in the config name tests {sorted(config.points[name])}, "
                f"but the question has tests {[test.name for test in tests]}."
            )
        points = [config.points[name][test.name] for test in tests]
        body = f"name: {name}\npoints: {points}"
    return f"#%% [raw]\n# BEGIN QUESTION\n{body}"


def question_tests_cells(name: str, config: AssignmentConfig) -> str:
    """The ``# BEGIN TESTS`` block: one code cell per test case, hidden ones marked."""
    cells = ["#%% [raw]\n# BEGIN TESTS"]
    for test in question_tests(name, config):
        marker = "# HIDDEN\n" if test.hidden else ""
        cells.append(f"#%% [code]\n{marker}{test.code.rstrip()}")
    cells.append("#%% [raw]\n# END TESTS")
    return "\n".join(cells)


def points_table(config: AssignmentConfig) -> dict:
    """Points per question split into public, hidden and written (for the notebook's
    Submitting section), with totals; ``manual_points`` by question for the rubrics."""
    rows = []
    for name in config.lab.questions:
        tests = [] if config.is_manual(name) else question_tests(name, config)
        split = {
            "public": sum(config.points[name][test.name] for test in tests if not test.hidden),
            "hidden": sum(config.points[name][test.name] for test in tests if test.hidden),
            "manual": config.points[name].get("manual", 0),
        }
        rows.append({"question": name, **{key: f"{value:g}" for key, value in split.items()}})
    totals = {
        key: f"{sum(float(row[key]) for row in rows):g}" for key in ("public", "hidden", "manual")
    }
    manual = {
        name: f"{config.question_points(name):g}"
        for name in config.lab.questions
        if config.is_manual(name)
    }
    return {"rows": rows, **totals, "total": f"{config.total_points:g}", "manual_points": manual}


def render_text(config: AssignmentConfig) -> str:
    """The template rendered to plain text with cell markers."""
    lab = config.lab
    environment = jinja2.Environment(
        loader=jinja2.ChoiceLoader(
            [jinja2.FileSystemLoader(lab.template_dir), jinja2.FileSystemLoader(INCLUDES_DIR)]
        ),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    missing = set(lab.questions) ^ set(config.points)
    if missing:
        raise InputError(f"The config and the question list disagree on {sorted(missing)}.")
    builders = lab.builders()
    return environment.get_template(TEMPLATE_NAME).render(
        config=config,
        shipped_files=[path.name for path in lab.shipped_files()] + [LIBRARY],
        counts={
            name: question.expected
            for name, question in lab.questions.items()
            if isinstance(question, (CountQuestion, ShapeQuestion))
        },
        points=points_table(config),
        source=lambda name: builder_source(builders, name),
        body=lambda name: builder_body(builders, name),
        begin_question=lambda name: question_header(name, config),
        tests=lambda name: question_tests_cells(name, config),
    )


def text_to_notebook(text: str) -> nbformat.NotebookNode:
    """Split marked-up text into notebook cells."""
    pieces = CELL_MARKER.split(text)
    if pieces[0].strip():
        raise InputError("The template must start with a cell marker such as '#%% [markdown]'.")
    makers = {
        "markdown": nbformat.v4.new_markdown_cell,
        "code": nbformat.v4.new_code_cell,
        "raw": nbformat.v4.new_raw_cell,
    }
    cells = [
        makers[kind](source.strip("\n"))
        for kind, source in zip(pieces[1::2], pieces[2::2], strict=True)
    ]
    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = KERNELSPEC
    notebook.metadata["language_info"] = {"name": "python"}
    return notebook


def write_master_notebook(config: AssignmentConfig, path: Path) -> Path:
    """Render and validate the master notebook and write it to ``path``."""
    notebook = text_to_notebook(render_text(config))
    nbformat.validate(notebook)
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, path)
    return path
