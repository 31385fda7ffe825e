"""``/reconcile``: the Reconciliation Service API v0.2 that OpenRefine speaks, and the 1.0 draft.

v0.2 (the W3C community group's final report), all under ``/reconcile``:

- ``GET /reconcile``: the service manifest (JSONP with ``callback``);
- ``GET /reconcile?queries=...`` and ``POST /reconcile`` (form field ``queries``): query batches;
- ``GET|POST /reconcile?extend=...`` and ``GET /reconcile/propose_properties``: data extension;
- ``GET /reconcile/suggest/entity|type|property?prefix=``: suggest services;
- ``GET /reconcile/preview?id=``: an HTML card; ``GET /reconcile/view?id=``: 303 to the entity's
  page (``/doc/{kind}/{key}`` on this server for IRIs under the base, else the full-size card).

The 1.0 draft's service lives at ``/reconcile/1.0-draft`` (its manifest differs from v0.2's, so
it cannot share the root): ``POST .../match``, ``.../suggest/*``, ``.../preview``, ``POST .../extend``
and ``.../extend/propose``; ``POST /reconcile/match`` is the same as ``.../1.0-draft/match``.

Every response carries ``Access-Control-Allow-Origin: *`` and ``OPTIONS`` preflights work,
whether or not the app-wide CORS hooks are installed. Errors are :class:`ServiceError`\\ s,
answered in the app's one error shape.
"""

from __future__ import annotations

import json
import re
import threading
from collections import OrderedDict
from typing import Any

from flask import Blueprint, Response, redirect, request, url_for

from ..core.errors import ServiceError
from ..reconcile import api
from .addresses import href, local_path
from .state import state

blueprint = Blueprint("reconcile", __name__, url_prefix="/reconcile")

DRAFT = "/1.0-draft"
_CALLBACK = re.compile(r"^[A-Za-z_$][0-9A-Za-z_$.]{0,99}$")
_PREFLIGHT_HEADERS = "Accept, Content-Type, X-Requested-With"


# -- CORS (also when the app-wide hooks are not installed) --------------------------------------


@blueprint.after_request
def _cors(response: Response) -> Response:
    response.headers.setdefault("Access-Control-Allow-Origin", "*")
    if request.method == "OPTIONS":
        allowed = response.headers.get("Allow") or "GET, HEAD, OPTIONS, POST"
        response.headers.setdefault("Access-Control-Allow-Methods", allowed)
        response.headers.setdefault("Access-Control-Allow-Headers",
                                    request.headers.get("Access-Control-Request-Headers") or _PREFLIGHT_HEADERS)
        response.headers.setdefault("Access-Control-Max-Age", "86400")
    return response


# -- the data: one catalogue and one matcher per store build ------------------------------------

_CACHE: OrderedDict[tuple[str | None, str], tuple[api.Catalogue, Any]] = OrderedDict()
_LOCK = threading.Lock()


def _service() -> tuple[api.Catalogue, Any]:
    """The catalogue and matcher of the live build, made once per build and base."""
    current = state()
    store = current.store.get()
    base = current.settings.base
    key = (current.store.build_id, base)
    with _LOCK:
        if key in _CACHE and key[0] is not None:
            _CACHE.move_to_end(key)
            return _CACHE[key]
    from ..reconcile import reconciler_for

    made = (api.load_catalogue(store, base), reconciler_for(store, base=base, build_id=key[0]))
    with _LOCK:
        _CACHE[key] = made
        while len(_CACHE) > 2:
            _CACHE.popitem(last=False)
    return made


def _catalogue() -> api.Catalogue:
    return _service()[0]


# -- helpers ------------------------------------------------------------------------------------


def _service_url(draft: bool = False) -> str:
    return request.url_root.rstrip("/") + blueprint.url_prefix + (DRAFT if draft else "")


def _json(data: Any, *, status: int = 200) -> Response:
    """JSON, or JSONP when a GET names a ``callback``."""
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    callback = request.args.get("callback") if request.method == "GET" else None
    if callback:
        if not _CALLBACK.match(callback):
            raise ServiceError(400, "Bad callback", "'callback' must be a JavaScript identifier such as jsonp_123")
        return Response(f"/**/{callback}({body});", status=status, mimetype="application/javascript")
    return Response(body, status=status, mimetype="application/json")


def _int(name: str, default: int) -> int:
    value = request.args.get(name)
    if value in (None, ""):
        return default
    try:
        return int(value)
    except ValueError as error:
        raise ServiceError(400, "Bad parameter", f"'{name}' must be a whole number, not {value!r}") from error


def _type_params() -> list[str]:
    return [t for value in request.args.getlist("type") for t in value.split(",") if t.strip()]


# -- v0.2 ---------------------------------------------------------------------------------------


