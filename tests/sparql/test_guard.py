"""The guard: no SERVICE, LOAD, updates, outside graphs, deep nesting or oversize queries."""

from __future__ import annotations

import pickle
import re
import time

import pytest

from nhs_ai_workforce.core.errors import ServiceError
from nhs_ai_workforce.core.namespaces import store_graphs
from nhs_ai_workforce.core.settings import Settings
from nhs_ai_workforce.sparql.guard import MAX_NESTING, QueryRefused, check_dataset, check_query


@pytest.mark.parametrize(
    "query",
    [
        "SELECT * { SERVICE <http://evil.example/sparql> { ?s ?p ?o } }",
        "select * { service silent <http://evil.example/sparql> { ?s ?p ?o } }",
        "SELECT * { ?a ?b ?c FILTER(?a < ?c) SERVICE <http://x/> { ?s ?p ?o } }",
        "SELECT * {\n#comment\nSeRvIcE ?endpoint { ?s ?p ?o } }",
    ],
)
def test_service_is_refused(query):
    with pytest.raises(QueryRefused, match="SERVICE") as caught:
        check_query(query, max_bytes=10_000)
    assert caught.value.status == 400


@pytest.mark.parametrize(
    "query",
    [
        "SELECT * { ?s ?p 'SERVICE' }",
        'SELECT * { ?s ?p """a\nSERVICE b""" }',
        "SELECT * { ?s <http://example.org/SERVICE> ?o }",
        "PREFIX service: <http://example.org/>\nSELECT * { ?s service:x ?service }",
        "SELECT * { ?s ?p ?o } # SERVICE <http://x/> is mentioned in a comment",
    ],
)
def test_the_word_service_elsewhere_is_allowed(query):
    check_query(query, max_bytes=10_000)


def test_oversize_queries_are_refused_with_413():
    with pytest.raises(QueryRefused, match="limit is 100") as caught:
        check_query("SELECT * { ?s ?p ?o }" + " " * 100, max_bytes=100)
    assert caught.value.status == 413


# -- updates, LOAD, FROM, the protocol's dataset, nesting -----------------------------------

SETTINGS = Settings(base="http://example.org")
BACKGROUND = "http://example.org/id/graph/background"


def test_a_refusal_is_a_service_error_that_survives_pickling():
    refused = QueryRefused("no", 413, "Too large")
    assert isinstance(refused, ServiceError)
    copy = pickle.loads(pickle.dumps(refused))
    assert (copy.status, copy.title, copy.message) == (413, "Too large", "no")


@pytest.mark.parametrize(
    "query",
    [
        "LOAD <http://127.0.0.1:9/x>",
        "load silent <file:///etc/passwd> INTO GRAPH <http://example.org/g>",
        "SELECT * { ?s ?p ?o } LOAD <http://x/>",
    ],
)
def test_load_is_refused_in_queries_and_updates(query):
    for update in (False, True):
        with pytest.raises(QueryRefused, match="LOAD is not allowed") as caught:
            check_query(query, max_bytes=10_000, update=update)
        assert caught.value.status == 400


@pytest.mark.parametrize("keyword", ["INSERT DATA", "DELETE WHERE", "CLEAR ALL", "DROP GRAPH <g>", "CREATE GRAPH",
                                     "ADD DEFAULT TO", "MOVE", "COPY"])
def test_update_keywords_are_not_a_query(keyword):
    with pytest.raises(QueryRefused, match="read-only") as caught:
        check_query(f"{keyword} {{ <a:b> <a:c> <a:d> }}", max_bytes=10_000)
    assert caught.value.status == 400
    check_query(f"{keyword} {{ <a:b> <a:c> <a:d> }}", max_bytes=10_000, update=True)


@pytest.mark.parametrize(
    "query",
    [
        "PREFIX load: <http://example.org/> SELECT ?insert ?drop { ?insert load:clear _:delete ; load:x 'y'@add }",
        "SELECT * { ?s <http://example.org/INSERT> $load . ?s ?p \"\"\"DROP\nCLEAR\"\"\" } # COPY MOVE",
        "SELECT (COUNT(*) AS ?add) { ?s ?p ?o }",
    ],
)
def test_update_words_in_names_variables_strings_and_comments_are_allowed(query):
    check_query(query, max_bytes=10_000, settings=SETTINGS)


