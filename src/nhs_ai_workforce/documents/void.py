"""The VoID and DCAT description of the dataset: what it holds, where to get it and what it links to.

Everything is counted from the live store (:func:`statistics`) and described under the served
base (:func:`describe`): the dataset is ``{base}/data/void#dataset``, and its distributions,
partitions, linksets and link targets are other fragments of the same document
(``{base}/data/void``). Each named graph is a ``void:subset`` named by the graph's own IRI.

Counts follow VoID (https://www.w3.org/TR/void/): ``void:triples`` counts the distinct triples of
the union of the graphs (the SPARQL endpoint's default graph); ``void:entities`` the distinct
IRIs under the base ``void:uriSpace`` in subject position; a class partition's entities are the
distinct instances of the class; a property partition's triples the distinct triples with that
predicate. A linkset holds the distinct triples whose subject is under the base and whose object
is an IRI of the target (and whose subject is not), one child linkset per link predicate.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import pyoxigraph as ox

from ..core.namespaces import GRAPH_DESCRIPTIONS, GRAPHS, STANDARD_PREFIXES, ProjectNamespaces
from ..core.settings import Settings
from ..store.dumps import DATASET_DUMPS, GZIP_MEDIA_TYPE, DumpFile
from ..store.live import build_time as store_build_time
from ..store.live import stores_dir

__all__ = [
    "LICENCE",
    "PREFIXES",
    "Linkset",
    "Partition",
    "Statistics",
    "Target",
    "build_time",
    "describe",
    "document_iri",
    "prefixes",
    "statistics",
    "targets",
]

VOID = "http://rdfs.org/ns/void#"
DCAT = "http://www.w3.org/ns/dcat#"
DCTERMS = "http://purl.org/dc/terms/"
FOAF = "http://xmlns.com/foaf/0.1/"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
XSD = "http://www.w3.org/2001/XMLSchema#"
SPDX = "http://spdx.org/rdf/terms#"
FORMATS = "http://www.w3.org/ns/formats/"
MEDIA_TYPES = "https://www.iana.org/assignments/media-types/"

#: The licence the project publishes under (as the ontology header and the SSSOM mapping set say).
LICENCE = "http://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"
TITLE = "NHS AI workforce knowledge graph"
DESCRIPTION = (
    "An open knowledge graph of the policy landscape that followed the Topol Review: the reviews, "
    "reports, strategies and programmes about the NHS digital, data and AI workforce, who published or "
    "commissioned them and when, what they recommend, the workforce figures they cite and the names they "
    "give to digital, data and AI roles, mapped to ONS SOC 2020, ISCO-08, ESCO and the government Digital "
    "and Data capability framework. Every fact cites the section of the source it comes from."
)
RIGHTS = (
    "Published under the Open Government Licence v3.0. ESCO v1.2.0 labels and codes come from the ESCO "
    "classification of the European Commission and are reused with attribution; SOC 2020 codes and titles "
    "come from the Office for National Statistics (Open Government Licence v3.0)."
)
KEYWORDS = ("NHS", "artificial intelligence", "digital workforce", "data professions", "Topol Review",
            "occupational classification")

#: Things worth looking at first, as ``{kind}/{key}`` under ``{base}/id/`` (kept only if present).
EXAMPLES = ("initiative/ai-roadmap", "initiative/topol-review", "role/data-scientist", "scheme/role-terms")

#: The W3C format IRI of each dump syntax.
FORMAT_IRIS = {
    "application/trig": FORMATS + "TriG",
    "application/n-quads": FORMATS + "N-Quads",
    "application/ld+json": FORMATS + "JSON-LD",
    "text/turtle": FORMATS + "Turtle",
}

PREFIXES = {
    "void": VOID,
    "dcat": DCAT,
    "dcterms": DCTERMS,
    "foaf": FOAF,
    "rdf": RDF,
    "rdfs": RDFS,
    "xsd": XSD,
    "spdx": SPDX,
    "formats": FORMATS,
    "sssom": "https://w3id.org/sssom/",
    "pav": "http://purl.org/pav/",
}


@dataclass(frozen=True)
class Target:
    """A dataset this one links to: its IRIs match ``pattern`` (and start with ``uri_space`` if given)."""

    key: str
    title: str
    description: str
    pattern: str
    uri_space: str | None = None
    internal: bool = False


def _space(prefix: str) -> tuple[str, str]:
    """(regular expression, uriSpace) for the IRIs that start with ``prefix``."""
    return "^" + re.escape(prefix), prefix


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
               f"^{re.escape(base)}/id/(soc2020/.+|scheme/soc2020)$", internal=True),
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
    """One named graph of the store and its counts; ``name`` is the short name of a project graph."""

    iri: str
    name: str | None
    triples: int
    subjects: int
    objects: int


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
_LINKS = """SELECT ?p (COUNT(*) AS ?n) { SELECT DISTINCT ?s ?p ?o { ?s ?p ?o
  FILTER(isIRI(?o) && STRSTARTS(STR(?s), %(space)s) && REGEX(STR(?o), %(pattern)s) && !REGEX(STR(?s), %(pattern)s)) } }
