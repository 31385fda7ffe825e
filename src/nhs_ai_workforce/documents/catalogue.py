"""The catalogue of a build: the best label of every labelled IRI and every thing under ``{base}/id/``.

Read once per build (``CurrentStore.derived``) and shared by the browse pages, the 404
suggestions and the resource pages (:mod:`.describe`).

>>> import pyoxigraph as ox
>>> store = ox.Store()
>>> thing = ox.NamedNode("https://example.org/id/initiative/x")
>>> store.add(ox.Quad(thing, ox.NamedNode(RDFS + "label"), ox.Literal("X", language="en"),
...                   ox.NamedNode("https://example.org/id/graph/background")))
>>> catalogue = read_catalogue(store, ProjectNamespaces("https://example.org"))
>>> catalogue.label(thing.value), catalogue.things[thing.value], catalogue.name(RDFS + "label")
('X', ('initiative', 'x'), 'label')
>>> catalogue.curie(RDFS + "label")
'rdfs:label'
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

import pyoxigraph as ox
from rapidfuzz import fuzz, process

from ..core.namespaces import ProjectNamespaces, curie
from ..core.vocab import DCTERMS, FOAF, OWL, PAV, RDFS, SCHEMA, SEMAPV, SKOS, SSSOM, TYPE

__all__ = ["DISPLAY_PREFIXES", "INFERRED", "LABEL_PROPERTIES", "Catalogue", "Entry", "read_catalogue", "short_name",
           "term_words"]

#: Label properties, best first.
LABEL_PROPERTIES = (SKOS + "prefLabel", RDFS + "label", DCTERMS + "title", FOAF + "name", SCHEMA + "name")
#: Prefixes used only to show names on pages (the data and the dumps do not declare them).
DISPLAY_PREFIXES = {"sssom": SSSOM, "pav": PAV, "semapv": SEMAPV, "schema": SCHEMA}
#: The short name of the graph of entailed triples.
INFERRED = "inferred"
#: The short name of the graph of the ontology and the declarations of the terms it reuses.
ONTOLOGY = "ontology"
_WORD = re.compile(r"[A-Z]+(?=[A-Z][a-z]|\b|\d|_)|[A-Z]?[a-z]+|[A-Z]+|\d+")


def short_name(iri: str, prefixes: dict[str, str]) -> str:
    """A prefixed name for ``iri`` where a prefix fits, else the IRI itself.

    >>> short_name("http://purl.org/dc/terms/title", {"dcterms": DCTERMS}), short_name("http://x.org/", {})
    ('dcterms:title', 'http://x.org/')
    """
    return curie(iri, {**DISPLAY_PREFIXES, **prefixes}) or iri


def term_words(iri: str) -> str | None:
    """The local name of a term split into words, for a term its declaration gives no label.

    >>> term_words("http://purl.org/dc/terms/title"), term_words("http://www.w3.org/2004/02/skos/core#exactMatch")
    ('title', 'exact match')
    >>> term_words("http://xmlns.com/foaf/0.1/Organization"), term_words("http://example.org/def/hasURLOfPage")
    ('Organization', 'has URL of page')
    >>> term_words("http://example.org/") is None
    True
    """
    local = re.split(r"[#/]", iri)[-1]
    words = _WORD.findall(local)
    if not words:
        return None
    return " ".join([words[0], *(w if w.isupper() and len(w) > 1 else w.lower() for w in words[1:])])


@dataclass(frozen=True)
class Entry:
    """A thing published under ``{base}/id/``: its IRI, kind, key, label and asserted types."""

    iri: str
    kind: str
    key: str
    label: str
    types: tuple[str, ...] = ()


@dataclass(frozen=True)
class Catalogue:
    """The best label of every labelled IRI, and every thing under ``{base}/id/`` (as subject or object)."""

    base: str
    prefixes: dict[str, str]
    labels: dict[str, str]
    things: dict[str, tuple[str, str]]
    types: dict[str, tuple[str, ...]]
    #: Classes and properties: every predicate, every type and every term the ontology graph declares.
    terms: frozenset[str] = frozenset()
    #: Property -> all its super-properties (``rdfs:subPropertyOf``, transitively; itself excluded).
    super_properties: dict[str, frozenset[str]] = field(default_factory=dict)
    #: Property -> its inverses (``owl:inverseOf`` either way; itself if it is an ``owl:SymmetricProperty``).
    inverses: dict[str, frozenset[str]] = field(default_factory=dict)

    def label(self, iri: str) -> str | None:
        """The label of ``iri``, if the store gives it one."""
        return self.labels.get(iri)

    def name(self, iri: str) -> str:
        """What to call ``iri`` on a page: its label, else ``kind/key``, else a term's local name in words,
        else a prefixed name."""
        label = self.labels.get(iri)
        if label:
            return label
        if iri in self.things:
            return "/".join(self.things[iri])
        if iri in self.terms:
            words = term_words(iri)
            if words:
                return words
        return short_name(iri, self.prefixes)

    def curie(self, iri: str) -> str:
        """``iri`` as a prefixed name where a prefix fits, else the IRI: shown beside a term's label."""
        return short_name(iri, self.prefixes)

    def subsumes(self, general: str, specific: str) -> bool:
        """Is ``general`` a super-property of ``specific`` (or the same property)?"""
        return general == specific or general in self.super_properties.get(specific, ())

    def entry(self, iri: str) -> Entry:
        """The browse entry of the thing ``iri``."""
        kind, key = self.things[iri]
        return Entry(iri, kind, key, self.name(iri), self.types.get(iri, ()))

    def kinds(self) -> list[tuple[str, int, str]]:
        """(kind, number of things, the label of their most common type), by kind."""
        members: dict[str, list[str]] = {}
        for iri, (kind, _) in self.things.items():
            members.setdefault(kind, []).append(iri)
        rows = []
        for kind in sorted(members):
            common = Counter(t for iri in members[kind] for t in self.types.get(iri, ())).most_common(1)
            rows.append((kind, len(members[kind]), self.name(common[0][0]) if common else ""))
        return rows

    def members(self, kind: str | None = None, text: str = "") -> list[Entry]:
        """The things of ``kind`` (all kinds if ``None``) whose label or key contains ``text``, by label."""
        needle = text.strip().casefold()
        entries = [
            self.entry(iri) for iri, (k, key) in self.things.items()
            if (kind is None or k == kind)
            and (not needle or needle in self.name(iri).casefold() or needle in key.replace("-", " "))
        ]
        return sorted(entries, key=lambda e: (e.label.casefold(), e.kind, e.key))

    def nearest(self, text: str, limit: int = 5) -> list[Entry]:
        """The things whose label or key is closest to ``text`` (a mistyped key or a search)."""
        words = text.replace("-", " ").replace("_", " ").replace("/", " ").strip()
        if not words or not self.things:
            return []
        scores: dict[str, float] = {}
        for choices in ({iri: self.name(iri) for iri in self.things},
                        {iri: f"{kind} {key.replace('-', ' ')}" for iri, (kind, key) in self.things.items()}):
            for _, score, iri in process.extract(words, choices, scorer=fuzz.WRatio, limit=limit * 2,
                                                 processor=str.casefold):
                scores[iri] = max(score, scores.get(iri, 0.0))
        best = sorted(scores, key=lambda iri: (-scores[iri], self.name(iri)))[:limit]
        return [self.entry(iri) for iri in best]


