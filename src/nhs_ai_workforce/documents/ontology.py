"""The aiwf ontology as published at ``/def/aiwf``: its RDF document and the model of its documentation.

Both are made from the store's ``ontology`` graph, which the build has already rebased to the
served base, by :func:`make_doc`: once per build (the web layer keeps it in the build's memo),
never per request.

**The RDF document is ``ontology/aiwf.ttl`` and nothing else**: the triples whose subject is
the ontology IRI or a term under its namespace. The declarations of ``ontology/reused.ttl``
(``dcterms:title a owl:DatatypeProperty``, ``foaf:Agent a owl:Class``...) stay out: they are
statements about other vocabularies' terms, which those vocabularies publish with authority at
their own IRIs, and a client that loads ``/def/aiwf`` should get what this namespace defines.
They stay in the ``ontology`` named graph, where SPARQL and the build's inference use them, and
the documentation names each reused term with a link to its own vocabulary.

**The HTML comes from our own template (``web/templates/ontology.html``), not pyLODE.**
pyLODE 3.4.1 fails on import when installed from its wheel (``version.py`` reads a
``pyproject.toml`` that the wheel does not ship: RDFLib/pyLODE issue #260, fixed after the
release). 3.3.4 runs offline on our ontology in under a second, but its output is incomplete
for us: it omits ``owl:inverseOf`` and transitivity, drops extra types such as
``qb:DimensionProperty``, lists functional properties a second time under the same ``id``s,
and derives anchors from labels for some terms (``#Sourcedocument``, ``#Unitofmeasure``), so
``/def/aiwf#SourceDocument`` finds nothing. It also writes a whole page with its own styles and
pickles into its package directory on first use. The model here is small, complete for OWL Lite
and rendered in the site's layout, with Jinja's escaping.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import pyoxigraph as ox
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, FOAF, OWL, RDF, RDFS, SKOS
from rdflib.term import Node

from ..core.formats import by_name
from ..core.namespaces import VANN, ProjectNamespaces, curie
from ..core.terms import to_oxigraph
from .examples import ExampleQuery

__all__ = [
    "RDF_TYPES",
    "SECTIONS",
    "OntologyDoc",
    "Ref",
    "Row",
    "Section",
    "Term",
    "make_doc",
    "nearest",
]

#: The RDF syntaxes the document is written in: media type -> (file extension, pyoxigraph format).
RDF_TYPES: dict[str, tuple[str, ox.RdfFormat]] = {
    syntax.media_type: (syntax.extension, syntax.rdf) for syntax in map(by_name, ("ttl", "rdfxml", "jsonld", "nt"))
}

#: The kinds of term, in the order the documentation lists them: (section id, type, heading, badge).
SECTIONS = (
    ("classes", OWL.Class, "Classes", "Class"),
    ("object-properties", OWL.ObjectProperty, "Object properties", "Object property"),
    ("datatype-properties", OWL.DatatypeProperty, "Datatype properties", "Datatype property"),
    ("annotation-properties", OWL.AnnotationProperty, "Annotation properties", "Annotation property"),
)

_CHARACTERISTICS = {
    OWL.FunctionalProperty: "functional",
    OWL.InverseFunctionalProperty: "inverse functional",
    OWL.TransitiveProperty: "transitive",
    OWL.SymmetricProperty: "symmetric",
}

#: How the documentation names the ontology header's properties, in the order it lists them.
_HEADER_LABELS = {
    OWL.versionIRI: "Version IRI",
    OWL.versionInfo: "Version",
    OWL.priorVersion: "Prior version",
    DCTERMS.license: "Licence",
    DCTERMS.creator: "Creator",
    DCTERMS.contributor: "Contributor",
    DCTERMS.publisher: "Publisher",
    DCTERMS.created: "Created",
    DCTERMS.modified: "Modified",
    DCTERMS.issued: "Issued",
    VANN.preferredNamespacePrefix: "Preferred prefix",
    VANN.preferredNamespaceUri: "Namespace",
    OWL.imports: "Imports",
    RDFS.seeAlso: "See also",
    RDFS.label: "Label",
    RDFS.comment: "Comment",
}
_SHOWN_APART = {RDF.type, DCTERMS.title, DCTERMS.description}

#: Annotations shown on a term, after its definition: (property, row label).
_TERM_NOTES = (
    (RDFS.comment, "Comment"),
    (SKOS.scopeNote, "Scope note"),
    (SKOS.example, "Example"),
    (SKOS.note, "Note"),
    (SKOS.editorialNote, "Editorial note"),
    (SKOS.historyNote, "History note"),
)


@dataclass(frozen=True)
class Ref:
    """A value on the page: a term of this ontology (``anchor``), another IRI, or plain text."""

    text: str
    iri: str | None = None
    anchor: str | None = None


@dataclass(frozen=True)
class Row:
    """One labelled line of facts about a term or the ontology."""

    label: str
    values: tuple[Ref, ...]


@dataclass(frozen=True)
class Term:
    """A class or property of the ontology, with everything its entry on the page shows."""

    name: str
    iri: str
    kind: str
    label: str
    definitions: tuple[str, ...]
    rows: tuple[Row, ...]
    #: How to query the class: a runnable example from ``queries/classes/{name}.rq``, if one is kept.
    example: ExampleQuery | None = None


@dataclass(frozen=True)
class Section:
    """The terms of one kind, with the heading and badge the page gives them."""

    id: str
    title: str
    badge: str
    terms: tuple[Term, ...]


@dataclass
class OntologyDoc:
    """The ontology of one build: its header, its terms by kind, and its RDF in every syntax."""

    iri: str
    namespace: str
    title: str
    version: str | None
    version_iri: str | None
    description: tuple[str, ...]
    metadata: tuple[Row, ...]
    sections: tuple[Section, ...]
    rdf: dict[str, bytes]
    triples: int
    build_id: str | None = None

    @property
    def terms(self) -> dict[str, Term]:
        """Every term by its local name."""
        return {term.name: term for section in self.sections for term in section.terms}


def nearest(name: str, names: Iterable[str], n: int = 3) -> list[str]:
    """The term names closest to ``name``, ignoring case, best first.

    >>> nearest("reveiw", ["Review", "Report", "recommends", "Aim"])
    ['Review']
    """
    by_lower = {candidate.lower(): candidate for candidate in names}
    return [by_lower[match] for match in difflib.get_close_matches(name.lower(), list(by_lower), n=n, cutoff=0.6)]


# -- reading the store ------------------------------------------------------------------------


def ontology_graph(store: ox.Store, ns: ProjectNamespaces) -> Graph:
    """The store's whole ``ontology`` named graph (``aiwf.ttl`` and ``reused.ttl``) as an rdflib graph."""
    data = store.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=ox.NamedNode(str(ns.graph("ontology"))))
    return Graph().parse(data=data, format="nt")


