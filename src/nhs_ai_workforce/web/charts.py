"""Charts of the AI Roadmap's findings and the 2030 workforce projection, drawn from SPARQL results.

Each chart's query is one file in ``queries/charts/``. Its header comments give the title and
description, how to show the answer (``# chart: bar`` draws a bar chart, ``figures`` only a
table) and the table's column names (``# category:``, ``# value:``). Every query answers the
same variables: ``?category ?categoryLabel ?value``, the unit, the section that states each
figure, the report and the dataset, and notes (any ``?...Note``). The page embeds the queries;
``static/charts.js`` sends them to ``/sparql`` and draws the answers with ECharts, served
locally by :mod:`.assets`.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import quote, urlencode

from flask import Blueprint, Response, render_template, request, url_for

from ..core.settings import Settings
from .assets import missing_package, package_dir, package_version
from .home import read_header, rebase
from .state import state

blueprint = Blueprint("charts", __name__)

KINDS = ("bar", "figures")


@dataclass(frozen=True)
class Chart:
    """One chart: its id, title, description, how to draw it, its table's column names and its query."""

    id: str
    title: str
    description: str
    kind: str
    category: str
    value: str
    query: str


def charts_dir(settings: Settings) -> Path:
    """The folder of the chart queries."""
    return settings.queries_dir / "charts"


def read_chart(path: Path, base: str) -> Chart:
    """The chart in ``path``; its id is the file name without the ordering number and ``.rq``.

    :raises ValueError: if ``# chart:`` names no known way to draw it.
    """
    text = path.read_text(encoding="utf-8")
    header = read_header(text)
    kind = header.get("chart", "bar")
    if kind not in KINDS:
        raise ValueError(f"{path}: '# chart: {kind}' is not one of {', '.join(KINDS)}")
    return Chart(
        id=re.sub(r"^\d+-", "", path.stem),
        title=header.get("title") or path.stem,
        description=header.get("description", ""),
        kind=kind,
        category=header.get("category", "Category"),
        value=header.get("value", "Value"),
        query=rebase(text, base),
    )


def chart_list(settings: Settings) -> list[Chart]:
    """Every chart, in file-name order."""
    return [read_chart(path, settings.base) for path in sorted(charts_dir(settings).glob("*.rq"))]


def links(chart: Chart) -> dict[str, str]:
    """Where to open the chart's query in the editor, and its answer as CSV or JSON."""
    sparql = url_for("sparql.sparql")
    # static/query-ui.js opens a tab from a #query=...&tabTitle=... fragment and runs it.
    editor = url_for("ui.home") + "#" + urlencode({"query": chart.query, "tabTitle": chart.title}, quote_via=quote)
    return {
        "editor": editor,
        "csv": sparql + "?" + urlencode({"query": chart.query, "format": "csv"}),
        "json": sparql + "?" + urlencode({"query": chart.query, "format": "json"}),
    }


@blueprint.get("/charts")
def charts_page() -> Response:
    """The charts page; each chart fetches its own query's answer from ``/sparql``."""
    folder = package_dir("echarts")
    if folder is None:
        return missing_package("echarts")
    settings = state().settings
    charts = chart_list(settings)
    config = {
        "endpoint": url_for("sparql.sparql"),
        "base": settings.base.rstrip("/"),
        "scriptRoot": request.script_root,
        "charts": [asdict(chart) for chart in charts],
    }
    html = render_template(
        "charts.html", charts=[(chart, links(chart)) for chart in charts], config=config,
        version=package_version(folder),
    )
    response = Response(html, mimetype="text/html")
    response.headers["Cache-Control"] = "no-cache"
    return response
