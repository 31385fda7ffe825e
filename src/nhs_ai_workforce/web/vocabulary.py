"""The vocabulary browser at /vocab/: concept schemes, their index and hierarchy, and concept pages.

========================================  =========================================================
``GET /vocab/``                           every concept scheme with its number of concepts
``GET /vocab/{scheme}``                   the scheme: an alphabetical index (preferred and alternative
                                          labels, ``alt → preferred``) and a collapsible hierarchy;
                                          ``?letter=B&page=2`` for one letter of a big scheme's index,
                                          ``?expand=all`` opens the whole hierarchy
``GET /vocab/{scheme}/{kind}/{key}``      a concept (``{base}/id/{kind}/{key}``; an ESCO concept by its
``GET /vocab/{scheme}/page?uri={iri}``    path under ESCO's namespace, ``isco/C2511``; any other by
                                          ``?uri=``): its labels, definition, broader, narrower and
                                          related concepts, mappings with their SSSOM record, the wording
                                          each initiative uses for it and the findings that concern it
========================================  =========================================================

Each answers HTML or JSON (the same ``dict`` the page is rendered from: see
:mod:`~nhs_ai_workforce.documents.vocabulary`), by ``Accept`` (``application/json``), by
``?format=json`` / ``?format=html``, or by a ``.json`` / ``.html`` suffix on the last part of the
path (``/vocab/role-terms.json``, ``/vocab/role-terms/role/data-scientist.json``, ``/vocab.json``).
Unknown schemes and concepts are the one 404 (with the nearest schemes or concepts), and an
unacceptable type the one 406. The schemes and each scheme's index and tree are read once per build
(``CurrentStore.derived``); every answer has an ``ETag`` and the date of the build's data as ``Last-Modified``.
"""

from __future__ import annotations

import json

from flask import Blueprint, Response, render_template, request
from rapidfuzz import fuzz, process

from ..core.errors import BadRequest, ServiceError
from ..core.formats import HTML
from ..core.namespaces import ProjectNamespaces
from ..core.vocab import SKOS
from ..documents import vocabulary as vocab
from ..documents.catalogue import Catalogue, read_catalogue
from ..documents.vocabulary_concept import concept_view
from ..sparql.negotiation import content_type, negotiate
from ..store.live import modified_time
from .addresses import href
from .conditional import conditional
from .errors import Suggestion, not_found
from .state import state

blueprint = Blueprint("vocabulary", __name__)

JSON = "application/json"
OFFERS = (HTML, JSON)
SUFFIXES = {".json": JSON, ".html": HTML}
FORMATS = {"json": JSON, "html": HTML, JSON: JSON, HTML: HTML}
#: The pages load no script and no style from elsewhere.
_CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'none'; object-src 'none'; "
        "base-uri 'none'; form-action 'self'")


# -- the build's data, made once per build ------------------------------------------------------------


def _base() -> str:
    return ProjectNamespaces(state().settings.base).base


def _catalogue() -> Catalogue:
    ns = ProjectNamespaces(state().settings.base)
    return state().store.derived(("catalogue", ns.base), lambda store, _build: read_catalogue(store, ns))


def _schemes() -> tuple[vocab.Scheme, ...]:
    catalogue = _catalogue()
    ns = ProjectNamespaces(state().settings.base)
    return state().store.derived(("vocab schemes", ns.base),
                                 lambda store, _build: vocab.read_schemes(store, ns, catalogue))


def _contents(scheme: vocab.Scheme) -> vocab.SchemeContents:
    catalogue = _catalogue()
    return state().store.derived(("vocab scheme", scheme.iri, scheme.key),
                                 lambda store, _build: vocab.read_scheme(store, scheme, catalogue))


def _links() -> vocab.Links:
    return vocab.Links(_base(), request.script_root, href)


# -- negotiation and answers ---------------------------------------------------------------------------