def own_triples(graph: Graph, ns: ProjectNamespaces) -> Graph:
    """The triples about the ontology and the terms of its namespace: the content of ``aiwf.ttl``."""
    own = Graph()
    for triple in graph:
        subject = str(triple[0])
        if subject == str(ns.ontology) or subject.startswith(str(ns.AIWF)):
            own.add(triple)
    return own


def _instance_counts(store: ox.Store, ns: ProjectNamespaces) -> dict[str, list[tuple[str, int]]]:
    """Class IRI -> [(kind of ``/id/{kind}/`` IRI, instances)], over every graph, inferred types included."""
    query = f"""
        SELECT ?class ?kind (COUNT(DISTINCT ?s) AS ?n) WHERE {{
          ?s a ?class . FILTER(STRSTARTS(STR(?class), "{ns.AIWF}"))
          BIND(STRBEFORE(STRAFTER(STR(?s), "{ns.base}/id/"), "/") AS ?kind)
        }} GROUP BY ?class ?kind ORDER BY ?class ?kind"""
    counts: dict[str, list[tuple[str, int]]] = {}
    for row in store.query(query, use_default_graph_as_union=True):
        counts.setdefault(row["class"].value, []).append((row["kind"].value, int(row["n"].value)))
    return counts


def _usage_counts(store: ox.Store, ns: ProjectNamespaces) -> dict[str, int]:
    """Property IRI -> statements that use it, over every graph."""
    query = f"""SELECT ?p (COUNT(*) AS ?n) WHERE {{ ?s ?p ?o . FILTER(STRSTARTS(STR(?p), "{ns.AIWF}")) }}
                GROUP BY ?p"""
    return {row["p"].value: int(row["n"].value) for row in store.query(query, use_default_graph_as_union=True)}


# -- the model ----------------------------------------------------------------------------------


#: A local name a CURIE on the page may have: no further path or fragment.
_LOCAL_NAME = re.compile(r"[^/#]+")


