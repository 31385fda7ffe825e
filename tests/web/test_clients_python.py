"""Python's SPARQL and RDF clients, unmodified and with their default settings, against a real server.

SPARQLWrapper for every return format it offers (it sends ``format``, ``output`` and ``results``,
some twice); rdflib's ``SPARQLStore``; rdflib's ``Graph().parse()`` of ``/id/`` URIs with each
RDF format name it turns into an ``Accept`` header; ``requests``, which asks for gzip.
"""

from __future__ import annotations

import csv
import io
import warnings
from xml.dom.minidom import Document

import pytest
import requests
from rdflib import Dataset, Graph, Literal, URIRef
from rdflib import namespace as vocab
from rdflib.plugins.stores.sparqlstore import SPARQLStore
from SPARQLWrapper import (
    CSV,
    JSON,
    JSONLD,
    N3,
    POST,
    POSTDIRECTLY,
    RDF,
    RDFXML,
    TSV,
    TURTLE,
    XML,
    SPARQLWrapper,
)

from nhs_ai_workforce.core.namespaces import ProjectNamespaces

NS = ProjectNamespaces()
ROADMAP = URIRef(NS.thing("initiative", "ai-roadmap"))
TITLE = (ROADMAP, vocab.DCTERMS.title, Literal("AI Roadmap", lang="en"))
INFERRED_TYPE = (ROADMAP, vocab.RDF.type, NS.AIWF.Initiative)
SELECT = f"SELECT ?p ?o WHERE {{ <{ROADMAP}> ?p ?o }} ORDER BY ?p ?o"
ASK = f"ASK {{ <{ROADMAP}> ?p ?o }}"
CONSTRUCT = f"CONSTRUCT {{ <{ROADMAP}> ?p ?o }} WHERE {{ <{ROADMAP}> ?p ?o }}"
DESCRIBE = f"DESCRIBE <{ROADMAP}>"
#: What SPARQLWrapper must not warn: the answer's type is not the one it asked for, or unknown.
MISMATCH = ("Format requested was", "unknown response content type")


def wrapper(server: str, query: str, return_format: str | None, method: str | None = None):
    """Run ``query`` through SPARQLWrapper with its defaults; (content type, converted result)."""
    client = SPARQLWrapper(f"{server}/sparql")
    client.setQuery(query)
    if return_format:
        client.setReturnFormat(return_format)
    if method:
        client.setMethod(POST)
        client.setRequestMethod(method)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = client.query()
        converted = result.convert()
    assert not [w for w in caught if str(w.message).startswith(MISMATCH)], [str(w.message) for w in caught]
    return result.info()["content-type"], converted


def _xml_value(result, name: str) -> str:
    """The text of the binding ``name`` of one ``<result>`` of SPARQL XML."""
    (binding,) = [b for b in result.getElementsByTagName("binding") if b.getAttribute("name") == name]
    term = next(node for node in binding.childNodes if node.nodeType == node.ELEMENT_NODE)
    return "".join(child.data for child in term.childNodes if child.nodeType == child.TEXT_NODE)


def rows(text: bytes, delimiter: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text.decode("utf-8")), delimiter=delimiter))


@pytest.mark.parametrize(
    ("return_format", "content_type"),
    [(None, "application/sparql-results+xml"), (XML, "application/sparql-results+xml"),
     (JSON, "application/sparql-results+json"), (CSV, "text/csv"), (TSV, "text/tab-separated-values")],
)
def test_sparqlwrapper_select_in_every_results_format(seeded_server, return_format, content_type):
    received, result = wrapper(seeded_server, SELECT, return_format)
    assert received.split(";")[0] == content_type
    if return_format == JSON:
        bindings = result["results"]["bindings"]
        values = {(b["p"]["value"], b["o"]["value"]) for b in bindings}
    elif return_format in (CSV, TSV):
        table = rows(result, "," if return_format == CSV else "\t")
        assert table[0] in (["p", "o"], ["?p", "?o"])
        bindings = table[1:]
        values = {(p.strip("<>"), o.strip("<>")) for p, o in bindings}  # TSV writes IRIs as <...>
    else:
        assert isinstance(result, Document)
        bindings = result.getElementsByTagName("result")
        values = {tuple(_xml_value(b, name) for name in ("p", "o")) for b in bindings}
    assert len(bindings) > 20
    assert (str(vocab.RDF.type), str(NS.AIWF.Initiative)) in values