GROUP BY ?p ORDER BY DESC(?n) ?p"""
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
        linksets=tuple(ls for ls in (_linkset(store, t, ns) for t in targets(ns.base)) if ls.predicates),
        vocabularies=_vocabularies(store, ns, [p.iri for p in (*classes, *properties)]),
        examples=tuple(iri for iri in examples
                       if store.query(f"ASK {{ <{iri}> ?p ?o }}", use_default_graph_as_union=True)),
        sources=tuple(row["s"].value for row in sources),
    )


def _graphs(store: ox.Store, ns: ProjectNamespaces) -> tuple[GraphSubset, ...]:
    """Every named graph with its counts: the project graphs in their usual order, then others by IRI."""
    names = {str(ns.graph(name)): name for name in GRAPHS}
    rows = store.query(_GRAPHS)
    subsets = [GraphSubset(row["g"].value, names.get(row["g"].value), _int(row["n"]), _int(row["subjects"]),
                           _int(row["objects"])) for row in rows if isinstance(row["g"], ox.NamedNode)]
    order = {name: index for index, name in enumerate(GRAPHS)}
    return tuple(sorted(subsets, key=lambda g: (order.get(g.name, len(order)), g.iri)))


def _linkset(store: ox.Store, target: Target, ns: ProjectNamespaces) -> Linkset:
    """The links from this dataset's things to ``target``, counted per predicate."""
    pattern = _string(target.pattern)
    rows = _rows(store, _LINKS % {"space": _string(ns.base + "/"), "pattern": pattern})
    entities = _count(store, _TARGET_ENTITIES % pattern) if target.internal else None
    return Linkset(target, tuple((row["p"].value, _int(row["n"])) for row in rows), entities)


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


def build_time(settings: Settings, build_id: str | None) -> datetime | None:
    """When build ``build_id`` was made: the time its id starts with, else its directory's mtime."""
    if not build_id:
        return None
    minted = store_build_time(build_id)
    if minted is not None:
        return minted
    try:
        return datetime.fromtimestamp((stores_dir(settings) / build_id).stat().st_mtime, tz=UTC)
    except OSError:
        return None


# -- the description --------------------------------------------------------------------------

def prefixes(base: str) -> dict[str, str]:
    """Prefixes for writing the description: VoID, DCAT and the like, and the project's own."""
    project = {k: v for k, v in ProjectNamespaces(base).prefixes().items() if k != "id"}
    return {**project, **PREFIXES}


def document_iri(base: str) -> str:
    """The IRI of the description document, ``{base}/data/void``; its fragments name its parts."""
    return f"{base.rstrip('/')}/data/void"


def dataset_iri(base: str) -> str:
    """The IRI of the whole dataset, ``{base}/data/void#dataset``."""
    return f"{document_iri(base)}#dataset"


def _n(iri: str) -> ox.NamedNode:
    return ox.NamedNode(iri)


def _text(value: str) -> ox.Literal:
    return ox.Literal(value, language="en")


def _typed(value: object, datatype: str) -> ox.Literal:
    return ox.Literal(str(value), datatype=_n(XSD + datatype))


def _fragment(iri: str, prefixes: dict[str, str]) -> str:
    """A readable fragment for a term: its prefixed name with ``-`` for ``:``, else a short hash."""
    for prefix, namespace in sorted(prefixes.items(), key=lambda item: -len(item[1])):
        local = iri[len(namespace):]
        if iri.startswith(namespace) and re.fullmatch(r"[A-Za-z0-9_.-]+", local):
            return f"{prefix}-{local}"
    return hashlib.sha256(iri.encode()).hexdigest()[:12]


class _Graph:
    """The triples of the description, kept in the order they are added."""

    def __init__(self) -> None:
        self.triples: list[ox.Triple] = []

    def add(self, subject: str, predicate: str, *objects: ox.NamedNode | ox.Literal | str) -> None:
        for value in objects:
            term = _n(value) if isinstance(value, str) else value
            self.triples.append(ox.Triple(_n(subject), _n(predicate), term))

    def grouped(self) -> list[ox.Triple]:
        """The triples with each subject's together, subjects in the order first seen."""
        first: dict[ox.NamedNode, int] = {}
        for triple in self.triples:
            first.setdefault(triple.subject, len(first))
        return sorted(self.triples, key=lambda triple: first[triple.subject])


