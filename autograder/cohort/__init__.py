"""Grading a class: finding submissions, running them without losing any, the gradebook, feedback files and the HTML report."""
