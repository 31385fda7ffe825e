"""The VoID and DCAT description of the dataset: what it holds, where to get it and what it links to.

The counts (:func:`~.void_statistics.statistics`) are described under the served base
(:func:`describe`): the dataset is ``{base}/data/void#dataset``, and its distributions,
partitions, linksets and link targets are other fragments of the same document
(``{base}/data/void``). Each named graph is a ``void:subset`` named by the graph's own IRI; an
imported classification's subset also says what its graph says about itself: its licence
(``dcterms:license``, ``dcterms:rights``), publisher's page (``dcterms:source``), version
(``pav:version``), when it was imported (``pav:importedOn``) and the files it was read from
(``pav:importedFrom``, with their SHA-256).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from datetime import datetime

import pyoxigraph as ox

from ..core.formats import by_media_type
from ..core.namespaces import GRAPH_DESCRIPTIONS, ProjectNamespaces, curie
from ..core.settings import Settings
from ..core.vocab import DCAT, DCTERMS, FOAF, FORMATS, MEDIA_TYPES, PAV, RDF, RDFS, SPDX, SSSOM, TYPE, VOID, XSD
from ..store.dumps import DATASET_DUMPS, GZIP_MEDIA_TYPE, DumpFile
from ..store.live import modified_time
from .void_statistics import Statistics

__all__ = [
    "LICENCE",
    "PREFIXES",
    "build_time",
    "dataset_iri",
    "describe",
    "document_iri",
    "prefixes",
]

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

#: The W3C format IRI of each dump syntax.
FORMAT_IRIS = {media_type: by_media_type(media_type).iri for _, _, media_type, _ in DATASET_DUMPS}

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
    "sssom": SSSOM,
    "pav": PAV,
}


def build_time(settings: Settings, build_id: str | None) -> datetime | None:
    """When the data of build ``build_id`` last changed (its ``dcterms:modified``): what the build
    recorded (``SOURCE_DATE_EPOCH`` when it had one), else the time its id starts with, else its
    directory's time (:func:`~nhs_ai_workforce.store.live.modified_time`)."""
    return modified_time(settings, build_id)


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


_FRAGMENT_SAFE = re.compile(r"[A-Za-z0-9_.-]+")


def _fragment(iri: str, prefixes: dict[str, str]) -> str:
    """A readable fragment for a term: its prefixed name with ``-`` for ``:``, else a short hash.

    >>> _fragment(RDFS + "label", {"rdfs": RDFS}), _fragment("http://x.org/a b", {"x": "http://x.org/"})
    ('rdfs-label', '69ac5fc50848')
    """
    name = curie(iri, prefixes, local=_FRAGMENT_SAFE)
    if name is None:
        return hashlib.sha256(iri.encode()).hexdigest()[:12]
    prefix, _, local = name.partition(":")
    return f"{prefix}-{local}"


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
    a = TYPE

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
    g.add(node, TYPE, DCAT + "Distribution")
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
    g.add(checksum, TYPE, SPDX + "Checksum")
    g.add(checksum, SPDX + "algorithm", SPDX + "checksumAlgorithm_sha256")
    g.add(checksum, SPDX + "checksumValue", _typed(file.sha256, "hexBinary"))


def _service(g: _Graph, dataset: str, base: str) -> None:
    """The SPARQL endpoint as a ``dcat:DataService`` serving the dataset."""
    node = f"{document_iri(base)}#sparql-service"
    endpoint = f"{base}/sparql"
    g.add(node, TYPE, DCAT + "DataService")
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
        g.add(graph.iri, TYPE, VOID + "Dataset")
        if graph.name:
            g.add(graph.iri, DCTERMS + "title", _text(f"Named graph {graph.name}"))
            g.add(graph.iri, DCTERMS + "description", _text(GRAPH_DESCRIPTIONS[graph.name]))
        g.add(graph.iri, VOID + "triples", _typed(graph.triples, "integer"))
        g.add(graph.iri, VOID + "distinctSubjects", _typed(graph.subjects, "integer"))
        g.add(graph.iri, VOID + "distinctObjects", _typed(graph.objects, "integer"))
        if graph.name in files:
            g.add(graph.iri, VOID + "dataDump", f"{base}/data/{files[graph.name].name}")
        # An imported classification's own statements: its licence, rights, source, version and files.
        g.triples.extend(graph.described)


def _linksets(g: _Graph, dataset: str, doc: str, stats: Statistics, prefixes: dict[str, str]) -> None:
    """One ``void:Linkset`` per target with links, and a child linkset per link predicate."""
    for linkset in stats.linksets:
        target = linkset.target
        target_node = f"{doc}#{target.key}"
        g.add(target_node, TYPE, VOID + "Dataset")
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
    g.add(node, TYPE, VOID + "Linkset")
    g.add(node, DCTERMS + "title", _text(title))
    g.add(node, VOID + "subjectsTarget", dataset)
    g.add(node, VOID + "objectsTarget", target)
    g.add(node, VOID + "target", dataset, target)
    g.add(node, VOID + "linkPredicate", *predicates)
    g.add(node, VOID + "triples", _typed(triples, "integer"))