class _Namer:
    """Names IRIs for the page: terms of the ontology by label, anything else by CURIE."""

    def __init__(self, graph: Graph, ns: ProjectNamespaces) -> None:
        self.graph = graph
        self.ns = ns
        prefixes = {prefix: iri for prefix, iri in ns.prefixes().items() if prefix != "id"}
        #: Longest namespace first: the order the serialised documents declare them in.
        self.prefixes = dict(sorted(prefixes.items(), key=lambda item: -len(item[1])))

    def curie(self, iri: str) -> str:
        """``prefix:local`` for an IRI in a known namespace, else the IRI itself."""
        return curie(iri, self.prefixes, local=_LOCAL_NAME) or iri

    def local_name(self, node: Node) -> str | None:
        """The local name of a term of this ontology, else ``None``."""
        iri = str(node)
        if isinstance(node, URIRef) and iri.startswith(str(self.ns.AIWF)):
            return iri[len(str(self.ns.AIWF)):]
        return None

    def label(self, node: Node) -> str | None:
        """The English (else any) ``rdfs:label``, ``skos:prefLabel``, ``foaf:name`` or title of ``node``."""
        for predicate in (RDFS.label, SKOS.prefLabel, FOAF.name, DCTERMS.title):
            value = _preferred(self.graph.objects(node, predicate))
            if value is not None:
                return value
        return None

    def ref(self, node: Node) -> Ref:
        """``node`` as a value on the page."""
        if isinstance(node, Literal):
            return Ref(str(node))
        name = self.local_name(node)
        if name is not None and _is_term(self.graph, node):
            return Ref(self.label(node) or name, str(node), anchor=name)
        iri = str(node)
        return Ref(self.label(node) or (iri if iri.startswith(self.ns.base + "/") else self.curie(iri)), iri)

    def refs(self, nodes: Iterable[Node]) -> tuple[Ref, ...]:
        """Values sorted by their text, each once."""
        return tuple(sorted({self.ref(node) for node in nodes}, key=lambda ref: (ref.text.lower(), ref.iri or "")))


def _preferred(literals: Iterable[Node]) -> str | None:
    """The English literal among ``literals``, else one without a language, else any; ``None`` if none."""
    ranked = sorted(
        (value for value in literals if isinstance(value, Literal)),
        key=lambda value: ({"en": 0, None: 1}.get(value.language, 2), str(value)),
    )
    return str(ranked[0]) if ranked else None


def _is_term(graph: Graph, node: Node) -> bool:
    return any((node, RDF.type, kind) in graph for _, kind, _, _ in SECTIONS)


def _row(label: str, values: Iterable[Ref]) -> Row | None:
    values = tuple(values)
    return Row(label, values) if values else None


def _term(
    graph: Graph,
    node: URIRef,
    kind: str,
    namer: _Namer,
    instances: dict[str, list[tuple[str, int]]],
    usage: dict[str, int],
    examples: Mapping[str, ExampleQuery],
) -> Term:
    """The entry of one class or property."""
    name = namer.local_name(node) or str(node)
    types = {t for t in graph.objects(node, RDF.type)} - {section[1] for section in SECTIONS}
    characteristics = [_CHARACTERISTICS[t] for t in types if t in _CHARACTERISTICS]
    other_types = [t for t in types if t not in _CHARACTERISTICS]
    rows: list[Row | None] = []
    for predicate, label in _TERM_NOTES:
        rows.append(_row(label, (Ref(str(value)) for value in graph.objects(node, predicate))))
    if kind == "classes":
        rows += [
            _row("Subclass of", namer.refs(graph.objects(node, RDFS.subClassOf))),
            _row("Superclass of", namer.refs(graph.subjects(RDFS.subClassOf, node))),
            _row("In the domain of", namer.refs(graph.subjects(RDFS.domain, node))),
            _row("In the range of", namer.refs(graph.subjects(RDFS.range, node))),
            _instances_row(namer, instances.get(str(node), [])),
        ]
    else:
        inverses = [*graph.objects(node, OWL.inverseOf), *graph.subjects(OWL.inverseOf, node)]
        rows += [
            _row("Subproperty of", namer.refs(graph.objects(node, RDFS.subPropertyOf))),
            _row("Superproperty of", namer.refs(graph.subjects(RDFS.subPropertyOf, node))),
            _row("Domain", namer.refs(graph.objects(node, RDFS.domain))),
            _row("Range", namer.refs(graph.objects(node, RDFS.range))),
            _row("Inverse of", namer.refs(inverses)),
            _row("Characteristics", (Ref(text) for text in sorted(characteristics))),
            _row("Also a", namer.refs(other_types)),
            _row("Statements", [Ref(_count(usage.get(str(node), 0), "statement") + " in the graph")]),
        ]
    rows += [
        _row("See also", namer.refs(graph.objects(node, RDFS.seeAlso))),
        _row("Defined by", namer.refs(graph.objects(node, RDFS.isDefinedBy))),
    ]
    definitions = tuple(sorted(str(value) for value in graph.objects(node, SKOS.definition)))
    example = examples.get(name) if kind == "classes" else None
    return Term(name, str(node), kind, namer.label(node) or name, definitions, tuple(r for r in rows if r), example)


