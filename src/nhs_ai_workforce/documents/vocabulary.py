"""The vocabulary browser's data: the concept schemes, each scheme's alphabetical index and hierarchy.

Reads the live read-only store with SPARQL and knows nothing of HTTP: ``web/vocabulary.py``
serves what this module (and :mod:`.vocabulary_concept`, one concept) returns. Each view is a
plain ``dict``, the same one whether it is sent as JSON or rendered as a page, so the two cannot
disagree. Every path of the browser is built here (:class:`Links`).

A scheme is known by a key: ``{base}/id/scheme/{key}`` is ``key``; an ESCO scheme
(``http://data.europa.eu/esco/concept-scheme/isco``) is ``esco-isco``; any other IRI gives a slug
of its host and path. A concept is known by its path under ``{base}/id/`` (``role/data-scientist``)
or under ESCO's namespace (``isco/C2511``); any other concept is ``page?uri={iri}``, as in Skosmos.

Imported classifications hold thousands of concepts and tens of thousands of labels, so the
index shows every letter on one page only up to :data:`INLINE_LIMIT` entries, and otherwise one
letter at a time, :data:`LETTER_PAGE` entries a page; the hierarchy expands breadth first until
:data:`TREE_BUDGET` nodes are drawn, and deeper concepts link to their own pages.

>>> scheme_key("https://example.org/id/scheme/role-terms", "https://example.org")
'role-terms'
>>> scheme_key("http://data.europa.eu/esco/concept-scheme/isco", "https://example.org")
'esco-isco'
>>> scheme_key("https://ddat-capability-framework.service.gov.uk", "https://example.org")
'ddat-capability-framework-service-gov-uk'
>>> letter_of("AI professional"), letter_of("'quoted'"), letter_of("2133 analysts"), letter_of("\u00c9cole")
('A', 'Q', '0-9', 'E')
"""

from __future__ import annotations

import re
import unicodedata
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from urllib.parse import quote

import pyoxigraph as ox
from rapidfuzz import fuzz, process

from ..core.errors import BadRequest, ServiceError
from ..core.namespaces import ProjectNamespaces
from ..core.terms import graph_label
from ..core.vocab import DCTERMS, ESCO, SKOS
from ..store.query import run_query
from .catalogue import INFERRED, Catalogue

__all__ = [
    "DIGITS", "INLINE_LIMIT", "LETTERS", "LETTER_PAGE", "OTHER", "TREE_BUDGET", "IndexEntry", "Links", "Scheme",
    "SchemeContents", "best_literal", "concept_path", "find_concept", "hierarchy", "index_view", "letter_of",
    "nearest_concepts", "read_scheme", "read_schemes", "scheme_key", "scheme_list", "scheme_view", "schemes_holding",
]

#: Index entries shown on one page, every letter at once; a bigger scheme shows one letter at a time.
INLINE_LIMIT = 1500
#: Entries of one letter per page when a scheme's index is shown a letter at a time.
LETTER_PAGE = 200
#: Nodes of the hierarchy drawn on a scheme's page; the rest are reached from the concept pages.
TREE_BUDGET = 1000
#: The index's sections: A to Z, then labels starting with a digit, then any other.
DIGITS, OTHER = "0-9", "other"
LETTERS = (*(chr(c) for c in range(ord("A"), ord("Z") + 1)), DIGITS, OTHER)
LETTER_NAMES = {DIGITS: "0\u20139", OTHER: "#"}
#: Namespaces whose concepts get readable paths (``role/data-scientist``, ``isco/C2511``), first wins.
ESCO_SCHEMES = ESCO + "concept-scheme/"
_PREFIX = f"PREFIX skos: <{SKOS}>\nPREFIX dcterms: <{DCTERMS}>\n"
_SLUG = re.compile(r"[^a-z0-9]+")


def scheme_key(iri: str, base: str) -> str:
    """The key of the scheme ``iri`` in the browser's paths (see the module's examples)."""
    local = base.rstrip("/") + "/id/scheme/"
    if iri.startswith(local) and "/" not in iri[len(local):]:
        return iri[len(local):]
    if iri.startswith(ESCO_SCHEMES):
        return "esco-" + _SLUG.sub("-", iri[len(ESCO_SCHEMES):].lower()).strip("-")
    rest = re.sub(r"^[a-z]+://(www\.)?", "", iri.lower())
    return _SLUG.sub("-", rest).strip("-") or "scheme"


