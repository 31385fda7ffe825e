"""What the VoID description counts: triples, entities, class and property partitions, graphs, linksets.

Everything is counted from the live store by :func:`statistics`, once per build;
:mod:`.void` states the counts. Counts follow VoID (https://www.w3.org/TR/void/): ``void:triples``
counts the distinct triples of the union of the graphs (the SPARQL endpoint's default graph);
``void:entities`` the distinct IRIs under the base ``void:uriSpace`` in subject position; a class
partition's entities are the distinct instances of the class; a property partition's triples the
distinct triples with that predicate. A linkset holds the distinct triples whose subject is under
the base and whose object is an IRI of the target (and whose subject is not), one child linkset
per link predicate.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import pyoxigraph as ox

from ..core.namespaces import ALL_GRAPHS, IMPORT_GRAPHS, STANDARD_PREFIXES, ProjectNamespaces
from ..core.settings import Settings
from ..core.vocab import RDFS

__all__ = ["EXAMPLES", "GraphSubset", "Linkset", "Partition", "Statistics", "Target", "statistics", "targets"]

#: Things worth looking at first, as ``{kind}/{key}`` under ``{base}/id/`` (kept only if present).
EXAMPLES = ("initiative/ai-roadmap", "initiative/topol-review", "role/data-scientist", "scheme/role-terms")


@dataclass(frozen=True)
class Target:
    """A dataset this one links to: its IRIs match ``pattern`` (and start with ``uri_space`` if given)."""

    key: str
    title: str
    description: str
    pattern: str
    uri_space: str | None = None
    internal: bool = False


_SYNTAX = re.compile(r"[\^$\\.*+?()\[\]{}|]")


def escape(text: str) -> str:
    r"""``text`` as a regular expression, escaping only the syntax characters ``^$\.*+?()[]{}|``.

    :func:`re.escape` also escapes ``-``, ``~`` or ``#``, which JavaScript's Unicode patterns
    (``new RegExp(p, "u")``) and XPath's (SPARQL ``REGEX``) reject; this form is valid in all three.

    >>> escape("https://a-b.example/id/x?y")
    'https://a-b\\.example/id/x\\?y'
    """
    return _SYNTAX.sub(lambda match: "\\" + match.group(), text)


def _space(prefix: str) -> tuple[str, str]:
    """(regular expression, uriSpace) for the IRIs that start with ``prefix``."""
    return "^" + escape(prefix), prefix


def targets(base: str) -> tuple[Target, ...]:
    """The link targets, in the order they are described.

    SOC 2020 has no official linked-data IRIs, so its unit groups are minted under ``base``:
    that target is a subset of this dataset (``internal``) rather than another dataset.
    """
    base = base.rstrip("/")
    return (
        Target("govuk", "GOV.UK", "Organisation and publication pages on GOV.UK.", *_space("https://www.gov.uk/")),
        Target("reference-intervals", "reference.data.gov.uk intervals",
               "UK government reference time intervals (years, months, days): when initiatives were issued "
               "and the periods figures refer to.", *_space("http://reference.data.gov.uk/id/")),
        Target("ons-geography", "ONS statistical geographies",
               "Statistical geographies of the Office for National Statistics, named by GSS code.",
               *_space("http://statistics.data.gov.uk/id/statistical-geography/")),
        Target("esco-occupations", "ESCO occupations",
               "Occupations of the ESCO classification (v1.2.0) and their concept scheme.",
               r"^http://data\.europa\.eu/esco/(occupation/.+|concept-scheme/occupations)$"),
        Target("isco-08", "ISCO-08 groups (ESCO)",
               "ISCO-08 occupational groups as the ESCO classification (v1.2.0) publishes them, and their "
               "concept scheme.", r"^http://data\.europa\.eu/esco/(isco/C[0-9]+|concept-scheme/isco)$"),
        Target("soc2020", "ONS SOC 2020 unit groups",
               "Unit groups of the ONS Standard Occupational Classification 2020 and their concept scheme. "
               "SOC 2020 has no official linked-data IRIs, so they are minted in this dataset, each unit "
               "group with its code as skos:notation.",
               f"^{escape(base)}/id/(soc2020/.+|scheme/soc2020)$", internal=True),
        Target("capability-framework", "Government Digital and Data Profession Capability Framework",
               "The government Digital and Data Profession Capability Framework and its roles.",
               r"^https://ddat-capability-framework\.service\.gov\.uk(/|$)"),
        Target("nhs-web", "NHS and HEE web pages",
               "Pages on nhs.uk sites: Health Education England, the Topol Review, NHSX and the NHS "
               "Transformation Directorate.", r"^https?://([a-z0-9-]+\.)*nhs\.uk(/|$)"),
    )


@dataclass(frozen=True)
class Partition:
    """A class (``count`` instances) or property (``count`` triples) of the dataset."""

    iri: str
    count: int
    subjects: int | None = None
    objects: int | None = None


@dataclass(frozen=True)
class Linkset:
    """The links to one target: (link predicate, distinct triples), largest first; for a target
    inside this dataset, also how many of its things this dataset describes."""

    target: Target
    predicates: tuple[tuple[str, int], ...]
    entities: int | None = None

    @property
    def triples(self) -> int:
        return sum(count for _, count in self.predicates)


@dataclass(frozen=True)
class GraphSubset:
    """One named graph of the store and its counts; ``name`` is the short name of a project graph.

    ``described`` holds what an imported classification's graph says about itself (its licence,
    rights, source, version, import time and files: the subjects are the graph and its ``#``
    fragments), which the description repeats.
    """

    iri: str
    name: str | None
    triples: int
    subjects: int
    objects: int
    described: tuple[ox.Triple, ...] = ()


@dataclass(frozen=True)
class Statistics:
    """Everything the description counts, computed once per build by :func:`statistics`."""

    base: str
    triples: int
    entities: int
    subjects: int
    objects: int
    classes: tuple[Partition, ...]
    properties: tuple[Partition, ...]
    graphs: tuple[GraphSubset, ...]
    linksets: tuple[Linkset, ...]
    vocabularies: tuple[str, ...]
    examples: tuple[str, ...]
    sources: tuple[str, ...]


def _string(text: str) -> str:
    """``text`` as a SPARQL string literal (JSON escapes are valid SPARQL escapes)."""
    return json.dumps(text)


def _rows(store: ox.Store, query: str) -> list:
    return list(store.query(query, use_default_graph_as_union=True))


def _int(term: ox.Literal) -> int:
    return int(term.value)


def _count(store: ox.Store, query: str) -> int:
    (row,) = _rows(store, query)
    return _int(row["n"])


_TOTALS = """SELECT (COUNT(*) AS ?n) (COUNT(DISTINCT ?s) AS ?subjects) (COUNT(DISTINCT ?o) AS ?objects)
{ SELECT DISTINCT ?s ?p ?o { ?s ?p ?o } }"""
_ENTITIES = "SELECT (COUNT(DISTINCT ?s) AS ?n) { ?s ?p ?o FILTER(isIRI(?s) && STRSTARTS(STR(?s), %s)) }"
_CLASSES = "SELECT ?c (COUNT(DISTINCT ?s) AS ?n) { ?s a ?c FILTER(isIRI(?c)) } GROUP BY ?c ORDER BY ?c"
_PROPERTIES = """SELECT ?p (COUNT(*) AS ?n) (COUNT(DISTINCT ?s) AS ?subjects) (COUNT(DISTINCT ?o) AS ?objects)
{ SELECT DISTINCT ?s ?p ?o { ?s ?p ?o } } GROUP BY ?p ORDER BY ?p"""
_GRAPHS = """SELECT ?g (COUNT(*) AS ?n) (COUNT(DISTINCT ?s) AS ?subjects) (COUNT(DISTINCT ?o) AS ?objects)
{ GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"""
#: What a graph says about itself and its ``#`` fragments (up to two steps away), for the imported graphs.
_DESCRIBED = """SELECT ?g ?s ?p ?o { VALUES ?g { %s } GRAPH ?g {
  { ?g ?p ?o BIND(?g AS ?s) }
  UNION { ?g ?q ?s . ?s ?p ?o FILTER(isIRI(?s) && STRSTARTS(STR(?s), CONCAT(STR(?g), "#"))) }
  UNION { ?g ?q ?x . ?x ?r ?s . ?s ?p ?o FILTER(isIRI(?x) && STRSTARTS(STR(?x), CONCAT(STR(?g), "#"))
                                               && isIRI(?s) && STRSTARTS(STR(?s), CONCAT(STR(?g), "#"))) } } }"""
#: The triples that may be links: subject under the base, object an IRI (each target's pattern picks its own).
_LINK_CANDIDATES = "SELECT DISTINCT ?s ?p ?o { ?s ?p ?o FILTER(isIRI(?o) && STRSTARTS(STR(?s), %s)) }"
_TARGET_ENTITIES = "SELECT (COUNT(DISTINCT ?s) AS ?n) { ?s ?p ?o FILTER(REGEX(STR(?s), %s)) }"


def statistics(store: ox.Store, settings: Settings) -> Statistics:
    """Count what :func:`describe` states, from ``store`` (one query per figure, a few per target)."""
    ns = ProjectNamespaces(settings.base)
    (totals,) = _rows(store, _TOTALS)
    classes = tuple(Partition(row["c"].value, _int(row["n"])) for row in _rows(store, _CLASSES))
    properties = tuple(
        Partition(row["p"].value, _int(row["n"]), _int(row["subjects"]), _int(row["objects"]))
        for row in _rows(store, _PROPERTIES)
    )
    examples = [f"{ns.base}/id/{path}" for path in EXAMPLES]
    sources = _rows(store, f"SELECT DISTINCT ?s {{ ?s a <{ns.AIWF}SourceDocument> }} ORDER BY ?s")
    return Statistics(
        base=ns.base,
        triples=_int(totals["n"]),
        entities=_count(store, _ENTITIES % _string(ns.base + "/")),
        subjects=_int(totals["subjects"]),
        objects=_int(totals["objects"]),
        classes=classes,
        properties=properties,
        graphs=_graphs(store, ns),
        linksets=_linksets(store, ns),
        vocabularies=_vocabularies(store, ns, [p.iri for p in (*classes, *properties)]),
        examples=tuple(iri for iri in examples
                       if store.query(f"ASK {{ <{iri}> ?p ?o }}", use_default_graph_as_union=True)),
        sources=tuple(row["s"].value for row in sources),
    )


def _graphs(store: ox.Store, ns: ProjectNamespaces) -> tuple[GraphSubset, ...]:
    """Every named graph with its counts: the project graphs in their usual order, then others by IRI."""
    names = {str(ns.graph(name)): name for name in ALL_GRAPHS}
    described: dict[str, list[ox.Triple]] = {}
    values = " ".join(f"<{ns.graph(name)}>" for name in IMPORT_GRAPHS)
    for row in store.query(_DESCRIBED % values):
        triple = ox.Triple(row["s"], row["p"], row["o"])
        if triple not in described.setdefault(row["g"].value, []):
            described[row["g"].value].append(triple)
    rows = store.query(_GRAPHS)
    subsets = [GraphSubset(row["g"].value, names.get(row["g"].value), _int(row["n"]), _int(row["subjects"]),
                           _int(row["objects"]), tuple(described.get(row["g"].value, ())))
               for row in rows if isinstance(row["g"], ox.NamedNode)]
    order = {name: index for index, name in enumerate(ALL_GRAPHS)}
    return tuple(sorted(subsets, key=lambda g: (order.get(g.name, len(order)), g.iri)))


def _linksets(store: ox.Store, ns: ProjectNamespaces) -> tuple[Linkset, ...]:
    """The links from this dataset's things to each target that has some, counted per predicate.

    One scan finds the candidate triples; each target's pattern (valid in Python as in SPARQL
    ``REGEX``) then picks those whose object is its IRI and whose subject is not, so the cost does
    not grow with the number of targets times the size of the store (an imported classification
    adds a hundred thousand triples).
    """
    rows = [(row["s"].value, row["p"].value, row["o"].value)
            for row in _rows(store, _LINK_CANDIDATES % _string(ns.base + "/"))]
    found = []
    for target in targets(ns.base):
        pattern = re.compile(target.pattern)
        counts = Counter(p for s, p, o in rows if pattern.search(o) and not pattern.search(s))
        if not counts:
            continue
        entities = _count(store, _TARGET_ENTITIES % _string(target.pattern)) if target.internal else None
        found.append(Linkset(target, tuple(sorted(counts.items(), key=lambda item: (-item[1], item[0]))), entities))
    return tuple(found)


def _vocabularies(store: ox.Store, ns: ProjectNamespaces, terms: Sequence[str]) -> tuple[str, ...]:
    """The vocabularies of ``terms``: the ``rdfs:isDefinedBy`` the ontology graph gives each term, else
    the longest known namespace that the term starts with, else the term up to its last ``#`` or ``/``.
    """
    defined = {
        row["t"].value: row["v"].value
        for row in _rows(store, f"SELECT ?t ?v {{ ?t <{RDFS}isDefinedBy> ?v FILTER(isIRI(?v)) }}")
    }
    known = sorted({*STANDARD_PREFIXES.values(), str(ns.AIWF)}, key=len, reverse=True)
    found = set()
    for term in terms:
        vocabulary = defined.get(term) or next((n for n in known if term.startswith(n)), None)
        if vocabulary is None:
            cut = max(term.rfind("#"), term.rfind("/"))
            vocabulary = term[: cut + 1]
        found.add(vocabulary)
    return tuple(sorted(found))
