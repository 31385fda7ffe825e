"""The ontology at /def/: human documentation and the RDF by content negotiation.

``/def/aiwf`` (the ontology IRI) answers the documentation page to browsers and the ontology
document (``ontology/aiwf.ttl``, rebased to the served base) as Turtle, RDF/XML, JSON-LD or
N-Triples by ``Accept``; Turtle when ``Accept`` is absent or ``*/*``, so RDF clients get RDF
by default. ``/def/aiwf.{ttl,rdf,jsonld,nt,html}`` name one representation each. Every answer
has an ``ETag`` and ``Last-Modified`` (the date of the build's data) and honours conditional requests.

Term IRIs follow the extended configuration for a slash namespace of the W3C "Best Practice
Recipes for Publishing RDF Vocabularies": ``/def/aiwf/{Term}`` answers ``303 See Other`` to
the documentation at the term's anchor (``/def/aiwf#{Term}``) for browsers, and to the whole
RDF document in the negotiated syntax (``/def/aiwf.ttl``...) for RDF clients. The namespace
``/def/aiwf/`` redirects the same way without an anchor; the version IRI ``/def/aiwf/0.1.0``
answers the current document itself. The RDF and the model of the page are made by
:mod:`~nhs_ai_workforce.documents.ontology`, and they and the rendered page are kept in the
build's memo, so each is made once per build. A class with an example query
(``queries/classes/{Class}.rq``) shows it as "How to query", with links that run it on
``/sparql`` (the HTML results page) and open it in the query editor (``/#query=...``).
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, redirect, render_template, request

from ..core.errors import ServiceError
from ..core.formats import HTML, RDF_ALIASES, by_media_type
from ..documents import ontology as ontology_doc
from ..documents.examples import ExampleQuery, class_examples
from ..documents.ontology import RDF_TYPES, OntologyDoc, nearest
from ..sparql.negotiation import content_type, negotiate
from ..store.live import modified_time
from .addresses import editor_link, local_path, query_link
from .conditional import conditional
from .errors import Suggestion, not_found
from .state import state

blueprint = Blueprint("ontology_docs", __name__)

#: What ``/def/aiwf`` offers, the default first; the generic JSON and XML types are aliases.
OFFERS = ("text/turtle", HTML, *[t for t in RDF_TYPES if t != "text/turtle"], "application/json", "application/xml")
#: File extension -> media type of each representation of the ontology.
EXTENSIONS = {"html": HTML, **{extension: media_type for media_type, (extension, _) in RDF_TYPES.items()}}
_NAMES = {HTML: "HTML", **{media_type: by_media_type(media_type).label for media_type in RDF_TYPES}}


def _doc() -> OntologyDoc:
    """The ontology of the live build, made the first time the build is seen."""
    current = state()
    base = current.settings.base
    try:
        return current.store.derived(
            ("ontology", base),
            lambda store, build_id: ontology_doc.make_doc(store, base, build_id, class_examples(current.settings)),
        )
    except LookupError as error:
        raise ServiceError(500, "Ontology not in the store", str(error)) from error


def _path(extension: str | None = None) -> str:
    return f"{request.script_root}/def/aiwf" + (f".{extension}" if extension else "")


def _extension(media_type: str) -> str:
    return next(extension for extension, offered in EXTENSIONS.items() if offered == media_type)


def _negotiated() -> str:
    """The media type the client asked for, by ``format`` (a file extension or short name) or ``Accept``."""
    requested = request.args.get("format")
    if requested and requested.strip().lower() in EXTENSIONS:
        return EXTENSIONS[requested.strip().lower()]
    media_type = negotiate(request.headers.get("Accept"), OFFERS, format=requested, what="ontology")
    return RDF_ALIASES.get(media_type, media_type)


def _links(served: str) -> str:
    """The ``Link`` header: every other representation of the ontology."""
    return ", ".join(
        f'<{_path(extension)}>; rel="alternate"; type="{media_type}"'
        for extension, media_type in EXTENSIONS.items()
        if media_type != served
    )


def example_links(example: ExampleQuery) -> dict[str, str]:
    """Where to run a class's example (the endpoint's HTML results page) and open it in the editor."""
    return {"run": query_link(example.query), "editor": editor_link(example.query, example.title)}


def _page(doc: OntologyDoc) -> bytes:
    """The documentation page, rendered once per build, script root and path."""
    formats = [(_NAMES[t], _path(_extension(t)), t) for t in RDF_TYPES]
    key = ("ontology page", doc.build_id, request.script_root, request.path)
    return state().store.derived(
        key,
        lambda _store, _build: render_template(
            "ontology.html", doc=doc, formats=formats, example_links=example_links
        ).encode(),
    )


def _document(media_type: str, *, negotiated: bool) -> Response:
    """One representation of the ontology, with validators and its alternates."""
    doc = _doc()
    body = _page(doc) if media_type == HTML else doc.rdf[media_type]
    response = Response(body, content_type=content_type(media_type))
    response.headers["Link"] = _links(media_type)
    if negotiated:
        response.vary.add("Accept")
        response.headers["Content-Location"] = _path(_extension(media_type))
    return conditional(response, body, modified_time(state().settings, doc.build_id))


@blueprint.get("/def/")
def vocabularies() -> Response:
    """The vocabularies published here (only aiwf): a page for browsers, JSON for API clients."""
    media_type = negotiate(request.headers.get("Accept"), (HTML, "application/json"), what="vocabulary list")
    doc = _doc()
    formats = [(_NAMES[t], _path(_extension(t)), t) for t in EXTENSIONS.values()]
    if media_type == HTML:
        response = Response(render_template("ontology_index.html", doc=doc, formats=formats),
                            content_type=content_type(HTML))
    else:
        root = request.host_url.rstrip("/")
        response = jsonify(vocabularies=[{
            "prefix": "aiwf",
            "iri": doc.iri,
            "namespace": doc.namespace,
            "title": doc.title,
            "version": doc.version,
            "versionIRI": doc.version_iri,
            "terms": len(doc.terms),
            "documents": {t: root + path for _, path, t in formats},
        }])
    response.vary.add("Accept")
    return response


@blueprint.get("/def/aiwf")
def ontology() -> Response:
    """The ontology IRI: the page or the RDF, by content negotiation."""
    return _document(_negotiated(), negotiated=True)


@blueprint.get("/def/aiwf.<extension>")
def ontology_file(extension: str) -> Response:
    """One representation of the ontology, named by its file extension."""
    media_type = EXTENSIONS.get(extension)
    if media_type is None:
        available = ", ".join(f"/def/aiwf.{name}" for name in EXTENSIONS)
        raise ServiceError(404, "Not found", f"nothing is published at {request.path}; the ontology is at {available}")
    return _document(media_type, negotiated=False)


@blueprint.get("/def/aiwf/", defaults={"name": ""})
@blueprint.get("/def/aiwf/<path:name>")
def term(name: str) -> Response:
    """A term IRI (or the namespace): 303 to the page at its anchor, or to the RDF document."""
    doc = _doc()
    if doc.version_iri and local_path(doc.version_iri) == request.path:
        return _document(_negotiated(), negotiated=True)
    if name and name not in doc.terms:
        return _term_not_found(name, doc)
    media_type = _negotiated()
    anchor = f"#{name}" if name else ""
    location = _path() + anchor if media_type == HTML else _path(_extension(media_type))
    response = redirect(location, 303)
    response.vary.add("Accept")
    return response


def _term_not_found(name: str, doc: OntologyDoc) -> Response:
    """404 for a name that is not a term: the one 404 page with the closest terms, or the JSON error."""
    close = [Suggestion(f"{_path()}#{term}", doc.terms[term].label, f"aiwf:{term}")
             for term in nearest(name, doc.terms)]
    return not_found(_unknown(name, doc), nearest=close, query=name)


def _unknown(name: str, doc: OntologyDoc) -> str:
    """The 404 message for a name that is not a term, naming the closest terms."""
    message = f"the aiwf ontology has no term {name!r}"
    close = nearest(name, doc.terms)
    if close:
        return message + "; did you mean " + " or ".join(close) + "?"
    return message + f"; {_path()} lists every term"
