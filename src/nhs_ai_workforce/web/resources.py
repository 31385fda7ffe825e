"""Linked-data URIs: /id/ answers 303 to /doc/, documents by content negotiation, resource pages.

- ``GET /id/{kind}/{key}``: ``303 See Other`` to ``/doc/{kind}/{key}`` (a path on this server),
  or a 404 that suggests the nearest labels.
- ``GET /doc/{kind}/{key}``: the document about the thing, as HTML, Turtle, JSON-LD,
  N-Triples, RDF/XML, TriG or N-Quads, chosen by ``Accept`` or by an extension (``.html``,
  ``.ttl``, ``.jsonld``, ``.nt``, ``.rdf``, ``.trig``, ``.nq``). A document is the thing's
  triples, in the default graph whatever the syntax; only the ``.trig`` and ``.nq`` files put
  each triple in the named graph it comes from. Every answer carries ``Link`` headers to the
  alternates, an ETag and the date of the build's data as ``Last-Modified``, so conditional requests get ``304``.
  Each document is rendered once per build (:mod:`.reuse`).
- ``GET /doc/`` and ``GET /doc/{kind}/``: the kinds of thing with counts, the things of a kind;
  ``?q=`` filters by label.

The server answers for the IRIs under the configured base at the same paths, whatever host it
runs on. Named graphs (``/id/graph/{name}``) have documents too.
"""

from __future__ import annotations

from urllib.parse import quote

import pyoxigraph as ox
from flask import Blueprint, Response, redirect, render_template, request

from ..core.formats import HTML, by_name
from ..core.namespaces import ALL_GRAPHS, GRAPH_DESCRIPTIONS, ProjectNamespaces
from ..documents import describe as ds
from ..documents import named_graphs
from ..documents.catalogue import Catalogue, read_catalogue
from ..sparql.negotiation import GRAPH_TYPES, content_type, negotiate
from ..store.live import modified_time
from .addresses import href, iri_for_path
from .conditional import conditional
from .errors import Suggestion, not_found
from .reuse import made_once
from .state import state
from .vendor import package_dir, package_version

blueprint = Blueprint("resources", __name__)

#: The RDF syntaxes of a document, in the order of the alternates in ``Link`` headers and on pages.
_SYNTAXES = tuple(map(by_name, ("ttl", "jsonld", "nt", "rdfxml", "trig", "nq")))
#: Extension -> media type, HTML first.
EXTENSIONS = {"html": HTML, **{syntax.extension: syntax.media_type for syntax in _SYNTAXES}}
FORMAT_NAMES = {HTML: "HTML", **{syntax.media_type: syntax.label for syntax in _SYNTAXES}}
#: What a document can be sent as: HTML first (browsers and ``*/*``), then every RDF syntax.
OFFERS = [HTML, *GRAPH_TYPES, "application/xhtml+xml"]
_QUAD_FORMATS = (ox.RdfFormat.TRIG, ox.RdfFormat.N_QUADS)
_PATH_SAFE = "/:@!$&'()*+,;=-._~"
_CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; "
        "object-src 'none'; base-uri 'none'; form-action 'self'")
BROWSE_LIMIT = 1000


def _ns() -> ProjectNamespaces:
    return ProjectNamespaces(state().settings.base)


def _store() -> tuple[ox.Store, Catalogue]:
    """The live store and its catalogue (read once per build)."""
    current = state().store
    ns = _ns()
    store = current.get()
    return store, current.derived(("catalogue", ns.base), lambda live, _build: read_catalogue(live, ns))


def _is_graph(kind: str, key: str) -> bool:
    return kind == "graph" and key in ALL_GRAPHS


# -- /id/: the things themselves ------------------------------------------------------------------


@blueprint.get("/id/")
@blueprint.get("/id/<path:rest>")
def identifier(rest: str = "") -> Response:
    """303 to the document about the thing; the bare ``/id/`` and ``/id/{kind}/`` go to the browse pages."""
    kind, _, key = rest.partition("/")
    query = "?" + request.query_string.decode("latin-1") if request.query_string else ""
    if not key.strip("/"):
        listing = f"{kind}/" if kind else ""
        return redirect(request.script_root + "/doc/" + quote(listing, safe=_PATH_SAFE) + query, code=303)
    doc = request.script_root + "/doc/" + quote(rest, safe=_PATH_SAFE)
    _, catalogue = _store()
    if not _is_graph(kind, key) and iri_for_path(f"/id/{rest}") not in catalogue.things:
        return _not_found(catalogue, kind, key)
    response = redirect(doc + query, code=303)
    response.headers["Link"] = f'<{doc}>; rel="describedby"'
    response.vary.add("Accept")
    return response


# -- /doc/: documents -----------------------------------------------------------------------------


