"""``kerasgrade verify-tests``: prove the tests right both ways on a corpus of variant answers.

The corpus is a folder of TOML files, one per question, each listing ``[[valid]]`` answers
(which must get full marks) and ``[[wrong]]`` ones (which must lose marks, with feedback
that contains the variant's ``fault`` text, any message when it is empty; ``untrainable = true`` marks a wrong model that
looks right, so only the accuracy test can catch it), plus ``prelude.py``, the first cell of every
variant notebook. Variants run through the real grading path (sandboxed execution, then
the trusted checker); questions are independent, so each notebook carries one variant of
every question, which keeps the number of notebooks (and kernel start-ups) small. Each
notebook is graded in its own sandbox and checker processes, so several can run at once.
"""

from __future__ import annotations

import tempfile
import time
import tomllib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from itertools import zip_longest
from pathlib import Path

import nbformat

from autograder.build.notebook import KERNELSPEC
from autograder.environment import cores_each
from autograder.errors import InputError, MissingFile
from autograder.grading.grade import GradeReport, grade
from autograder.grading.options import GradingOptions
from autograder.grading.trusted.checkers import CheckerPools
from autograder.lab.config import AssignmentConfig
from autograder.lab.settings import RunSettings

PRELUDE_FILE = "prelude.py"


@dataclass(frozen=True)
class Variant:
    question: str
    name: str
    valid: bool
    code: str
    fault: str = ""  # wrong variants: text the feedback must contain
    untrainable: bool = False  # built right but cannot learn: only training reveals it


@dataclass(frozen=True)
class Verdict:
    variant: Variant
    points: float
    possible: float
    messages: tuple[str, ...]
    measurements: tuple[str, ...] = ()  # "reused" or "trained", per accuracy test

    @property
    def as_expected(self) -> bool:
        if self.variant.valid:
            return self.points == self.possible
        named = any(self.variant.fault in message for message in self.messages)
        return self.points < self.possible and named


def load_corpus(folder: Path, questions: list[str] | None = None) -> list[Variant]:
    """Every variant in ``folder``; a malformed file is a clear error."""
    folder = Path(folder)
    files = sorted(folder.glob("*.toml"))
    if not files:
        raise MissingFile(f"No variant files (*.toml) in {folder}.")
    variants = []
    for path in files:
        with open(path, "rb") as handle:
            data = tomllib.load(handle)
        question = data.get("question")
        if questions and question not in questions:
            continue
        for valid, key in ((True, "valid"), (False, "wrong")):
            for entry in data.get(key, []):
                if (
                    "name" not in entry
                    or "code" not in entry
                    or (not valid and "fault" not in entry)
                ):
                    raise InputError(f"{path}: each {key} variant needs a name, code and fault.")
                variants.append(
                    Variant(
                        question,
                        entry["name"],
                        valid,
                        entry["code"],
                        entry.get("fault", ""),
                        entry.get("untrainable", False),
                    )
                )
    return variants


def corpus_notebooks(
    variants: list[Variant], prelude: str
) -> list[tuple[nbformat.NotebookNode, list[Variant]]]:
    """Notebooks that each hold the prelude and at most one variant per question."""
    by_question: dict[str, list[Variant]] = {}
    for variant in variants:
        by_question.setdefault(variant.question, []).append(variant)
    notebooks = []
    for row in zip_longest(*by_question.values()):
        chosen = [variant for variant in row if variant is not None]
        cells = [nbformat.v4.new_code_cell(prelude)]
        cells += [nbformat.v4.new_code_cell(variant.code) for variant in chosen]
        notebook = nbformat.v4.new_notebook(cells=cells, metadata={"kernelspec": KERNELSPEC})
        notebooks.append((notebook, chosen))
    return notebooks


def verdicts(report: GradeReport, chosen: list[Variant]) -> list[Verdict]:
    return [
        Verdict(
            variant,
            float(report.scores[variant.question] or 0),
            float(report.possible[variant.question]),
            tuple(
                r.message for r in report.results if r.question == variant.question and r.message
            ),
            tuple(
                r.measurement
                for r in report.results
                if r.question == variant.question and r.measurement
            ),
        )
        for variant in chosen
    ]


def verify(
    config: AssignmentConfig,
    corpus: Path | None = None,
    *,
    settings: RunSettings,
    questions: list[str] | None = None,
    workers: int = 1,
    progress=lambda line: print(line, flush=True),
    store: Path | None = None,
) -> list[Verdict]:
    """Grade every variant of ``corpus`` (``workers`` notebooks at a time) and judge each one.

    ``store``: a folder of accuracy measurements to reuse and add to (``autograder.grading.trusted.store``);
    None trains every accuracy check, as a proof of the tests should by default. ``corpus``:
    the lab's ``variants/`` when None, and then the wrong variants generated from each derived
    spec (``autograder.quality.mutations``) are graded beside it."""
    variants = load_corpus(corpus or config.lab.variants_dir, questions)
    if corpus is None:
        from autograder.quality.mutations import generated_variants

        variants += generated_variants(config, questions)
    corpus = corpus or config.lab.variants_dir
    prelude = (Path(corpus) / PRELUDE_FILE).read_text()
    notebooks = corpus_notebooks(variants, prelude)
    options = GradingOptions.of(config.lab, settings)
    checkers = CheckerPools(config, settings.environment(), workers, cores_each(workers))
    with tempfile.TemporaryDirectory(prefix="rnnlab-verify-") as scratch, checkers:

        def grade_notebook(number: int) -> list[Verdict]:
            notebook, chosen = notebooks[number - 1]
            started = time.perf_counter()
            path = Path(scratch) / f"variants-{number}.ipynb"
            nbformat.write(notebook, path)
            with checkers.lend() as lent:
                report = grade(config, path, options=options, store=store, pool=lent)
            progress(
                f"  notebook {number}/{len(notebooks)}: {len(chosen)} variants graded in "
                f"{time.perf_counter() - started:.0f} s ({report.status})"
            )
            return verdicts(report, chosen)

        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            graded = pool.map(grade_notebook, range(1, len(notebooks) + 1))
            return [verdict for notebook_verdicts in graded for verdict in notebook_verdicts]


def table(results: list[Verdict]) -> str:
    """One line per variant: question, kind, name, points, verdict and the first message."""
    lines = [f"{'question':<10} {'kind':<5} {'variant':<28} {'points':>9}  verdict  message"]
    for verdict in sorted(results, key=lambda v: (v.variant.question, not v.variant.valid)):
        variant = verdict.variant
        score = f"{verdict.points:g}/{verdict.possible:g}"
        message = verdict.messages[0] if verdict.messages else ""
        lines.append(
            f"{variant.question:<10} {'valid' if variant.valid else 'wrong':<5} "
            f"{variant.name:<28} {score:>9}  {'ok' if verdict.as_expected else 'WRONG':<7}  {message}"
        )
    valid = [v for v in results if v.variant.valid]
    wrong = [v for v in results if not v.variant.valid]
    lines.append(
        f"valid variants accepted: {sum(v.as_expected for v in valid)}/{len(valid)}; "
        f"wrong variants rejected with the fault named: {sum(v.as_expected for v in wrong)}/{len(wrong)}"
    )
    return "\n".join(lines)
