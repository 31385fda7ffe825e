"""The endpoint predeclares the project prefixes, as the CLI does; a query's own ``PREFIX`` wins.

Over HTTP (the default pool of query processes, so the child's ``FROM`` check too), in the
executor, in the guard and lexer, and in the Service Description (SHACL ``sh:declare``).
"""

from __future__ import annotations

import json

import pyoxigraph as ox
import pytest

from conftest import make_dataset, make_live
from nhs_ai_workforce.core.namespaces import ProjectNamespaces
from nhs_ai_workforce.core.settings import Settings
from nhs_ai_workforce.core.vocab import SH, XSD
from nhs_ai_workforce.sparql.execution import QueryJob, execute
from nhs_ai_workforce.sparql.guard import QueryRefused, check_query
from nhs_ai_workforce.sparql.lexer import lex
from nhs_ai_workforce.web.app import create_app

NS = ProjectNamespaces()
PREFIXES = NS.prefixes()
ROADMAP = str(NS.thing("initiative", "ai-roadmap"))
JSON = "application/sparql-results+json"
NO_PREFIX = "SELECT ?label { initiative:ai-roadmap rdfs:label ?label }"


@pytest.fixture(scope="module")
def settings(tmp_path_factory) -> Settings:
    settings = Settings(root=tmp_path_factory.mktemp("prefixes"))
    make_live(settings, make_dataset(NS))
    return settings


@pytest.fixture(scope="module")
def client(settings):
    return create_app({"SETTINGS": settings}).test_client()


def values(response, variable: str) -> list[str]:
    assert response.status_code == 200, response.data
    return [b[variable]["value"] for b in json.loads(response.data)["results"]["bindings"]]


def test_a_query_without_prefix_lines_works_over_http(client):
    response = client.get("/sparql", query_string={"query": NO_PREFIX}, headers={"Accept": JSON})
    assert values(response, "label") == ["AI Roadmap"]
    posted = client.post("/sparql", data=NO_PREFIX.encode(), content_type="application/sparql-query",
                         headers={"Accept": JSON})
    assert values(posted, "label") == ["AI Roadmap"]


def test_the_querys_own_prefix_wins_over_http(client):
    own = "PREFIX initiative: <urn:elsewhere:> SELECT ?label { initiative:ai-roadmap rdfs:label ?label }"
    assert values(client.get("/sparql", query_string={"query": own}, headers={"Accept": JSON}), "label") == []
    iri = "PREFIX initiative: <urn:elsewhere:> SELECT ?x { VALUES ?x { initiative:ai-roadmap } }"
    assert values(client.get("/sparql", query_string={"query": iri}, headers={"Accept": JSON}), "x") == [
        "urn:elsewhere:ai-roadmap"]


def test_from_with_a_predeclared_prefix_is_checked_and_honoured_over_http(client):
    query = "SELECT ?label FROM graph:background { initiative:ai-roadmap rdfs:label ?label }"
    assert values(client.get("/sparql", query_string={"query": query}, headers={"Accept": JSON}),
                  "label") == ["AI Roadmap"]
    elsewhere = "SELECT * FROM graph:nowhere { ?s ?p ?o }"
    refused = client.get("/sparql", query_string={"query": elsewhere}, headers={"Accept": JSON})
    assert refused.status_code == 400
    assert f"{NS.base}/id/graph/nowhere" in refused.get_json()["error"]
    undeclared = client.get("/sparql", query_string={"query": "SELECT * FROM nope:x { ?s ?p ?o }"})
    assert undeclared.status_code == 400 and "undeclared prefix" in undeclared.get_json()["error"]


def test_the_executor_passes_the_prefixes_to_oxigraph():
    store = ox.Store()
    job = QueryJob("SELECT ?x { VALUES ?x { initiative:ai-roadmap } }", JSON, prefixes=PREFIXES)
    assert json.loads(execute(store, job).body)["results"]["bindings"] == [{"x": {"type": "uri", "value": ROADMAP}}]
    with pytest.raises(Exception, match="Malformed query"):
        execute(store, QueryJob(job.text, JSON))  # without them the prefix is undeclared


def test_the_lexer_and_guard_expand_from_with_the_predeclared_prefixes():
    background = str(NS.graph("background"))
    lexed = lex("SELECT * FROM graph:background FROM NAMED graph:links {}", PREFIXES)
    assert [c.iri for c in lexed.datasets] == [background, str(NS.graph("links"))]
    assert lexed.prefixes == {}  # only the query's own declarations
    own = lex("PREFIX graph: <urn:g:> SELECT * FROM graph:background {}", PREFIXES)
    assert own.datasets[0].iri == "urn:g:background"
    assert check_query("SELECT * FROM graph:background {}", max_bytes=1000, prefixes=PREFIXES,
                       allowed_graphs=[background]).has_dataset
    with pytest.raises(QueryRefused, match="undeclared prefix"):
        check_query("SELECT * FROM graph:background {}", max_bytes=1000, allowed_graphs=[background])


def test_the_service_description_declares_the_prefixes(client):
    response = client.get("/sparql", headers={"Accept": "text/turtle"})
    assert response.status_code == 200
    graph = ox.Store()
    graph.extend(ox.parse(response.data, format=ox.RdfFormat.TURTLE))
    declared = {}
    for quad in graph.quads_for_pattern(None, ox.NamedNode(SH + "declare"), None):
        (prefix,) = graph.quads_for_pattern(quad.object, ox.NamedNode(SH + "prefix"), None)
        (namespace,) = graph.quads_for_pattern(quad.object, ox.NamedNode(SH + "namespace"), None)
        assert namespace.object.datatype == ox.NamedNode(XSD + "anyURI")
        declared[prefix.object.value] = namespace.object.value
    assert declared == PREFIXES
    assert declared["initiative"] == f"{NS.base}/id/initiative/"
    (comment,) = [q.object.value for q in graph.quads_for_pattern(None, ox.NamedNode(
        "http://www.w3.org/2000/01/rdf-schema#comment"), None) if "predeclared" in q.object.value]
    assert "without PREFIX lines" in comment and "own PREFIX" in comment
    assert f"initiative: <{NS.base}/id/initiative/>" in comment