def _homes(base: str) -> tuple[str, ...]:
    return base.rstrip("/") + "/id/", ESCO


def concept_path(iri: str, base: str) -> str | None:
    """The readable path of a concept (``role/data-scientist``, ``isco/C2511``), or ``None`` for ``?uri=``.

    >>> concept_path("https://example.org/id/role/data-analyst", "https://example.org")
    'role/data-analyst'
    >>> concept_path("http://data.europa.eu/esco/isco/C2511", "https://example.org"), concept_path("urn:x", "")
    ('isco/C2511', None)
    """
    for home in _homes(base):
        rest = iri[len(home):]
        if iri.startswith(home) and "/" in rest.strip("/") and re.fullmatch(r"[A-Za-z0-9._~/-]+", rest):
            return rest
    return None


def letter_of(label: str) -> str:
    """The index section of ``label``: its first letter or digit, accents removed (``0-9`` or ``other``)."""
    first = next((char for char in label if char.isalnum()), "")
    base = unicodedata.normalize("NFKD", first)[:1].upper()
    if "A" <= base <= "Z":
        return base
    return DIGITS if base.isdigit() else OTHER


def _language_rank(literal: ox.Literal) -> int:
    language = (literal.language or "").lower()
    return 0 if language == "en" else 1 if not language else 2 if language.startswith("en-") else 3


def best_literal(literals: list[ox.Literal]) -> ox.Literal | None:
    """The English (else untagged, else any) literal of ``literals``, the first by text on a tie."""
    return min(literals, key=lambda lit: (_language_rank(lit), lit.value), default=None)


@dataclass(frozen=True)
class Links:
    """How the browser's pages link: ``root`` is the site's path prefix, ``iri`` links any other IRI."""

    base: str
    root: str = ""
    iri: Callable[[str], str] = field(default=lambda iri: iri)

    def index(self) -> str:
        return f"{self.root}/vocab/"

    def scheme(self, key: str, suffix: str = "") -> str:
        return f"{self.root}/vocab/{quote(key, safe='')}{suffix}"

    def concept(self, key: str, iri: str, suffix: str = "") -> str:
        path = concept_path(iri, self.base)
        if path is None:
            return f"{self.scheme(key)}/page{suffix}?uri={quote(iri, safe='')}"
        return f"{self.scheme(key)}/{quote(path, safe='/')}{suffix}"


# -- the schemes ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scheme:
    """A concept scheme: its IRI and key, title, definition, how many concepts, which graphs state them."""

    iri: str
    key: str
    title: str
    definition: str | None
    concepts: int
    graphs: tuple[str, ...]


def read_schemes(store: ox.Store, ns: ProjectNamespaces, catalogue: Catalogue) -> tuple[Scheme, ...]:
    """Every concept scheme in the store (declared, or named by a concept's ``skos:inScheme``), by title."""
    counts: dict[str, int] = {}
    query = _PREFIX + """SELECT ?s (COUNT(DISTINCT ?c) AS ?n) WHERE {
        { ?s a skos:ConceptScheme } UNION { ?c skos:inScheme ?s } UNION { ?c skos:topConceptOf ?s }
        UNION { ?s skos:hasTopConcept ?c } FILTER(isIRI(?s)) } GROUP BY ?s"""
    for row in run_query(store, query):
        counts[row["s"].value] = int(row["n"].value)
    graphs: dict[str, set[str]] = {}
    inferred = str(ns.graph(INFERRED))
    query = _PREFIX + """SELECT DISTINCT ?s ?g WHERE {
        GRAPH ?g { { ?s a skos:ConceptScheme } UNION { ?c skos:inScheme ?s } } }"""
    for row in run_query(store, query):
        if row["g"].value != inferred:
            graphs.setdefault(row["s"].value, set()).add(graph_label(row["g"], ns))
    definitions: dict[str, list[ox.Literal]] = {}
    query = _PREFIX + """SELECT ?s ?d WHERE { ?s a skos:ConceptScheme .
        { ?s skos:definition ?d } UNION { ?s dcterms:description ?d } FILTER(isLiteral(?d)) }"""
    for row in run_query(store, query):
        definitions.setdefault(row["s"].value, []).append(row["d"])
    schemes = []
    for iri, count in counts.items():
        definition = best_literal(definitions.get(iri, []))
        schemes.append(Scheme(iri, scheme_key(iri, ns.base), catalogue.name(iri),
                              definition.value if definition else None, count, tuple(sorted(graphs.get(iri, ())))))
    return tuple(sorted(schemes, key=lambda s: (s.title.casefold(), s.key)))