def _language_rank(literal: ox.Literal) -> int:
    language = (literal.language or "").lower()
    return 0 if language == "en" else 1 if not language else 2 if language.startswith("en-") else 3


def read_catalogue(store: ox.Store, ns: ProjectNamespaces) -> Catalogue:
    """Read every label and every thing under ``{base}/id/`` from ``store``."""
    labels: dict[str, tuple[tuple[int, int, str], str]] = {}
    for rank, prop in enumerate(LABEL_PROPERTIES):
        for quad in store.quads_for_pattern(None, ox.NamedNode(prop), None, None):
            if isinstance(quad.subject, ox.NamedNode) and isinstance(quad.object, ox.Literal):
                key = (rank, _language_rank(quad.object), quad.object.value)
                if quad.subject.value not in labels or key < labels[quad.subject.value][0]:
                    labels[quad.subject.value] = (key, quad.object.value)
    prefix = ns.base + "/id/"
    query = ("SELECT DISTINCT ?t WHERE { { ?t ?p ?o } UNION { ?s ?p ?t } "
             f'FILTER(isIRI(?t) && STRSTARTS(STR(?t), "{prefix}")) }}')
    things = {}
    for row in store.query(query, use_default_graph_as_union=True):
        kind, slash, key = row["t"].value[len(prefix):].partition("/")
        if kind and slash and key:
            things[row["t"].value] = (kind, key)
    types: dict[str, list[str]] = {}
    inferred = ox.NamedNode(str(ns.graph(INFERRED)))
    for quad in store.quads_for_pattern(None, ox.NamedNode(TYPE), None, None):
        if quad.subject.value in things and quad.graph_name != inferred:
            types.setdefault(quad.subject.value, []).append(quad.object.value)
    return Catalogue(
        base=ns.base,
        prefixes=ns.prefixes(),
        labels={iri: label for iri, (_, label) in labels.items()},
        things=things,
        types={iri: tuple(sorted(set(values))) for iri, values in types.items()},
        terms=_terms(store, ns),
        super_properties=_super_properties(store, ns),
        inverses=_inverses(store, ns),
    )


