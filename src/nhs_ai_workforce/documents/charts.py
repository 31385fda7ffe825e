"""The charts of the AI Roadmap's findings and the 2030 workforce projection, one query file each.

Each chart's query is one file in ``queries/charts/``. Its header comments give the title and
description, how to show the answer (``# chart: bar`` draws a bar chart, ``figures`` only a
table) and the table's column names (``# category:``, ``# value:``). Every query answers the
same variables: ``?category ?categoryLabel ?value``, the unit, the section that states each
figure, the report and the dataset, and notes (any ``?...Note``).

:func:`chart_data` runs a chart's query on the store and gathers its answer into what the page
shows (:class:`ChartData`): the rows of the data table with their figures written out, the unit,
the notes and the sources. The page renders it as HTML, so it reads without JavaScript, and
hands the same figures to the script that draws the chart.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from ..core.settings import Settings
from .examples import read_header, rebase

__all__ = ["KINDS", "Chart", "ChartData", "ChartRow", "Source", "chart_data", "chart_list", "charts_dir",
           "format_number", "read_chart"]

#: How a chart can be shown: a bar chart, or only its table of figures.
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


def format_number(number: float) -> str:
    """A figure as the page writes it: thousands separated by commas, at most two decimals.

    >>> format_number(32000.0), format_number(34), format_number(12.345), format_number(-0.5)
    ('32,000', '34', '12.35', '-0.5')
    """
    text = f"{number:,.2f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


@dataclass(frozen=True)
class ChartRow:
    """One category of a chart: its IRI, label, figure, the figure as written, and its own notes."""

    iri: str
    label: str
    value: float
    text: str
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Source:
    """Where a chart's figures come from: a section (with its locator), a report or a dataset."""

    iri: str
    label: str
    detail: str | None = None


@dataclass(frozen=True)
class ChartData:
    """What the page shows of one chart's answer; ``error`` when the query could not be answered."""

    chart: Chart
    rows: tuple[ChartRow, ...] = ()
    heading: str = ""
    unit: str = ""
    notes: tuple[str, ...] = ()
    sections: tuple[Source, ...] = ()
    reports: tuple[Source, ...] = ()
    datasets: tuple[Source, ...] = ()
    description: str = ""
    error: str | None = field(default=None)

    @property
    def row_notes(self) -> bool:
        """Does any row carry a note of its own (the table then has a Note column)?"""
        return any(row.notes for row in self.rows)

    def script_data(self) -> dict:
        """What the page's script needs to draw the chart: the same figures as the table."""
        return {
            "id": self.chart.id, "kind": self.chart.kind, "heading": self.heading,
            "percent": self.heading.endswith("(%)"), "description": self.description,
            "rows": [{"iri": r.iri, "label": r.label, "value": r.value, "text": r.text} for r in self.rows],
        }


def _add_once(sources: dict[str, Source], iri: str | None, label: str | None, detail: str | None = None) -> None:
    if iri and iri not in sources:
        sources[iri] = Source(iri, label or iri, detail)


def chart_data(store: ox.Store, chart: Chart) -> ChartData:
    """Run ``chart``'s query on ``store`` (the default graph is the union of the named graphs) and
    gather its answer: one row per category in the query's order, and what the rows share."""
    try:
        results = store.query(chart.query, use_default_graph_as_union=True)
        names = [variable.value for variable in getattr(results, "variables", ())]
        solutions = [{name: row[name].value for name in names if row[name] is not None} for row in results]
    except (SyntaxError, OSError, ValueError) as error:
        return ChartData(chart, error=str(error))
    if not names:
        return ChartData(chart, error="the chart's query is not a SELECT query")
    rows: dict[str, dict] = {}
    notes: list[str] = []
    sections: dict[str, Source] = {}
    reports: dict[str, Source] = {}
    datasets: dict[str, Source] = {}
    shared: dict[str, str] = {}
    for b in solutions:
        row = rows.setdefault(b.get("category", ""), {"label": b.get("categoryLabel", ""),
                                                      "value": float(b.get("value", "nan")), "notes": []})
        if b.get("note") and b["note"] not in row["notes"]:
            row["notes"].append(b["note"])
        notes.extend(v for k, v in b.items() if k.endswith("Note") and k != "note" and v not in notes)
        locator = b.get("sectionLocator")
        _add_once(sections, b.get("section"), locator or b.get("sectionLabel"),
                  b.get("sectionLabel") if locator else None)
        _add_once(reports, b.get("report"), b.get("reportTitle"))
        _add_once(datasets, b.get("dataset"), b.get("datasetTitle"))
        for name in ("unitLabel", "unitNotation", "baseLabel"):
            if b.get(name):
                shared.setdefault(name, b[name])
    notation, unit_label = shared.get("unitNotation"), shared.get("unitLabel")

    def written(value: float) -> str:
        number = format_number(value)
        return number + "%" if notation == "%" else number + (f" {notation}" if notation else "")

    table = tuple(ChartRow(iri, r["label"], r["value"], written(r["value"]), tuple(r["notes"]))
                  for iri, r in rows.items())
    unit = notation or unit_label
    heading = f"{chart.value} ({unit})" if unit else chart.value
    unit_text = ""
    if unit_label:
        base = f" of {shared['baseLabel']}" if shared.get("baseLabel") else ""
        unit_text = f"Unit: {unit_label}" + (f" ({notation})" if notation else "") + base + "."
    description = (f"Bar chart of {heading} by {chart.category.lower()}: "
                   + "; ".join(f"{r.label} {r.text}" for r in table)
                   + ". The same figures are in the table beside the chart.")
    return ChartData(chart, table, heading, unit_text, tuple(notes), tuple(sections.values()),
                     tuple(reports.values()), tuple(datasets.values()), description)