def _split_extension(kind: str, key: str, catalogue: Catalogue) -> tuple[str, str | None]:
    """(key, media type the extension asks for, or ``None`` to negotiate)."""
    stem, dot, extension = key.rpartition(".")
    if not dot or extension not in EXTENSIONS or _known(kind, key, catalogue):
        return key, None
    return stem, EXTENSIONS[extension]


def _known(kind: str, key: str, catalogue: Catalogue) -> bool:
    return _is_graph(kind, key) or iri_for_path(f"/id/{kind}/{key}") in catalogue.things


@blueprint.get("/doc/<kind>/<path:key>")
def document(kind: str, key: str) -> Response:
    """The document about ``/id/{kind}/{key}``, in the format the extension or ``Accept`` asks for."""
    _, catalogue = _store()
    key, chosen = _split_extension(kind, key, catalogue)
    if not _known(kind, key, catalogue):
        return _not_found(catalogue, kind, key)
    media = chosen or negotiate(request.headers.get("Accept"), OFFERS, what="document")
    if media == "application/xhtml+xml":
        media = HTML
    iri = iri_for_path(f"/id/{kind}/{key}")
    path = request.script_root + "/doc/" + quote(f"{kind}/{key}", safe=_PATH_SAFE)
    graphs = chosen is not None  # only the .trig and .nq files keep the source graphs

    def make(live: ox.Store) -> bytes:
        if _is_graph(kind, key):
            return _graph_body(live, catalogue, key, path, media, graphs=graphs)
        return _resource_body(live, catalogue, kind, iri, path, media, graphs=graphs)

    made = made_once("document", media, make, graphs)  # rendered once per build (:mod:`.reuse`)
    return _answer(made.body, media, path, iri, negotiated=chosen is None, sha256=made.sha256)


def _resource_body(store: ox.Store, catalogue: Catalogue, kind: str, iri: str, path: str, media: str, *,
                   graphs: bool) -> bytes:
    """The page or the RDF document about the thing ``iri``."""
    if media != HTML:
        return _serialise(ds.document_quads(store, iri), _metadata(iri), media, graphs=graphs)
    description = ds.describe(store, iri, catalogue)
    return _html("resource.html", d=description, kind=kind, alternates=_alternates(path),
                 graph=ds.neighbourhood(description, href), echarts=_echarts_url(),
                 incoming_query=_incoming_query(iri))


def _graph_body(store: ox.Store, catalogue: Catalogue, name: str, path: str, media: str, *, graphs: bool) -> bytes:
    """The page or the RDF document about the named graph ``name``: what it holds, its size."""
    summary = named_graphs.describe_graph(store, name, catalogue)
    if media == HTML:
        return _html("named_graph.html", summary=summary, alternates=_alternates(path))
    facts = named_graphs.graph_facts(summary, state().settings.base)
    return _serialise(ds.document_quads(store, summary.iri), facts + _metadata(summary.iri), media, graphs=graphs)


def _metadata(iri: str) -> list[ox.Triple]:
    """The document's statements about itself: what it is about, which dataset it is part of."""
    base = state().settings.base
    return ds.metadata_triples(iri, ds.document_iri(iri, base), base)


def _alternates(path: str) -> list[tuple[str, str, str]]:
    """(href, media type, name) of each format of the document at ``path``."""
    return [(f"{path}.{extension}", media, FORMAT_NAMES[media]) for extension, media in EXTENSIONS.items()]


def _answer(body: bytes, media: str, path: str, iri: str, *, negotiated: bool, sha256: str | None = None) -> Response:
    """The document with its alternates, validators and caching headers; 304 when the client has it."""
    response = Response(body, content_type=content_type(media))
    links = [f'<{href_}>; rel="alternate"; type="{type_}"' for href_, type_, _ in _alternates(path)]
    links.append(f'<{path}>; rel="canonical"')
    links.append(f'<{iri}>; rel="describes"')
    response.headers["Link"] = ", ".join(links)
    if negotiated:
        response.vary.add("Accept")
        if GRAPH_TYPES.get(media) not in _QUAD_FORMATS:  # the .trig and .nq files keep the graphs: not this
            extension = next(ext for ext, m in EXTENSIONS.items() if m == _canonical(media))
            response.headers["Content-Location"] = f"{path}.{extension}"
    if media == HTML:
        response.headers["Content-Security-Policy"] = _CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.cache_control.public = True
    response.cache_control.no_cache = True
    return conditional(response, body, modified_time(state().settings, state().store.build_id), etag=sha256)


def _canonical(media: str) -> str:
    """The media type an alias stands for (``application/json`` is JSON-LD here)."""
    if media in EXTENSIONS.values():
        return media
    target = GRAPH_TYPES[media]
    return next(m for m, f in GRAPH_TYPES.items() if f == target)


