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
from typing import Any

from flask import Blueprint, Response, redirect, render_template, request, url_for

from ..core.errors import BadRequest, ServiceError
from ..reconcile import extension, manifest, protocol, suggest
from ..reconcile.catalogue import Catalogue
from ..reconcile.kinds import entity_types
from ..reconcile.matcher import Reconciler
from ..reconcile.preview import PREVIEW_HEIGHT, PREVIEW_WIDTH, Preview
from ..reconcile.preview import preview as card_of
from ..reconcile.reading import load_catalogue
from ..reconcile.service import match_batch, reconcile_batch
from .addresses import href, local_path
from .state import state

blueprint = Blueprint("reconcile", __name__, url_prefix="/reconcile")

DRAFT = "/1.0-draft"
_CALLBACK = re.compile(r"^[A-Za-z_$][0-9A-Za-z_$.]{0,99}$")
_PREFLIGHT_HEADERS = "Accept, Content-Type, X-Requested-With"
_MALFORMED = "Malformed reconciliation request"


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


# -- the data: one catalogue and its matcher per store build -------------------------------------

#: The key of the reconciler among the values derived from a build (:meth:`CurrentStore.derived`).
RECONCILER_KEY = "reconcile.reconciler"


def _reconciler() -> Reconciler:
    """The matcher over the live build's catalogue, made once per build and dropped with it."""
    current = state()
    base = current.settings.base
    return current.store.derived(RECONCILER_KEY, lambda store, _build: Reconciler(load_catalogue(store, base=base)))


def _catalogue() -> Catalogue:
    return _reconciler().catalogue


# -- helpers ------------------------------------------------------------------------------------


def _service_url(draft: bool = False) -> str:
    return request.url_root.rstrip("/") + blueprint.url_prefix + (DRAFT if draft else "")


def _json(data: Any, *, status: int = 200) -> Response:
    """JSON, or JSONP when a GET names a ``callback``."""
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    callback = request.args.get("callback") if request.method == "GET" else None
    if callback:
        if not _CALLBACK.match(callback):
            raise BadRequest("'callback' must be a JavaScript identifier such as jsonp_123", title="Bad callback")
        return Response(f"/**/{callback}({body});", status=status, mimetype="application/javascript")
    return Response(body, status=status, mimetype="application/json")


def _int(name: str, default: int) -> int:
    value = request.args.get(name)
    if value in (None, ""):
        return default
    try:
        return int(value)
    except ValueError as error:
        raise BadRequest(f"'{name}' must be a whole number, not {value!r}", title="Bad parameter") from error


def _type_params() -> list[str]:
    return [t for value in request.args.getlist("type") for t in value.split(",") if t.strip()]


# -- v0.2 ---------------------------------------------------------------------------------------


@blueprint.route("/", methods=["GET", "POST"], strict_slashes=False)
def service() -> Response:
    """Manifest, query batch or data extension, by parameter (query string or form)."""
    values = request.values
    if "queries" in values:
        queries = protocol.parse_query_batch(values["queries"])
        return _json(reconcile_batch(queries, _reconciler()))
    if "extend" in values:
        ids, pids = protocol.parse_extend(values["extend"])
        return _json(extension.extend(_catalogue(), ids, pids))
    if request.method == "POST":
        raise BadRequest("a POST needs a 'queries' or 'extend' form field", title=_MALFORMED)
    return _json(manifest.manifest(_service_url(), state().settings.base))


def suggest_entity() -> Response:
    """Entities whose names start with ``prefix``, optionally of one ``type``; ``cursor`` pages."""
    result = suggest.suggest_entities(_catalogue(), request.args.get("prefix", ""), types=_type_params(),
                                      cursor=_int("cursor", 0), limit=_int("limit", suggest.SUGGEST_LIMIT))
    return _json(result)


def suggest_type() -> Response:
    """The service's types whose names start with ``prefix``."""
    types = entity_types(state().settings.base)
    return _json(suggest.suggest_types(types, request.args.get("prefix", ""), cursor=_int("cursor", 0),
                                       limit=_int("limit", suggest.SUGGEST_LIMIT)))


def suggest_property() -> Response:
    """The service's properties whose names start with ``prefix``."""
    return _json(suggest.suggest_properties(request.args.get("prefix", ""), cursor=_int("cursor", 0),
                                            limit=_int("limit", suggest.SUGGEST_LIMIT)))


def propose_properties() -> Response:
    """Properties worth fetching for a ``type`` (data extension)."""
    types = entity_types(state().settings.base)
    limit = _int("limit", 0) or None
    return _json(extension.propose_properties(types, request.args.get("type") or None, limit))


def preview() -> Response:
    """A small HTML card for the entity ``id``, sized for OpenRefine's preview frame."""
    iri = request.args.get("id", "").strip()
    if not iri:
        raise BadRequest("'id' is required, e.g. /reconcile/preview?id=...", title="Missing parameter")
    width = min(max(_int("width", PREVIEW_WIDTH), 100), 2000)
    height = min(max(_int("height", PREVIEW_HEIGHT), 50), 2000)
    card: Preview | None = card_of(_catalogue(), iri)
    if card is None:
        raise ServiceError(404, "Not found", f"no entity {iri!r} in this service")
    page = render_template("reconcile_preview.html", card=card, width=width, height=height)
    response = Response(page, mimetype="text/html")
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def view() -> Response:
    """303 to the entity's page: its ``/doc/`` page when it is under the base, else the card, full size."""
    iri = request.args.get("id", "").strip()
    if not iri:
        raise BadRequest("'id' is required, e.g. /reconcile/view?id=...", title="Missing parameter")
    if _catalogue().get(iri) is None:
        raise ServiceError(404, "Not found", f"no entity {iri!r} in this service")
    if local_path(iri) is not None:
        return redirect(href(iri), code=303)
    return redirect(url_for("reconcile.preview", id=iri, width=800, height=600), code=303)


# -- the 1.0 draft ------------------------------------------------------------------------------


def draft_manifest() -> Response:
    return _json(manifest.manifest_draft(_service_url(draft=True), state().settings.base))


def match() -> Response:
    """A 1.0-draft query batch: ``POST`` JSON ``{"queries": [{"conditions": [...]}]}``."""
    queries = protocol.parse_match_batch(_json_body())
    return _json(match_batch(queries, _reconciler()))


def draft_extend() -> Response:
    """A 1.0-draft data extension: ``POST`` JSON ``{"ids": [...], "properties": [{"id"}]}``."""
    ids, pids = protocol.parse_extend(_json_body())
    return _json(extension.extend_draft(_catalogue(), ids, pids))


def _json_body() -> Any:
    """The JSON body of a 1.0-draft ``POST``."""
    data = request.get_data(cache=False)
    if not data.strip():
        raise BadRequest("the request body is empty; send JSON", title=_MALFORMED)
    return protocol.load_json(data, "body")  # 400 for non-JSON, too deep, or not-finite numbers


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