def describe(
    settings: Settings,
    stats: Statistics,
    dumps: Sequence[DumpFile],
    *,
    modified: datetime | None = None,
) -> list[ox.Triple]:
    """The VoID and DCAT description of the dataset in ``stats``, whose dumps are ``dumps``.

    IRIs are under ``settings.base``: dumps at ``{base}/data/{name}``, the SPARQL endpoint at
    ``{base}/sparql``. Targets without links get no linkset.
    """
    ns = ProjectNamespaces(settings.base)
    base = ns.base
    doc = document_iri(base)
    dataset = dataset_iri(base)
    names = prefixes(base)
    g = _Graph()
    a = RDF + "type"

    g.add(doc, a, VOID + "DatasetDescription")
    g.add(doc, DCTERMS + "title", _text(f"VoID and DCAT description of the {TITLE}"))
    g.add(doc, FOAF + "primaryTopic", dataset)

    g.add(dataset, a, VOID + "Dataset", DCAT + "Dataset")
    g.add(dataset, DCTERMS + "title", _text(TITLE))
    g.add(dataset, DCTERMS + "description", _text(DESCRIPTION))
    g.add(dataset, DCTERMS + "license", LICENCE)
    g.add(dataset, DCTERMS + "rights", _text(RIGHTS))
    g.add(dataset, DCTERMS + "publisher", ns.thing("organisation", "aiwf-project"))
    g.add(dataset, DCTERMS + "source", *stats.sources)
    if modified is not None:
        g.add(dataset, DCTERMS + "modified", _typed(modified.strftime("%Y-%m-%dT%H:%M:%SZ"), "dateTime"))
    g.add(dataset, FOAF + "homepage", f"{base}/")
    g.add(dataset, DCAT + "landingPage", f"{base}/data/")
    g.add(dataset, DCAT + "keyword", *(_text(k) for k in KEYWORDS))
    g.add(dataset, VOID + "sparqlEndpoint", f"{base}/sparql")
    g.add(dataset, VOID + "uriSpace", ox.Literal(f"{base}/"))
    g.add(dataset, VOID + "vocabulary", *stats.vocabularies)
    g.add(dataset, VOID + "feature", *(FORMAT_IRIS[media] for _, _, media, _ in DATASET_DUMPS))
    for predicate, value in (("triples", stats.triples), ("entities", stats.entities),
                             ("distinctSubjects", stats.subjects), ("distinctObjects", stats.objects),
                             ("classes", len(stats.classes)), ("properties", len(stats.properties))):
        g.add(dataset, VOID + predicate, _typed(value, "integer"))
    g.add(dataset, VOID + "exampleResource", *stats.examples)

    whole = [file for file in dumps if file.graph is None]
    g.add(dataset, VOID + "dataDump", *(f"{base}/data/{file.name}" for file in whole))
    for file in whole:
        _distribution(g, dataset, base, file)
    _service(g, dataset, base)
    for partition in stats.classes:
        node = f"{doc}#class-{_fragment(partition.iri, names)}"
        g.add(dataset, VOID + "classPartition", node)
        g.add(node, VOID + "class", partition.iri)
        g.add(node, VOID + "entities", _typed(partition.count, "integer"))
    for partition in stats.properties:
        node = f"{doc}#property-{_fragment(partition.iri, names)}"
        g.add(dataset, VOID + "propertyPartition", node)
        g.add(node, VOID + "property", partition.iri)
        g.add(node, VOID + "triples", _typed(partition.count, "integer"))
        g.add(node, VOID + "distinctSubjects", _typed(partition.subjects, "integer"))
        g.add(node, VOID + "distinctObjects", _typed(partition.objects, "integer"))
    _graph_subsets(g, dataset, base, stats, dumps)
    _linksets(g, dataset, doc, stats, names)
    return g.grouped()


