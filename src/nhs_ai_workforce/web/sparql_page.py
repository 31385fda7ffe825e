"""``/sparql`` in a browser: a query form and the results as an HTML table, no JavaScript needed.

A ``GET`` whose ``Accept`` prefers ``text/html`` to every type the endpoint writes (a browser
sends ``text/html,...,*/*;q=0.8``) and that has no ``format`` parameter gets this page instead
of the protocol's answer; SPARQL clients never prefer HTML, so they see no change, and
``*/*`` or no ``Accept`` still gets the machine format. Without a query the page is an empty
form (with a link to the service description); with one, the query runs through the same
guard and executor as any protocol request (the caller passes :func:`page` its runner) and the
page shows the query in the form, the results as a table, or the error in the app's one error
shape, with links to the same result as JSON, CSV, TSV and XML (``format=``).

IRIs under the base link to their pages on this server (:func:`.addresses.href`); others are
external links. Every value is escaped by the template.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode

import pyoxigraph as ox
from flask import Response, render_template, request

from ..core.errors import ServiceError
from ..core.namespaces import ProjectNamespaces, curie
from ..sparql.execution import QueryOutcome
from ..sparql.negotiation import MEDIA_TYPES, negotiate
from .addresses import editor_link, href
from .errors import error_body
from .state import state

HTML = "text/html"
SOLUTIONS = "application/sparql-results+json"
TRIPLES = "application/n-triples"
#: Rows drawn in the page; the download links carry every row.
MAX_ROWS = 1000
SOLUTION_DOWNLOADS = (("json", "JSON"), ("csv", "CSV"), ("tsv", "TSV"), ("xml", "XML"))
GRAPH_DOWNLOADS = (("ttl", "Turtle"), ("nt", "N-Triples"), ("jsonld", "JSON-LD"), ("rdfxml", "RDF/XML"))
_CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'none'; "
        "object-src 'none'; base-uri 'none'; form-action 'self'")

#: The runner :func:`page` is given: it runs the request's query, written in the media type
#: that the callable it is passed picks for the query form, and raises :class:`ServiceError`.
Runner = Callable[[Callable[[str], str]], QueryOutcome]


def wanted(format: str | None) -> bool:
    """Is this a browser's ``GET`` (``Accept`` prefers HTML to every result type, no ``format``)?

    HTML is offered last, so ``*/*``, ``text/*`` or a tie goes to a machine format.
    """
    accept = request.headers.get("Accept")
    if format or not accept or request.method not in ("GET", "HEAD"):
        return False
    try:
        return negotiate(accept, [*MEDIA_TYPES, HTML]) == HTML
    except ServiceError:
        return False


@dataclass(frozen=True)
class Cell:
    """One RDF term as the page shows it."""

    kind: str  # "iri", "literal", "bnode" or "triple"
    text: str
    link: str | None = None  # where an IRI (or a literal's datatype) links
    local: bool = False  # the link is a page on this server
    iri: str | None = None  # the full IRI, when ``text`` is shortened
    language: str | None = None
    datatype: Cell | None = None


@dataclass(frozen=True)
class Results:
    """What the query answered: ``columns`` and ``rows`` of cells, or ``boolean`` for ASK."""

    columns: tuple[str, ...] = ()
    rows: tuple[tuple[Cell | None, ...], ...] = ()
    total: int = 0
    boolean: bool | None = None
    graph: bool = False


def page(query: str | None, run: Runner) -> Response:
    """The HTML page: the form, and for a query its results or its error."""
    results = error = None
    status = 200
    if query is not None:
        try:
            outcome = run(lambda form: SOLUTIONS if form in ("SELECT", "ASK") else TRIPLES)
            results = _read(outcome, ProjectNamespaces(state().settings.base).prefixes())
        except ServiceError as refused:
            error, status = refused, refused.status
    html = render_template(
        "sparql.html",
        query=query,
        results=results,
        max_rows=MAX_ROWS,
        error=error,
        error_json=json.dumps(error_body(error), indent=1) if error else None,
        downloads=_downloads(results),
        hidden=[(name, value) for name, value in request.args.items(multi=True) if name != "query"],
        editor_link=_editor_link(query),
    )
    response = Response(html, status=status, content_type="text/html; charset=utf-8")
    if error is not None and error.retry_after is not None:
        response.headers["Retry-After"] = str(error.retry_after)
    response.headers["Content-Security-Policy"] = _CSP
    response.vary.add("Accept")
    return response


def _downloads(results: Results | None) -> list[tuple[str, str]]:
    """(label, link) for the same request in each machine format."""
    if results is None:
        return []
    choices = GRAPH_DOWNLOADS if results.graph else SOLUTION_DOWNLOADS
    params = [(name, value) for name, value in request.args.items(multi=True) if name != "format"]
    here = request.script_root + request.path
    return [(label, f"{here}?{urlencode([*params, ('format', name)])}") for name, label in choices]


def _editor_link(query: str | None) -> str | None:
    """The query opened in the home page's editor (``/#query=...``)."""
    if not query:
        return None
    return editor_link(query, "From /sparql")


def _read(outcome: QueryOutcome, prefixes: dict[str, str]) -> Results:
    if outcome.media_type == TRIPLES:
        triples = list(ox.parse(outcome.body, format=ox.RdfFormat.N_TRIPLES))
        rows = tuple(tuple(_term(term, prefixes) for term in (t.subject, t.predicate, t.object))
                     for t in triples[:MAX_ROWS])
        return Results(("subject", "predicate", "object"), rows, len(triples), graph=True)
    answer = json.loads(outcome.body)
    if "boolean" in answer:
        return Results(boolean=bool(answer["boolean"]))
    columns = tuple(answer.get("head", {}).get("vars", []))
    bindings = answer.get("results", {}).get("bindings", [])
    rows = tuple(tuple(_binding(row[name], prefixes) if name in row else None for name in columns)
                 for row in bindings[:MAX_ROWS])
    return Results(columns, rows, len(bindings))


def _iri(value: str, prefixes: dict[str, str]) -> Cell:
    """An IRI: a page on this server under the base, a web link for ``http(s)``, else plain text."""
    link: str | None = href(value)
    local = link != value
    if not local and not value.lower().startswith(("http://", "https://")):
        link = None  # javascript:, data:, urn:... are shown, never followed
    short = curie(value, prefixes)
    return Cell("iri", short or value, link, local=local, iri=value if short else None)


def _binding(term: dict, prefixes: dict[str, str]) -> Cell:
    """A term of SPARQL JSON results (https://www.w3.org/TR/sparql11-results-json/#select-encode-terms)."""
    kind = term.get("type")
    if kind == "uri":
        return _iri(term["value"], prefixes)
    if kind == "bnode":
        return Cell("bnode", f"_:{term['value']}")
    if kind == "triple":
        parts = term["value"]
        inner = " ".join(_plain(_binding(parts[key], prefixes)) for key in ("subject", "predicate", "object"))
        return Cell("triple", f"<< {inner} >>")
    datatype = term.get("datatype")
    return Cell("literal", term.get("value", ""), language=term.get("xml:lang"),
                datatype=_iri(datatype, prefixes) if datatype else None)


def _term(term, prefixes: dict[str, str]) -> Cell:
    """An Oxigraph term (from a CONSTRUCT or DESCRIBE result)."""
    if isinstance(term, ox.NamedNode):
        return _iri(term.value, prefixes)
    if isinstance(term, ox.BlankNode):
        return Cell("bnode", f"_:{term.value}")
    if isinstance(term, ox.Literal):
        datatype = term.datatype.value
        plain = term.language or datatype == "http://www.w3.org/2001/XMLSchema#string"
        return Cell("literal", term.value, language=term.language,
                    datatype=None if plain else _iri(datatype, prefixes))
    return Cell("triple", str(term))


def _plain(cell: Cell) -> str:
    if cell.kind == "iri":
        return cell.text if cell.iri else f"<{cell.text}>"
    if cell.kind == "literal":
        return json.dumps(cell.text, ensure_ascii=False) + (f"@{cell.language}" if cell.language else "")
    return cell.text
