"""Running SPARQL natively in Oxigraph and formatting the results for people and programs."""

from __future__ import annotations

from collections.abc import Sequence

import pyoxigraph as ox

Result = ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples
Term = ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple

#: Result format names to pyoxigraph's serialisers ("table" is ours).
RESULT_FORMATS = {
    "csv": ox.QueryResultsFormat.CSV,
    "tsv": ox.QueryResultsFormat.TSV,
    "json": ox.QueryResultsFormat.JSON,
    "xml": ox.QueryResultsFormat.XML,
}
FORMAT_NAMES = ("table", *RESULT_FORMATS)


def run_query(
    store: ox.Store,
    text: str,
    *,
    default_union: bool = True,
    prefixes: dict[str, str] | None = None,
    default_graph: Sequence[ox.NamedNode] | None = None,
    named_graphs: Sequence[ox.NamedNode] | None = None,
) -> Result:
    """Run a SPARQL query in Oxigraph; by default the default graph is the union of all graphs.

    ``default_graph`` and ``named_graphs`` restrict the dataset (SPARQL protocol parameters).

    :raises SyntaxError: if the query does not parse.
    """
    options: dict[str, object] = {"prefixes": prefixes}
    if default_graph:
        options["default_graph"] = list(default_graph)
    else:
        options["use_default_graph_as_union"] = default_union
    if named_graphs:
        options["named_graphs"] = list(named_graphs)
    return store.query(text, **options)


def compact(term: Term | None, prefixes: dict[str, str] | None = None) -> str:
    """A short readable form: prefixed names, plain lexical values, ``value@lang``."""
    if term is None:
        return ""
    if isinstance(term, ox.NamedNode):
        return _shorten(term.value, prefixes or {})
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}"
    if isinstance(term, ox.Literal):
        if term.language:
            return f"{term.value}@{term.language}"
        return term.value
    return str(term)


def _shorten(iri: str, prefixes: dict[str, str]) -> str:
    best = ""
    for prefix, namespace in prefixes.items():
        if iri.startswith(namespace) and len(namespace) > len(prefixes.get(best, "")):
            best = prefix
    if best:
        return f"{best}:{iri[len(prefixes[best]):]}"
    return f"<{iri}>"


def render_table(
    variables: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    max_width: int = 60,
) -> str:
    """An aligned text table with a header rule and a row-count footer."""
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


def _clip(text: str, width: int) -> str:
    text = " ".join(text.split())  # newlines and tabs would break the alignment
    return text if len(text) <= width else text[: width - 1] + "…"


def format_result(
    result: Result, format: str = "table", *, prefixes: dict[str, str] | None = None
) -> bytes:
    """Serialise a query result: ``table``, ``csv``, ``tsv``, ``json`` or ``xml``.

    CONSTRUCT and DESCRIBE results are always Turtle.
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
    rows = [[compact(solution[name], prefixes) for name in variables] for solution in result]
    return render_table(variables, rows).encode()
