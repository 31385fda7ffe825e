"""Ontology quality checks (OOPS! pitfalls and FOOPS! FAIR checks) as plain functions.

Each check takes an rdflib graph and returns a sorted list of problems, one readable sentence
each, so that a test can assert the list is empty on our ontology and not empty on a
deliberately bad one. Pitfall numbers refer to the OOPS! catalogue
(https://oops.linkeddata.es/catalogue.jsp).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, ORG, OWL, PROV, QB, RDF, RDFS, SKOS, VOID, XSD

VANN = "http://purl.org/vocab/vann/"
VANN_PREFIX = URIRef(VANN + "preferredNamespacePrefix")
VANN_URI = URIRef(VANN + "preferredNamespaceUri")

#: The OWL vocabulary allowed in OWL Lite (https://www.w3.org/TR/owl-ref/#OWLLite, section 8.3),
#: without owl:intersectionOf (kept out altogether for simplicity), plus owl:versionIRI, an OWL 2
#: header annotation that FOOPS! asks for and that adds no expressivity.
OWL_LITE = frozenset(OWL[name] for name in (
    "Ontology", "imports", "versionInfo", "priorVersion", "backwardCompatibleWith",
    "incompatibleWith", "DeprecatedClass", "DeprecatedProperty", "versionIRI",
    "Class", "Thing", "Nothing", "Restriction", "onProperty", "allValuesFrom", "someValuesFrom",
    "cardinality", "minCardinality", "maxCardinality",
    "ObjectProperty", "DatatypeProperty", "AnnotationProperty", "OntologyProperty",
    "TransitiveProperty", "SymmetricProperty", "FunctionalProperty", "InverseFunctionalProperty",
    "inverseOf", "equivalentClass", "equivalentProperty",
    "sameAs", "differentFrom", "AllDifferent", "distinctMembers",
))
CARDINALITIES = (OWL.cardinality, OWL.minCardinality, OWL.maxCardinality)

#: The rdf:type values that declare a term.
DECLARATIONS = (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty,
                RDF.Property)
PROPERTY_KINDS = DECLARATIONS[1:]
#: Terms that may be used without a declaration in our files.
BUILT_IN = frozenset({
    RDF.type, RDFS.label, RDFS.comment, RDFS.seeAlso, RDFS.isDefinedBy, RDFS.subClassOf,
    RDFS.subPropertyOf, RDFS.domain, RDFS.range,
})
#: Ranges that name datatypes rather than classes.
DATATYPES = frozenset({RDFS.Literal, RDF.langString, RDF.PlainLiteral, RDF.XMLLiteral})

UPPER_CAMEL = re.compile(r"[A-Z][A-Za-z0-9]*")
LOWER_CAMEL = re.compile(r"[a-z][A-Za-z0-9]*")


def load(*sources: object) -> Graph:
    """One graph from Turtle files (paths) or Turtle text."""
    graph = Graph()
    for source in sources:
        if isinstance(source, str):
            graph.parse(data=source, format="turtle")
        else:
            graph.parse(source, format="turtle")
    return graph


_CURIES = {"owl": OWL, "rdf": RDF, "rdfs": RDFS, "xsd": XSD}


def _name(term: object) -> str:
    """``owl:unionOf`` for the core vocabularies, ``<iri>`` or ``"text"@en`` for the rest."""
    if isinstance(term, URIRef):
        for prefix, vocabulary in _CURIES.items():
            if str(term).startswith(str(vocabulary)):
                return f"{prefix}:{str(term)[len(str(vocabulary)):]}"
    return term.n3() if isinstance(term, URIRef | Literal) else str(term)


def _is_datatype(term: object) -> bool:
    return term in DATATYPES or str(term).startswith(str(XSD))


def ours(graph: Graph, namespace: str) -> set[URIRef]:
    """The terms described in ``graph`` whose IRIs are in ``namespace``."""
    return {s for s in graph.subjects() if isinstance(s, URIRef) and str(s).startswith(namespace)}


def declared(graph: Graph) -> set[URIRef]:
    """Every IRI that ``graph`` declares as a class or property."""
    return {s for kind in DECLARATIONS for s in graph.subjects(RDF.type, kind)
            if isinstance(s, URIRef)}


def _classes(graph: Graph) -> set[URIRef]:
    return {s for s in graph.subjects(RDF.type, OWL.Class) if isinstance(s, URIRef)}


def _properties(graph: Graph) -> set[URIRef]:
    return {s for kind in PROPERTY_KINDS for s in graph.subjects(RDF.type, kind)
            if isinstance(s, URIRef)}


# -- OWL Lite ---------------------------------------------------------------------------------

def owl_lite_problems(graph: Graph) -> list[str]:
    """OWL vocabulary outside OWL Lite, and cardinalities other than 0 or 1."""
    problems = set()
    for triple in graph:
        for term in triple:
            if isinstance(term, URIRef) and str(term).startswith(str(OWL)) and term not in OWL_LITE:
                problems.add(f"{_name(term)} is not OWL Lite")
    for restriction, value in (
        (s, o) for p in CARDINALITIES for s, o in graph.subject_objects(p)
    ):
        number = value.toPython() if isinstance(value, Literal) else None
        if isinstance(number, bool) or number not in (0, 1):
            problems.add(f"{_name(restriction)}: cardinality {_name(value)} is not 0 or 1 "
                         "(OWL Lite allows only 0 and 1)")
    return sorted(problems)


# -- ontology header --------------------------------------------------------------------------

def header_problems(graph: Graph, ontology: URIRef, namespace: str) -> list[str]:
    """Missing or malformed metadata on the ontology IRI (FOOPS! minimum metadata)."""
    problems = []
    if (ontology, RDF.type, OWL.Ontology) not in graph:
        problems.append(f"{_name(ontology)} is not declared an owl:Ontology")
    literals = {DCTERMS.title: "dcterms:title", DCTERMS.description: "dcterms:description",
                OWL.versionInfo: "owl:versionInfo", VANN_PREFIX: "vann:preferredNamespacePrefix"}
    for predicate, label in literals.items():
        values = list(graph.objects(ontology, predicate))
        if not values:
            problems.append(f"the ontology has no {label}")
        elif not all(isinstance(v, Literal) and str(v).strip() for v in values):
            problems.append(f"the ontology's {label} must be non-empty text")
    iris = {DCTERMS.creator: "dcterms:creator", DCTERMS.license: "dcterms:license",
            OWL.versionIRI: "owl:versionIRI"}
    for predicate, label in iris.items():
        values = list(graph.objects(ontology, predicate))
        if not values:
            problems.append(f"the ontology has no {label}")
        elif not all(isinstance(v, URIRef) for v in values):
            problems.append(f"the ontology's {label} must be an IRI, not text")
    uris = [str(v) for v in graph.objects(ontology, VANN_URI)]
    if uris != [namespace]:
        problems.append(f"vann:preferredNamespaceUri must be exactly {namespace!r}, found {uris}")
    return problems


# -- terms ------------------------------------------------------------------------------------

def term_problems(graph: Graph, ontology: URIRef, namespace: str) -> list[str]:
    """Declaration, label, definition, rdfs:isDefinedBy and naming of each of our terms."""
    problems = []
    classes, properties = _classes(graph), _properties(graph)
    for term in sorted(ours(graph, namespace)):
        name = _name(term)
        local = str(term)[len(namespace):]
        if term not in classes | properties:
            problems.append(f"{name} is not declared a class or property")
        if term in classes and not UPPER_CAMEL.fullmatch(local):
            problems.append(f"{name}: class names are UpperCamelCase (P22)")
        if term in properties and not LOWER_CAMEL.fullmatch(local):
            problems.append(f"{name}: property names are lowerCamelCase (P22)")
        labels = list(graph.objects(term, RDFS.label))
        if len(labels) != 1 or not isinstance(labels[0], Literal) or labels[0].language != "en":
            problems.append(f"{name} needs exactly one rdfs:label in English, has {len(labels)}")
        if not any(isinstance(v, Literal) and str(v).strip()
                   for p in (SKOS.definition, RDFS.comment) for v in graph.objects(term, p)):
            problems.append(f"{name} has no skos:definition or rdfs:comment")
        defined_by = list(graph.objects(term, RDFS.isDefinedBy))
        if defined_by != [ontology]:
            problems.append(f"{name} needs exactly one rdfs:isDefinedBy, {_name(ontology)}; "
                            f"has {[_name(v) for v in defined_by]}")
    return problems


def domain_range_problems(graph: Graph) -> list[str]:
    """Properties with more than one rdfs:domain or rdfs:range (P19)."""
    problems = []
    for predicate, label in ((RDFS.domain, "rdfs:domain"), (RDFS.range, "rdfs:range")):
        counts: dict[object, int] = defaultdict(int)
        for prop in graph.subjects(predicate):
            counts[prop] += 1
        problems += [f"{_name(p)} has {n} values of {label}; give one class (P19)"
                     for p, n in counts.items() if n > 1]
    return sorted(problems)


def inverse_problems(graph: Graph) -> list[str]:
    """owl:inverseOf between things that are not object properties, or with clashing
    domains and ranges (P05): the domain of one must be the range of the other."""
    problems = []
    objects = {s for s in graph.subjects(RDF.type, OWL.ObjectProperty)}
    for p, q in sorted(graph.subject_objects(OWL.inverseOf)):
        for term in (p, q):
            if term not in objects:
                problems.append(f"{_name(term)} is in owl:inverseOf but is not an "
                                "owl:ObjectProperty")
        for a, b in ((p, q), (q, p)):
            domain, range_ = graph.value(a, RDFS.domain), graph.value(b, RDFS.range)
            if domain is not None and range_ is not None and domain != range_:
                problems.append(f"{_name(a)} owl:inverseOf {_name(b)}, but the domain of "
                                f"{_name(a)} ({_name(domain)}) is not the range of "
                                f"{_name(b)} ({_name(range_)}) (P05)")
    return sorted(set(problems))


def _cycles(edges: dict[object, list[object]]) -> list[list[object]]:
    """Each cycle met by a depth-first walk of ``edges``, as the path that closes it."""
    cycles: list[list[object]] = []
    done: set[object] = set()

    def visit(node: object, path: list[object]) -> None:
        if node in path:
            cycles.append([*path[path.index(node):], node])
            return
        if node in done:
            return
        for after in edges.get(node, ()):
            visit(after, [*path, node])
        done.add(node)

    for start in sorted(edges):
        visit(start, [])
    return cycles


def cycle_problems(graph: Graph) -> list[str]:
    """Cycles in the class or property hierarchy (P06)."""
    problems = set()
    for predicate in (RDFS.subClassOf, RDFS.subPropertyOf):
        edges: dict[object, list[object]] = defaultdict(list)
        for s, o in graph.subject_objects(predicate):
            if isinstance(s, URIRef) and isinstance(o, URIRef):
                edges[s].append(o)
        for cycle in _cycles(edges):
            problems.add(f"cycle in {_name(predicate)}: "
                         + " -> ".join(_name(n) for n in cycle) + " (P06)")
    return sorted(problems)


def orphan_problems(graph: Graph, namespace: str) -> list[str]:
    """Our classes that nothing connects to the rest of the ontology (P04): no superclass,
    no subclass and never a property's domain or range."""
    connected = {o for p in (RDFS.subClassOf, RDFS.domain, RDFS.range)
                 for o in graph.objects(None, p)}
    connected |= set(graph.subjects(RDFS.subClassOf))
    return [f"{_name(c)} is an orphan class: no superclass, subclass, domain or range (P04)"
            for c in sorted(_classes(graph) & ours(graph, namespace)) if c not in connected]


