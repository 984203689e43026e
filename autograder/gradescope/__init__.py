"""The Gradescope entry point (``python -m autograder.gradescope.run``) that the autograder zip's ``run_autograder`` starts."""
