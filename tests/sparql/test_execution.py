"""The in-process executor: native execution, serialisers, the byte limit (the scan: ``test_lexer``)."""

from __future__ import annotations

import json

import pyoxigraph as ox
import pytest

from nhs_ai_workforce.core.errors import ServiceError
from nhs_ai_workforce.sparql.execution import (
    RESULT_TOO_LARGE_STATUS,
    InProcessExecutor,
    QueryJob,
    execute,
)
from nhs_ai_workforce.sparql.negotiation import GRAPH_TYPES, SOLUTION_TYPES

G1, G2 = ox.NamedNode("http://example.org/g1"), ox.NamedNode("http://example.org/g2")
P = ox.NamedNode("http://example.org/p")


@pytest.fixture(scope="module")
def store() -> ox.Store:
    store = ox.Store()
    for index in range(50):
        store.add(ox.Quad(ox.NamedNode(f"http://example.org/s{index}"), P, ox.Literal(f"value {index}"), G1))
    store.add(ox.Quad(G2, P, ox.Literal("in g2"), G2))
    return store


@pytest.mark.parametrize("media_type", list(SOLUTION_TYPES))
def test_select_is_written_by_oxigraph_in_each_type(store, media_type):
    outcome = execute(store, QueryJob("SELECT ?o { ?s ?p ?o } ORDER BY ?o LIMIT 2", media_type))
    assert outcome.media_type == media_type
    expected = store.query("SELECT ?o { ?s ?p ?o } ORDER BY ?o LIMIT 2", use_default_graph_as_union=True)
    assert outcome.body == expected.serialize(format=SOLUTION_TYPES[media_type])


@pytest.mark.parametrize("media_type", list(GRAPH_TYPES))
def test_construct_is_written_by_oxigraph_in_each_type(store, media_type):
    outcome = execute(store, QueryJob("CONSTRUCT WHERE { ?s ?p 'in g2' }", media_type))
    (quad,) = ox.parse(outcome.body, format=GRAPH_TYPES[media_type])
    assert quad.subject == G2 and quad.graph_name == ox.DefaultGraph()


def test_the_union_is_the_default_graph_unless_a_dataset_is_given(store):
    def count(text, **graphs):
        body = execute(store, QueryJob(text, "application/sparql-results+json", **graphs)).body
        return json.loads(body)["results"]["bindings"][0]["n"]["value"]

    query = "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }"
    assert count(query) == "51"
    assert count(query, default_graphs=(G2.value,)) == "1"
    assert count(query, named_graphs=(G2.value,)) == "0"
    assert count(f"SELECT (COUNT(*) AS ?n) FROM <{G2.value}> {{ ?s ?p ?o }}") == "1"
    assert count(f"SELECT (COUNT(*) AS ?n) FROM <{G2.value}> {{ ?s ?p ?o }}", default_graphs=(G1.value,)) == "50"
    graphs = "SELECT (COUNT(DISTINCT ?g) AS ?n) { GRAPH ?g { ?s ?p ?o } }"
    assert count(graphs) == "2"
    assert count(graphs, named_graphs=(G1.value,)) == "1"
    assert count(graphs, default_graphs=(G1.value,)) == "0"


def test_relative_iris_resolve_against_the_base(store):
    job = QueryJob("SELECT ?x { BIND(<s> AS ?x) }", "text/csv", base_iri="http://example.org/sparql")
    assert execute(store, job).body == b"x\r\nhttp://example.org/s\r\n"
    with pytest.raises(ServiceError) as caught:
        execute(store, QueryJob("SELECT ?x { BIND(<s> AS ?x) }", "text/csv"))
    assert caught.value.status == 400


def test_syntax_errors_are_400_with_a_position(store):
    with pytest.raises(ServiceError) as caught:
        execute(store, QueryJob("SELECT * {\n ?s ?p", "text/csv"))
    assert (caught.value.status, caught.value.line) == (400, 2)
    assert caught.value.column is not None


def test_a_bad_graph_iri_is_400(store):
    with pytest.raises(ServiceError, match="named-graph-uri='g1'") as caught:
        execute(store, QueryJob("ASK {}", "text/csv", named_graphs=("g1",)))
    assert caught.value.status == 400


def test_a_result_over_the_byte_limit_is_refused(store):
    job = QueryJob("SELECT * { ?s ?p ?o }", "application/sparql-results+json")
    assert len(execute(store, job).body) > 1000
    with pytest.raises(ServiceError, match="limit of 1000 bytes") as caught:
        execute(store, job, result_limit_bytes=1000)
    assert caught.value.status == RESULT_TOO_LARGE_STATUS
    assert caught.value.title == "Result too large"
    construct = QueryJob("CONSTRUCT WHERE { ?s ?p ?o }", "text/turtle")
    with pytest.raises(ServiceError, match="LIMIT"):
        execute(store, construct, result_limit_bytes=100)
    small = QueryJob("ASK {}", "application/sparql-results+json")
    assert execute(store, small, result_limit_bytes=100).body == b'{"head":{},"boolean":true}'


def test_a_media_type_that_cannot_carry_the_result_is_a_500(store):
    with pytest.raises(ServiceError) as caught:
        execute(store, QueryJob("ASK {}", "text/turtle"))
    assert caught.value.status == 500
    with pytest.raises(ServiceError):
        execute(store, QueryJob("CONSTRUCT WHERE { ?s ?p ?o }", "text/csv"))


def test_in_process_executor(store, settings, tmp_path):
    executor = InProcessExecutor(settings, lambda: store, result_limit_bytes=50)
    assert executor.run(QueryJob("ASK {}", "text/csv")).body == b"true"
    with pytest.raises(ServiceError, match="limit of 50 bytes"):
        executor.run(QueryJob("SELECT * { ?s ?p ?o }", "text/csv"))

    from nhs_ai_workforce.store.live import NoStoreError

    def no_store():
        raise NoStoreError(tmp_path / "store")

    with pytest.raises(ServiceError, match="aiwf build") as caught:
        InProcessExecutor(settings, no_store).run(QueryJob("ASK {}", "text/csv"))
    assert caught.value.status == 503
