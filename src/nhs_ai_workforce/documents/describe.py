"""What the store says about one resource: its statements, labels, incoming links and provenance.

Reads the live read-only Oxigraph store and knows nothing of HTTP: ``web/resources.py`` renders
what this module returns. Names come from the build's :class:`~.catalogue.Catalogue`.

>>> import pyoxigraph as ox
>>> from nhs_ai_workforce.documents.catalogue import read_catalogue
>>> store = ox.Store()
>>> thing = ox.NamedNode("https://example.org/id/initiative/x")
>>> store.add(ox.Quad(thing, ox.NamedNode(RDFS + "label"), ox.Literal("X", language="en"),
...                   ox.NamedNode("https://example.org/id/graph/background")))
>>> catalogue = read_catalogue(store, ProjectNamespaces("https://example.org"))
>>> describe(store, thing.value, catalogue).statements[0].values[0].graphs
('background',)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import pyoxigraph as ox

from ..core.namespaces import ALL_GRAPHS, GRAPH_DESCRIPTIONS, ProjectNamespaces
from ..core.terms import graph_label
from ..core.vocab import DCAT, DCTERMS, FOAF, OWL, RDFS, SKOS, TYPE
from .catalogue import INFERRED, LABEL_PROPERTIES, Catalogue, short_name
from .void import dataset_iri

__all__ = [
    "INCOMING_LIMIT",
    "Citation",
    "Description",
    "ExternalLink",
    "Incoming",
    "Statement",
    "Value",
    "describe",
    "document_iri",
    "document_quads",
    "metadata_triples",
    "neighbourhood",
]

#: Mappings to other concept schemes (SOC 2020, ISCO-08, ESCO, the DDaT framework).
MAPPING_RELATIONS = tuple(SKOS + name for name in ("exactMatch", "closeMatch", "broadMatch", "narrowMatch",
                                                   "relatedMatch"))
#: Properties whose values are pages or identifiers elsewhere.
LINK_PROPERTIES = (FOAF + "page", FOAF + "homepage", FOAF + "isPrimaryTopicOf", RDFS + "seeAlso", OWL + "sameAs",
                   DCAT + "landingPage")
#: Incoming links listed on a page; the rest are counted.
INCOMING_LIMIT = 500
#: Nodes drawn in the neighbourhood graph.
NEIGHBOURHOOD_LIMIT = 40


def document_iri(iri: str, base: str) -> str | None:
    """The ``/doc/`` document that describes the thing ``iri`` (``None`` if not under ``{base}/id/``).

    >>> document_iri("https://example.org/id/role/x", "https://example.org")
    'https://example.org/doc/role/x'
    """
    prefix = base.rstrip("/") + "/id/"
    return base.rstrip("/") + "/doc/" + iri[len(prefix):] if iri.startswith(prefix) else None


# -- one resource ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Value:
    """One object of a statement: an IRI (with its label), a literal or a blank node (with its statements)."""

    kind: str  # "iri", "literal" or "blank"
    value: str
    text: str
    graphs: tuple[str, ...] = ()
    language: str | None = None
    datatype: str | None = None
    nested: tuple[Statement, ...] = ()
    #: The prefixed name of a class or property shown by its label (a tooltip), else ``None``.
    curie: str | None = None

    @property
    def inferred_only(self) -> bool:
        """Is this value stated only in the inferred graph?"""
        return bool(self.graphs) and all(g == INFERRED for g in self.graphs)


@dataclass(frozen=True)
class Statement:
    """A property of the resource and its values."""

    predicate: str
    name: str
    values: tuple[Value, ...]
    curie: str = ""


@dataclass(frozen=True)
class Incoming:
    """A resource that links to this one, with the property and the graphs it is stated in."""

    subject: str
    subject_name: str
    predicate: str
    predicate_name: str
    graphs: tuple[str, ...]
    predicate_curie: str = ""


@dataclass(frozen=True)
class Citation:
    """A section of a source document that the resource is stated in."""

    section: str
    label: str
    locator: str | None
    document: str | None
    document_label: str | None
    order: int


@dataclass(frozen=True)
class ExternalLink:
    """A link out: a page, an interval, or a mapping to a standard code (with its label and notation)."""

    predicate: str
    relation: str
    target: str
    label: str | None
    notation: str | None
    graphs: tuple[str, ...]
    relation_curie: str = ""


@dataclass(frozen=True)
class Description:
    """Everything a resource page shows."""

    iri: str
    label: str
    types: tuple[Value, ...]
    statements: tuple[Statement, ...]
    inferred: tuple[Statement, ...]
    incoming: tuple[Incoming, ...]
    incoming_total: int
    notes: tuple[str, ...]
    citations: tuple[Citation, ...]
    links: tuple[ExternalLink, ...]
    graphs: tuple[tuple[str, str], ...]
    quads: tuple[ox.Quad, ...] = field(repr=False, default=())
    #: Incoming statements left out of :attr:`incoming` as entailed repeats of statements shown.
    incoming_folded: int = 0

    @property
    def empty(self) -> bool:
        """Does the store say nothing about the resource, either way?"""
        return not self.quads and not self.incoming_total and not self.incoming_folded


def _graph_names(quads: Iterable[ox.Quad], ns: ProjectNamespaces) -> tuple[str, ...]:
    """The short names of the graphs of ``quads``, in :data:`ALL_GRAPHS` order, then any others."""
    names = {graph_label(q.graph_name, ns) for q in quads}
    order = {name: index for index, name in enumerate(ALL_GRAPHS)}
    return tuple(sorted(names, key=lambda n: (order.get(n, len(order)), n)))


def _closure(store: ox.Store, quads: list[ox.Quad]) -> list[ox.Quad]:
    """``quads`` and the statements of every blank node they reach, each blank node once."""
    seen: set[ox.BlankNode] = set()
    result = list(quads)
    frontier = [q.object for q in quads if isinstance(q.object, ox.BlankNode)]
    while frontier:
        node = frontier.pop()
        if node in seen:
            continue
        seen.add(node)
        found = list(store.quads_for_pattern(node, None, None, None))
        result.extend(found)
        frontier.extend(q.object for q in found if isinstance(q.object, ox.BlankNode))
    return result


def document_quads(store: ox.Store, iri: str) -> list[ox.Quad]:
    """Every quad with ``iri`` as subject, and the statements of the blank nodes they reach, sorted."""
    quads = list(store.quads_for_pattern(ox.NamedNode(iri), None, None, None))
    return sorted(_closure(store, quads), key=lambda q: (str(q.subject) != f"<{iri}>", str(q)))


def metadata_triples(iri: str, doc: str, base: str) -> list[ox.Triple]:
    """What the document says about itself: a document about ``iri``, part of the dataset."""
    document = ox.NamedNode(doc)
    return [
        ox.Triple(document, ox.NamedNode(TYPE), ox.NamedNode(FOAF + "Document")),
        ox.Triple(document, ox.NamedNode(FOAF + "primaryTopic"), ox.NamedNode(iri)),
        ox.Triple(document, ox.NamedNode(DCTERMS + "isPartOf"), ox.NamedNode(dataset_iri(base))),
    ]


def _value(term: ox.Term, quads: list[ox.Quad], catalogue: Catalogue, ns: ProjectNamespaces,
           by_subject: dict[ox.BlankNode, list[ox.Quad]], depth: int = 0) -> Value:
    graphs = _graph_names(quads, ns)
    if isinstance(term, ox.NamedNode):
        curie = catalogue.curie(term.value) if term.value in catalogue.terms else None
        return Value("iri", term.value, catalogue.name(term.value), graphs, curie=curie)
    if isinstance(term, ox.Literal):
        datatype = term.datatype.value
        shown = None if term.language or datatype.endswith("#string") or datatype.endswith("#langString") \
            else short_name(datatype, catalogue.prefixes)
        return Value("literal", term.value, term.value, graphs, term.language, shown)
    nested = _statements(by_subject.get(term, []), catalogue, ns, by_subject, depth + 1) if depth < 4 else ()
    return Value("blank", str(term), "(blank node)", graphs, nested=nested)


def _statements(quads: list[ox.Quad], catalogue: Catalogue, ns: ProjectNamespaces,
                by_subject: dict[ox.BlankNode, list[ox.Quad]], depth: int = 0) -> tuple[Statement, ...]:
    """Group ``quads`` (one subject) by predicate and object; each value keeps its graphs."""
    grouped: dict[str, dict[ox.Term, list[ox.Quad]]] = {}
    for quad in quads:
        grouped.setdefault(quad.predicate.value, {}).setdefault(quad.object, []).append(quad)
    statements = []
    for predicate, objects in grouped.items():
        values = [_value(term, found, catalogue, ns, by_subject, depth) for term, found in objects.items()]
        values.sort(key=lambda v: (v.kind != "iri", v.text.casefold(), v.value))
        statements.append(Statement(predicate, catalogue.name(predicate), tuple(values), catalogue.curie(predicate)))
    return tuple(sorted(statements, key=_statement_order))


def _statement_order(statement: Statement) -> tuple[int, str]:
    """Types and labels first, then the other properties by name."""
    first = (TYPE, *LABEL_PROPERTIES, SKOS + "altLabel", DCTERMS + "alternative", DCTERMS + "description",
             SKOS + "definition")
    rank = first.index(statement.predicate) if statement.predicate in first else len(first)
    return rank, statement.name.casefold()


def _split(statements: tuple[Statement, ...]) -> tuple[tuple[Statement, ...], tuple[Statement, ...]]:
    """(stated values, values only inferred), each grouped by property."""
    stated, inferred = [], []
    for statement in statements:
        own = tuple(v for v in statement.values if not v.inferred_only)
        entailed = tuple(v for v in statement.values if v.inferred_only)
        if own:
            stated.append(Statement(statement.predicate, statement.name, own, statement.curie))
        if entailed:
            inferred.append(Statement(statement.predicate, statement.name, entailed, statement.curie))
    return tuple(stated), tuple(inferred)


def _entailed_repeat(predicate: str, others: Iterable[str], outgoing: Iterable[str], catalogue: Catalogue) -> bool:
    """Is ``subject predicate this`` only a repeat of a statement shown: a super-property of another
    property from the same subject (``others``), or the inverse (or a super-property of the inverse)
    of a property from this resource to that subject (``outgoing``)?"""
    if any(other != predicate and catalogue.subsumes(predicate, other) and not catalogue.subsumes(other, predicate)
           for other in others):
        return True
    return any(catalogue.subsumes(predicate, inverse)
               for prop in outgoing for inverse in catalogue.inverses.get(prop, ()))


def _incoming(store: ox.Store, iri: str, catalogue: Catalogue, ns: ProjectNamespaces,
              limit: int) -> tuple[tuple[Incoming, ...], int, int]:
    """The (subject, property) pairs that point at ``iri``, by property then subject; how many; how many folded.

    A pair stated only in the inferred graph is folded (left out and counted) when it repeats a
    statement shown: the same subject with a sub-property, or the inverse of this resource's own
    statement about the subject. So each subject shows its most specific properties once.
    """
    pairs: dict[tuple[str, str], list[ox.Quad]] = {}
    this = ox.NamedNode(iri)
    for quad in store.quads_for_pattern(None, None, this, None):
        if isinstance(quad.subject, ox.NamedNode):
            pairs.setdefault((quad.subject.value, quad.predicate.value), []).append(quad)
    by_subject: dict[str, set[str]] = {}
    for subject, predicate in pairs:
        by_subject.setdefault(subject, set()).add(predicate)
    outgoing: dict[str, set[str]] = {}
    for quad in store.quads_for_pattern(this, None, None, None):
        if isinstance(quad.object, ox.NamedNode):
            outgoing.setdefault(quad.object.value, set()).add(quad.predicate.value)
    rows, folded = [], 0
    for (subject, predicate), quads in pairs.items():
        graphs = _graph_names(quads, ns)
        if all(g == INFERRED for g in graphs) and _entailed_repeat(
                predicate, by_subject[subject], outgoing.get(subject, ()), catalogue):
            folded += 1
            continue
        rows.append(Incoming(subject, catalogue.name(subject), predicate, catalogue.name(predicate), graphs,
                             catalogue.curie(predicate)))
    rows.sort(key=lambda r: (r.predicate_name.casefold(), r.subject_name.casefold(), r.subject))
    return tuple(rows[:limit]), len(rows), folded


def _literal(store: ox.Store, subject: str, predicate: str) -> str | None:
    for quad in store.quads_for_pattern(ox.NamedNode(subject), ox.NamedNode(predicate), None, None):
        if isinstance(quad.object, ox.Literal):
            return quad.object.value
    return None


def _object(store: ox.Store, subject: str, predicate: str) -> str | None:
    for quad in store.quads_for_pattern(ox.NamedNode(subject), ox.NamedNode(predicate), None, None):
        if isinstance(quad.object, ox.NamedNode):
            return quad.object.value
    return None


def _citations(store: ox.Store, statements: tuple[Statement, ...], catalogue: Catalogue,
               ns: ProjectNamespaces) -> tuple[Citation, ...]:
    """The sections (or whole documents) the resource is stated in, in document order."""
    stated_in = str(ns.AIWF["statedIn"])
    citations = []
    for statement in statements:
        if statement.predicate != stated_in:
            continue
        for value in statement.values:
            if value.kind != "iri":
                continue
            document = _object(store, value.value, DCTERMS + "isPartOf")
            order = _literal(store, value.value, str(ns.AIWF["sequence"]))
            citations.append(Citation(
                section=value.value,
                label=value.text,
                locator=_literal(store, value.value, str(ns.AIWF["locator"])),
                document=document,
                document_label=catalogue.name(document) if document else None,
                order=int(order) if order and order.lstrip("-").isdigit() else 0,
            ))
    return tuple(sorted(citations, key=lambda c: (c.document or c.section, c.order, c.label)))


def _links(store: ox.Store, statements: tuple[Statement, ...], catalogue: Catalogue) -> tuple[ExternalLink, ...]:
    """Links out (pages, intervals, any IRI not under the base) and mappings to standard codes."""
    local = catalogue.base + "/"
    links = []
    for statement in statements:
        if statement.predicate == TYPE:
            continue
        wanted = statement.predicate in MAPPING_RELATIONS or statement.predicate in LINK_PROPERTIES
        for value in statement.values:
            if value.kind == "iri" and (wanted or not value.value.startswith(local)):
                links.append(ExternalLink(
                    predicate=statement.predicate,
                    relation=statement.name,
                    target=value.value,
                    label=catalogue.label(value.value),
                    notation=_literal(store, value.value, SKOS + "notation"),
                    graphs=value.graphs,
                    relation_curie=statement.curie,
                ))
    return tuple(links)


def describe(store: ox.Store, iri: str, catalogue: Catalogue, *, incoming_limit: int = INCOMING_LIMIT) -> Description:
    """What the store says about ``iri``: check :attr:`Description.empty` for an unknown resource."""
    ns = ProjectNamespaces(catalogue.base)
    quads = document_quads(store, iri)
    subject = ox.NamedNode(iri)
    by_subject: dict[ox.BlankNode, list[ox.Quad]] = {}
    for quad in quads:
        if isinstance(quad.subject, ox.BlankNode):
            by_subject.setdefault(quad.subject, []).append(quad)
    own = [q for q in quads if q.subject == subject]
    everything = _statements(own, catalogue, ns, by_subject)
    stated, inferred = _split(everything)
    incoming, total, folded = _incoming(store, iri, catalogue, ns, incoming_limit)
    types = next((s.values for s in everything if s.predicate == TYPE), ())
    notes = tuple(dict.fromkeys(
        v.value for s in everything if s.predicate == SKOS + "editorialNote" for v in s.values if v.kind == "literal"
    ))
    used = set(_graph_names(quads, ns)) | {g for row in incoming for g in row.graphs}
    return Description(
        iri=iri,
        label=catalogue.name(iri),
        types=tuple(v for v in types if not v.inferred_only),
        statements=stated,
        inferred=inferred,
        incoming=incoming,
        incoming_total=total,
        notes=notes,
        citations=_citations(store, stated, catalogue, ns),
        links=_links(store, stated, catalogue),
        graphs=tuple((name, GRAPH_DESCRIPTIONS.get(name, "")) for name in ALL_GRAPHS if name in used),
        quads=tuple(quads),
        incoming_folded=folded,
    )


def neighbourhood(description: Description, href: Callable[[str], str],
                  limit: int = NEIGHBOURHOOD_LIMIT) -> dict:
    """Nodes and links for the graph view: the resource, what it links to and what links to it.

    Types and inferred-only links are left out; nodes are capped at ``limit``. Category 0 is the
    resource, 1 a page on this site (``href`` gives a path), 2 anything elsewhere.
    """
    nodes = [{"id": description.iri, "name": description.label, "href": href(description.iri), "category": 0}]
    index = {description.iri: 0}
    links: list[dict] = []

    def node(iri: str, name: str) -> int | None:
        if iri not in index:
            if len(nodes) >= limit:
                return None
            index[iri] = len(nodes)
            link = href(iri)
            nodes.append({"id": iri, "name": name, "href": link, "category": 1 if link.startswith("/") else 2})
        return index[iri]

    for statement in description.statements:
        if statement.predicate == TYPE:
            continue
        for value in statement.values:
            target = node(value.value, value.text) if value.kind == "iri" else None
            if target is not None:
                links.append({"source": 0, "target": target, "name": statement.name})
    for row in description.incoming:
        if all(g == INFERRED for g in row.graphs):
            continue
        source = node(row.subject, row.subject_name)
        if source is not None:
            links.append({"source": source, "target": 0, "name": row.predicate_name})
    return {"nodes": nodes, "links": links}
