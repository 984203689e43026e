"""The batch's HTML report: score distributions per question and the submissions that failed.

One self-contained file (inline SVG, no script, no network), so it opens anywhere. Every
value from a submission (file names, reasons) is escaped by Jinja's autoescape.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import jinja2

from .config import AssignmentConfig
from .isolation import Isolation

BAR_WIDTH = 28
CHART_HEIGHT = 90

TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>{{ title }}: grading report</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; } td, th { padding: 0.2em 0.8em; border-bottom: 1px solid #ddd; text-align: left; }
.charts { display: flex; flex-wrap: wrap; gap: 1.5em; }
figure { margin: 0; } figcaption { font-weight: bold; }
rect { fill: #4a7ab5; } text { font-size: 10px; }
.warning { border-left: 4px solid #c0392b; padding-left: 0.6em; }
</style></head><body>
<h1>{{ title }}: grading report</h1>
<p{% if isolation.degraded %} class="warning"{% endif %}>Isolation: notebooks {{ isolation.description }}.
{% if isolation.degraded %}<strong>{{ isolation.warning() }}</strong>{% endif %}</p>
<p>{{ records|length }} submission(s):
{% for status, count in statuses %}{{ count }} {{ status }}{% if not loop.last %}, {% endif %}{% endfor %}.
Mean total of the graded ones: {{ "%.1f"|format(mean_total) }} of {{ possible|round(1) }}.</p>
<h2>Score distributions</h2>
<div class="charts">
{% for chart in charts %}
<figure><figcaption>{{ chart.title }}</figcaption>
<svg width="{{ chart.width }}" height="{{ height + 30 }}" role="img" aria-label="{{ chart.title }}">
{% for bar in chart.bars %}
<rect x="{{ bar.x }}" y="{{ bar.y }}" width="{{ bar_width - 4 }}" height="{{ bar.height }}"><title>{{ bar.count }} at {{ bar.label }}</title></rect>
<text x="{{ bar.x }}" y="{{ height + 12 }}">{{ bar.label }}</text>
<text x="{{ bar.x }}" y="{{ bar.y - 2 }}">{{ bar.count }}</text>
{% endfor %}
</svg></figure>
{% endfor %}
</div>
<h2>Submissions not graded normally</h2>
{% if failed %}
<table><tr><th>file</th><th>student</th><th>status</th><th>reason</th></tr>
{% for record in failed %}<tr><td>{{ record.file }}</td><td>{{ record.student }}</td><td>{{ record.status }}</td><td>{{ record.reason }}</td></tr>
{% endfor %}</table>
{% else %}<p>None: every submission ran to the end.</p>{% endif %}
</body></html>
"""


@dataclass(frozen=True)
class Bar:
    x: int
    y: int
    height: int
    count: int
    label: str


@dataclass(frozen=True)
class Chart:
    title: str
    bars: list[Bar]

    @property
    def width(self) -> int:
        return max(BAR_WIDTH * len(self.bars) + 10, 120)


def histogram(title: str, values: list[float]) -> Chart:
    """One bar per distinct score: the points are few and discrete, so no binning is needed."""
    counts = sorted(Counter(values).items())
    tallest = max((count for _, count in counts), default=1)
    bars = []
    for index, (value, count) in enumerate(counts):
        height = round(CHART_HEIGHT * count / tallest)
        bars.append(
            Bar(5 + index * BAR_WIDTH, CHART_HEIGHT - height + 12, height, count, f"{value:g}")
        )
    return Chart(title, bars)


def write_html_report(
    path: Path,
    config: AssignmentConfig,
    records: list[dict],
    write: Callable[[Path, str], None],
    isolation: Isolation,
) -> None:
    """Render the report for ``records`` and hand it to ``write`` (an atomic writer);
    ``isolation`` is the level the notebooks ran at, its warning shown when it is degraded."""
    graded = [record for record in records if record["status"] == "graded"]
    auto = [q for q in config.points if not config.is_manual(q)]
    charts = [histogram("total", [record["total"] for record in graded])]
    charts += [
        histogram(f"{q} (of {config.question_points(q):g})", [r["scores"][q] for r in graded])
        for q in auto
    ]
    environment = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    html = environment.from_string(TEMPLATE).render(
        title=config.title,
        isolation=isolation,
        records=records,
        statuses=sorted(Counter(record["status"] for record in records).items()),
        mean_total=sum(r["total"] for r in graded) / len(graded) if graded else 0.0,
        possible=sum(config.question_points(q) for q in auto),
        charts=charts,
        height=CHART_HEIGHT,
        bar_width=BAR_WIDTH,
        failed=[record for record in records if record["status"] != "graded"],
    )
    write(path, html)
