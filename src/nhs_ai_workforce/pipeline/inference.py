"""OWL Lite entailments of the ontology over the data, materialised into the ``inferred`` graph.

A small forward-chaining engine over sets of triples, run to a fixpoint. The schema (class and
property hierarchies, inverses, characteristics, domains and ranges) is read from the
``ontology`` graph only; the rules are applied to the data graphs only (background, reference,
mappings, links), so the ontology's own terms are never typed or related. The rules:

- ``rdfs:subClassOf`` (and ``owl:equivalentClass`` both ways): ``x a C``, ``C ⊑ D`` gives ``x a D``;
- ``rdfs:subPropertyOf`` (and ``owl:equivalentProperty`` both ways): ``x p y``, ``p ⊑ q``
  gives ``x q y``;
- ``owl:inverseOf``, read in both directions: ``x p y`` gives ``y q x``;
- ``owl:SymmetricProperty``: ``x p y`` gives ``y p x``;
- ``owl:TransitiveProperty``: ``x p y``, ``y p z`` gives ``x p z``, except ``x p x`` (which
  only follows from symmetric pairs or cycles and tells a reader nothing);
- ``rdfs:domain`` and ``rdfs:range`` of object and datatype properties: the subject, and the
  object when it is an IRI, get the declared class. Literals are never typed, and datatypes
  (``xsd:string``, ``rdf:langString``...) are never used as classes.

Unlike a full RDFS/OWL closure (owlrl) there are no axiomatic triples, no blank nodes and no
facts about the vocabulary itself. Then every thing without an ``rdfs:label`` gets one from
its kind's naming property or composed from its own data (:mod:`.labels`), and every thing with
an issued date gets its first and last day, ``aiwf:issuedStart`` and ``aiwf:issuedEnd``
(:mod:`.dates`). A triple that any graph of the dataset already asserts is not repeated in
``inferred``.

>>> from rdflib import Dataset
>>> from nhs_ai_workforce.core.namespaces import ProjectNamespaces
>>> ns = ProjectNamespaces("http://example.org")
>>> ds = Dataset()
>>> _ = ds.graph(ns.graph("ontology")).parse(format="turtle", data='''
...     @prefix owl: <http://www.w3.org/2002/07/owl#> .
...     @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
...     @prefix ex: <http://example.org/def/> .
...     ex:Review rdfs:subClassOf ex:Initiative .
...     ex:follows a owl:ObjectProperty , owl:TransitiveProperty ; owl:inverseOf ex:followedBy .
... ''')
>>> _ = ds.graph(ns.graph("background")).parse(format="turtle", data='''
...     @prefix ex: <http://example.org/def/> .
...     <http://example.org/id/c> a ex:Review ; ex:follows <http://example.org/id/b> .
...     <http://example.org/id/b> ex:follows <http://example.org/id/a> .
... ''')
>>> materialise(ds, ns)
5
>>> for s, p, o in sorted(ds.graph(ns.graph("inferred"))):
...     print(s.n3(), p.n3(), o.n3())
<http://example.org/id/a> <http://example.org/def/followedBy> <http://example.org/id/b>
<http://example.org/id/a> <http://example.org/def/followedBy> <http://example.org/id/c>
<http://example.org/id/b> <http://example.org/def/followedBy> <http://example.org/id/c>
<http://example.org/id/c> <http://example.org/def/follows> <http://example.org/id/a>
<http://example.org/id/c> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <http://example.org/def/Initiative>
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from rdflib import BNode, Dataset, Graph, Literal, URIRef
from rdflib.namespace import OWL, RDF, RDFS, XSD

from ..core.namespaces import ProjectNamespaces
from .dates import issued_triples
from .labels import labels

__all__ = ["DATA_GRAPHS", "Schema", "infer", "materialise"]

#: The graphs whose triples the rules apply to.
DATA_GRAPHS = ("background", "reference", "mappings", "links")

Triple = tuple[URIRef, URIRef, URIRef | Literal]

#: Property types whose rdfs:domain and rdfs:range are applied to the data.
_TYPED_PROPERTIES = frozenset({
    OWL.ObjectProperty, OWL.DatatypeProperty, OWL.TransitiveProperty, OWL.SymmetricProperty,
})
#: Ranges that are datatypes, not classes: their values are literals and are never typed.
_DATATYPES = frozenset({RDFS.Literal, RDF.langString, RDF.PlainLiteral, RDF.XMLLiteral,
                        RDFS.Datatype})


def _closure(edges: dict[URIRef, set[URIRef]]) -> dict[URIRef, frozenset[URIRef]]:
    """Everything reachable from each node along ``edges``, the node itself excluded."""
    result: dict[URIRef, frozenset[URIRef]] = {}
    for start in edges:
        seen: set[URIRef] = set()
        stack = list(edges[start])
        while stack:
            node = stack.pop()
            if node in seen:
                continue
            seen.add(node)
            stack.extend(edges.get(node, ()))
        seen.discard(start)
        result[start] = frozenset(seen)
    return result


def _is_class(term: object) -> bool:
    return (isinstance(term, URIRef) and term not in _DATATYPES
            and not str(term).startswith(str(XSD)))


@dataclass(frozen=True)
class Schema:
    """What the ontology says that the rules need, with hierarchies already closed."""

    superclasses: dict[URIRef, frozenset[URIRef]] = field(default_factory=dict)
    superproperties: dict[URIRef, frozenset[URIRef]] = field(default_factory=dict)
    inverses: dict[URIRef, frozenset[URIRef]] = field(default_factory=dict)
    transitive: frozenset[URIRef] = frozenset()
    symmetric: frozenset[URIRef] = frozenset()
    domains: dict[URIRef, frozenset[URIRef]] = field(default_factory=dict)
    ranges: dict[URIRef, frozenset[URIRef]] = field(default_factory=dict)

    @classmethod
    def from_graph(cls, ontology: Graph) -> Schema:
        """Read the axioms of ``ontology``; blank-node class expressions are ignored."""
        sub_class: dict[URIRef, set[URIRef]] = defaultdict(set)
        sub_property: dict[URIRef, set[URIRef]] = defaultdict(set)
        inverses: dict[URIRef, set[URIRef]] = defaultdict(set)

        def iri_pairs(predicate: URIRef) -> Iterable[tuple[URIRef, URIRef]]:
            for s, o in ontology.subject_objects(predicate):
                if isinstance(s, URIRef) and isinstance(o, URIRef) and s != o:
                    yield s, o

        for s, o in iri_pairs(RDFS.subClassOf):
            sub_class[s].add(o)
        for s, o in iri_pairs(OWL.equivalentClass):
            sub_class[s].add(o)
            sub_class[o].add(s)
        for s, o in iri_pairs(RDFS.subPropertyOf):
            sub_property[s].add(o)
        for s, o in iri_pairs(OWL.equivalentProperty):
            sub_property[s].add(o)
            sub_property[o].add(s)
        for s, o in iri_pairs(OWL.inverseOf):
            inverses[s].add(o)
            inverses[o].add(s)

        superclasses = _closure(sub_class)
        typed = {s for t in _TYPED_PROPERTIES for s in ontology.subjects(RDF.type, t)}

        def classes_of(predicate: URIRef) -> dict[URIRef, frozenset[URIRef]]:
            found: dict[URIRef, set[URIRef]] = defaultdict(set)
            for prop, cls_ in ontology.subject_objects(predicate):
                if prop in typed and _is_class(cls_):
                    found[prop].add(cls_)
                    found[prop].update(superclasses.get(cls_, ()))
            return {p: frozenset(c) for p, c in found.items()}

        return cls(
            superclasses=superclasses,
            superproperties=_closure(sub_property),
            inverses={p: frozenset(q) for p, q in inverses.items()},
            transitive=frozenset(
                s for s in ontology.subjects(RDF.type, OWL.TransitiveProperty)
                if isinstance(s, URIRef)),
            symmetric=frozenset(
                s for s in ontology.subjects(RDF.type, OWL.SymmetricProperty)
                if isinstance(s, URIRef)),
            domains=classes_of(RDFS.domain),
            ranges=classes_of(RDFS.range),
        )


class _Index:
    """The triples of the transitive properties, by subject and by object, for the joins."""

    def __init__(self, transitive: frozenset[URIRef]) -> None:
        self.transitive = transitive
        self.objects: dict[tuple[URIRef, object], set[object]] = defaultdict(set)
        self.subjects: dict[tuple[URIRef, object], set[object]] = defaultdict(set)

    def add(self, triples: Iterable[Triple]) -> None:
        for s, p, o in triples:
            if p in self.transitive:
                self.objects[p, s].add(o)
                self.subjects[p, o].add(s)


def _consequences(triple: Triple, schema: Schema, index: _Index) -> Iterable[Triple]:
    """What one rule application to ``triple`` concludes (possibly already known)."""
    s, p, o = triple
    is_resource = isinstance(o, URIRef)
    if p == RDF.type:
        if is_resource:
            for cls_ in schema.superclasses.get(o, ()):
                yield s, RDF.type, cls_
        return
    for q in schema.superproperties.get(p, ()):
        yield s, q, o
    for cls_ in schema.domains.get(p, ()):
        yield s, RDF.type, cls_
    if not is_resource:
        return
    for cls_ in schema.ranges.get(p, ()):
        yield o, RDF.type, cls_
    for q in schema.inverses.get(p, ()):
        yield o, q, s
    if p in schema.symmetric:
        yield o, p, s
    if p in schema.transitive:
        for after in index.objects.get((p, o), ()):
            yield s, p, after
        for before in index.subjects.get((p, s), ()):
            yield before, p, o


def _usable(triple: Triple) -> bool:
    s, _, o = triple
    if isinstance(s, BNode) or isinstance(o, BNode) or isinstance(s, Literal):
        return False
    # x p x only ever comes from symmetry or a cycle through a transitive property.
    return s != o


def infer(asserted: Iterable[Triple], schema: Schema) -> set[Triple]:
    """The triples entailed by ``asserted`` under ``schema`` and not among ``asserted``.

    Semi-naive evaluation: each round applies the rules only to the triples that the previous
    round found, joining them with everything known so far, until a round finds nothing new.
    """
    known = {t for t in asserted if not isinstance(t[0], BNode)}
    index = _Index(schema.transitive)
    index.add(known)
    inferred: set[Triple] = set()
    delta = set(known)
    while delta:
        found = {
            t for triple in delta for t in _consequences(triple, schema, index)
            if t not in known and _usable(t)
        }
        known |= found
        inferred |= found
        index.add(found)
        delta = found
    return inferred


def materialise(dataset: Dataset, ns: ProjectNamespaces) -> int:
    """Replace the ``inferred`` graph of ``dataset`` with what the ontology entails.

    The schema comes from ``ns.graph("ontology")``, the facts from the data graphs
    (:data:`DATA_GRAPHS`); the common labels (:func:`.labels.labels`) and the first and last
    days of issued dates (:func:`.dates.issued_triples`) are added too; only
    triples that no graph of the dataset asserts are added.
    Running it again gives the same graph.

    :returns: the number of triples in the ``inferred`` graph.
    """
    inferred_graph = dataset.graph(ns.graph("inferred"))
    inferred_graph.remove((None, None, None))
    schema = Schema.from_graph(dataset.graph(ns.graph("ontology")))
    facts: set[Triple] = set()
    for name in DATA_GRAPHS:
        facts.update(dataset.graph(ns.graph(name)))  # type: ignore[arg-type]
    asserted = {(s, p, o) for s, p, o, _ in dataset.quads((None, None, None, None))}
    entailed = {t for t in infer(facts, schema) if t not in asserted}
    # Things described in the ontology graph (its maintainer) are labelled too, terms are not.
    ontology = dataset.graph(ns.graph("ontology"))
    things = {t for t in ontology if str(t[0]).startswith(f"{ns.base}/id/")}
    closed = Graph()
    for triple in facts | entailed | things:
        closed.add(triple)
    entailed |= {t for t in labels(closed, ontology, ns) if t not in asserted}
    entailed |= {t for t in issued_triples(closed, ns) if t not in asserted}
    new = sorted(entailed)
    for triple in new:
        inferred_graph.add(triple)
    return len(new)