def _scheme_json(scheme: Scheme, links: Links) -> dict:
    return {
        "key": scheme.key, "iri": scheme.iri, "title": scheme.title, "definition": scheme.definition,
        "concepts": scheme.concepts, "graphs": list(scheme.graphs), "href": links.scheme(scheme.key),
        "json": links.scheme(scheme.key, ".json"), "document": links.iri(scheme.iri),
    }


def scheme_list(schemes: tuple[Scheme, ...], links: Links) -> dict:
    """The ``/vocab/`` view: every scheme with its concept count."""
    return {"schemes": [_scheme_json(scheme, links) for scheme in schemes]}


# -- one scheme -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IndexEntry:
    """A label in the index: preferred (``preferred`` is ``None``) or alternative (``preferred`` names the concept)."""

    label: str
    concept: str
    preferred: str | None = None
    language: str | None = None


@dataclass(frozen=True)
class SchemeContents:
    """A scheme's concepts: their preferred labels and notations, the index entries and the hierarchy."""

    scheme: Scheme
    labels: dict[str, str]
    notations: dict[str, str]
    entries: tuple[IndexEntry, ...]
    narrower: dict[str, tuple[str, ...]]
    broader: dict[str, tuple[str, ...]]
    roots: tuple[str, ...]

    def label(self, iri: str) -> str:
        return self.labels.get(iri) or iri

    def sort(self, iris: Iterable[str]) -> tuple[str, ...]:
        """Concepts in order: by notation (``2511.3`` before ``2511.20``) when each has one, else by label."""
        iris = list(iris)
        if iris and all(iri in self.notations for iri in iris):
            return tuple(sorted(iris, key=lambda iri: (_natural(self.notations[iri]), iri)))
        return tuple(sorted(iris, key=lambda iri: (self.label(iri).casefold(), iri)))


def _natural(text: str) -> tuple:
    """A sort key that orders the numbers in ``text`` by value.

    >>> sorted(["2511.20", "2511.3", "A10", "A9"], key=_natural)
    ['2511.3', '2511.20', 'A9', 'A10']
    """
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part.casefold())
                 for part in re.findall(r"\d+|\D+", text))


