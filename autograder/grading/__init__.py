"""Grading one submission: the untrusted run (``untrusted``), the trusted checks (``trusted``), and the results model both feed."""
