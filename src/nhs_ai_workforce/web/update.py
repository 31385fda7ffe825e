"""``POST /update``: SPARQL Update for curators, off unless the operator sets a token.

The endpoint at ``/sparql`` is read-only. This route is the only way to change the served
graph without a build, and it is disabled (403) unless ``AIWF_UPDATE_TOKEN`` is set. Then:

- the request needs ``Authorization: Bearer <token>`` (compared in constant time): 401
  without it or with a wrong one;
- the update comes as an ``application/sparql-update`` body (UTF-8) or as ``update=`` in an
  ``application/x-www-form-urlencoded`` body; ``using-graph-uri`` / ``using-named-graph-uri``
  are not supported (400: write ``USING`` in the update instead);
- the guard refuses ``LOAD`` and ``SERVICE`` (nothing is ever fetched), ``USING`` naming a
  graph outside the store, and nesting deeper than the limit (400), and oversize bodies (413);
- the served store only ever holds validated data: the update runs on an in-memory *copy* of
  the live store, in a child process killed after ``settings.update_timeout_s``
  (``AIWF_UPDATE_TIMEOUT``, default 300 s; 504). The ``inferred`` graph is recomputed, the
  copy is checked with the project's SHACL shapes and, only if it conforms, loaded as a new
  store and swapped in atomically (200 with the new build id). Otherwise nothing changes and
  the answer is 422 with every violation;
- updates see the store's graphs as named graphs (use ``GRAPH``, ``WITH`` or ``USING``); the
  default graph is empty, and an update that leaves triples in the default graph or in a graph
  that is not one of the store's graphs is refused (422);
- updates and builds are serialised by the build lock, so they never interleave.

An update changes the served store, not the seed tables: the next ``aiwf build`` replaces it.
"""

from __future__ import annotations

import hmac

from flask import Blueprint, Response, jsonify, request

from ..core.errors import ServiceError
from ..pipeline.update import UpdateRejected, apply_update
from ..sparql.guard import check_query
from .errors import error_body, error_response
from .reading import FORM, body_text, require_utf8, unsupported_type
from .state import state

__all__ = ["blueprint"]

blueprint = Blueprint("update", __name__)

DIRECT = "application/sparql-update"


# -- the route ---------------------------------------------------------------------------


@blueprint.route("/update", methods=["POST"])
def update() -> Response:
    """Apply one SPARQL update to a validated copy of the store and swap it in."""
    settings = state().settings
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
    check_query(text, max_bytes=settings.max_request_bytes, settings=settings, update=True)
    try:
        result = apply_update(text, settings)
    except UpdateRejected as rejected:
        response = jsonify({**error_body(rejected), "violations": rejected.problems})
        response.status_code = 422
        return response
    return jsonify(ok=True, build=result.build_id, triples=result.triples, warnings=result.warnings)


def _authorised(token: str) -> bool:
    header = request.headers.get("Authorization", "")
    scheme, _, given = header.partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        return False
    return hmac.compare_digest(given.strip().encode(), token.encode())


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
