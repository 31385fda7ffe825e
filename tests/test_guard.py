"""The endpoint's first guard: no SERVICE, no oversize queries."""

from __future__ import annotations

import pytest

from nhs_ai_workforce.services.guard import QueryRefused, check_query


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