def _distribution(g: _Graph, dataset: str, base: str, file: DumpFile) -> None:
    """A ``dcat:Distribution`` for one whole-dataset dump, with its size and SHA-256 checksum."""
    node = f"{document_iri(base)}#dump-{file.name.replace('/', '-')}"
    url = f"{base}/data/{file.name}"
    g.add(dataset, DCAT + "distribution", node)
    g.add(node, RDF + "type", DCAT + "Distribution")
    g.add(node, DCTERMS + "title", _text(file.label))
    g.add(node, DCAT + "downloadURL", url)
    g.add(node, DCAT + "accessURL", url)
    g.add(node, DCAT + "mediaType", MEDIA_TYPES + file.media_type)
    g.add(node, DCTERMS + "format", FORMAT_IRIS[file.media_type])
    if file.compressed:
        g.add(node, DCAT + "compressFormat", MEDIA_TYPES + GZIP_MEDIA_TYPE)
    g.add(node, DCAT + "byteSize", _typed(file.size, "nonNegativeInteger"))
    g.add(node, DCTERMS + "license", LICENCE)
    checksum = f"{node}-sha256"
    g.add(node, SPDX + "checksum", checksum)
    g.add(checksum, RDF + "type", SPDX + "Checksum")
    g.add(checksum, SPDX + "algorithm", SPDX + "checksumAlgorithm_sha256")
    g.add(checksum, SPDX + "checksumValue", _typed(file.sha256, "hexBinary"))


def _service(g: _Graph, dataset: str, base: str) -> None:
    """The SPARQL endpoint as a ``dcat:DataService`` serving the dataset."""
    node = f"{document_iri(base)}#sparql-service"
    endpoint = f"{base}/sparql"
    g.add(node, RDF + "type", DCAT + "DataService")
    g.add(node, DCTERMS + "title", _text(f"{TITLE}: SPARQL endpoint"))
    g.add(node, DCAT + "endpointURL", endpoint)
    g.add(node, DCAT + "endpointDescription", endpoint)
    g.add(node, DCAT + "servesDataset", dataset)
    g.add(node, DCTERMS + "conformsTo", "https://www.w3.org/TR/sparql11-protocol/")
    g.add(node, DCTERMS + "license", LICENCE)


def _graph_subsets(g: _Graph, dataset: str, base: str, stats: Statistics, dumps: Sequence[DumpFile]) -> None:
    """One ``void:subset`` per named graph, named by the graph's IRI, with its counts and dump."""
    files = {file.graph: file for file in dumps if file.graph}
    for graph in stats.graphs:
        g.add(dataset, VOID + "subset", graph.iri)
        g.add(graph.iri, RDF + "type", VOID + "Dataset")
        if graph.name:
            g.add(graph.iri, DCTERMS + "title", _text(f"Named graph {graph.name}"))
            g.add(graph.iri, DCTERMS + "description", _text(GRAPH_DESCRIPTIONS[graph.name]))
        g.add(graph.iri, VOID + "triples", _typed(graph.triples, "integer"))
        g.add(graph.iri, VOID + "distinctSubjects", _typed(graph.subjects, "integer"))
        g.add(graph.iri, VOID + "distinctObjects", _typed(graph.objects, "integer"))
        if graph.name in files:
            g.add(graph.iri, VOID + "dataDump", f"{base}/data/{files[graph.name].name}")


def _linksets(g: _Graph, dataset: str, doc: str, stats: Statistics, prefixes: dict[str, str]) -> None:
    """One ``void:Linkset`` per target with links, and a child linkset per link predicate."""
    for linkset in stats.linksets:
        target = linkset.target
        target_node = f"{doc}#{target.key}"
        g.add(target_node, RDF + "type", VOID + "Dataset")
        g.add(target_node, DCTERMS + "title", _text(target.title))
        g.add(target_node, DCTERMS + "description", _text(target.description))
        if target.uri_space:
            g.add(target_node, VOID + "uriSpace", ox.Literal(target.uri_space))
        g.add(target_node, VOID + "uriRegexPattern", ox.Literal(target.pattern))
        if target.internal:
            g.add(dataset, VOID + "subset", target_node)
            g.add(target_node, VOID + "entities", _typed(linkset.entities, "integer"))
        node = f"{doc}#links-{target.key}"
        _linkset_node(g, dataset, node, target_node, f"Links to {target.title}", linkset.triples,
                      [p for p, _ in linkset.predicates])
        g.add(dataset, VOID + "subset", node)
        for predicate, count in linkset.predicates:
            child = f"{node}-{_fragment(predicate, prefixes)}"
            _linkset_node(g, dataset, child, target_node, f"Links to {target.title} by <{predicate}>", count,
                          [predicate])
            g.add(node, VOID + "subset", child)


def _linkset_node(g: _Graph, dataset: str, node: str, target: str, title: str, triples: int,
                  predicates: list[str]) -> None:
    g.add(node, RDF + "type", VOID + "Linkset")
    g.add(node, DCTERMS + "title", _text(title))
    g.add(node, VOID + "subjectsTarget", dataset)
    g.add(node, VOID + "objectsTarget", target)
    g.add(node, VOID + "target", dataset, target)
    g.add(node, VOID + "linkPredicate", *predicates)
    g.add(node, VOID + "triples", _typed(triples, "integer"))