def _instances_row(namer: _Namer, kinds: list[tuple[str, int]]) -> Row:
    """How many things are of a class, with a link to browse each kind of them."""
    total = sum(count for _, count in kinds)
    values = [Ref(_count(total, "instance") + " in the graph")]
    for kind, count in kinds:
        if kind:
            values.append(Ref(f"{count} among the {kind} pages", f"{namer.ns.base}/id/{kind}/"))
    return Row("Instances", tuple(values))


def _count(n: int, noun: str) -> str:
    """``1 statement``, ``2 statements``."""
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _header(graph: Graph, ontology: URIRef, namer: _Namer) -> tuple[Row, ...]:
    """The ontology header's facts, known properties first, then any other property by CURIE."""
    predicates = set(graph.predicates(ontology, None)) - _SHOWN_APART
    order = list(_HEADER_LABELS)
    ranked = sorted(predicates, key=lambda p: (order.index(p) if p in _HEADER_LABELS else len(order), str(p)))
    rows = []
    for predicate in ranked:
        label = _HEADER_LABELS.get(predicate) or namer.curie(str(predicate))
        rows.append(Row(label, namer.refs(graph.objects(ontology, predicate))))
    return tuple(rows)


def _paragraphs(text: str | None) -> tuple[str, ...]:
    """A description's paragraphs: blank lines separate them; single line breaks are spaces."""
    if not text:
        return ()
    return tuple(" ".join(part.split()) for part in text.split("\n\n") if part.strip())


def serialise(graph: Graph, ns: ProjectNamespaces) -> dict[str, bytes]:
    """The document in every RDF syntax of :data:`RDF_TYPES`, triples sorted so bytes never vary."""
    triples = sorted(
        (ox.Triple(*(to_oxigraph(term) for term in triple)) for triple in graph),
        key=lambda t: (t.subject.value != str(ns.ontology), str(t.subject), str(t.predicate), str(t.object)),
    )
    used = {str(term) for triple in graph for term in triple if isinstance(term, URIRef)}
    namer = _Namer(graph, ns)
    prefixes = {
        prefix: namespace
        for prefix, namespace in namer.prefixes.items()
        if any(iri.startswith(namespace) and namer.curie(iri) != iri for iri in used)
    }
    return {
        media_type: ox.serialize(triples, format=syntax, prefixes=prefixes)
        for media_type, (_, syntax) in RDF_TYPES.items()
    }


def make_doc(
    store: ox.Store, base: str, build_id: str | None = None, examples: Mapping[str, ExampleQuery] | None = None
) -> OntologyDoc:
    """The published ontology of ``store``, whose IRIs are under ``base``.

    ``examples`` maps a class's local name to its "how to query" example
    (:func:`~.examples.class_examples`); the class's entry shows it.

    :raises LookupError: if the store's ontology graph has no ``owl:Ontology`` at ``{base}/def/aiwf``.
    """
    ns = ProjectNamespaces(base)
    full = ontology_graph(store, ns)
    ontology = ns.ontology
    if (ontology, RDF.type, OWL.Ontology) not in full:
        raise LookupError(f"the store holds no owl:Ontology {ontology}; was it built under another base?")
    own = own_triples(full, ns)
    namer = _Namer(full, ns)
    instances, usage = _instance_counts(store, ns), _usage_counts(store, ns)
    sections = []
    taken: set[URIRef] = set()
    for section_id, kind, title, badge in SECTIONS:
        nodes = {n for n in own.subjects(RDF.type, kind) if isinstance(n, URIRef) and n not in taken}
        taken |= nodes
        terms = (_term(full, node, section_id, namer, instances, usage, examples or {}) for node in nodes)
        sections.append(Section(section_id, title, badge, tuple(sorted(terms, key=lambda t: t.name.lower()))))
    version_iri = next(own.objects(ontology, OWL.versionIRI), None)
    return OntologyDoc(
        iri=str(ontology),
        namespace=str(ns.AIWF),
        title=_preferred(own.objects(ontology, DCTERMS.title)) or namer.label(ontology) or str(ontology),
        version=_preferred(own.objects(ontology, OWL.versionInfo)),
        version_iri=str(version_iri) if version_iri is not None else None,
        description=_paragraphs(_preferred(own.objects(ontology, DCTERMS.description))),
        metadata=_header(full, ontology, namer),
        sections=tuple(sections),
        rdf=serialise(own, ns),
        triples=len(own),
        build_id=build_id,
    )