def _prefixes(triples: list[ox.Triple]) -> dict[str, str]:
    """The project prefixes the triples use, without ``id:`` (whose names need escaped slashes)."""
    text = " ".join(str(t) for t in triples)
    return {p: ns for p, ns in _ns().prefixes().items() if p != "id" and f"<{ns}" in text}


def _serialise(quads: list[ox.Quad], metadata: list[ox.Triple], media: str, *, graphs: bool) -> bytes:
    """Write the quads and the metadata: as triples (deduplicated, in the default graph of TriG and
    N-Quads), or, when ``graphs`` and the syntax has graphs, each quad in its named graph."""
    rdf_format = GRAPH_TYPES[media]
    if graphs and rdf_format in _QUAD_FORMATS:
        items = [*quads, *(ox.Quad(t.subject, t.predicate, t.object, ox.DefaultGraph()) for t in metadata)]
        return ox.serialize(items, format=rdf_format, prefixes=_prefixes([q.triple for q in items]))
    triples = list(dict.fromkeys([*(q.triple for q in quads), *metadata]))
    return ox.serialize(triples, format=rdf_format, prefixes=_prefixes(triples))


def _html(template: str, **context: object) -> bytes:
    return render_template(template, graph_descriptions=GRAPH_DESCRIPTIONS, **context).encode("utf-8")


def _echarts_url() -> str | None:
    """The local ECharts script, or ``None`` when the package is not installed (the tables still work)."""
    folder = package_dir("echarts")
    if folder is None:
        return None
    return f"{request.script_root}/static/vendor/echarts/echarts.min.js?v={quote(package_version(folder))}"


def _incoming_query(iri: str) -> str:
    """A link to the SPARQL query listing every incoming link of ``iri``."""
    query = f"SELECT DISTINCT ?subject ?property WHERE {{ ?subject ?property <{iri}> }} ORDER BY ?property ?subject"
    return f"{request.script_root}/sparql?query={quote(query, safe='')}&format=csv"


# -- not found ------------------------------------------------------------------------------------


def _not_found(catalogue: Catalogue, kind: str, key: str) -> Response:
    """404: the one 404 page with the nearest labels, a search box and the kinds; JSON for API clients."""
    nearest = catalogue.nearest(f"{key}" if kind in {k for k, _, _ in catalogue.kinds()} else f"{kind} {key}")
    path = f"/id/{kind}/{key}".rstrip("/")
    hint = "; ".join(f"{e.label} ({href(e.iri)})" for e in nearest[:3])
    message = f"nothing is published at {path}" + (f"; nearest: {hint}" if hint else "")
    return not_found(message, nearest=[Suggestion(href(e.iri), e.label, f"{e.kind}/{e.key}") for e in nearest],
                     query=key.replace("-", " "), kinds=catalogue.kinds(), headers={"Content-Security-Policy": _CSP})


# -- browsing -------------------------------------------------------------------------------------


@blueprint.get("/doc/")
def browse() -> Response:
    """The kinds of thing with their counts, the named graphs, and a search over every label."""
    store, catalogue = _store()
    text = request.args.get("q", "").strip()
    found = catalogue.members(None, text) if text else []
    nearest = catalogue.nearest(text) if text and not found else []
    present = named_graphs.present_graphs(store, _ns().base)
    return _page("browse.html", kinds=catalogue.kinds(), graphs=ALL_GRAPHS, present=present, text=text, kind=None,
                 entries=found[:BROWSE_LIMIT], total=len(found), nearest=nearest)


@blueprint.get("/doc/<kind>/")
def browse_kind(kind: str) -> Response:
    """The things of one kind, by label; ``?q=`` keeps those whose label or key contains the text."""
    store, catalogue = _store()
    text = request.args.get("q", "").strip()
    if kind == "graph":
        present = named_graphs.present_graphs(store, _ns().base)
        return _page("browse.html", kinds=None, graphs=ALL_GRAPHS, present=present, text="", kind=kind, entries=None,
                     total=0, nearest=[])
    if kind not in {k for k, _, _ in catalogue.kinds()}:
        return _not_found(catalogue, kind, "")
    found = catalogue.members(kind, text)
    nearest = [e for e in catalogue.nearest(text) if e.kind == kind] if text and not found else []
    return _page("browse.html", kinds=None, graphs=None, text=text, kind=kind,
                 entries=found[:BROWSE_LIMIT], total=len(found), nearest=nearest)


def _page(template: str, **context: object) -> Response:
    """An HTML page of the browse section."""
    response = Response(_html(template, **context), content_type=content_type(HTML))
    response.headers["Content-Security-Policy"] = _CSP
    return response
