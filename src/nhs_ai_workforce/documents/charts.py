"""The charts of the AI Roadmap's findings and the 2030 workforce projection, one query file each.

Each chart's query is one file in ``queries/charts/``. Its header comments give the title and
description, how to show the answer (``# chart: bar`` draws a bar chart, ``figures`` only a
table) and the table's column names (``# category:``, ``# value:``). Every query answers the
same variables: ``?category ?categoryLabel ?value``, the unit, the section that states each
figure, the report and the dataset, and notes (any ``?...Note``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ..core.settings import Settings
from .examples import read_header, rebase

__all__ = ["KINDS", "Chart", "chart_list", "charts_dir", "read_chart"]

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