@pytest.mark.parametrize("return_format", [XML, JSON, CSV, TSV])
def test_sparqlwrapper_ask(seeded_server, return_format):
    _, result = wrapper(seeded_server, ASK, return_format)
    if return_format == JSON:
        assert result["boolean"] is True
    elif return_format == XML:
        assert result.getElementsByTagName("boolean")[0].firstChild.data == "true"
    else:
        assert result.decode().split()[-1] == "true"


@pytest.mark.parametrize("query", [CONSTRUCT, DESCRIBE])
@pytest.mark.parametrize(
    ("return_format", "content_type"),
    [(None, "application/rdf+xml"), (XML, "application/rdf+xml"), (RDFXML, "application/rdf+xml"),
     (RDF, "application/rdf+xml"), (TURTLE, "text/turtle"), (N3, "text/turtle"), (JSONLD, "application/ld+json"),
     (JSON, "application/ld+json")],
)
def test_sparqlwrapper_graphs_in_every_rdf_format(seeded_server, query, return_format, content_type):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # RDF and JSON: SPARQLWrapper warns it sends */*
        received, result = wrapper(seeded_server, query, return_format)
    assert received.split(";")[0] == content_type
    graph = Graph().parse(data=result, format="turtle") if isinstance(result, bytes) else result
    assert TITLE in graph and INFERRED_TYPE in graph


@pytest.mark.parametrize("method", [None, "urlencoded", POSTDIRECTLY])
def test_sparqlwrapper_by_get_and_post(seeded_server, method):
    _, result = wrapper(seeded_server, SELECT, JSON, method)
    assert len(result["results"]["bindings"]) > 20
    _, graph = wrapper(seeded_server, CONSTRUCT, TURTLE, method)
    assert TITLE in Graph().parse(data=graph, format="turtle")


def test_rdflib_sparqlstore(seeded_server):
    graph = Graph(store=SPARQLStore(f"{seeded_server}/sparql"))
    assert TITLE in graph
    assert {p for p, _ in graph.predicate_objects(ROADMAP)} >= {vocab.DCTERMS.title, vocab.RDF.type}
    assert graph.query(ASK).askAnswer is True
    assert len(graph.query(SELECT)) > 20
    constructed = graph.query(CONSTRUCT).graph
    assert TITLE in constructed and INFERRED_TYPE in constructed


@pytest.mark.parametrize("name", ["xml", "n3", "turtle", "ttl", "nt", "trig", "json-ld", None])
def test_rdflib_parses_the_id_uri_with_each_format_name(seeded_server, name):
    """rdflib turns the name into ``Accept`` (``nt`` is ``text/plain``, ``n3`` ``text/n3``) and
    follows the 303; the triples of every graph, inferred ones too, are in the default graph."""
    graph = Graph().parse(f"{seeded_server}/id/initiative/ai-roadmap", format=name)
    assert TITLE in graph and INFERRED_TYPE in graph
    assert (URIRef(f"{NS.base}/doc/initiative/ai-roadmap"), vocab.FOAF.primaryTopic, ROADMAP) in graph


def test_the_trig_file_keeps_the_source_graphs(seeded_server):
    dataset = Dataset()
    dataset.parse(f"{seeded_server}/doc/initiative/ai-roadmap.trig", format="trig")
    graphs = {str(g) for *_, g in dataset.quads((*INFERRED_TYPE[:2], INFERRED_TYPE[2], None))}
    assert graphs == {str(NS.graph("inferred"))}
    assert TITLE in dataset.graph(NS.graph("background"))


@pytest.mark.parametrize("path", ["/.well-known/void", "/data/void", "/data/"])
def test_rdflib_reads_the_dataset_description(seeded_server, path):
    graph = Graph().parse(f"{seeded_server}{path}", format="turtle")
    assert (URIRef(f"{NS.base}/data/void#dataset"), vocab.RDF.type, vocab.VOID.Dataset) in graph


def test_requests_gets_gzip_and_reads_it_transparently(seeded_server):
    session = requests.Session()  # sends Accept-Encoding: gzip, deflate by default
    document = session.get(f"{seeded_server}/id/initiative/ai-roadmap", headers={"Accept": "application/n-triples"},
                           timeout=30)
    assert document.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in document.headers["Vary"] and document.headers["ETag"].startswith('W/"')
    assert TITLE in Graph().parse(data=document.text, format="nt")
    results = session.get(f"{seeded_server}/sparql", params={"query": SELECT}, timeout=30)
    assert results.headers["Content-Encoding"] == "gzip"
    assert len(results.json()["results"]["bindings"]) > 20
