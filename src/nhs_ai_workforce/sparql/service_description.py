"""The SPARQL 1.1 Service Description of the endpoint: what it runs, writes and holds, and its limits.

``GET /sparql`` without a query answers with this graph (W3C SPARQL 1.1 Service Description,
https://www.w3.org/TR/sparql11-service-description/): an ``sd:Service`` with its
``sd:endpoint``, ``sd:supportedLanguage sd:SPARQL11Query``, one ``sd:resultFormat`` per format
written (the W3C ``http://www.w3.org/ns/formats/`` IRIs), ``sd:feature sd:UnionDefaultGraph``
(and ``sd:BasicFederatedQuery`` only when ``AIWF_SERVICE_ALLOW`` lists endpoints ``SERVICE``
may call, named in the ``rdfs:comment``; otherwise ``SERVICE`` is refused), and an
``sd:defaultDataset`` whose ``sd:defaultGraph`` and ``sd:namedGraph`` entries carry
``void:triples`` counts.

The prefixes predeclared for every query (the project's: ``aiwf:``, ``id:``, one per kind of
thing such as ``initiative:``, and the standard ones) are published as SHACL prefix
declarations, ``sh:declare [ a sh:PrefixDeclaration ; sh:prefix "initiative" ; sh:namespace
"{base}/id/initiative/"^^xsd:anyURI ]``, and named in the ``rdfs:comment``.

The limits (time, result rows, request size) are stated with three properties of our own,
``{base}/def/service/queryTimeLimit``, ``resultLimit`` and ``requestSizeLimit``, declared in
the description itself, and repeated in plain words in an ``rdfs:comment``.

Counting runs queries, so the web layer keeps :func:`count_dataset`'s answer once per build.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyoxigraph as ox

from ..core.formats import RDF_SYNTAXES, RESULT_SYNTAXES
from ..core.namespaces import ALL_GRAPHS, ProjectNamespaces
from ..core.settings import Settings
from ..core.vocab import DCTERMS, ENTAILMENT, FORMATS, RDF, RDFS, SD, SH, VOID, XSD
from .federation import ServicePolicy

__all__ = [
    "FORMAT_IRIS",
    "PREFIXES",
    "SD",
    "VOID",
    "DatasetCounts",
    "count_dataset",
    "describe",
    "service_vocabulary",
]

#: The W3C format IRI of each canonical media type the endpoint writes (results, then graphs).
FORMAT_IRIS = {syntax.media_type: syntax.iri for syntax in (*RESULT_SYNTAXES, *RDF_SYNTAXES)}

TITLE = "NHS AI workforce knowledge graph: SPARQL endpoint"

PREFIXES = {
    "sd": SD,
    "void": VOID,
    "rdfs": RDFS,
    "xsd": XSD,
    "dcterms": DCTERMS,
    "formats": FORMATS,
    "sh": SH,
}


def service_vocabulary(base: str) -> str:
    """The namespace of our three limit properties: ``{base}/def/service/``."""
    return f"{base.rstrip('/')}/def/service/"


@dataclass(frozen=True)
class DatasetCounts:
    """Triples in the default graph (the union, each distinct triple once) and in each named graph."""

    default_graph: int
    named_graphs: tuple[tuple[str, int], ...]


def count_dataset(store: ox.Store, ns: ProjectNamespaces | None = None) -> DatasetCounts:
    """Count the triples of the union default graph and of every named graph in ``store``.

    The project's graphs (:data:`~nhs_ai_workforce.core.namespaces.ALL_GRAPHS`) come first, in
    their usual order, then any other graph by IRI.

    >>> store = ox.Store()
    >>> g = ox.NamedNode("http://example.org/g")
    >>> store.add(ox.Quad(g, g, g, g))
    >>> count_dataset(store)
    DatasetCounts(default_graph=1, named_graphs=(('http://example.org/g', 1),))
    """
    ns = ns or ProjectNamespaces()
    per_graph = {
        solution["g"].value: int(solution["n"].value)
        for solution in store.query("SELECT ?g (COUNT(*) AS ?n) { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g")
        if isinstance(solution["g"], ox.NamedNode)
    }
    union = next(
        iter(
            store.query(
                "SELECT (COUNT(*) AS ?n) { SELECT DISTINCT ?s ?p ?o { ?s ?p ?o } }",
                use_default_graph_as_union=True,
            )
        )
    )
    order = {str(ns.graph(name)): index for index, name in enumerate(ALL_GRAPHS)}
    names = sorted(per_graph, key=lambda iri: (order.get(iri, len(order)), iri))
    return DatasetCounts(int(union["n"].value), tuple((iri, per_graph[iri]) for iri in names))


def _literal(value: object, datatype: str) -> ox.Literal:
    return ox.Literal(str(value), datatype=ox.NamedNode(XSD + datatype))


def _sd(term: str) -> ox.NamedNode:
    return ox.NamedNode(SD + term)


_TYPE = ox.NamedNode(RDF + "type")
_LABEL = ox.NamedNode(RDFS + "label")
_COMMENT = ox.NamedNode(RDFS + "comment")
_TRIPLES = ox.NamedNode(VOID + "triples")


def describe(
    endpoint: str,
    settings: Settings,
    counts: DatasetCounts | None,
    *,
    result_formats: list[str] | None = None,
    result_limit_bytes: int | None = None,
) -> list[ox.Triple]:
    """The service description of the endpoint at ``endpoint`` (the URL clients request).

    ``counts`` describes the default dataset; without it (no store yet) the dataset is left
    out. ``result_formats`` are media types (default: every one in :data:`FORMAT_IRIS`).
    """
    sd, a, label, comment = _sd, _TYPE, _LABEL, _COMMENT
    limits = service_vocabulary(settings.base)
    prefixes = ProjectNamespaces(settings.base).prefixes()
    service = ox.NamedNode(f"{endpoint}#service")
    triples = [
        ox.Triple(service, a, sd("Service")),
        ox.Triple(service, sd("endpoint"), ox.NamedNode(endpoint)),
        ox.Triple(service, sd("supportedLanguage"), sd("SPARQL11Query")),
        ox.Triple(service, sd("feature"), sd("UnionDefaultGraph")),
        *([ox.Triple(service, sd("feature"), sd("BasicFederatedQuery"))] if settings.service_allow else []),
        ox.Triple(service, sd("defaultEntailmentRegime"), ox.NamedNode(ENTAILMENT + "Simple")),
        ox.Triple(service, ox.NamedNode(DCTERMS + "title"), ox.Literal(TITLE, language="en")),
    ]
    for media_type in result_formats or list(FORMAT_IRIS):
        triples.append(ox.Triple(service, sd("resultFormat"), ox.NamedNode(FORMAT_IRIS[media_type])))

    limit_values = [
        ("queryTimeLimit", _literal(settings.query_timeout_s, "decimal"), "query time limit",
         "The longest a query may run, in seconds; a longer query is stopped."),
        ("resultLimit", _literal(settings.result_limit, "integer"), "result limit",
         "The most results (solutions or triples) one query returns."),
        ("requestSizeLimit", _literal(settings.max_request_bytes, "integer"), "request size limit",
         "The largest request (query text or body) accepted, in bytes; larger requests get 413."),
    ]
    if result_limit_bytes is not None:
        limit_values.append(
            ("resultSizeLimit", _literal(result_limit_bytes, "integer"), "result size limit",
             "The largest serialised result returned, in bytes.")
        )
    vocabulary = ox.NamedNode(limits.rstrip("/"))
    for term, value, name, definition in limit_values:
        prop = ox.NamedNode(limits + term)
        triples += [
            ox.Triple(service, prop, value),
            ox.Triple(prop, a, ox.NamedNode(RDF + "Property")),
            ox.Triple(prop, label, ox.Literal(name, language="en")),
            ox.Triple(prop, comment, ox.Literal(definition, language="en")),
            ox.Triple(prop, ox.NamedNode(RDFS + "domain"), sd("Service")),
            ox.Triple(prop, ox.NamedNode(RDFS + "isDefinedBy"), vocabulary),
        ]
    triples.append(
        ox.Triple(
            service,
            comment,
            ox.Literal(
                "Read-only SPARQL 1.1 Query endpoint. "
                f"Queries run for at most {settings.query_timeout_s:g} s and return at most "
                f"{settings.result_limit} results; requests over {settings.max_request_bytes} bytes "
                f"are refused. {_federation(settings)} LOAD and updates are refused. "
                "The default graph is the union of all named graphs unless the request gives "
                "default-graph-uri or named-graph-uri, or the query FROM or FROM NAMED. "
                f"These prefixes are predeclared, so a query may use them without PREFIX lines "
                f"(a query's own PREFIX of the same name wins): {_prefix_list(prefixes)}.",
                language="en",
            ),
        )
    )
    triples += _prefix_declarations(service, prefixes)
    if counts is not None:
        triples += _dataset(service, settings, counts)
    return _grouped(triples)


def _federation(settings: Settings) -> str:
    """What the comment says of SERVICE: refused, or which endpoints it may call and within what."""
    policy = ServicePolicy.from_settings(settings)
    if not policy.enabled:
        return "SERVICE (federated query) is refused."
    endpoints = ", ".join(f"<{endpoint}>" for endpoint in policy.endpoints)
    return (f"SERVICE (federated query) may call only these endpoints: {endpoints}; each call gets at most "
            f"{policy.timeout_s:g} s and {policy.max_bytes} bytes of answer, and redirects are not followed.")


def _prefix_list(prefixes: dict[str, str]) -> str:
    return ", ".join(f"{name}: <{namespace}>" for name, namespace in prefixes.items())


def _prefix_declarations(service: ox.NamedNode, prefixes: dict[str, str]) -> list[ox.Triple]:
    """One SHACL ``sh:declare`` (``sh:PrefixDeclaration``) per predeclared prefix."""
    triples = []
    for index, (name, namespace) in enumerate(prefixes.items()):
        declaration = ox.BlankNode(f"prefix{index}")
        triples += [
            ox.Triple(service, ox.NamedNode(SH + "declare"), declaration),
            ox.Triple(declaration, _TYPE, ox.NamedNode(SH + "PrefixDeclaration")),
            ox.Triple(declaration, ox.NamedNode(SH + "prefix"), ox.Literal(name)),
            ox.Triple(declaration, ox.NamedNode(SH + "namespace"), _literal(namespace, "anyURI")),
        ]
    return triples


def _grouped(triples: list[ox.Triple]) -> list[ox.Triple]:
    """The triples with each subject's together (serialisers then write one block per subject)."""
    first_seen: dict[object, int] = {}
    for triple in triples:
        first_seen.setdefault(triple.subject, len(first_seen))
    return sorted(triples, key=lambda triple: first_seen[triple.subject])


