"""The written answers of a submitted notebook, for the person who grades them.

We do not ask students for a PDF (otter's usual route to manual grading): it needs LaTeX or
a headless browser on every student's machine and a second upload. The answers are short
markdown cells, so the grader reads them straight from the notebook and puts them in each
submission's feedback and, on Gradescope, in results.json beside the rubric.
"""

from __future__ import annotations

import nbformat

BEGIN = "<!-- BEGIN QUESTION -->"
END = "<!-- END QUESTION -->"
PROMPT = "_Type your answer here, replacing this text._"


def _answer_text(cells: list) -> str:
    parts = [cell.source.replace(END, "").strip() for cell in cells]
    return "\n\n".join(part for part in parts if part and part != PROMPT)


def written_answers(notebook: nbformat.NotebookNode, questions: list[str]) -> dict[str, str]:
    """``question -> answer text`` for the written ``questions``, in notebook order.

    Otter opens each written question's prompt cell with ``<!-- BEGIN QUESTION -->`` and
    the cell after its answer with ``<!-- END QUESTION -->``; the k-th such block is the
    k-th written question. The answer is every markdown cell in between (a student may
    split it); an answer left as otter's prompt, or missing, is "".
    """
    blocks: list[list] = []
    current: list | None = None
    for cell in notebook.cells:
        if current is not None and END in cell.source:
            blocks.append(current)
            current = None
        if BEGIN in cell.source:
            current = []
        elif current is not None and cell.cell_type == "markdown":
            current.append(cell)
    if current is not None:
        blocks.append(current)
    answers = [_answer_text(block) for block in blocks]
    return {
        question: answers[i] if i < len(answers) else "" for i, question in enumerate(questions)
    }
