"""The dataset's dumps and its VoID/DCAT description at /data/ and /.well-known/void.

=====================================  ===============================================================
``GET /data/``                         the page listing the dumps and the description (browsers); the
                                       VoID description for RDF clients (``Accept`` or ``format``)
``GET /data/void``                     the VoID and DCAT description: Turtle, RDF/XML, JSON-LD or
``GET /.well-known/void``              N-Triples by ``Accept`` or ``format`` (VoID section 7)
``GET /data/void.{ttl,jsonld,nt,rdf}``  the description in one syntax
``GET /data/{dump}``                   ``nhs-ai-workforce.{trig,nq,jsonld,ttl}``, each also ``.gz``;
                                       ``graphs/{name}.ttl``, one named graph
=====================================  ===============================================================

Dumps are rendered from the live store, so their IRIs are under the served base, once per build
(:class:`~nhs_ai_workforce.store.dumps.ServedDumps`); the statistics and description are
computed once per build too. Every answer has an ``ETag`` (the SHA-256 of its bytes) and a
``Last-Modified`` (the build time), honours ``If-None-Match`` / ``If-Modified-Since`` with 304,
and answers ``HEAD``; dumps are attachments with their file name.
"""

from __future__ import annotations

import io
import threading
from dataclasses import dataclass, field
from datetime import datetime

import pyoxigraph as ox
from flask import Blueprint, Response, abort, current_app, render_template, request, send_file

from ..core.namespaces import GRAPH_DESCRIPTIONS, STANDARD_PREFIXES
from ..documents import void
from ..sparql.negotiation import DESCRIPTION_TYPES, content_type, negotiate
from ..store.dumps import DATASET_DUMPS, GZIP_SUFFIX, DumpSet, ServedDumps
from .conditional import conditional
from .state import state

blueprint = Blueprint("datasets", __name__)

_CACHE = "aiwf.datasets"

#: The description as a file, by name under /data/.
VOID_FILES = {
    "void.ttl": "text/turtle",
    "void.jsonld": "application/ld+json",
    "void.nt": "application/n-triples",
    "void.rdf": "application/rdf+xml",
}
PAGE_TYPES = ["text/html", *DESCRIPTION_TYPES]


@dataclass
class Published:
    """What one build publishes: its dumps, statistics and description, and rendered bodies."""

    build_id: str
    modified: datetime | None
    dumps: DumpSet
    stats: void.Statistics
    description: list[ox.Triple]
    bodies: dict[str, bytes] = field(default_factory=dict)

    def serialised(self, media_type: str) -> bytes:
        """The description in ``media_type`` (one of ``DESCRIPTION_TYPES``), rendered once."""
        if media_type not in self.bodies:
            self.bodies[media_type] = ox.serialize(
                self.description, format=DESCRIPTION_TYPES[media_type], prefixes=void.prefixes(self.stats.base)
            )
        return self.bodies[media_type]


class PublishedCache:
    """The :class:`Published` of the live build, made on first use after each build."""

    def __init__(self, dumps: ServedDumps) -> None:
        self.dumps = dumps
        self._lock = threading.Lock()
        self._current: Published | None = None

    def get(self) -> Published:
        app_state = state()
        store = app_state.store.get()
        build_id = app_state.store.build_id or ""
        with self._lock:
            if self._current is None or self._current.build_id != build_id:
                settings = app_state.settings
                dumps = self.dumps.get(store, build_id)
                stats = void.statistics(store, settings)
                modified = void.build_time(settings, build_id)
                description = void.describe(settings, stats, dumps.files, modified=modified)
                self._current = Published(build_id, modified, dumps, stats, description)
            return self._current


@blueprint.record_once
def _setup(setup_state) -> None:
    settings = setup_state.app.extensions["aiwf"].settings
    setup_state.app.extensions.setdefault(_CACHE, PublishedCache(ServedDumps(settings)))


def published() -> Published:
    """What the live build publishes."""
    return current_app.extensions[_CACHE].get()


