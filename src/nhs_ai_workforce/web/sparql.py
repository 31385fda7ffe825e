"""A minimal read-only SPARQL endpoint: ``GET ?query=``, form ``POST`` and direct ``POST``.

Results are negotiated by ``Accept``: SPARQL JSON (default), XML, CSV or TSV for SELECT and
ASK; Turtle (default), N-Triples, JSON-LD or RDF/XML for CONSTRUCT and DESCRIBE.
"""

from __future__ import annotations

import pyoxigraph as ox
from flask import Blueprint, Response, request

from ..pipeline.store import StoreError
from ..services.guard import QueryRefused, check_query
from ..services.query import run_query
from .app import state

blueprint = Blueprint("sparql", __name__)

SOLUTION_TYPES = {
    "application/sparql-results+json": ox.QueryResultsFormat.JSON,
    "application/json": ox.QueryResultsFormat.JSON,
    "application/sparql-results+xml": ox.QueryResultsFormat.XML,
    "application/xml": ox.QueryResultsFormat.XML,
    "text/csv": ox.QueryResultsFormat.CSV,
    "text/tab-separated-values": ox.QueryResultsFormat.TSV,
}
GRAPH_TYPES = {
    "text/turtle": ox.RdfFormat.TURTLE,
    "application/n-triples": ox.RdfFormat.N_TRIPLES,
    "application/ld+json": ox.RdfFormat.JSON_LD,
    "application/rdf+xml": ox.RdfFormat.RDF_XML,
}
FORM = "application/x-www-form-urlencoded"
DIRECT = "application/sparql-query"
UPDATE = "application/sparql-update"


class BadRequest(Exception):
    """A request the endpoint answers with a 4xx status and a plain-text message."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def _text(message: str, status: int) -> Response:
    return Response(message.rstrip() + "\n", status=status, mimetype="text/plain")


def _one(values: list[str], name: str) -> str:
    if not values:
        raise BadRequest(f"missing '{name}' parameter")
    if len(values) > 1:
        raise BadRequest(f"more than one '{name}' parameter")
    return values[0]


def _read_request() -> tuple[str, list[str], list[str]]:
    """The query text and the protocol's default-graph-uri and named-graph-uri lists."""
    graphs = request.args
    if request.method == "GET":
        params = request.args
    elif request.mimetype == FORM:
        params = request.form
        graphs = request.form
    elif request.mimetype == DIRECT:
        return request.get_data(as_text=True), *_graph_lists(graphs)
    elif request.mimetype == UPDATE:
        raise BadRequest("updates are not allowed: this endpoint is read-only", 403)
    else:
        raise BadRequest(f"unsupported content type {request.mimetype!r}; use {FORM} or {DIRECT}", 415)
    if "update" in params:
        raise BadRequest("updates are not allowed: this endpoint is read-only", 403)
    return _one(params.getlist("query"), "query"), *_graph_lists(graphs)


def _graph_lists(params) -> tuple[list[str], list[str]]:
    return params.getlist("default-graph-uri"), params.getlist("named-graph-uri")


def _negotiate(offers: dict) -> str:
    """The best offered media type for the request's ``Accept`` header (first if absent)."""
    if not request.accept_mimetypes:
        return next(iter(offers))
    best = request.accept_mimetypes.best_match(list(offers))
    if best is None:
        raise BadRequest(f"cannot answer with any of the accepted types; try {', '.join(offers)}", 406)
    return best


def _named_nodes(iris: list[str]) -> list[ox.NamedNode]:
    try:
        return [ox.NamedNode(iri) for iri in iris]
    except ValueError as error:
        raise BadRequest(f"not an IRI: {error}") from error


@blueprint.route("/sparql", methods=["GET", "POST"])
def sparql() -> Response:
    """Answer one SPARQL query against the live store."""
    app_state = state()
    try:
        text, default_graphs, named_graphs = _read_request()
        check_query(text, max_bytes=app_state.settings.max_request_bytes)
        store = app_state.store.get()
        result = run_query(
            store,
            text,
            default_graph=_named_nodes(default_graphs),
            named_graphs=_named_nodes(named_graphs),
        )
        if isinstance(result, ox.QueryTriples):
            media_type = _negotiate(GRAPH_TYPES)
            body = ox.serialize(result, format=GRAPH_TYPES[media_type])
        else:
            media_type = _negotiate(SOLUTION_TYPES)
            body = result.serialize(format=SOLUTION_TYPES[media_type])
    except BadRequest as error:
        return _text(str(error), error.status)
    except QueryRefused as error:
        return _text(str(error), error.status)
    except SyntaxError as error:
        return _text(f"malformed query: {error}", 400)
    except StoreError as error:
        return _text(str(error), 503)
    charset = "; charset=utf-8" if media_type.startswith("text/") else ""
    response = Response(body, content_type=media_type + charset)
    response.vary.add("Accept")
    return response
