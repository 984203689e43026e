"""How a notebook shows a check's result: a headline and one sentence per failed public check.

Otter reports a failed test case with doctest's whole transcript; ``show_results_briefly``
registers IPython display formatters that show ``brief_results`` instead.
"""

from __future__ import annotations

import contextlib
import re

from .checks import NOTES

FAILED_CHECK = re.compile(r"CheckFailed: (.+)")
OTHER_ERROR = re.compile(r"^\s*(\w+(?:Error|Exception)): ?(.*)$", re.MULTILINE)


def failure_sentence(doctest_output: str) -> str:
    """The sentence a student needs from otter's report of a failed test case.

    Otter reports a failed OK-format test case with doctest's whole transcript (the test's
    source, a traceback through this module). Our checks raise ``CheckFailed`` with one
    sentence; anything else is reduced to its exception's last line.
    """
    if match := FAILED_CHECK.search(doctest_output):
        return match.group(1).strip()
    errors = OTHER_ERROR.findall(doctest_output)
    if errors:
        kind, text = errors[-1]
        return f"The check stopped with {kind}: {text.strip()}"
    return doctest_output.strip()


def brief_results(test_file) -> tuple[str, list[str]]:
    """An otter ``TestFile``'s result in a student's words: a headline, then one line per
    failed public test case (or, when all passed, the notes the checks left)."""
    failed = [
        failure_sentence(result.message or "")
        for result in test_file.test_case_results
        if not result.passed and not result.test_case.hidden
    ]
    if not failed:
        notes, NOTES[:] = list(NOTES), []
        return f"{test_file.name}: all public checks passed.", notes
    NOTES.clear()
    return f"{test_file.name}: {len(failed)} public check(s) failed.", failed


def _html(test_file) -> str:
    from html import escape

    headline, lines = brief_results(test_file)
    mark = "❌ " if not test_file.passed_all else ""
    items = "".join(f"<li>{mark}{escape(line)}</li>" for line in lines)
    return f"<p><strong>{escape(headline)}</strong></p>" + (f"<ul>{items}</ul>" if items else "")


def _text(test_file, printer, cycle) -> None:
    headline, lines = brief_results(test_file)
    printer.text("\n".join([headline, *(f"  - {line}" for line in lines)]))


def show_results_briefly() -> None:
    """Have the notebook show each ``grader.check`` result as a headline and one sentence
    per failed check (IPython's display formatters; nothing happens outside IPython)."""
    with contextlib.suppress(Exception):  # outside IPython, or without otter: keep defaults
        from IPython import get_ipython
        from otter.test_files.abstract_test import TestFile

        formatters = get_ipython().display_formatter.formatters
        formatters["text/html"].for_type(TestFile, _html)
        formatters["text/plain"].for_type(TestFile, _text)
