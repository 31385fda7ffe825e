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
from dataclasses import dataclass, field
from pathlib import Path

from flask import Blueprint, Response, jsonify, request

from ..core.errors import ServiceError, Unavailable
from ..core.processes import ProcessTimedOut, run_in_process
from ..core.settings import Settings
from ..sparql.guard import check_query, store_graphs
from .errors import error_body, error_response
from .state import state

__all__ = ["UpdateResult", "apply_update", "blueprint"]

blueprint = Blueprint("update", __name__)

FORM = "application/x-www-form-urlencoded"
DIRECT = "application/sparql-update"
#: How many violations the 422 message lists before "and N more" (the list has them all).
SHOWN_VIOLATIONS = 5


@dataclass
class UpdateResult:
    """What a successful update produced, or the violations that stopped it."""

    build_id: str | None
    store_dir: str | None = None
    triples: int = 0
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


class UpdateRejected(ServiceError):
    """422: the updated data would not conform to the shapes; ``problems`` lists why."""

    def __init__(self, problems: list[str]) -> None:
        shown = "; ".join(problems[:SHOWN_VIOLATIONS])
        more = f"; and {len(problems) - SHOWN_VIOLATIONS} more" if len(problems) > SHOWN_VIOLATIONS else ""
        super().__init__(
            422,
            "Update rejected",
            f"the update would leave {len(problems)} violation(s) of the SHACL shapes, so nothing was "
            f"changed: {shown}{more}",
        )
        self.problems = problems


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
    charset = (request.mimetype_params.get("charset") or "utf-8").lower()
    if charset not in ("utf-8", "utf8"):
        raise ServiceError(415, "Unsupported charset", f"update bodies must be UTF-8, not {charset!r}")
    if request.mimetype == DIRECT:
        try:
            return request.get_data().decode("utf-8")
        except UnicodeDecodeError as error:
            raise ServiceError(400, "Malformed update", f"the body is not UTF-8: {error}") from None
    if request.mimetype == FORM:
        if "using-graph-uri" in request.form or "using-named-graph-uri" in request.form:
            raise ServiceError(
                400, "Unsupported parameter", "using-graph-uri and using-named-graph-uri are not supported; write USING"
            )
        values = request.form.getlist("update")
        if len(values) != 1:
            raise ServiceError(400, "Missing update", f"give one 'update' parameter, not {len(values)}")
        return values[0]
    given = f"Content-Type {request.mimetype!r}" if request.mimetype else "no Content-Type"
    raise ServiceError(
        415, "Unsupported media type", f"an update needs Content-Type {DIRECT} or {FORM}; the request has {given}"
    )


# -- applying an update ------------------------------------------------------------------


def apply_update(text: str, settings: Settings) -> UpdateResult:
    """Run ``text`` on a copy of the live store; swap the copy in if it passes SHACL.

    The caller has run the guard. Holds the build lock throughout.

    :raises UpdateRejected: 422, if the result does not conform; nothing changes.
    :raises ServiceError: 400 for a malformed update, 503 (:class:`Unavailable`) without a
        store or shapes, 504 when the time limit passes.
    """
    from ..store import builds as store

    with store.build_lock(settings):
        build_id = store.new_build_id()
        try:
            result: UpdateResult = run_in_process(
                _prepare, settings, text, build_id, timeout_s=settings.update_timeout_s
            )
        except ProcessTimedOut:
            _remove(settings, build_id)
            raise ServiceError(
                504,
                "Update timed out",
                f"the update took more than {settings.update_timeout_s:g} s and was stopped; nothing changed",
            ) from None
        except ChildProcessError as error:
            _remove(settings, build_id)
            raise ServiceError(500, "Update failed", f"the update process died: {error}; nothing changed") from None
        if result.problems:
            raise UpdateRejected(result.problems)
        store.swap_in(Path(result.store_dir), settings)
    return result


def _remove(settings: Settings, build_id: str) -> None:
    import shutil

    from ..store.builds import PARTIAL_SUFFIX
    from ..store.live import stores_dir

    for name in (build_id, build_id + PARTIAL_SUFFIX):
        shutil.rmtree(stores_dir(settings) / name, ignore_errors=True)


def _prepare(settings: Settings, text: str, build_id: str) -> UpdateResult:
    """In the child: copy, update, then publish (re-infer, validate, load) without swapping."""
    import pyoxigraph as ox
    from rdflib import Dataset

    from ..core.namespaces import ProjectNamespaces
    from ..pipeline.errors import BuildFailed
    from ..pipeline.publish import publish
    from ..pipeline.validation import ShapesError
    from ..store.live import NoStoreError, open_store

    try:
        source = open_store(settings)
    except NoStoreError as error:
        raise Unavailable(str(error)) from None
    memory = ox.Store()
    memory.bulk_extend(source.quads_for_pattern(None, None, None, None))
    del source
    try:
        memory.update(text)
    except SyntaxError as error:
        parsed = ServiceError.from_syntax_error(error)
        raise ServiceError(400, "Malformed update", parsed.message, parsed.line, parsed.column) from None
    outside = _outside_graphs(memory, store_graphs(settings))
    if outside:
        return UpdateResult(None, problems=[
            f"the update leaves triples in {name}, which is not one of the store's graphs "
            f"({', '.join(sorted(store_graphs(settings)))}); write them with GRAPH or WITH"
            for name in outside
        ])
    dataset = Dataset()
    dataset.parse(data=ox.serialize(memory, format=ox.RdfFormat.N_QUADS), format="nquads")
    del memory
    inferred = ProjectNamespaces(settings.base).graph("inferred")
    dataset.remove_graph(dataset.graph(inferred))  # publish infers it afresh from the updated graphs
    try:
        result = publish(dataset, settings, build_id=build_id, swap=False, lock=False)
    except BuildFailed as failed:
        return UpdateResult(None, problems=[str(problem) for problem in failed.problems])
    except (ShapesError, OSError) as error:
        raise Unavailable(
            f"the SHACL shapes cannot be read, so no update can be checked: {error}", "Update unavailable"
        ) from None
    warnings = [str(problem) for problem in result.warnings]
    return UpdateResult(build_id, str(result.store_dir), result.total_quads, warnings=warnings)


def _outside_graphs(memory, allowed: frozenset[str]) -> list[str]:
    """The graphs other than the store's that hold triples after the update ('the default graph')."""
    import pyoxigraph as ox

    outside = []
    if next(iter(memory.quads_for_pattern(None, None, None, ox.DefaultGraph())), None) is not None:
        outside.append("the default graph")
    outside.extend(
        f"<{name.value}>"
        for name in memory.named_graphs()
        if name.value not in allowed and next(iter(memory.quads_for_pattern(None, None, None, name)), None)
    )
    return outside