@pytest.mark.parametrize(
    ("query", "fragment"),
    [
        ("SELECT * FROM <http://127.0.0.1:9/g> { ?s ?p ?o }", "FROM <http://127.0.0.1:9/g>"),
        ("SELECT * FROM NAMED <file:///tmp/secret.ttl> { ?s ?p ?o }", "FROM NAMED <file:///tmp/secret.ttl>"),
        ("PREFIX g: <http://evil.example/> SELECT * FROM g:x { ?s ?p ?o }", "FROM <http://evil.example/x>"),
        ("BASE <http://evil.example/a/> SELECT * FROM <b> { ?s ?p ?o }", "FROM <http://evil.example/a/b>"),
        (f"SELECT * FROM <{BACKGROUND}> FROM <http://x/> {{ ?s ?p ?o }}", "FROM <http://x/>"),
        ("SELECT * FROM u:x { ?s ?p ?o }", "undeclared prefix"),
    ],
)
def test_from_naming_anything_outside_the_store_is_refused(query, fragment):
    with pytest.raises(QueryRefused) as caught:
        check_query(query, max_bytes=10_000, settings=SETTINGS)
    assert caught.value.status == 400
    assert fragment in caught.value.message
    assert "not a graph of this store" in caught.value.message or "undeclared" in caught.value.message


@pytest.mark.parametrize(
    "query",
    [
        f"SELECT * FROM <{BACKGROUND}> FROM NAMED <http://example.org/id/graph/links> {{ ?s ?p ?o }}",
        "PREFIX g: <http://example.org/id/graph/> SELECT * FROM g:ontology { ?s ?p ?o }",
        "BASE <http://example.org/id/graph/> SELECT * FROM <inferred> { ?s ?p ?o }",
        "SELECT ?from { ?from ?p 'FROM <http://x/>' }",
    ],
)
def test_from_naming_the_stores_graphs_is_allowed(query):
    check_query(query, max_bytes=10_000, settings=SETTINGS)


def test_from_is_checked_against_the_graphs_given():
    check_query("SELECT * FROM <http://other/g> {}", max_bytes=1000, allowed_graphs=["http://other/g"])
    with pytest.raises(QueryRefused):
        check_query(f"SELECT * FROM <{BACKGROUND}> {{}}", max_bytes=1000, allowed_graphs=["http://other/g"])
    # with neither settings nor graphs, FROM is left to the executor (which knows the store)
    check_query("SELECT * FROM <http://other/g> {}", max_bytes=1000)


def test_using_in_updates_is_checked_like_from():
    update = "DELETE { ?s ?p ?o } USING <http://127.0.0.1:9/g> WHERE { ?s ?p ?o }"
    with pytest.raises(QueryRefused, match=re.escape("USING <http://127.0.0.1:9/g>")):
        check_query(update, max_bytes=10_000, settings=SETTINGS, update=True)
    check_query(update.replace("http://127.0.0.1:9/g", BACKGROUND), max_bytes=10_000, settings=SETTINGS, update=True)


def test_the_protocol_dataset_must_name_the_stores_graphs():
    assert BACKGROUND in store_graphs(SETTINGS)
    check_dataset([BACKGROUND], ["http://example.org/id/graph/links"], SETTINGS)
    for default, named, fragment in (
        (["http://127.0.0.1:9/g"], [], "default-graph-uri=<http://127.0.0.1:9/g>"),
        ([], ["file:///etc/passwd"], "named-graph-uri=<file:///etc/passwd>"),
    ):
        with pytest.raises(QueryRefused, match="not a graph of this store") as caught:
            check_dataset(default, named, SETTINGS)
        assert fragment in caught.value.message
        assert caught.value.status == 400
    check_dataset(["http://other/g"], [], allowed_graphs={"http://other/g"})


@pytest.mark.parametrize("pair", ["{}", "()", "[]"])
def test_nesting_beyond_the_limit_is_refused_with_a_clear_message(pair):
    def nested(depth):
        inner = {"{}": "?s ?p ?o", "()": "?o", "[]": "?p ?o"}[pair]
        body = pair[0] * depth + f" {inner} " + pair[1] * depth
        return f"SELECT * {{ ?s ?p ?o FILTER {body} }}" if pair == "()" else f"SELECT * {{ ?s ?p {body} }}"

    check_query(nested(MAX_NESTING - 2), max_bytes=10**6)
    with pytest.raises(QueryRefused) as caught:
        check_query(nested(5000), max_bytes=10**6)
    assert caught.value.status == 400
    assert "nests 50" in caught.value.message
    assert f"the limit is {MAX_NESTING}" in caught.value.message


def test_brackets_in_strings_iris_and_comments_do_not_count():
    noise = "'" + "{" * 200 + "' " + '"' + "(" * 200 + '" ' + "# " + "[" * 200 + "\n"
    check_query(f"SELECT * {{ ?s ?p {noise} }}", max_bytes=10**6)


def test_a_two_megabyte_query_is_refused_at_once():
    query = "SELECT * { ?s ?p ?o } #" + "x" * (2 * 1024 * 1024)
    started = time.monotonic()
    with pytest.raises(QueryRefused) as caught:
        check_query(query, max_bytes=256 * 1024)
    assert caught.value.status == 413
    assert time.monotonic() - started < 1
