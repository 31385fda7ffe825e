"""The charts page at ``/charts``: the AI Roadmap's findings and the 2030 workforce projection.

Each chart is a query in ``queries/charts/`` (:mod:`~nhs_ai_workforce.documents.charts`). The
server runs every chart's query on the live store once per build (``CurrentStore.derived``) and
renders its data table, unit, notes and sources into the page, so the page reads without
JavaScript. ``static/charts.js`` then draws the bar charts with ECharts (served locally by
:mod:`.assets`) from the same figures, embedded in the page as JSON. The page itself is rendered
once per build too (:mod:`.reuse`), with an ``ETag`` and the date of the build's data as ``Last-Modified``.
"""

from __future__ import annotations

from dataclasses import asdict

from flask import Blueprint, Response, render_template, url_for

from ..documents.charts import Chart, ChartData, chart_data, chart_list
from ..store.live import modified_time
from .addresses import editor_link, href, query_link
from .conditional import conditional
from .reuse import made_once
from .state import state
from .vendor import missing_package, package_dir, package_version

blueprint = Blueprint("charts", __name__)


def links(chart: Chart) -> dict[str, str]:
    """Where to open the chart's query in the editor, and its answer as CSV or JSON."""
    return {
        "editor": editor_link(chart.query, chart.title),
        "csv": query_link(chart.query, format="csv"),
        "json": query_link(chart.query, format="json"),
    }


def _charts_data() -> list[ChartData]:
    """Every chart with its answer from the live store, made once per build."""
    current = state()
    settings = current.settings
    return current.store.derived(
        ("charts", settings.base, str(settings.queries_dir)),
        lambda store, _build: [chart_data(store, chart) for chart in chart_list(settings)],
    )


def _script_chart(data: ChartData) -> dict:
    """One chart as the script reads it: the chart, its figures, and each category's link."""
    drawn = data.script_data()
    for row in drawn["rows"]:
        row["href"] = href(row["iri"])
    return {**asdict(data.chart), **drawn}


@blueprint.get("/charts")
def charts_page() -> Response:
    """The charts page: every chart's table rendered here, its bars drawn by the script."""
    folder = package_dir("echarts")
    if folder is None:
        return missing_package("echarts")
    version = package_version(folder)

    def make(_store: object) -> bytes:
        charts = _charts_data()
        config = {"endpoint": url_for("sparql.sparql"), "charts": [_script_chart(data) for data in charts]}
        return render_template(
            "charts.html", charts=[(data, links(data.chart)) for data in charts], config=config, version=version,
        ).encode("utf-8")

    page = made_once("charts", "text/html", make, version, state().settings.queries_dir)
    response = Response(page.body, mimetype="text/html")
    response.headers["Cache-Control"] = "no-cache"
    return conditional(response, page.body, modified_time(state().settings, page.build), etag=page.sha256)
