"""The charts page at ``/charts``: the AI Roadmap's findings and the 2030 workforce projection.

Each chart is a query in ``queries/charts/`` (:mod:`~nhs_ai_workforce.documents.charts`). The
page embeds the queries; ``static/charts.js`` sends them to ``/sparql`` and draws the answers
with ECharts, served locally by :mod:`.assets`.
"""

from __future__ import annotations

from dataclasses import asdict
from urllib.parse import quote, urlencode

from flask import Blueprint, Response, render_template, request, url_for

from ..documents.charts import Chart, chart_list
from .state import state
from .vendor import missing_package, package_dir, package_version

blueprint = Blueprint("charts", __name__)


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