def _description(media_type: str, *, negotiated: bool) -> Response:
    data = published()
    body = data.serialised(media_type)
    response = Response(body, content_type=content_type(media_type))
    if negotiated:
        response.vary.add("Accept")
    return conditional(response, body, data.modified)


@blueprint.route("/data/")
def index() -> Response:
    """The page for browsers; the VoID description for clients that ask for RDF."""
    media_type = negotiate(request.headers.get("Accept"), PAGE_TYPES, format=request.args.get("format"),
                           what="dataset description")
    if media_type != "text/html":
        return _description(media_type, negotiated=True)
    data = published()
    html = render_template("data.html", **_page(data)).encode("utf-8")
    response = Response(html, content_type="text/html; charset=utf-8")
    response.vary.add("Accept")
    return conditional(response, html, data.modified)


@blueprint.route("/data/void")
@blueprint.route("/.well-known/void")
def description() -> Response:
    """The VoID and DCAT description in the negotiated syntax."""
    media_type = negotiate(request.headers.get("Accept"), DESCRIPTION_TYPES, format=request.args.get("format"),
                           what="dataset description")
    return _description(media_type, negotiated=True)


@blueprint.route("/data/<path:name>")
def dump(name: str) -> Response:
    """One dump (an attachment), or the description as a file."""
    if name in VOID_FILES:
        return _description(VOID_FILES[name], negotiated=False)
    data = published()
    file = data.dumps.find(name)
    if file is None:
        abort(404)
    source = data.dumps.path(file) or io.BytesIO(data.dumps.read(file))
    return send_file(
        source,
        mimetype=file.content_type,
        as_attachment=True,
        download_name=name.rsplit("/", 1)[-1],
        etag=file.sha256,
        last_modified=data.modified,
        conditional=True,
    )


# -- the page ---------------------------------------------------------------------------------

def _size(count: int) -> str:
    """A byte count for people: ``812 KB``, ``1.2 MB``.

    >>> _size(512), _size(27_867), _size(1_234_567)
    ('512 bytes', '27 KB', '1.2 MB')
    """
    if count < 1000:
        return f"{count} bytes"
    if count < 1_000_000:
        return f"{count // 1000} KB"
    return f"{count / 1_000_000:.1f} MB"


def _compact(iri: str, prefixes: dict[str, str]) -> str:
    """``iri`` as a prefixed name where a prefix fits, else the IRI itself."""
    for prefix, namespace in sorted(prefixes.items(), key=lambda item: -len(item[1])):
        if iri.startswith(namespace) and iri != namespace:
            return f"{prefix}:{iri[len(namespace):]}"
    return iri


def _page(data: Published) -> dict:
    """What ``data.html`` shows."""
    prefixes = {**void.prefixes(data.stats.base), **STANDARD_PREFIXES}
    files = {file.name: file for file in data.dumps.files}
    formats = [
        {"label": label, "media_type": media_type, "union": union, "file": files[name],
         "gzip": files.get(name + GZIP_SUFFIX)}
        for name, label, media_type, union in DATASET_DUMPS if name in files
    ]
    graph_files = {file.graph: file for file in data.dumps.files if file.graph}
    graphs = [
        {"subset": graph, "description": GRAPH_DESCRIPTIONS.get(graph.name or "", ""),
         "file": graph_files.get(graph.name)}
        for graph in data.stats.graphs
    ]
    linksets = [
        {"linkset": linkset, "predicates": [(_compact(p, prefixes), n) for p, n in linkset.predicates]}
        for linkset in data.stats.linksets
    ]
    return {
        "data": data,
        "stats": data.stats,
        "formats": formats,
        "graphs": graphs,
        "linksets": linksets,
        "classes": [(_compact(p.iri, prefixes), p) for p in data.stats.classes],
        "properties": [(_compact(p.iri, prefixes), p) for p in data.stats.properties],
        "void_files": VOID_FILES,
        "void_iri": void.document_iri(data.stats.base),
        "licence": void.LICENCE,
        "turtle": data.serialised("text/turtle").decode("utf-8"),
        "size": _size,
    }
