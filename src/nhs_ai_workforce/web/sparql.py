"""The SPARQL 1.1 Protocol endpoint at ``/sparql``: read-only queries and the service description.

Requests (https://www.w3.org/TR/sparql11-protocol/#query-operation):

- ``GET /sparql?query=...``;
- ``POST /sparql`` with ``Content-Type: application/x-www-form-urlencoded`` and ``query=...``
  in the body;
- ``POST /sparql`` with ``Content-Type: application/sparql-query`` and the query as the body
  (UTF-8), other parameters in the URL.

Each may carry ``default-graph-uri`` and ``named-graph-uri`` (repeatable) and ``format`` or
``output`` (a short name or media type that overrides ``Accept``; of several, the first the
server understands wins). A repeated identical ``query`` is one query. ``GET /sparql`` with no parameters (or
only ``format``) answers the service description (Turtle, RDF/XML, JSON-LD, N-Triples).
``HEAD`` answers as ``GET`` without a body; ``OPTIONS`` is answered by :mod:`.cors`. A browser's
``GET`` (``Accept`` prefers ``text/html``, no ``format``) gets the HTML page of :mod:`.sparql_page`.

Refusals, all in the app's one error shape (:mod:`.errors`):

======================================================  ======
missing, empty or two different ``query``; malformed    400
an update (``update=`` or ``application/sparql-update``)  403
PUT, DELETE or any other method                          405
no acceptable result type for ``Accept`` / ``format``    406
request over the size limit                              413
POST with another content type or a non-UTF-8 charset    415
no store built yet (with ``Retry-After``)                503
======================================================  ======

Queries run through ``state().executor`` (natively in Oxigraph, results written by Oxigraph's
serialisers); see :mod:`nhs_ai_workforce.sparql.execution` for the dataset rules. Each job
names its client (:func:`client_key`), so the query pool can give each client a fair share of
its slots (:mod:`nhs_ai_workforce.sparql.admission`).

**Answers are reused within a build** (:mod:`nhs_ai_workforce.store.answers`). The graph is
read-only between builds, so a request equal to an earlier one (the same query text up to spaces
and comments, dataset parameters, negotiated media type and endpoint URL) is answered with the
kept bytes, without taking a query slot or running the query; each query text is scanned once
per server process (:class:`~nhs_ai_workforce.sparql.lexer.LexMemo`). An answer has a strong
``ETag``, the SHA-256 of its bytes (the same in every server process and on every replica that
serves the same build of the same sources, and kept by a rebuild that leaves the answer as it was:
:mod:`.conditional`) and, as ``Last-Modified``, when its build's data last changed; a ``GET``
or ``HEAD`` with a matching ``If-None-Match`` (or ``If-Modified-Since``) gets ``304``. ``GET``
answers say ``Cache-Control: public, max-age=N`` (``AIWF_ANSWER_MAX_AGE``, default 60; 0:
``no-cache``), so a browser or a CDN may reuse them for that long and revalidate after. The
``Cache-Status`` header (RFC 9211) says what the cache did: ``aiwf; hit``, ``aiwf; fwd=miss;
stored``, ``aiwf; fwd=miss`` (not kept: too large, or a new build went live while it ran) or
``aiwf; fwd=bypass`` (the cache is off). Errors, time-outs and refusals are never kept; nor are
answers of queries that call ``NOW``, ``RAND``, ``UUID`` or ``STRUUID``, which change from one
run to the next: those say ``Cache-Control: no-store`` and ``aiwf; fwd=bypass; detail=volatile``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import pyoxigraph as ox
from flask import Blueprint, Response, request
from werkzeug.datastructures import MultiDict

from ..core.errors import BadRequest, ServiceError
from ..core.namespaces import ProjectNamespaces
from ..sparql import service_description as sd
from ..sparql.admission import client_key
from ..sparql.execution import QueryJob, QueryOutcome
from ..sparql.guard import check_query
from ..sparql.negotiation import DESCRIPTION_TYPES, content_type, negotiate, offers_for
from ..sparql.service_description import PREFIXES, describe, service_vocabulary
from ..store.answers import CACHE_STATUS, answer_key
from ..store.live import StoreError, modified_time
from . import lane, replay, sparql_page
from .conditional import conditional
from .reading import FORM, FORMAT_PARAMETERS, body_text, require_utf8, result_format, unsupported_type
from .state import state

blueprint = Blueprint("sparql", __name__)

DIRECT = "application/sparql-query"
UPDATE = "application/sparql-update"

READ_ONLY = "this endpoint is read-only: SPARQL updates are not accepted"


@dataclass(frozen=True)
class ProtocolRequest:
    """What a protocol request asks for; ``query`` is ``None`` for the service description."""

    query: str | None
    default_graphs: tuple[str, ...] = ()
    named_graphs: tuple[str, ...] = ()
    format: str | None = None


def _refuse_updates(params: MultiDict) -> None:
    if "update" in params:
        raise ServiceError(403, "Updates not allowed", f"{READ_ONLY} (the request has an 'update' parameter)")


def read_request() -> ProtocolRequest:
    """Read the operation from a GET, form POST or direct POST.

    :raises ServiceError: for any request the protocol does not allow (see the module table).
    """
    if request.method in ("GET", "HEAD"):
        params = request.args
        if not params or set(params) <= set(FORMAT_PARAMETERS):
            return ProtocolRequest(None, format=result_format(params))
        _refuse_updates(params)
        queries = params.getlist("query")
    elif request.mimetype == FORM:
        require_utf8("form")
        params = MultiDict(request.args)
        params.update(request.form)
        _refuse_updates(params)
        queries = params.getlist("query")
    elif request.mimetype == DIRECT:
        require_utf8(DIRECT)
        params = request.args
        if "query" in params:
            raise ServiceError(
                400, "Repeated parameter",
                f"a {DIRECT} request has the query as its body; remove the 'query' URL parameter",
            )
        queries = [body_text("Malformed query")]
    elif request.mimetype == UPDATE:
        raise ServiceError(403, "Updates not allowed", f"{READ_ONLY} (the body is {UPDATE})")
    else:
        raise unsupported_type(f"a query POST needs Content-Type {FORM} or {DIRECT}")
    if not queries:
        hint = " (GET /sparql without parameters returns the service description)" if request.method == "GET" else ""
        raise ServiceError(400, "Missing query", f"the request has no 'query' parameter{hint}")
    queries = list(dict.fromkeys(queries))  # a client that repeats itself means one query
    if len(queries) > 1:
        raise ServiceError(400, "Repeated parameter", f"give one 'query' parameter, not {len(queries)} different ones")
    return ProtocolRequest(
        queries[0],
        tuple(dict.fromkeys(params.getlist("default-graph-uri"))),
        tuple(dict.fromkeys(params.getlist("named-graph-uri"))),
        result_format(params),
    )


def _response(body: bytes, media_type: str) -> Response:
    response = Response(body, content_type=content_type(media_type))
    response.vary.add("Accept")
    return response


def answer_response(outcome: QueryOutcome) -> Response:
    """The response carrying a query's answer, with its validators and caching headers (module docstring)."""
    response = _response(outcome.body, outcome.media_type)
    if outcome.cache:
        response.headers["Cache-Status"] = CACHE_STATUS[outcome.cache]
    if outcome.cache == "volatile":
        response.cache_control.no_store = True
    if outcome.sha256 is None or outcome.build is None:
        return response
    if request.method in ("GET", "HEAD"):
        response.cache_control.public = True
        max_age = state().settings.answer_max_age_s
        if max_age > 0:
            response.cache_control.max_age = max_age
        else:
            response.cache_control.no_cache = True
    if outcome.cache == "hit":
        replay.mark(request.environ, outcome.build)
    return conditional(response, outcome.body, modified_time(state().settings, outcome.build), etag=outcome.sha256)


