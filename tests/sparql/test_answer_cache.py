"""Answers reused within a build: ETags, 304s, Cache-Control and Cache-Status, on real servers."""

from __future__ import annotations

import hashlib
import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import replace

import pytest
from rdflib import Literal

from conftest import make_dataset, make_live, numbered_store, sample_triples
from nhs_ai_workforce.core.namespaces import ProjectNamespaces
from nhs_ai_workforce.core.settings import Settings
from nhs_ai_workforce.sparql.execution import execute
from nhs_ai_workforce.store.live import CurrentStore
from servers import fetch, running_server

NS = ProjectNamespaces()
COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
#: 4 cross products of ~500 triples: far beyond a 1 s time limit.
RUNAWAY = "SELECT (COUNT(*) AS ?n) { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
JSON = "application/sparql-results+json"
DIRECT = {"Content-Type": "application/sparql-query", "Accept": JSON}


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Settings:
    return numbered_store(Settings(root=tmp_path_factory.mktemp("answers")))


@pytest.fixture(scope="module")
def server(store):
    """Two server processes (they share the answers on disk), a 1 s time limit, a 1 MB cache, answers
    kept from their first request."""
    env = {"AIWF_WORKERS": "2", "AIWF_QUERY_TIMEOUT": "1", "AIWF_ANSWER_CACHE_MB": "1", "AIWF_ANSWER_MIN_USES": "1"}
    with running_server(store.store_path, env=env) as origin:
        yield origin


@pytest.fixture(scope="module")
def uncached(store):
    """Another server on the same store that keeps no answers: every answer is made afresh."""
    with running_server(store.store_path, env={"AIWF_ANSWER_CACHE_MB": "0"}) as origin:
        yield origin


def get(origin: str, query: str, **params):
    headers = params.pop("headers", {})
    return fetch(f"{origin}/sparql?" + urllib.parse.urlencode({"query": query, **params}), headers=headers)


def test_an_identical_request_is_answered_from_the_cache(server):
    query = "SELECT ?n { ?s <https://nhs-ai-workforce.example.org/def/aiwf/number> ?n } ORDER BY ?n LIMIT 7"
    first = fetch(f"{server}/sparql", method="POST", data=query.encode(), headers=DIRECT)
    assert first[0] == 200 and first[1]["Cache-Status"] == "aiwf; fwd=miss; stored"
    again = [fetch(f"{server}/sparql", method="POST", data=query.encode(), headers=DIRECT) for _ in range(4)]
    assert {(status, headers["Cache-Status"], body) for status, headers, body in again} == {
        (200, "aiwf; hit", first[2])}
    assert {headers["ETag"] for _, headers, _ in again} == {first[1]["ETag"]}
    # the same query with other spaces and a comment is the same request
    spaced = query.replace(" ", "\n  ") + "  # the first seven"
    status, headers, body = fetch(f"{server}/sparql", method="POST", data=spaced.encode(), headers=DIRECT)
    assert (status, headers["Cache-Status"], body) == (200, "aiwf; hit", first[2])


def test_etags_are_equal_for_equal_answers_in_every_process_and_differ_by_format(server, uncached, store):
    status, cached, body = get(server, COUNT)
    assert status == 200 and json.loads(body)["results"]["bindings"][0]["n"]["value"] == "514"
    _, fresh, fresh_body = get(uncached, COUNT)
    assert fresh["Cache-Status"] == "aiwf; fwd=bypass" and fresh_body == body
    tag = cached["ETag"]
    assert tag == fresh["ETag"] == f'"{hashlib.sha256(body).hexdigest()}"'  # strong: the bytes' own hash
    _, csv, _ = get(server, COUNT, format="csv")
    assert csv["ETag"] != tag
    assert csv["Last-Modified"] == cached["Last-Modified"]


def test_if_none_match_gets_304_with_or_without_the_answer_kept(server, uncached):
    for origin in (server, uncached):
        _, headers, _ = get(origin, "ASK { ?s ?p ?o }")
        tag = headers["ETag"]
        status, again, body = get(origin, "ASK { ?s ?p ?o }", headers={"If-None-Match": tag})
        assert (status, body) == (304, b"") and again["ETag"] == tag
        assert get(origin, "ASK { ?s ?p ?o }", headers={"If-None-Match": '"other"'})[0] == 200
        head = fetch(f"{origin}/sparql?query=ASK%20%7B%20%3Fs%20%3Fp%20%3Fo%20%7D", method="HEAD",
                     headers={"If-None-Match": tag})
        assert head[0] == 304
    # a POST is answered in full (304 is for GET and HEAD), from the cache
    status, headers, body = fetch(f"{server}/sparql", method="POST", data=b"ASK { ?s ?p ?o }",
                                  headers={**DIRECT, "If-None-Match": tag})
    assert status == 200 and body and headers["Cache-Status"] == "aiwf; hit"


