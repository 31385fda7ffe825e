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
computed once per build too (kept in the build's memo). Every answer has an ``ETag`` (the
SHA-256 of its bytes) and a ``Last-Modified`` (the date of the build's data), honours ``If-None-Match`` /
``If-Modified-Since`` with 304, and answers ``HEAD``; dumps are attachments with their file name.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime

import pyoxigraph as ox
from flask import Blueprint, Response, abort, render_template, request, send_file

from ..core.formats import by_name
from ..core.namespaces import GRAPH_DESCRIPTIONS, STANDARD_PREFIXES, curie
from ..core.settings import Settings
from ..documents import void, void_statistics
from ..sparql.negotiation import DESCRIPTION_TYPES, content_type, negotiate
from ..store.dumps import DATASET_DUMPS, GZIP_SUFFIX, DumpSet, ServedDumps
from .conditional import conditional
from .state import state

blueprint = Blueprint("datasets", __name__)

#: The description as a file, by name under /data/.
VOID_FILES = {f"void.{syntax.extension}": syntax.media_type
              for syntax in map(by_name, ("ttl", "jsonld", "nt", "rdfxml"))}
PAGE_TYPES = ["text/html", *DESCRIPTION_TYPES]


@dataclass(frozen=True)
class Published:
    """What one build publishes: its dumps, statistics and description."""

    build_id: str
    modified: datetime | None
    dumps: DumpSet
    stats: void_statistics.Statistics
    description: list[ox.Triple]


def publish(store: ox.Store, settings: Settings, build_id: str) -> Published:
    """Render (or read back) the dumps of build ``build_id``, count it and describe it."""
    dumps = ServedDumps(settings).get(store, build_id)
    stats = void_statistics.statistics(store, settings)
    modified = void.build_time(settings, build_id)
    return Published(build_id, modified, dumps, stats, void.describe(settings, stats, dumps.files, modified=modified))


def published() -> Published:
    """What the live build publishes, made once per build."""
    current = state()
    settings = current.settings
    return current.store.derived(("published", settings.base),
                                 lambda store, build_id: publish(store, settings, build_id or ""))


def serialised(data: Published, media_type: str) -> bytes:
    """The description in ``media_type`` (one of ``DESCRIPTION_TYPES``), rendered once per build."""
    return state().store.derived(
        ("void", data.build_id, data.stats.base, media_type),
        lambda _store, _build: ox.serialize(data.description, format=DESCRIPTION_TYPES[media_type],
                               prefixes=void.prefixes(data.stats.base)),
    )


def _description(media_type: str, *, negotiated: bool) -> Response:
    data = published()
    body = serialised(data, media_type)
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
    # A client that takes gzip gets the .gz rendered with the build, not the dump compressed again.
    encoded = _gzipped(data.dumps, name)
    sent = encoded or file
    source = data.dumps.path(sent) or io.BytesIO(data.dumps.read(sent))
    response = send_file(
        source,
        mimetype=file.content_type,
        as_attachment=True,
        download_name=name.rsplit("/", 1)[-1],
        etag=sent.sha256,
        last_modified=data.modified,
        conditional=True,
    )
    if encoded is not None:
        response.headers["Content-Encoding"] = "gzip"
        response.headers.pop("Accept-Ranges", None)  # ranges are served from the plain bytes only
    return response


def _gzipped(dumps: DumpSet, name: str):
    """The build's ``.gz`` of dump ``name`` when the client takes gzip (and asks for no range), else ``None``."""
    if name.endswith(GZIP_SUFFIX) or "Range" in request.headers or request.accept_encodings["gzip"] <= 0:
        return None
    return dumps.find(name + GZIP_SUFFIX)


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
    return curie(iri, prefixes) or iri


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
        "turtle": serialised(data, "text/turtle").decode("utf-8"),
        "size": _size,
    }