def read_scheme(store: ox.Store, scheme: Scheme, catalogue: Catalogue) -> SchemeContents:
    """The concepts of ``scheme`` with their labels and notations, its index and its hierarchy."""
    iri = f"<{scheme.iri}>"
    members = (f"{{ ?c skos:inScheme {iri} }} UNION {{ ?c skos:topConceptOf {iri} }} "
               f"UNION {{ {iri} skos:hasTopConcept ?c }}")
    literals: dict[str, dict[str, list[ox.Literal]]] = {}
    query = _PREFIX + f"""SELECT DISTINCT ?c ?p ?l WHERE {{ {members} FILTER(isIRI(?c))
        OPTIONAL {{ VALUES ?p {{ skos:prefLabel skos:altLabel skos:notation }} ?c ?p ?l FILTER(isLiteral(?l)) }} }}"""
    for row in run_query(store, query):
        found = literals.setdefault(row["c"].value, {})
        if row["p"] is not None:
            found.setdefault(row["p"].value.rsplit("#", 1)[-1], []).append(row["l"])
    labels, notations, entries = {}, {}, []
    for concept, found in literals.items():
        pref = best_literal([lit for lit in found.get("prefLabel", []) if _language_rank(lit) < 3]) \
            or best_literal(found.get("prefLabel", []))
        label = pref.value if pref else catalogue.name(concept)
        labels[concept] = label
        notation = best_literal(found.get("notation", []))
        if notation is not None:
            notations[concept] = notation.value
        entries.append(IndexEntry(label, concept, None, pref.language if pref else None))
        alternatives = {lit.value: lit for lit in found.get("altLabel", []) if _language_rank(lit) < 3}
        for text, lit in sorted(alternatives.items()):
            if text.casefold() != label.casefold():
                entries.append(IndexEntry(text, concept, label, lit.language))
    entries.sort(key=lambda e: (e.label.casefold(), e.preferred is not None, e.preferred or "", e.concept))
    pairs: set[tuple[str, str]] = set()
    query = _PREFIX + f"""SELECT DISTINCT ?n ?b WHERE {{
        {{ ?n skos:inScheme {iri} }} UNION {{ ?n skos:topConceptOf {iri} }}
        {{ ?n skos:broader ?b }} UNION {{ ?b skos:narrower ?n }} }}"""
    for row in run_query(store, query):
        if row["b"].value in literals and row["n"] != row["b"]:
            pairs.add((row["b"].value, row["n"].value))
    query = _PREFIX + f"""SELECT DISTINCT ?c WHERE {{
        {{ {iri} skos:hasTopConcept ?c }} UNION {{ ?c skos:topConceptOf {iri} }} }}"""
    tops = {row["c"].value for row in run_query(store, query)}
    narrower: dict[str, list[str]] = {}
    broader: dict[str, list[str]] = {}
    for parent, child in pairs:
        narrower.setdefault(parent, []).append(child)
        broader.setdefault(child, []).append(parent)
    contents = SchemeContents(scheme, labels, notations, tuple(entries), {}, {}, ())
    return SchemeContents(
        scheme, labels, notations, tuple(entries),
        {parent: contents.sort(children) for parent, children in narrower.items()},
        {child: contents.sort(parents) for child, parents in broader.items()},
        contents.sort(c for c in literals if c in tops or c not in broader),
    )


def find_concept(contents: SchemeContents, base: str, path: str | None, uri: str | None = None) -> str | None:
    """The concept of the scheme that a path (``role/data-scientist``) or a ``uri`` names, else ``None``."""
    if uri is not None:
        return uri if uri in contents.labels else None
    for home in _homes(base):
        if path and home + path in contents.labels:
            return home + path
    return None


_SAFE_IRI = re.compile(r"[a-z][a-z0-9+.-]*:[^\s<>\"{}|\\^`]+", re.I)


def schemes_holding(store: ox.Store, base: str, asked: str) -> list[tuple[str, str]]:
    """(concept, scheme) for every scheme holding the concept that ``asked`` (a path or an IRI) names."""
    candidates = [asked] if "://" in asked else [home + asked for home in _homes(base)]
    candidates = [iri for iri in candidates if _SAFE_IRI.fullmatch(iri)]
    if not candidates:
        return []
    values = " ".join(f"<{iri}>" for iri in candidates)
    query = _PREFIX + f"""SELECT DISTINCT ?c ?s WHERE {{ VALUES ?c {{ {values} }}
        {{ ?c skos:inScheme ?s }} UNION {{ ?c skos:topConceptOf ?s }} UNION {{ ?s skos:hasTopConcept ?c }} }}"""
    return sorted((row["c"].value, row["s"].value) for row in run_query(store, query))


def nearest_concepts(contents: SchemeContents, text: str, limit: int = 5) -> list[str]:
    """The concepts of the scheme whose labels are closest to ``text`` (a mistyped key)."""
    words = re.sub(r"[-_/]+", " ", text).strip()
    choices = {entry.label: entry.concept for entry in contents.entries}
    if not words or not choices:
        return []
    found = process.extract(words, list(choices), scorer=fuzz.WRatio, processor=str.casefold, limit=limit * 3)
    return list(dict.fromkeys(choices[label] for label, _, _ in found))[:limit]


# -- the index and the hierarchy ----------------------------------------------------------------------


def _entry_json(entry: IndexEntry, key: str, links: Links) -> dict:
    return {"label": entry.label, "language": entry.language, "type": "altLabel" if entry.preferred else "prefLabel",
            "preferred": entry.preferred, "concept": entry.concept, "href": links.concept(key, entry.concept)}