# -- used and declared ------------------------------------------------------------------------

def used_terms(graphs: Iterable[Graph]) -> set[URIRef]:
    """The classes and properties that ``graphs`` use: predicates, rdf:type values and the
    classes and properties named in schema axioms."""
    used: set[URIRef] = set()
    class_refs = (RDF.type, RDFS.subClassOf, RDFS.domain, RDFS.range, OWL.equivalentClass,
                  OWL.allValuesFrom, OWL.someValuesFrom)
    property_refs = (RDFS.subPropertyOf, OWL.inverseOf, OWL.equivalentProperty, OWL.onProperty)
    for graph in graphs:
        used.update(p for p in graph.predicates() if isinstance(p, URIRef))
        for predicate in class_refs + property_refs:
            used.update(o for o in graph.objects(None, predicate)
                        if isinstance(o, URIRef) and not _is_datatype(o))
    return used


def undeclared_problems(graphs: Iterable[Graph], declarations: Graph) -> list[str]:
    """Classes and properties used but declared nowhere (P34, P35, P40)."""
    known = declared(declarations)
    return [f"{_name(term)} is used but not declared as a class or property"
            for term in sorted(used_terms(graphs))
            if term not in known and term not in BUILT_IN and not str(term).startswith(str(OWL))]


def unused_terms(declarations: Graph, namespace: str, graphs: Iterable[Graph]) -> set[URIRef]:
    """Our declared terms that never occur, in any position, in ``graphs``."""
    seen: set[object] = set()
    for graph in graphs:
        for triple in graph:
            seen.update(triple)
    return {t for t in declared(declarations) if str(t).startswith(namespace) and t not in seen
            and not isinstance(t, BNode)}


#: Standard vocabularies whose full term lists rdflib ships (closed namespaces).
CLOSED_VOCABULARIES = (DCAT, DCTERMS, FOAF, ORG, OWL, PROV, QB, RDF, RDFS, SKOS, VOID, XSD)


def unknown_vocabulary_terms(graphs: Iterable[Graph]) -> list[str]:
    """IRIs in a standard vocabulary's namespace that the vocabulary does not define: a typo,
    or a term invented in someone else's namespace."""
    problems = set()
    for graph in graphs:
        for triple in graph:
            for term in triple:
                if not isinstance(term, URIRef):
                    continue
                for vocabulary in CLOSED_VOCABULARIES:
                    if (str(term).startswith(str(vocabulary)) and term != URIRef(vocabulary._NS)
                            and term not in vocabulary):
                        problems.add(f"{_name(term)} is not a term of {vocabulary._NS}")
    return sorted(problems)