def _split(name: str, known) -> tuple[str, str | None]:
    """(name, media type its suffix asks for, or ``None``): ``role-terms.json`` is ``role-terms`` as JSON,
    unless ``known(name)`` says the whole name is itself a key."""
    for suffix, media in SUFFIXES.items():
        if name.endswith(suffix) and not known(name):
            return name[: -len(suffix)], media
    return name, None


def _media(chosen: str | None) -> str:
    """The media type to answer with: the suffix's, else ``?format=``'s, else the best for ``Accept``."""
    if chosen:
        return chosen
    requested = request.args.get("format")
    if requested is not None:
        name = requested.strip().lower()
        if name in FORMATS:
            return FORMATS[name]
        raise ServiceError(406, "Not acceptable", f"format={requested!r} is not available for a vocabulary page; "
                           f"use format=html or format=json ({', '.join(OFFERS)})")
    return negotiate(request.headers.get("Accept"), OFFERS, what="vocabulary page")


def _answer(view: dict, template: str, media: str, json_path: str, *, negotiated: bool, **page: object) -> Response:
    """The view as JSON or as the page, with its alternate, validators and caching headers."""
    if media == JSON:
        body = json.dumps(view, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    else:
        body = render_template(template, v=view, json_path=json_path, **page).encode("utf-8")
    response = Response(body, content_type=content_type(media))
    response.headers["Link"] = f'<{json_path}>; rel="alternate"; type="{JSON}"'
    if media == HTML:
        response.headers["Content-Security-Policy"] = _CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    if negotiated:
        response.vary.add("Accept")
    response.cache_control.public = True
    response.cache_control.no_cache = True
    return conditional(response, body, modified_time(state().settings, state().store.build_id))


# -- the scheme list -----------------------------------------------------------------------------------


@blueprint.get("/vocab/")
@blueprint.get("/vocab.json", defaults={"extension": "json"})
@blueprint.get("/vocab.html", defaults={"extension": "html"})
def schemes(extension: str | None = None) -> Response:
    """Every concept scheme with its number of concepts."""
    chosen = SUFFIXES["." + extension] if extension else None
    media = _media(chosen)
    view = vocab.scheme_list(_schemes(), _links())
    return _answer(view, "vocabulary_index.html", media, f"{request.script_root}/vocab.json", negotiated=not chosen)


# -- one scheme ----------------------------------------------------------------------------------------


def _find_scheme(name: str) -> tuple[vocab.Scheme | None, str | None, str]:
    """(the scheme ``name`` names or ``None``, the media type its suffix asks for, the key)."""
    by_key = {scheme.key: scheme for scheme in _schemes()}
    key, chosen = _split(name, lambda whole: whole in by_key)
    return by_key.get(key), chosen, key


def _scheme_not_found(key: str) -> Response:
    schemes_ = _schemes()
    links = _links()
    titles = {scheme.key: f"{scheme.title} {scheme.key}" for scheme in schemes_}
    best = [found for _, _, found in process.extract(key.replace("-", " "), titles, scorer=fuzz.WRatio,
                                                      processor=str.casefold, limit=5)] if titles else []
    by_key = {scheme.key: scheme for scheme in schemes_}
    ranked = [by_key[k] for k in best] + [s for s in schemes_ if s.key not in best]
    return not_found(f"no concept scheme {key!r} is published here; {links.index()} lists them",
                     nearest=[Suggestion(links.scheme(s.key), s.title, f"vocab/{s.key}") for s in ranked[:8]],
                     query=key.replace("-", " "), headers={"Content-Security-Policy": _CSP})


def _int(name: str, default: int) -> int:
    value = request.args.get(name)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        raise BadRequest(f"{name}={value!r} is not a whole number", "Bad parameter") from None


@blueprint.get("/vocab/<name>")
def scheme(name: str) -> Response:
    """A scheme's alphabetical index and hierarchy."""
    found, chosen, key = _find_scheme(name)
    if found is None:
        return _scheme_not_found(key)
    media = _media(chosen)
    contents = _contents(found)
    letter, page = request.args.get("letter"), _int("page", 1)
    links = _links()

    def make(_store=None, _build=None) -> dict:
        return vocab.scheme_view(contents, links, letter, page)

    # Only views that can exist are kept: a bad letter or page raises, and a failed make keeps nothing.
    cache_key = ("vocab scheme view", found.iri, found.key, request.script_root, letter, page)
    view = state().store.derived(cache_key, make) if letter in (None, *vocab.LETTERS) else make()
    return _answer(view, "vocabulary_scheme.html", media, links.scheme(found.key, ".json"), negotiated=not chosen,
                   expand=request.args.get("expand") == "all")


# -- one concept ---------------------------------------------------------------------------------------


@blueprint.get("/vocab/<name>/<path:concept>")
def concept(name: str, concept: str) -> Response:
    """A concept of the scheme ``name``, known by its path or, after ``page``, by ``?uri=``."""
    found, _, key = _find_scheme(name)
    if found is None:
        return _scheme_not_found(key)
    contents = _contents(found)
    base = _base()
    uri = request.args.get("uri")
    path, chosen = _split(concept, lambda whole: vocab.find_concept(contents, base, whole) is not None)
    if path == "page":
        if not uri:
            raise BadRequest(f"{request.path} names a concept by ?uri=; give the concept's IRI", "Bad parameter")
        iri = vocab.find_concept(contents, base, None, uri)
    else:
        iri = vocab.find_concept(contents, base, path)
    if iri is None:
        return _concept_not_found(contents, uri or path)
    media = _media(chosen)
    links = _links()
    view = concept_view(state().store.get(), iri, contents, _schemes(), _catalogue(), links)
    return _answer(view, "vocabulary_concept.html", media, links.concept(found.key, iri, ".json"),
                   negotiated=not chosen)


def _concept_not_found(contents: vocab.SchemeContents, asked: str) -> Response:
    """404 naming the scheme, the schemes that do hold the concept, and the nearest labels in this one."""
    links = _links()
    scheme_ = contents.scheme
    by_iri = {other.iri: other for other in _schemes()}
    holding = [(iri, by_iri[s]) for iri, s in vocab.schemes_holding(state().store.get(), _base(), asked)
               if s in by_iri and s != scheme_.iri]
    elsewhere = [Suggestion(links.concept(other.key, iri), f"{_catalogue().name(iri)} in {other.title}",
                            f"vocab/{other.key}") for iri, other in holding]
    nearest = [Suggestion(links.concept(scheme_.key, iri), contents.label(iri), f"vocab/{scheme_.key}")
               for iri in vocab.nearest_concepts(contents, asked.rsplit("/", 1)[-1])]
    message = f"the scheme {scheme_.key!r} has no concept {asked!r}"
    if elsewhere:
        message += "; it is in " + ", ".join(s.detail.removeprefix("vocab/") for s in elsewhere)
    return not_found(message, nearest=elsewhere + nearest, query=asked.rsplit("/", 1)[-1].replace("-", " "),
                     headers={"Content-Security-Policy": _CSP})


# -- links from the resource pages ---------------------------------------------------------------------


@blueprint.app_template_global("vocabulary_links")
def vocabulary_links(description) -> list[tuple[str, str]]:
    """(path, title) of the browser's pages about a resource page's thing: the scheme's own page if it
    is a concept scheme, its page in each scheme it is a concept of."""
    links = _links()
    by_iri = {scheme.iri: scheme for scheme in _schemes()}
    found = []
    if description.iri in by_iri and any(t.value == SKOS + "ConceptScheme" for t in description.types):
        found.append((links.scheme(by_iri[description.iri].key), by_iri[description.iri].title))
    for statement in description.statements:
        if statement.predicate == SKOS + "inScheme":
            for value in statement.values:
                if value.value in by_iri:
                    found.append((links.concept(by_iri[value.value].key, description.iri), by_iri[value.value].title))
    return found