@blueprint.route("/sparql", methods=["GET", "POST"])
def sparql() -> Response:
    """Answer one SPARQL protocol request."""
    operation = read_request()
    if sparql_page.wanted(operation.format):  # a browser: the HTML page, its results from run_query
        return sparql_page.page(operation.query, lambda choose: run_query(operation, choose))
    if operation.query is None:
        return service_description(operation.format)
    outcome = run_query(operation, lambda form: negotiate(
        request.headers.get("Accept"), offers_for(form), format=operation.format, what=f"{form} result"))
    return answer_response(outcome)


def run_query(operation: ProtocolRequest, media_type_for: Callable[[str], str]) -> QueryOutcome:
    """Guard and answer ``operation``'s query, written as ``media_type_for(query form)``: from the
    answers kept for the live build, else by the executor (and then kept if it may be)."""
    # The one scan of the text (remembered for the next time it is sent): the guard judges it, it
    # names the form, and the job carries it. The project prefixes are predeclared (a query's own
    # PREFIX wins), for FROM and the query alike.
    app = state()
    settings, scans = app.settings, app.scans
    text = operation.query
    lexed = check_query(text, max_bytes=settings.max_request_bytes, prefixes=scans.predeclared, lexed=scans.get(text))
    form = lexed.query_form()
    if form == "UPDATE":
        raise BadRequest(f"the 'query' parameter holds a SPARQL update, not a query; {READ_ONLY}", "Not a query")
    scans.remember(text, lexed)
    media_type = media_type_for(form)
    handed = request.environ.get(lane.ENVIRON_KEY)  # the lane ran it already (:mod:`.lane`)
    if isinstance(handed, ServiceError):
        raise handed
    if handed is not None:
        return handed
    cache = app.answers
    key = None
    if not lexed.volatile:
        key = answer_key(lexed.normal, media_type, operation.default_graphs, operation.named_graphs, request.base_url,
                         settings.base, settings.result_limit_bytes)
        if cache.enabled:
            answer = cache.get(app.store.snapshot()[1], key)
            if answer is not None:
                return QueryOutcome(answer.body, answer.media_type, answer.build, answer.sha256, "hit")
    job = QueryJob(text, media_type, operation.default_graphs, operation.named_graphs, base_iri=request.base_url,
                   lexed=lexed, client=client_key(request.remote_addr),
                   prefixes=lexed.predeclared_used(scans.predeclared))
    outcome = app.executor.run(job)
    if key is None or outcome.build is None:  # volatile, or an executor that does not say its build
        return replace(outcome, cache="volatile" if lexed.volatile else "bypass")
    answer = cache.put(outcome.build, key, outcome.body, outcome.media_type, min_uses=settings.answer_min_uses)
    status = cache.status(answer)
    return replace(outcome, sha256=answer.sha256, cache=status)


def service_description(format: str | None = None) -> Response:
    """The service description of this endpoint, in the negotiated RDF syntax."""
    media_type = negotiate(request.headers.get("Accept"), DESCRIPTION_TYPES, format=format, what="service description")
    app_state = state()
    settings = app_state.settings
    ns = ProjectNamespaces(settings.base)
    try:
        counts = app_state.store.derived(("dataset counts", ns.base), lambda store, _build: sd.count_dataset(store, ns))
    except StoreError:
        counts = None  # still describe the service; the dataset appears once a store is built
    executor_limit = getattr(app_state.executor, "result_limit_bytes", None)
    triples = describe(request.base_url, settings, counts, result_limit_bytes=executor_limit)
    prefixes = {**PREFIXES, "service": service_vocabulary(settings.base)}
    body = ox.serialize(triples, format=DESCRIPTION_TYPES[media_type], prefixes=prefixes)
    return _response(body, media_type)
