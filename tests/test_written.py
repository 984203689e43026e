"""Written answers reach the person who grades them: read from the notebook's cells."""

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from autograder.grading.results import GradeReport, Status
from autograder.grading.written import BEGIN, END, PROMPT, written_answers

QUESTIONS = ["q1a_why", "q5_compare"]


def student_notebook(*answers: list[str]) -> nbformat.NotebookNode:
    """Cells shaped as otter writes them: a prompt opening with BEGIN, the answer cells,
    then a cell opening with END."""
    cells = [new_code_cell("x = 1")]
    for number, answer in enumerate(answers):
        cells.append(new_markdown_cell(f"{BEGIN}\n\n**Question {number} (discussion).** Why?"))
        cells += [new_markdown_cell(text) for text in answer]
        cells.append(new_markdown_cell(f"{END}\n\n## Next part"))
        cells.append(new_code_cell("y = 2"))
    return new_notebook(cells=cells)


def test_each_written_answer_is_read_in_order_and_split_answers_are_joined():
    notebook = student_notebook(["Ids are labels."], ["Gradients fade.", "LSTMs add."])
    assert written_answers(notebook, QUESTIONS) == {
        "q1a_why": "Ids are labels.",
        "q5_compare": "Gradients fade.\n\nLSTMs add.",
    }


def test_an_untouched_prompt_or_a_deleted_question_is_an_empty_answer():
    assert written_answers(student_notebook([PROMPT]), QUESTIONS) == {
        "q1a_why": "",
        "q5_compare": "",
    }


def test_gradescope_results_carry_each_written_answer_worth_nothing():
    report = GradeReport(
        submission=Path("s.ipynb"), status=Status.COMPLETED, message="", isolation="ran",
        scores={"q1a_why": None}, possible={"q1a_why": 6}, written={"q1a_why": "Ids are labels."},
    )  # fmt: skip
    written = [test for test in report.to_gradescope()["tests"] if "written" in test["name"]]
    assert written == [
        {
            "name": "q1a_why (written answer, graded by a person)",
            "score": 0,
            "max_score": 0,
            "visibility": "visible",
            "output": "Ids are labels.",
        }
    ]
    assert "Written answers (graded by a person):\n- q1a_why: Ids are labels." in report.feedback()