def test_get_answers_may_be_reused_by_browsers_and_caches(server):
    _, headers, _ = get(server, "SELECT ?s { ?s a ?type } LIMIT 2")
    assert headers["Cache-Control"] == "public, max-age=60"
    assert "Accept" in headers["Vary"]
    _, posted, _ = fetch(f"{server}/sparql", method="POST", data=b"SELECT ?s { ?s a ?type } LIMIT 2", headers=DIRECT)
    assert "public" not in posted.get("Cache-Control", "")


def test_volatile_queries_are_never_reused(server):
    query = "SELECT (STRUUID() AS ?id) {}"
    answers = [get(server, query) for _ in range(2)]
    for status, headers, _ in answers:
        assert status == 200 and headers["Cache-Control"] == "no-store" and "ETag" not in headers
        assert headers["Cache-Status"] == "aiwf; fwd=bypass; detail=volatile"
    assert answers[0][2] != answers[1][2]


def test_errors_and_time_outs_are_never_kept(server, store):
    answers = store.store_path.parent / "answers"
    kept_before = sorted(path.name for path in answers.rglob("*"))
    for _ in range(2):
        status, headers, _ = get(server, RUNAWAY)
        assert status == 504 and "Cache-Status" not in headers and "ETag" not in headers
        status, headers, _ = get(server, "SELECT * { ?s ?p }")
        assert status == 400 and "Cache-Status" not in headers
    assert sorted(path.name for path in answers.rglob("*")) == kept_before


def test_an_answer_over_an_eighth_of_the_bound_is_sent_but_not_kept(server):
    big = "SELECT ?s ?p ?o ?x { ?s ?p ?o BIND(CONCAT(STR(?s), STR(?s), STR(?s), STR(?s)) AS ?x) }"
    for _ in range(2):
        status, headers, body = get(server, big)
        assert status == 200 and len(body) > 1024 * 1024 // 8
        assert headers["Cache-Status"] == "aiwf; fwd=miss" and headers["ETag"]


def test_a_new_build_has_its_own_answers_and_only_a_changed_answer_gets_a_new_etag(tmp_path):
    settings = Settings(root=tmp_path)
    old = make_live(settings, make_dataset(NS))
    with running_server(settings.store_path, env={"AIWF_ANSWER_MIN_USES": "1"}) as origin:
        _, before, body = get(origin, COUNT)
        assert get(origin, COUNT)[1]["Cache-Status"] == "aiwf; hit"
        make_live(settings, make_dataset(NS))  # the same triples, another build
        status, after, same_body = get(origin, COUNT)
        assert (status, after["Cache-Status"], same_body) == (200, "aiwf; fwd=miss; stored", body)
        assert before["ETag"] == after["ETag"]  # the same bytes: a client's copy is still good
        assert get(origin, COUNT, headers={"If-None-Match": before["ETag"]})[0] == 304
        assert not (settings.store_path.parent / "answers" / old.name).exists()
        extra = ("background", NS.thing("note", "new"), NS.AIWF.number, Literal(1))
        make_live(settings, make_dataset(NS, [*sample_triples(NS), extra]))  # another answer
        status, changed, new_body = get(origin, COUNT)
        assert status == 200 and new_body != body and changed["ETag"] != before["ETag"]
        assert get(origin, COUNT, headers={"If-None-Match": before["ETag"]})[0] == 200


def test_the_endpoint_runs_a_repeated_query_once(settings, built_store):
    """Through the test client: an executor that counts the jobs it runs (and says its build)."""
    from nhs_ai_workforce.web.app import create_app

    class Counting:
        def __init__(self) -> None:
            self.store = CurrentStore(settings)
            self.jobs = []

        def run(self, job):
            self.jobs.append(job.text)
            store, build = self.store.snapshot()
            return replace(execute(store, job), build=build)

    executor = Counting()
    client = create_app({"SETTINGS": settings, "EXECUTOR": executor}).test_client()
    statuses = []
    for text in (COUNT, COUNT, f"  {COUNT}\n", COUNT):
        response = client.get("/sparql", query_string={"query": text})
        assert response.status_code == 200
        statuses.append(response.headers["Cache-Status"])
    # kept from its second request (AIWF_ANSWER_MIN_USES, default 2), then reused
    assert executor.jobs == [COUNT, COUNT]
    assert statuses == ["aiwf; fwd=miss", "aiwf; fwd=miss; stored", "aiwf; hit", "aiwf; hit"]
    for _ in range(2):
        assert client.get("/sparql", query_string={"query": COUNT, "format": "csv"}).status_code == 200
    assert executor.jobs == [COUNT] * 4  # another format is another answer
