"""The minimal read-only /sparql endpoint, through Flask's test client."""

from __future__ import annotations

import csv
import io
import json

import pyoxigraph as ox
import pytest

from nhs_ai_workforce.web.app import create_app

REVIEWS = """
SELECT DISTINCT ?r WHERE { ?r a <https://nhs-ai-workforce.example.org/def/aiwf/Review> }
ORDER BY ?r
"""


@pytest.fixture
def client(settings, built_store):
    return create_app({"SETTINGS": settings}).test_client()


def reviews(response) -> list[str]:
    return [b["r"]["value"] for b in json.loads(response.data)["results"]["bindings"]]


def test_get_returns_sparql_json_by_default(client, ns):
    response = client.get("/sparql", query_string={"query": REVIEWS})
    assert response.status_code == 200
    assert response.mimetype == "application/sparql-results+json"
    assert reviews(response) == [
        str(ns.thing("initiative", "ai-roadmap")),
        str(ns.thing("initiative", "topol-review")),
    ]
    assert "Accept" in response.headers["Vary"]


def test_post_form_and_direct_post(client):
    form = client.post("/sparql", data={"query": REVIEWS})
    direct = client.post("/sparql", data=REVIEWS, content_type="application/sparql-query")
    assert form.status_code == direct.status_code == 200
    assert reviews(form) == reviews(direct) and len(reviews(form)) == 2


@pytest.mark.parametrize(
    ("accept", "mimetype"),
    [
        ("text/csv", "text/csv"),
        ("text/tab-separated-values", "text/tab-separated-values"),
        ("application/sparql-results+xml", "application/sparql-results+xml"),
        ("text/html;q=0.9, text/csv;q=0.5", "text/csv"),
        ("*/*", "application/sparql-results+json"),
    ],
)
def test_results_are_negotiated_by_accept(client, accept, mimetype):
    response = client.get("/sparql", query_string={"query": REVIEWS}, headers={"Accept": accept})
    assert response.status_code == 200
    assert response.mimetype == mimetype
    if mimetype == "text/csv":
        rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
        assert rows[0] == ["r"] and len(rows) == 3
    if mimetype == "application/sparql-results+xml":
        assert b"<sparql" in response.data


def test_construct_answers_rdf(client):
    query = "CONSTRUCT WHERE { ?s a ?o }"
    turtle = client.get("/sparql", query_string={"query": query})
    assert turtle.mimetype == "text/turtle"
    assert len(set(ox.parse(turtle.data, format=ox.RdfFormat.TURTLE))) == 5
    jsonld = client.get("/sparql", query_string={"query": query},
                        headers={"Accept": "application/ld+json"})
    assert jsonld.mimetype == "application/ld+json"
    assert isinstance(json.loads(jsonld.data), list)


def test_ask(client):
    response = client.get("/sparql", query_string={"query": "ASK { ?s ?p ?o }"})
    assert json.loads(response.data) == {"head": {}, "boolean": True}


def test_default_graph_uri_restricts_the_dataset(client, ns):
    count = "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }"
    response = client.get(
        "/sparql", query_string={"query": count, "default-graph-uri": str(ns.graph("ontology"))}
    )
    bindings = json.loads(response.data)["results"]["bindings"]
    assert bindings[0]["n"]["value"] == "3"


@pytest.mark.parametrize(
    ("request_kwargs", "status", "message"),
    [
        ({"query_string": {"query": "SELEC ?x"}}, 400, "malformed query"),
        ({"query_string": {}}, 400, "missing 'query'"),
        ({"query_string": [("query", "ASK {}"), ("query", "ASK {}")]}, 400, "more than one"),
        ({"query_string": {"query": "ASK {}"}, "headers": {"Accept": "image/png"}}, 406, "accepted"),
        ({"query_string": {"query": "SELECT * { SERVICE <http://evil/> { ?s ?p ?o } }"}},
         400, "SERVICE is not allowed"),
        ({"query_string": {"query": "ASK {}", "default-graph-uri": "not an iri"}}, 400, "IRI"),
    ],
)
def test_bad_get_requests_get_clear_4xx(client, request_kwargs, status, message):
    response = client.get("/sparql", **request_kwargs)
    assert response.status_code == status
    assert response.mimetype == "text/plain"
    assert message in response.get_data(as_text=True)


def test_updates_are_refused(client):
    update = "INSERT DATA { <a:b> <a:c> <a:d> }"
    for response in (
        client.post("/sparql", data={"update": update}),
        client.post("/sparql", data=update, content_type="application/sparql-update"),
    ):
        assert response.status_code == 403
        assert "read-only" in response.get_data(as_text=True)
    assert client.post("/sparql", data={"query": update}).status_code == 400
    ask = client.get("/sparql", query_string={"query": "ASK { <a:b> <a:c> <a:d> }"})
    assert json.loads(ask.data)["boolean"] is False


def test_unsupported_post_body_is_415(client):
    response = client.post("/sparql", data="{}", content_type="application/json")
    assert response.status_code == 415


def test_no_store_is_503(settings):
    client = create_app({"SETTINGS": settings}).test_client()
    response = client.get("/sparql", query_string={"query": "ASK {}"})
    assert response.status_code == 503
    assert "aiwf build" in response.get_data(as_text=True)
