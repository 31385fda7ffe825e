"""``POST /update``: SPARQL Update for curators, off unless the operator sets a token.

The endpoint at ``/sparql`` is read-only. This route is the only way to change the served
graph without a build, and it is disabled (403) unless ``AIWF_UPDATE_TOKEN`` is set, and always on a
server reading a remote store (``AIWF_SPARQL_URL``: the remote is loaded by ``aiwf publish`` only). Then:

- the request needs ``Authorization: Bearer <token>`` (compared in constant time): 401
  without it or with a wrong one;
- the update comes as an ``application/sparql-update`` body (UTF-8) or as ``update=`` in an
  ``application/x-www-form-urlencoded`` body; ``using-graph-uri`` / ``using-named-graph-uri``
  are not supported (400: write ``USING`` in the update instead);
- the guard refuses ``LOAD`` and ``SERVICE`` (nothing is ever fetched), ``USING`` naming a
  graph outside the store, and nesting deeper than the limit (400), and oversize bodies (413);
- the served store only ever holds validated data: the update runs on an in-memory *copy* of
  the live store's asserted graphs, in a child process capped at ``AIWF_UPDATE_MEMORY_MB``
  (400 when it runs out) and killed after ``AIWF_UPDATE_TIMEOUT`` seconds (default: the query
  time limit, ``AIWF_QUERY_TIMEOUT``; 504). The ``inferred`` graph is recomputed, the copy is
  checked with the project's SHACL shapes and, only if it conforms, recorded and loaded as a
  new store and swapped in atomically (200 with the new build id and the change file).
  Otherwise nothing changes and the answer is 422 with every violation;
- every accepted update is durable: it is written as ``seeds/changes/NNNN-<UTC time>.ru``
  (when, who, why, the build it produced) before the swap, and every later ``aiwf build``
  replays it (:mod:`nhs_ai_workforce.pipeline.changes`). ``author`` and ``comment`` (URL or
  form parameters) go into that header;
- an update that drops or replaces whole graphs (``DROP``, ``CLEAR``, ``MOVE``, ``COPY``) or
  removes more than ``AIWF_UPDATE_MAX_REMOVED_SHARE`` of the asserted triples (default 0.1)
  needs ``confirm=yes``; without it the answer is 409 and nothing changes;
- updates see the store's graphs as named graphs (use ``GRAPH``, ``WITH`` or ``USING``); the
  default graph and the ``inferred`` graph are empty, and an update that leaves triples in the
  default graph, the ``inferred`` graph or a graph that is not one of the store's is refused (422);
- updates and builds are serialised by the build lock, so they never interleave.
"""

from __future__ import annotations

import hmac

from flask import Blueprint, Response, jsonify, request

from ..core.errors import BadRequest, ServiceError
from ..sparql.guard import check_query
from ..sparql.lexer import Lexed
from .errors import error_body, error_response
from .reading import FORM, body_text, require_utf8, unsupported_type
from .state import state

__all__ = ["blueprint"]

blueprint = Blueprint("update", __name__)

DIRECT = "application/sparql-update"
#: Update operations that drop or replace a whole graph: they need ``confirm=yes``.
WHOLE_GRAPH = ("DROP", "CLEAR", "MOVE", "COPY")
#: ``confirm`` values that confirm, and those that do not.
YES, NO = frozenset({"yes", "true", "1"}), frozenset({"", "no", "false", "0"})


# -- the route ---------------------------------------------------------------------------


@blueprint.route("/update", methods=["POST"])
def update() -> Response:
    """Apply one SPARQL update to a validated copy of the store and swap it in."""
    # The build's code (rdflib's SPARQL, pySHACL) is loaded by the first update, not by every server.
    from ..pipeline.update import UpdateRejected, apply_update

    settings = state().settings
    if settings.sparql_url:
        raise ServiceError(
            403,
            "Updates disabled",
            "this server reads a remote store (AIWF_SPARQL_URL), which it never writes: change the seeds (or "
            "update the embedded store of a server that has one), build, and `aiwf publish` the build to the remote",
        )
    if not settings.update_token:
        raise ServiceError(
            403,
            "Updates disabled",
            "this server is read-only; the update route is enabled only when the operator sets AIWF_UPDATE_TOKEN",
        )
    if not _authorised(settings.update_token):
        error = ServiceError(401, "Unauthorised", "updates need the header 'Authorization: Bearer <token>'")
        return error_response(error, {"WWW-Authenticate": 'Bearer realm="aiwf-update"'})
    text = _read_update()
    lexed = check_query(text, max_bytes=settings.max_request_bytes, settings=settings, update=True)
    confirmed = _confirmed()
    author, comment = _note("author"), _note("comment")
    if not confirmed:
        _check_whole_graphs(lexed)
    try:
        result = apply_update(text, settings, confirmed=confirmed, author=author, comment=comment)
    except UpdateRejected as rejected:
        response = jsonify({**error_body(rejected), "violations": rejected.problems})
        response.status_code = 422
        return response
    return jsonify(ok=True, build=result.build_id, triples=result.triples, added=result.added,
                   removed=result.removed, change=result.change, warnings=result.warnings)


def _authorised(token: str) -> bool:
    header = request.headers.get("Authorization", "")
    scheme, _, given = header.partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        return False
    return hmac.compare_digest(given.strip().encode(), token.encode())


def _parameter(name: str) -> str | None:
    """One ``name`` parameter from the URL or a form body; 400 when it is given twice."""
    values = request.args.getlist(name)
    if request.mimetype == FORM:
        values += request.form.getlist(name)
    if len(values) > 1:
        raise BadRequest(f"give at most one '{name}' parameter, not {len(values)}", "Repeated parameter")
    return values[0] if values else None


def _confirmed() -> bool:
    value = (_parameter("confirm") or "").strip().lower()
    if value not in YES | NO:
        raise BadRequest(f"confirm must be 'yes' or 'no', not {value[:40]!r}", "Bad parameter")
    return value in YES


def _note(name: str) -> str | None:
    from ..pipeline.changes import MAX_NOTE_CHARS

    value = (_parameter(name) or "").strip()
    if len(value) > MAX_NOTE_CHARS:
        raise BadRequest(f"'{name}' has {len(value)} characters; the limit is {MAX_NOTE_CHARS}", "Bad parameter")
    return value or None


def _check_whole_graphs(lexed: Lexed) -> None:
    """409 unless confirmed, for an update that drops, clears or replaces whole graphs."""
    from ..pipeline.update import ConfirmationNeeded

    found = sorted({keyword for keyword, _ in lexed.keywords if keyword in WHOLE_GRAPH})
    if found:
        raise ConfirmationNeeded(
            f"the update uses {', '.join(found)}, which drops or replaces whole graphs of the served data"
        )


def _read_update() -> str:
    if "using-graph-uri" in request.args or "using-named-graph-uri" in request.args:
        raise ServiceError(
            400, "Unsupported parameter", "using-graph-uri and using-named-graph-uri are not supported; write USING"
        )
    require_utf8("update")
    if request.mimetype == DIRECT:
        return body_text("Malformed update")
    if request.mimetype == FORM:
        if "using-graph-uri" in request.form or "using-named-graph-uri" in request.form:
            raise ServiceError(
                400, "Unsupported parameter", "using-graph-uri and using-named-graph-uri are not supported; write USING"
            )
        values = request.form.getlist("update")
        if len(values) != 1:
            raise ServiceError(400, "Missing update", f"give one 'update' parameter, not {len(values)}")
        return values[0]
    raise unsupported_type(f"an update needs Content-Type {DIRECT} or {FORM}")