def index_view(contents: SchemeContents, links: Links, letter: str | None = None, page: int = 1, *,
               inline_limit: int | None = None, per_page: int | None = None) -> dict:
    """The alphabetical index: every letter's entries when the scheme is small and no ``letter`` is
    asked for; else one letter's entries, ``per_page`` at a time.

    :raises BadRequest: for a ``letter`` that is not a section or a ``page`` below 1.
    :raises ServiceError: 404 for a page past the last.
    """
    if letter is not None and letter not in LETTERS:
        raise BadRequest(f"letter={letter!r} is not a section of the index; use A to Z, {DIGITS} or {OTHER}",
                         "Bad parameter")
    if page < 1:
        raise BadRequest(f"page={page} is not a page; pages start at 1", "Bad parameter")
    inline_limit = INLINE_LIMIT if inline_limit is None else inline_limit
    per_page = LETTER_PAGE if per_page is None else per_page
    key = contents.scheme.key
    by_letter: dict[str, list[IndexEntry]] = {}
    for entry in contents.entries:
        by_letter.setdefault(letter_of(entry.label), []).append(entry)
    inline = letter is None and len(contents.entries) <= inline_limit
    if inline and page > 1:
        raise ServiceError(404, "Not found", f"the index of {key} is one page; give a letter to page through one")
    if not inline and letter is None:
        letter = next((name for name in LETTERS if name in by_letter), "A")
    shown = [name for name in LETTERS if name in by_letter] if inline else [letter]
    sections = []
    for name in shown:
        found = by_letter.get(name, [])
        pages = max(1, -(-len(found) // per_page)) if not inline else 1
        if page > pages:
            raise ServiceError(404, "Not found", f"letter {name} of {key} has {pages} page(s), not {page}")
        chosen = found if inline else found[(page - 1) * per_page: page * per_page]
        sections.append({
            "letter": name, "name": LETTER_NAMES.get(name, name), "anchor": f"letter-{name}", "total": len(found),
            "page": page if not inline else 1, "pages": pages,
            "entries": [_entry_json(entry, key, links) for entry in chosen],
        })
    letters = []
    for name in LETTERS:
        count = len(by_letter.get(name, ()))
        if name in (DIGITS, OTHER) and not count:
            continue
        target = f"#letter-{name}" if name in shown else links.scheme(key) + f"?letter={quote(name)}#letter-{name}"
        letters.append({"letter": name, "name": LETTER_NAMES.get(name, name), "count": count,
                        "href": target if count else None})
    return {"inline": inline, "letter": None if inline else letter, "total": len(contents.entries),
            "letters": letters, "sections": sections}


def hierarchy(contents: SchemeContents, links: Links, budget: int | None = None) -> tuple[list[dict], bool]:
    """The scheme's tree from its top concepts down ``skos:narrower``, breadth first, at most ``budget``
    nodes; a node left folded has ``"narrower": null`` and its ``count``. Also: is the whole tree drawn?

    A concept with two broader concepts appears under each; a cycle is cut where it would repeat.
    """
    key = contents.scheme.key
    budget = TREE_BUDGET if budget is None else budget

    def node(iri: str) -> dict:
        return {"concept": iri, "label": contents.label(iri), "notation": contents.notations.get(iri),
                "href": links.concept(key, iri), "count": len(contents.narrower.get(iri, ())), "narrower": None}

    roots = [node(iri) for iri in contents.roots[:budget]]
    drawn, complete = len(roots), len(roots) == len(contents.roots)
    queue = deque((item, (item["concept"],)) for item in roots)
    while queue:
        item, path = queue.popleft()
        children = [iri for iri in contents.narrower.get(item["concept"], ()) if iri not in path]
        if not children:
            item["narrower"] = []
        elif drawn + len(children) > budget:
            complete = False
        else:
            item["narrower"] = [node(iri) for iri in children]
            drawn += len(children)
            queue.extend((child, (*path, child["concept"])) for child in item["narrower"])
    return roots, complete


def scheme_view(contents: SchemeContents, links: Links, letter: str | None = None, page: int = 1) -> dict:
    """The ``/vocab/{scheme}`` view: the scheme, its alphabetical index and its hierarchy."""
    tree, complete = hierarchy(contents, links)
    return {
        "scheme": _scheme_json(contents.scheme, links),
        "index": index_view(contents, links, letter, page),
        "top_concepts": len(contents.roots),
        "hierarchy_complete": complete,
        "hierarchy": tree,
    }
