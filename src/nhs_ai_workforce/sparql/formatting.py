"""Query results as text for the command line: an aligned table, or SPARQL CSV, TSV, JSON, XML, Turtle."""

from __future__ import annotations

from collections.abc import Sequence

import pyoxigraph as ox

from ..core.formats import RESULT_SYNTAXES
from ..core.terms import compact
from ..store.query import Result

#: Result format names to pyoxigraph's serialisers ("table" is ours).
RESULT_FORMATS = {syntax.names[0]: syntax.results for syntax in RESULT_SYNTAXES}
FORMAT_NAMES = ("table", *RESULT_FORMATS)


def render_table(
    variables: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    max_width: int | None = 60,
) -> str:
    """An aligned text table with a header rule and a row-count footer; cells over ``max_width`` are clipped."""
    cells = [[_clip(cell, max_width) for cell in row] for row in rows]
    widths = [len(name) for name in variables]
    for row in cells:
        widths = [max(width, len(cell)) for width, cell in zip(widths, row, strict=True)]
    lines = [
        "  ".join(name.ljust(width) for name, width in zip(variables, widths, strict=True)),
        "  ".join("-" * width for width in widths),
    ]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in cells]
    count = len(cells)
    lines.append(f"({count} row{'' if count == 1 else 's'})")
    return "\n".join(line.rstrip() for line in lines) + "\n"


def _clip(text: str, width: int | None) -> str:
    text = " ".join(text.split())  # newlines and tabs would break the alignment
    return text if width is None or len(text) <= width else text[: width - 1] + "…"


def _cell(term, prefixes: dict[str, str] | None, max_width: int) -> str:
    """A table cell: names whole (they paste back into a query), values clipped at ``max_width``."""
    text = compact(term, prefixes)
    return text if isinstance(term, ox.NamedNode | ox.BlankNode) else _clip(text, max_width)


def format_result(
    result: Result, format: str = "table", *, prefixes: dict[str, str] | None = None
) -> bytes:
    """Serialise a query result: ``table``, ``csv``, ``tsv``, ``json`` or ``xml``.

    CONSTRUCT and DESCRIBE results are always Turtle. The table prints IRIs as prefixed names
    or ``<iri>`` that paste back into a query as they are, never clipped.
    """
    if format not in FORMAT_NAMES:
        raise ValueError(f"unknown format {format!r}; expected one of {', '.join(FORMAT_NAMES)}")
    if isinstance(result, ox.QueryTriples):
        return ox.serialize(result, format=ox.RdfFormat.TURTLE, prefixes=prefixes)
    if format != "table":
        return result.serialize(format=RESULT_FORMATS[format])
    if isinstance(result, ox.QueryBoolean):
        return b"true\n" if bool(result) else b"false\n"
    variables = [variable.value for variable in result.variables]
    rows = [[_cell(solution[name], prefixes, 60) for name in variables] for solution in result]
    return render_table(variables, rows, max_width=None).encode()