@blueprint.route("/", methods=["GET", "POST"], strict_slashes=False)
def service() -> Response:
    """Manifest, query batch or data extension, by parameter (query string or form)."""
    values = request.values
    if "queries" in values:
        queries = api.parse_query_batch(values["queries"])
        catalogue, matcher = _service()
        return _json(api.reconcile_batch(queries, matcher, catalogue))
    if "extend" in values:
        ids, pids = api.parse_extend(values["extend"])
        return _json(api.extend(_catalogue(), ids, pids))
    if request.method == "POST":
        raise ServiceError(400, "Malformed reconciliation request",
                           "a POST needs a 'queries' or 'extend' form field")
    return _json(api.manifest(_service_url(), state().settings.base))


def suggest_entity() -> Response:
    """Entities whose names start with ``prefix``, optionally of one ``type``; ``cursor`` pages."""
    result = api.suggest_entities(_catalogue(), request.args.get("prefix", ""), types=_type_params(),
                                  cursor=_int("cursor", 0), limit=_int("limit", api.SUGGEST_LIMIT))
    return _json(result)


def suggest_type() -> Response:
    """The service's types whose names start with ``prefix``."""
    types = api.service_types(state().settings.base)
    return _json(api.suggest_types(types, request.args.get("prefix", ""), cursor=_int("cursor", 0),
                                   limit=_int("limit", api.SUGGEST_LIMIT)))


def suggest_property() -> Response:
    """The service's properties whose names start with ``prefix``."""
    return _json(api.suggest_properties(request.args.get("prefix", ""), cursor=_int("cursor", 0),
                                        limit=_int("limit", api.SUGGEST_LIMIT)))


def propose_properties() -> Response:
    """Properties worth fetching for a ``type`` (data extension)."""
    types = api.service_types(state().settings.base)
    limit = _int("limit", 0) or None
    return _json(api.propose_properties(types, request.args.get("type") or None, limit))


def preview() -> Response:
    """A small HTML card for the entity ``id``, sized for OpenRefine's preview frame."""
    iri = request.args.get("id", "").strip()
    if not iri:
        raise ServiceError(400, "Missing parameter", "'id' is required, e.g. /reconcile/preview?id=...")
    width = min(max(_int("width", api.PREVIEW_WIDTH), 100), 2000)
    height = min(max(_int("height", api.PREVIEW_HEIGHT), 50), 2000)
    page = api.preview_html(_catalogue(), iri, width=width, height=height)
    if page is None:
        raise ServiceError(404, "Not found", f"no entity {iri!r} in this service")
    response = Response(page, mimetype="text/html")
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def view() -> Response:
    """303 to the entity's page: its ``/doc/`` page when it is under the base, else the card, full size."""
    iri = request.args.get("id", "").strip()
    if not iri:
        raise ServiceError(400, "Missing parameter", "'id' is required, e.g. /reconcile/view?id=...")
    if _catalogue().get(iri) is None:
        raise ServiceError(404, "Not found", f"no entity {iri!r} in this service")
    if local_path(iri) is not None:
        return redirect(href(iri), code=303)
    return redirect(url_for("reconcile.preview", id=iri, width=800, height=600), code=303)


# -- the 1.0 draft ------------------------------------------------------------------------------


def draft_manifest() -> Response:
    return _json(api.manifest_draft(_service_url(draft=True), state().settings.base))


def match() -> Response:
    """A 1.0-draft query batch: ``POST`` JSON ``{"queries": [{"conditions": [...]}]}``."""
    queries = api.parse_match_batch(_json_body())
    catalogue, matcher = _service()
    return _json(api.match_batch(queries, matcher, catalogue))


def draft_extend() -> Response:
    """A 1.0-draft data extension: ``POST`` JSON ``{"ids": [...], "properties": [{"id"}]}``."""
    ids, pids = api.parse_extend(_json_body())
    return _json(api.extend_draft(_catalogue(), ids, pids))


def _json_body() -> Any:
    """The JSON body of a 1.0-draft ``POST``."""
    data = request.get_data(cache=False)
    if not data.strip():
        raise ServiceError(400, "Malformed reconciliation request", "the request body is empty; send JSON")
    try:
        return json.loads(data)
    except ValueError as error:
        raise ServiceError(400, "Malformed reconciliation request", f"the body is not JSON: {error}") from error


for _path, _suffix in (("", ""), (DRAFT, "_draft")):
    blueprint.add_url_rule(f"{_path}/suggest/entity", f"suggest_entity{_suffix}", suggest_entity)
    blueprint.add_url_rule(f"{_path}/suggest/type", f"suggest_type{_suffix}", suggest_type)
    blueprint.add_url_rule(f"{_path}/suggest/property", f"suggest_property{_suffix}", suggest_property)
    blueprint.add_url_rule(f"{_path}/preview", f"preview{_suffix}", preview)
    blueprint.add_url_rule(f"{_path}/view", f"view{_suffix}", view)
    blueprint.add_url_rule(f"{_path}/match", f"match{_suffix}", match, methods=["POST"])
blueprint.add_url_rule("/propose_properties", "propose_properties", propose_properties)
blueprint.add_url_rule(DRAFT, "manifest_draft", draft_manifest, strict_slashes=False)
blueprint.add_url_rule(f"{DRAFT}/extend", "extend_draft", draft_extend, methods=["POST"])
blueprint.add_url_rule(f"{DRAFT}/extend/propose", "propose_properties_draft", propose_properties)
