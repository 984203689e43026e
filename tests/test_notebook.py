"""The master notebook is well-formed otter v1 input built from the reference and the config."""

import nbformat
from conftest import RNN_LAB

import lab_checks
from autograder.build.notebook import builder_body, render_text, text_to_notebook
from autograder.lab.config import load_config
from autograder.lab.find import default_lab_folder


def master():
    return text_to_notebook(render_text(load_config(default_lab_folder())))


def test_master_is_valid_with_python3_kernel():
    notebook = master()
    nbformat.validate(notebook)
    assert notebook.metadata.kernelspec.name == "python3"
    assert notebook.cells[0].cell_type == "raw"
    assert notebook.cells[0].source.startswith("# ASSIGNMENT CONFIG")


def test_every_configured_question_appears_once_with_balanced_blocks():
    config = load_config(default_lab_folder())
    raw = [cell.source for cell in master().cells if cell.cell_type == "raw"]
    for name in config.points:
        assert sum(source.startswith(f"# BEGIN QUESTION\nname: {name}\n") for source in raw) == 1
    for block in ("QUESTION", "SOLUTION", "TESTS"):
        begins = sum(source.startswith(f"# BEGIN {block}") for source in raw)
        assert begins == sum(source.startswith(f"# END {block}") for source in raw) > 0


def test_solution_cells_hold_the_reference_bodies():
    code = "\n".join(cell.source for cell in master().cells if cell.cell_type == "code")
    builders = RNN_LAB.builders()
    for builder in ("build_cnn_model", "build_lstm_model", "build_adder_model"):
        assert builder_body(builders, builder) in code
    assert "docstring" not in builder_body(builders, "build_cnn_model")
    assert (
        builder_body(builders, "build_cnn_model").lstrip().startswith("model = keras.Sequential(")
    )


def test_hidden_tests_are_marked_and_carry_thresholds():
    hidden = [cell.source for cell in master().cells if cell.source.startswith("# HIDDEN")]
    assert any("check_accuracy(globals(), 'model_cnn', 'CNN'" in source for source in hidden)
    assert any("check_accuracy(globals(), 'model_adder', 'ADDER'" in source for source in hidden)
    assert any("task='adder'" in source for source in hidden)


def test_count_checks_are_public_and_tests_name_their_specs_instead_of_carrying_them():
    tests = [cell.source for cell in master().cells if "lab_checks." in cell.source]
    public = [source for source in tests if not source.startswith("# HIDDEN")]
    digest = lab_checks.count_digest("count_feedforward", 125_501)
    assert any(
        f"check_hand_count(globals(), 'count_feedforward', digest={digest!r}" in source
        for source in public
    )
    assert not any("125501" in source for source in public)
    assert not any("'layers':" in source or "'kind':" in source for source in tests)


def test_the_notebook_states_the_lstm_checks_budget():
    """The passes the notebook promises for q4 are the grading profile's, so a change of
    budget cannot leave the students' text behind."""
    import lab_support

    epochs = (
        lab_support.PROFILES["grading"].check_epochs
        + load_config(default_lab_folder()).lab.questions["q4"].extra_epochs
    )
    words = {3: "three", 4: "four", 5: "five", 6: "six"}
    config = load_config(default_lab_folder())
    assert f"for up to {words[epochs]} passes" in render_text(config)
