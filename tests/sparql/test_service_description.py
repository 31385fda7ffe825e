"""The SPARQL 1.1 Service Description answered by GET /sparql without a query."""

from __future__ import annotations

import dataclasses

import pyoxigraph as ox
import pytest

from conftest import make_dataset, make_live
from nhs_ai_workforce.core.namespaces import ProjectNamespaces
from nhs_ai_workforce.core.settings import Settings
from nhs_ai_workforce.sparql import service_description
from nhs_ai_workforce.sparql.execution import InProcessExecutor
from nhs_ai_workforce.sparql.negotiation import DESCRIPTION_TYPES
from nhs_ai_workforce.sparql.service_description import FORMAT_IRIS, SD, VOID, service_vocabulary
from nhs_ai_workforce.web.app import create_app

NS = ProjectNamespaces()
RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")


def sd(term: str) -> ox.NamedNode:
    return ox.NamedNode(SD + term)


@pytest.fixture(scope="module")
def settings(tmp_path_factory) -> Settings:
    settings = Settings(root=tmp_path_factory.mktemp("sd"), query_timeout_s=7.5, result_limit=123,
                        max_request_bytes=4096)
    make_live(settings, make_dataset(NS))
    return settings


@pytest.fixture
def client(settings):
    return create_app({"SETTINGS": settings}).test_client()


def description(response) -> ox.Store:
    assert response.status_code == 200, response.data
    graph = ox.Store()
    graph.extend(ox.parse(response.data, format=DESCRIPTION_TYPES[response.mimetype]))
    return graph


def objects(graph: ox.Store, subject, predicate) -> set:
    return {quad.object for quad in graph.quads_for_pattern(subject, predicate, None)}


def the_service(graph: ox.Store) -> ox.NamedNode:
    (quad,) = graph.quads_for_pattern(None, RDF_TYPE, sd("Service"))
    return quad.subject