def _dataset(service: ox.NamedNode, settings: Settings, counts: DatasetCounts) -> list[ox.Triple]:
    """The ``sd:defaultDataset``: the union default graph and each named graph, with counts."""
    sd, a, label, comment, void_triples = _sd, _TYPE, _LABEL, _COMMENT, _TRIPLES
    dataset, default = ox.BlankNode("dataset"), ox.BlankNode("defaultGraph")
    triples = [
        ox.Triple(service, sd("defaultDataset"), dataset),
        ox.Triple(dataset, a, sd("Dataset")),
        ox.Triple(dataset, sd("defaultGraph"), default),
        ox.Triple(default, a, sd("Graph")),
        ox.Triple(default, void_triples, _literal(counts.default_graph, "integer")),
        ox.Triple(default, comment, ox.Literal("The union of all named graphs.", language="en")),
    ]
    names = {str(ProjectNamespaces(settings.base).graph(name)): name for name in ALL_GRAPHS}
    for index, (iri, count) in enumerate(counts.named_graphs):
        entry, graph = ox.BlankNode(f"namedGraph{index}"), ox.BlankNode(f"graph{index}")
        triples += [
            ox.Triple(dataset, sd("namedGraph"), entry),
            ox.Triple(entry, a, sd("NamedGraph")),
            ox.Triple(entry, sd("name"), ox.NamedNode(iri)),
            ox.Triple(entry, sd("graph"), graph),
            ox.Triple(graph, a, sd("Graph")),
            ox.Triple(graph, void_triples, _literal(count, "integer")),
        ]
        if iri in names:
            triples.append(ox.Triple(entry, label, ox.Literal(names[iri], language="en")))
    return triples
