"""The SPARQL protocol against a real server process (``aiwf serve``), over real HTTP with urllib."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request

import pyoxigraph as ox
import pytest

from conftest import make_dataset, make_live
from nhs_ai_workforce.core.namespaces import ProjectNamespaces
from nhs_ai_workforce.core.settings import Settings
from servers import fetch, running_server

pytestmark = pytest.mark.server

NS = ProjectNamespaces()
COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """``aiwf serve`` on a free port against a temporary store; yields its base URL."""
    settings = Settings(root=tmp_path_factory.mktemp("server"))
    make_live(settings, make_dataset(NS))
    with running_server(settings.store_path, env={"AIWF_ROOT": str(settings.root)}) as origin:
        yield origin


def count(body: bytes) -> int:
    return int(json.loads(body)["results"]["bindings"][0]["n"]["value"])


def test_get(server):
    status, headers, body = fetch(f"{server}/sparql?" + urllib.parse.urlencode({"query": COUNT}))
    assert status == 200
    assert headers.get_content_type() == "application/sparql-results+json"
    assert count(body) == 14
    assert "Accept" in headers["Vary"] and headers["Access-Control-Allow-Origin"] == "*"


def test_form_post_as_csv(server):
    data = urllib.parse.urlencode({"query": "SELECT ?l WHERE { ?s <http://www.w3.org/2000/01/rdf-schema#label> ?l } "
                                            "ORDER BY ?l LIMIT 1"}).encode()
    status, headers, body = fetch(f"{server}/sparql", method="POST", data=data, headers={
        "Content-Type": "application/x-www-form-urlencoded", "Accept": "text/csv"})
    assert status == 200
    assert headers["Content-Type"] == "text/csv; charset=utf-8"
    assert body == b"l\r\nAI Roadmap\r\n"


def test_direct_post_with_a_default_graph(server):
    graph = urllib.parse.quote(str(NS.graph("ontology")), safe="")
    status, _, body = fetch(f"{server}/sparql?default-graph-uri={graph}", method="POST", data=COUNT.encode(),
                            headers={"Content-Type": "application/sparql-query"})
    assert status == 200 and count(body) == 3


def test_construct_as_turtle(server):
    query = urllib.parse.urlencode({"query": "CONSTRUCT WHERE { ?s a ?o }"})
    status, headers, body = fetch(f"{server}/sparql?{query}", headers={"Accept": "text/turtle"})
    assert status == 200 and headers["Content-Type"] == "text/turtle; charset=utf-8"
    assert len(set(ox.parse(body, format=ox.RdfFormat.TURTLE))) == 5


def test_a_malformed_query_is_400_in_the_error_shape(server):
    query = urllib.parse.urlencode({"query": "SELECT * WHERE {\n ?s ?p"})
    status, headers, body = fetch(f"{server}/sparql?{query}")
    assert status == 400 and headers.get_content_type() == "application/json"
    error = json.loads(body)
    assert set(error) == {"ok", "status", "title", "error", "line", "column"}
    assert error["status"] == 400 and error["line"] == 2


def test_an_update_is_403_and_put_is_405(server):
    status, _, body = fetch(f"{server}/sparql", method="POST", data=b"CLEAR ALL",
                            headers={"Content-Type": "application/sparql-update"})
    assert status == 403 and b"read-only" in body
    status, headers, _ = fetch(f"{server}/sparql", method="PUT", data=b"")
    assert status == 405 and "GET" in headers["Allow"]


def test_options_preflight(server):
    status, headers, body = fetch(f"{server}/sparql", method="OPTIONS", headers={
        "Origin": "https://elsewhere.example", "Access-Control-Request-Method": "POST"})
    assert status == 204 and body == b""
    assert headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in headers["Access-Control-Allow-Methods"] and "POST" in headers["Allow"]


def test_service_description_and_head(server):
    status, headers, body = fetch(f"{server}/sparql", headers={"Accept": "text/turtle"})
    assert status == 200 and headers.get_content_type() == "text/turtle"
    endpoint = ox.NamedNode(f"{server}/sparql")
    predicate = ox.NamedNode("http://www.w3.org/ns/sparql-service-description#endpoint")
    assert any(t.predicate == predicate and t.object == endpoint for t in ox.parse(body, format=ox.RdfFormat.TURTLE))
    status, head_headers, head_body = fetch(f"{server}/sparql", method="HEAD", headers={"Accept": "text/turtle"})
    assert status == 200 and head_body == b""
    assert head_headers["Content-Length"] == str(len(body))