@pytest.mark.parametrize(
    ("headers", "query_string", "mimetype"),
    [
        ({}, {}, "text/turtle"),
        ({"Accept": "*/*"}, {}, "text/turtle"),
        ({"Accept": "text/turtle"}, {}, "text/turtle"),
        ({"Accept": "application/rdf+xml"}, {}, "application/rdf+xml"),
        ({"Accept": "application/ld+json"}, {}, "application/ld+json"),
        ({"Accept": "application/n-triples"}, {}, "application/n-triples"),
        ({"Accept": "application/rdf+xml;q=0.5, application/ld+json"}, {}, "application/ld+json"),
        ({"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}, {"format": "ttl"}, "text/turtle"),
        # a browser without a query gets the HTML query page (tests/web/test_sparql_page.py)
        ({"Accept": "text/turtle"}, {"format": "jsonld"}, "application/ld+json"),
        ({}, {"format": "rdfxml"}, "application/rdf+xml"),
    ],
)
def test_get_without_a_query_describes_the_service(client, headers, query_string, mimetype):
    response = client.get("/sparql", headers=headers, query_string=query_string)
    assert response.mimetype == mimetype
    assert "Accept" in response.headers["Vary"]
    graph = description(response)
    service = the_service(graph)
    assert objects(graph, service, sd("endpoint")) == {ox.NamedNode("http://localhost/sparql")}
    assert objects(graph, service, sd("supportedLanguage")) == {sd("SPARQL11Query")}


def test_the_endpoint_is_the_url_the_client_used(client):
    response = client.get("/sparql", base_url="https://graph.example.net:8443")
    graph = description(response)
    assert objects(graph, the_service(graph), sd("endpoint")) == {ox.NamedNode("https://graph.example.net:8443/sparql")}


def test_result_formats_and_features(client):
    graph = description(client.get("/sparql"))
    service = the_service(graph)
    assert objects(graph, service, sd("resultFormat")) == {ox.NamedNode(iri) for iri in FORMAT_IRIS.values()}
    assert "http://www.w3.org/ns/formats/SPARQL_Results_CSV" in FORMAT_IRIS.values()
    features = objects(graph, service, sd("feature"))
    assert sd("UnionDefaultGraph") in features
    assert sd("BasicFederatedQuery") not in features  # SERVICE is refused
    assert sd("SPARQL11Update") not in objects(graph, service, sd("supportedLanguage"))


def test_limits_come_from_the_settings(client, settings):
    graph = description(client.get("/sparql"))
    service = the_service(graph)
    limits = service_vocabulary(settings.base)
    xsd = "http://www.w3.org/2001/XMLSchema#"

    def value(term):
        (literal,) = objects(graph, service, ox.NamedNode(limits + term))
        return literal

    assert value("queryTimeLimit") == ox.Literal("7.5", datatype=ox.NamedNode(xsd + "decimal"))
    assert value("resultLimit") == ox.Literal("123", datatype=ox.NamedNode(xsd + "integer"))
    assert value("requestSizeLimit") == ox.Literal("4096", datatype=ox.NamedNode(xsd + "integer"))
    # the terms are described where they are used
    for term in ("queryTimeLimit", "resultLimit", "requestSizeLimit"):
        assert objects(graph, ox.NamedNode(limits + term), ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#comment"))
    (comment,) = objects(graph, service, ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#comment"))
    assert "7.5 s" in comment.value and "123 results" in comment.value and "union" in comment.value


def test_a_result_size_limit_is_described_when_the_executor_has_one(settings):
    app = create_app({"SETTINGS": settings})
    app_state = app.extensions["aiwf"]
    executor = InProcessExecutor(settings, app_state.store.get, result_limit_bytes=5000)
    app.extensions["aiwf"] = dataclasses.replace(app_state, executor=executor)
    graph = description(app.test_client().get("/sparql"))
    limit = ox.NamedNode(service_vocabulary(settings.base) + "resultSizeLimit")
    assert {q.object.value for q in graph.quads_for_pattern(None, limit, None)} == {"5000"}


def dataset_counts(graph: ox.Store) -> tuple[int, dict[str, int]]:
    service = the_service(graph)
    (dataset,) = objects(graph, service, sd("defaultDataset"))
    assert RDF_TYPE in {q.predicate for q in graph.quads_for_pattern(dataset, None, None)}
    (default,) = objects(graph, dataset, sd("defaultGraph"))
    triples = ox.NamedNode(VOID + "triples")
    (default_count,) = objects(graph, default, triples)
    named = {}
    for entry in objects(graph, dataset, sd("namedGraph")):
        assert objects(graph, entry, RDF_TYPE) == {sd("NamedGraph")}
        (name,) = objects(graph, entry, sd("name"))
        (inner,) = objects(graph, entry, sd("graph"))
        (count,) = objects(graph, inner, triples)
        named[name.value] = int(count.value)
    return int(default_count.value), named


def test_the_default_dataset_and_its_named_graphs_with_counts(client):
    default, named = dataset_counts(description(client.get("/sparql")))
    assert named == {str(NS.graph("background")): 10, str(NS.graph("ontology")): 3, str(NS.graph("inferred")): 1}
    assert default == 13  # distinct triples: the one in two graphs counts once


def test_counts_are_computed_once_per_build(monkeypatch, tmp_path):
    calls = []
    real_count = service_description.count_dataset

    def counting(store, ns=None):
        calls.append(1)
        return real_count(store, ns)

    monkeypatch.setattr(service_description, "count_dataset", counting)
    settings = Settings(root=tmp_path)
    make_live(settings, make_dataset(NS))
    client = create_app({"SETTINGS": settings}).test_client()
    for _ in range(3):
        client.get("/sparql")
    client.head("/sparql")
    assert len(calls) == 1
    rows = [("links", NS.thing("x", "y"), RDF_TYPE.value, NS.AIWF.Thing)]
    from rdflib import URIRef

    dataset = make_dataset(NS, [(g, s, URIRef(p), o) for g, s, p, o in rows])
    make_live(settings, dataset)
    default, named = dataset_counts(description(client.get("/sparql")))
    assert len(calls) == 2
    assert (default, named) == (1, {str(NS.graph("links")): 1})


def test_without_a_store_the_service_is_described_without_a_dataset(tmp_path):
    client = create_app({"SETTINGS": Settings(root=tmp_path)}).test_client()
    graph = description(client.get("/sparql"))
    assert not objects(graph, the_service(graph), sd("defaultDataset"))


def test_head_and_unacceptable_types(client):
    head = client.head("/sparql", headers={"Accept": "application/ld+json"})
    assert head.status_code == 200 and head.data == b"" and head.mimetype == "application/ld+json"
    refused = client.get("/sparql", headers={"Accept": "text/csv"})
    assert refused.status_code == 406
    assert "text/turtle" in refused.get_json()["error"]