def _terms(store: ox.Store, ns: ProjectNamespaces) -> frozenset[str]:
    """Every predicate, every class a thing is typed with, and every term the ontology graph types."""
    query = ("SELECT DISTINCT ?t WHERE { { ?s ?t ?o } UNION { ?s a ?t } UNION "
             f"{{ GRAPH <{ns.graph(ONTOLOGY)}> {{ ?t a ?c }} }} FILTER(isIRI(?t)) }}")
    return frozenset(row["t"].value for row in store.query(query, use_default_graph_as_union=True))


def _ontology_pairs(store: ox.Store, ns: ProjectNamespaces, predicate: str) -> list[tuple[str, str]]:
    graph = ox.NamedNode(str(ns.graph(ONTOLOGY)))
    return [(q.subject.value, q.object.value)
            for q in store.quads_for_pattern(None, ox.NamedNode(predicate), None, graph)
            if isinstance(q.subject, ox.NamedNode) and isinstance(q.object, ox.NamedNode)]


def _super_properties(store: ox.Store, ns: ProjectNamespaces) -> dict[str, frozenset[str]]:
    """The ontology graph's ``rdfs:subPropertyOf``, closed transitively."""
    direct: dict[str, set[str]] = {}
    for sub, sup in _ontology_pairs(store, ns, RDFS + "subPropertyOf"):
        direct.setdefault(sub, set()).add(sup)
    closed: dict[str, frozenset[str]] = {}
    for prop in direct:
        seen: set[str] = set()
        frontier = list(direct[prop])
        while frontier:
            sup = frontier.pop()
            if sup not in seen:
                seen.add(sup)
                frontier.extend(direct.get(sup, ()))
        closed[prop] = frozenset(seen - {prop})
    return closed


def _inverses(store: ox.Store, ns: ProjectNamespaces) -> dict[str, frozenset[str]]:
    """The ontology graph's ``owl:inverseOf`` (both ways) and symmetric properties (their own inverse)."""
    found: dict[str, set[str]] = {}
    for one, other in _ontology_pairs(store, ns, OWL + "inverseOf"):
        found.setdefault(one, set()).add(other)
        found.setdefault(other, set()).add(one)
    for prop, kind in _ontology_pairs(store, ns, TYPE):
        if kind == OWL + "SymmetricProperty":
            found.setdefault(prop, set()).add(prop)
    return {prop: frozenset(values) for prop, values in found.items()}
