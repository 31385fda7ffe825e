"""Serving from a remote store (``AIWF_SPARQL_URL``): the same answers as the embedded store, and every way
the remote can fail reported with its status.

The remote is a real ``oxigraph serve`` loaded by ``aiwf publish`` (``tests/remote_servers.py``), or a
small fake that answers the publication record and then misbehaves. The browser, protocol and
reconciliation suites run in both modes elsewhere (conftest's ``site`` and ``seeded_settings``); this
module holds what only a remote can do.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from pathlib import Path
from urllib.parse import quote

import pyoxigraph as ox
import pytest
from rdflib import Literal

from conftest import make_dataset, make_live, remote_settings, sample_triples
from nhs_ai_workforce.cli import main
from nhs_ai_workforce.core.settings import Settings
from nhs_ai_workforce.sparql.remote import RemoteExecutor
from nhs_ai_workforce.store import publication
from nhs_ai_workforce.web.app import create_app
from remote_servers import Answer, Seen, fake_remote, publish, running_oxigraph
from servers import ROOT, fetch, free_port, running_server

QUERIES = sorted((ROOT / "queries").glob("*.rq"))
RESULT_TYPES = ("application/sparql-results+json", "application/sparql-results+xml", "text/csv",
                "text/tab-separated-values")
BASE = Settings().base
GRAPH = f"{BASE}/id/graph/"
HTML = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}


def ask(client, text: str, accept: str = "application/sparql-results+json", **params):
    query = "&".join(f"{name.replace('_', '-')}={quote(value)}" for name, values in params.items() for value in values)
    return client.post(f"/sparql?{query}", data=text.encode(), content_type="application/sparql-query",
                       headers={"Accept": accept})


def error(response) -> dict:
    body = response.get_json()
    assert body["ok"] is False and body["status"] == response.status_code
    return body


# -- the same answers in both modes -------------------------------------------------------------


@pytest.fixture(scope="module")
def both(seeded_store, seeded_remote, tmp_path_factory):
    """Test clients over the real seeds: the embedded store (query processes reading it on disk, as
    ``oxigraph serve --location`` does) and the same build read from ``oxigraph serve``. No answer is kept,
    so every request runs."""
    embedded_app = create_app({"SETTINGS": Settings().with_(store_dir=seeded_store, memory_store_mb=0,
                                                            answer_cache_mb=0)})
    remote_app = create_app({"SETTINGS": remote_settings(seeded_remote, tmp_path_factory.mktemp("both"),
                                                         answer_cache_mb=0)})
    yield embedded_app.test_client(), remote_app.test_client()
    embedded_app.extensions["aiwf"].executor.close()


@pytest.mark.slow
@pytest.mark.parametrize("path", QUERIES, ids=[path.stem[:2] for path in QUERIES])
def test_every_example_query_gives_the_same_bytes_in_both_modes(both, path):
    embedded, remote = both
    text = path.read_text(encoding="utf-8")
    for accept in RESULT_TYPES:
        ours, theirs = ask(embedded, text, accept), ask(remote, text, accept)
        assert ours.status_code == theirs.status_code == 200, theirs.data[:300]
        assert ours.data == theirs.data, (path.name, accept)
        assert ours.headers["Content-Type"] == theirs.headers["Content-Type"]


DATASETS = [
    # the default graph is the union of the graphs, and GRAPH ?g sees each
    ("SELECT ?g (COUNT(*) AS ?n) { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g ORDER BY ?g", {}),
    ("SELECT (COUNT(*) AS ?n) { ?s ?p ?o }", {}),
    ("SELECT ?p (COUNT(*) AS ?n) { initiative:ai-roadmap ?p ?o } GROUP BY ?p ORDER BY ?p", {}),
    # the query's own dataset
    ("SELECT (COUNT(*) AS ?n) FROM graph:links { ?s ?p ?o }", {}),
    ("SELECT ?g (COUNT(*) AS ?n) FROM NAMED graph:links FROM NAMED graph:ontology { GRAPH ?g { ?s ?p ?o } } "
     "GROUP BY ?g ORDER BY ?g", {}),
    ("SELECT (COUNT(*) AS ?n) FROM NAMED graph:links { ?s ?p ?o }", {}),  # no FROM: an empty default graph
    # the protocol's dataset replaces everything
    ("SELECT (COUNT(*) AS ?n) { ?s ?p ?o }", {"default_graph_uri": [GRAPH + "links", GRAPH + "ontology"]}),
    ("SELECT ?g (COUNT(*) AS ?n) { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g ORDER BY ?g",
     {"named_graph_uri": [GRAPH + "mappings"]}),
    ("SELECT (COUNT(*) AS ?n) FROM graph:links { ?s ?p ?o }", {"default_graph_uri": [GRAPH + "ontology"]}),
    ("ASK { GRAPH ?g { ?s ?p ?o } }", {"default_graph_uri": [GRAPH + "ontology"]}),
    # predeclared prefixes, and a query's own PREFIX of the same name wins
    ("PREFIX initiative: <urn:x:> SELECT (COUNT(*) AS ?n) { initiative:ai-roadmap ?p ?o }", {}),
    # relative IRIs resolve against the endpoint's URL
    ("SELECT ?x { BIND(<relative> AS ?x) }", {}),
]


@pytest.mark.parametrize(("text", "params"), DATASETS)
def test_the_union_default_graph_and_the_dataset_rules_are_the_same_in_both_modes(both, text, params):
    embedded, remote = both
    for accept in ("application/sparql-results+json", "text/csv"):
        ours, theirs = ask(embedded, text, accept, **params), ask(remote, text, accept, **params)
        assert ours.status_code == theirs.status_code == 200, theirs.data[:300]
        assert ours.data == theirs.data


@pytest.mark.parametrize("text", [
    "DESCRIBE initiative:ai-roadmap",
    "CONSTRUCT WHERE { initiative:ai-roadmap ?p ?o }",
    "CONSTRUCT { ?s a ?c } FROM graph:ontology WHERE { ?s a ?c }",
])
def test_graph_answers_hold_the_same_triples_in_both_modes(both, text):
    """A graph's triples have no order; the remote's union of listed graphs is read graph by graph, the
    embedded union all at once, so the same triples may come in another order."""
    embedded, remote = both
    for accept, syntax in (("text/turtle", ox.RdfFormat.TURTLE), ("application/n-triples", ox.RdfFormat.N_TRIPLES),
                           ("application/n-quads", ox.RdfFormat.N_QUADS)):
        ours, theirs = ask(embedded, text, accept), ask(remote, text, accept)
        assert ours.status_code == theirs.status_code == 200
        assert ours.headers["Content-Type"] == theirs.headers["Content-Type"]
        triples = [set(ox.parse(response.data, format=syntax)) for response in (ours, theirs)]
        assert triples[0] == triples[1] and len(triples[0]) > 5


@pytest.mark.parametrize(("text", "params", "status", "title"), [
    ("SELECT ?x {\n  ?x ?y ", {}, 400, "Malformed query"),  # the guard does not parse: the remote's 400
    ("SELECT * { ?s ?p ?o FILTER(<urn:f>(?o)) }", {}, 400, "Unsupported function"),
    ("SELECT * FROM <http://example.org/elsewhere> { ?s ?p ?o }", {}, 400, "Query refused"),
    ("SELECT * { ?s ?p ?o }", {"named_graph_uri": ["file:///etc/passwd"]}, 400, "Query refused"),
    ("SELECT * { SERVICE <http://example.org/sparql> { ?s ?p ?o } }", {}, 400, "Query refused"),
    ("INSERT DATA { <urn:a> <urn:b> <urn:c> }", {}, 400, "Not a query"),
    ("SELECT * " + "{ " * 70 + "}" * 70, {}, 400, "Query too deeply nested"),
])
def test_refusals_and_the_remotes_400_have_the_same_shape_in_both_modes(both, text, params, status, title):
    embedded, remote = both
    ours, theirs = error(ask(embedded, text, **params)), error(ask(remote, text, **params))
    assert ours == theirs and (ours["status"], ours["title"]) == (status, title)


def test_a_malformed_query_is_reported_at_its_own_line_and_column(both):
    """The remote gets the predeclared prefixes on a line before the query: its positions are moved back."""
    _, remote = both
    body = error(ask(remote, "SELECT ?t\nWHERE { initiative:ai-roadmap dcterms:title ?t"))
    assert (body["line"], body["column"]) == (2, 47) and body["error"].startswith("error at 2:47")


def test_a_result_over_the_limit_is_400_in_both_modes(seeded_store, seeded_remote, tmp_path):
    clients = [create_app({"SETTINGS": settings}).test_client() for settings in (
        Settings().with_(store_dir=seeded_store, result_limit_bytes=2000, answer_cache_mb=0),
        remote_settings(seeded_remote, tmp_path, result_limit_bytes=2000, answer_cache_mb=0))]
    for client in clients:
        # the remote's JSON answer passes 4 x 2000 bytes: stopped while reading it
        assert error(ask(client, "SELECT * { ?s ?p ?o }"))["title"] == "Result too large"
        # its JSON answer is read, but the CSV written here passes 2000 bytes
        assert error(ask(client, "SELECT ?s { ?s a ?c } LIMIT 60", "text/csv"))["title"] == "Result too large"
    clients[0].application.extensions["aiwf"].executor.close()


# -- a small remote of our own --------------------------------------------------------------------


def small_settings(tmp_path: Path, origin: str, **changes) -> Settings:
    """A server reading ``origin`` with short limits, so failures show at once."""
    return remote_settings(origin, tmp_path / "server", remote_attempts=1, sparql_refresh_s=0.0, **changes)


@pytest.fixture
def small_remote(settings, built_store, tmp_path):
    """``oxigraph serve`` loaded by ``aiwf publish`` with the sample dataset (conftest); its origin."""
    with running_oxigraph(tmp_path / "oxigraph") as origin:
        publish(settings.store_path, origin)
        yield origin


def assert_unreachable(client) -> None:
    """What a server answers when its remote cannot be reached: 502 (503 for ``/health``), never 500."""
    body = error(ask(client, "SELECT * { ?s ?p ?o } LIMIT 3"))
    assert (body["status"], body["title"]) == (502, "Remote store unreachable")
    assert body["error"] == "the remote store cannot be reached: connection refused"  # its address is only logged
    page = client.get("/doc/initiative/ai-roadmap", headers=HTML)
    assert page.status_code == 502 and page.mimetype == "text/html"
    assert "cannot be reached" in page.get_data(as_text=True)
    assert error(client.get("/reconcile?queries=" + quote('{"q0": {"query": "x"}}')))["status"] == 502
    assert error(client.get("/data/void"))["status"] == 502
    health = client.get("/health")
    assert health.status_code == 503 and health.json["status"] == "unavailable"


def test_a_remote_that_cannot_be_reached_is_502_with_a_clear_message(tmp_path):
    settings = small_settings(tmp_path, f"http://127.0.0.1:{free_port()}")
    assert_unreachable(create_app({"SETTINGS": settings, "TESTING": True}).test_client())


def test_a_remote_that_goes_down_while_serving_is_502_and_pages_are_not_500(settings, built_store, tmp_path):
    with running_oxigraph(tmp_path / "oxigraph") as origin:
        publish(settings.store_path, origin)
        app = create_app({"SETTINGS": small_settings(tmp_path, origin), "TESTING": True})
        client = app.test_client()
        assert client.get("/doc/initiative/topol-review").status_code == 200
        assert ask(client, "ASK { ?s ?p ?o }").json["boolean"] is True
        assert client.get("/health").json["store"] == "remote"
    assert_unreachable(client)  # oxigraph serve has stopped


def test_a_remote_without_a_publication_is_503_saying_to_publish(tmp_path):
    with running_oxigraph(tmp_path / "empty") as origin:
        client = create_app({"SETTINGS": small_settings(tmp_path, origin), "TESTING": True}).test_client()
        body = error(ask(client, "ASK { ?s ?p ?o }"))
        assert body["status"] == 503 and "aiwf publish" in body["error"]
        assert "holds no publication record" in body["error"]
        health = client.get("/health")
        assert health.status_code == 503 and "aiwf publish" in health.json["error"]
        assert client.get("/").status_code == 200  # the home page still says what the service is


# -- a remote that misbehaves ---------------------------------------------------------------------


def record_answer(graphs: tuple[str, ...] = (GRAPH + "background",), id: str = "20260101T000000000000Z-aaaaaa"):
    """The remote's answer to the publication record query."""
    rows = [{"id": {"type": "literal", "value": id}, "build": {"type": "literal", "value": "b1"},
             "graph": {"type": "uri", "value": graph}} for graph in graphs]
    body = {"head": {"vars": ["id", "build", "issued", "graph", "triples"]}, "results": {"bindings": rows}}
    return Answer(200, json.dumps(body).encode(), {"Content-Type": "application/sparql-results+json"})


def is_record(request: Seen) -> bool:
    return request.method == "GET" and "publication" in request.path


def misbehaving(answer, wait_s: float = 0.0):
    """A remote that answers the record, then ``answer`` (after ``wait_s``) to every query."""
    def handle(request: Seen, before: int) -> Answer:
        if is_record(request):
            return record_answer()
        time.sleep(wait_s)
        return answer
    return handle


def test_a_slow_remote_is_504_within_the_time_limit(tmp_path):
    with fake_remote(misbehaving(Answer(200, b'{"head":{},"boolean":true}'), wait_s=4)) as remote:
        settings = small_settings(tmp_path, remote.origin, query_timeout_s=0.5, remote_timeout_s=0.5)
        client = create_app({"SETTINGS": settings, "TESTING": True}).test_client()
        started = time.monotonic()
        body = error(ask(client, "ASK { ?s ?p ?o }"))
        took = time.monotonic() - started
        assert (body["status"], body["title"]) == (504, "Query timed out") and took < 2
        assert "gave no answer within the time limit of 0.5 s" in body["error"]
        page = client.get("/doc/initiative/ai-roadmap")
        assert page.status_code == 504 and error(page)["title"] == "Remote store timed out"
    queries = [seen for seen in remote.seen if not is_record(seen)]
    assert queries[0].method == "POST"  # a POST that timed out is not sent again


@pytest.mark.parametrize(("status", "attempts", "expected", "title"), [
    (503, 2, 502, "Remote store failed"),  # retried, then reported with its status
    (500, 1, 502, "Remote store failed"),  # a 500 for a query is the query's failure: never retried
    (401, 1, 502, "Remote store failed"),  # the server's own credentials are wrong: not the client's fault
    (429, 2, 503, "Remote store busy"),
])
def test_a_remote_failure_is_reported_with_its_status(tmp_path, status, attempts, expected, title):
    answer = Answer(status, b"the remote's own words", {"Retry-After": "0"} if status in (429, 503) else {})
    with fake_remote(misbehaving(answer)) as remote:
        settings = small_settings(tmp_path, remote.origin).with_(remote_attempts=2)
        client = create_app({"SETTINGS": settings, "TESTING": True}).test_client()
        body = error(ask(client, "ASK { ?s ?p ?o }"))
    assert (body["status"], body["title"]) == (expected, title)
    assert f"HTTP {status}" in body["error"] and "the remote's own words" in body["error"]
    assert len([seen for seen in remote.seen if not is_record(seen)]) == attempts


def test_a_remote_400_is_passed_on_with_its_message(tmp_path):
    with fake_remote(misbehaving(Answer(400, b"Parse error: unexpected ']' on line 2"))) as remote:
        client = create_app({"SETTINGS": small_settings(tmp_path, remote.origin), "TESTING": True}).test_client()
        body = error(ask(client, "SELECT * { ?s ?p ?o }"))
        # the server's own query refused: this store cannot serve the pages (502), not the client's fault
        page = error(client.get("/doc/initiative/ai-roadmap"))
    assert (body["status"], body["title"]) == (400, "Malformed query")
    assert body["error"] == "Parse error: unexpected ']' on line 1"  # the line put before the query taken off
    assert (page["status"], page["title"]) == (502, "Remote store failed") and "HTTP 400" in page["error"]
    sent = next(seen for seen in remote.seen if not is_record(seen))
    assert sent.headers["Content-Type"] == "application/x-www-form-urlencoded"
    form = dict(re.findall(r"([^&=]+)=([^&]*)", sent.body.decode()))
    assert form["default-graph-uri"] == form["named-graph-uri"] == quote(GRAPH + "background", safe="")


def test_an_answer_that_is_not_sparql_results_is_502(tmp_path):
    with fake_remote(misbehaving(Answer(200, b"<html>login</html>", {"Content-Type": "text/html"}))) as remote:
        client = create_app({"SETTINGS": small_settings(tmp_path, remote.origin), "TESTING": True}).test_client()
        body = error(ask(client, "SELECT * { ?s ?p ?o }"))
    assert (body["status"], body["title"]) == (502, "Remote store failed")
    assert "text/html, not SPARQL results or RDF" in body["error"]


def test_credentials_come_from_the_environment_and_go_with_every_call(tmp_path, monkeypatch):
    monkeypatch.setenv("AIWF_SPARQL_TOKEN", "tok-7")
    with fake_remote(misbehaving(Answer(200, b'{"head":{},"boolean":true}',
                                        {"Content-Type": "application/sparql-results+json"}))) as remote:
        client = create_app({"SETTINGS": small_settings(tmp_path, remote.origin), "TESTING": True}).test_client()
        assert ask(client, "ASK { ?s ?p ?o }").json == {"head": {}, "boolean": True}
    assert len(remote.seen) >= 2 and {seen.headers.get("Authorization") for seen in remote.seen} == {"Bearer tok-7"}
    monkeypatch.setenv("AIWF_SPARQL_USER", "ann")
    with pytest.raises(ValueError, match="AIWF_SPARQL_TOKEN or AIWF_SPARQL_USER"):
        create_app({"SETTINGS": small_settings(tmp_path, remote.origin)})


# -- what a server reading a remote does not do ---------------------------------------------------


def test_updates_are_refused_and_nothing_writes_the_remote(tmp_path):
    with fake_remote(misbehaving(Answer(500))) as remote:
        settings = small_settings(tmp_path, remote.origin).with_(update_token="t0k")
        client = create_app({"SETTINGS": settings, "TESTING": True}).test_client()
        response = client.post("/update", data="INSERT DATA { <urn:a> <urn:b> <urn:c> }",
                               content_type="application/sparql-update", headers={"Authorization": "Bearer t0k"})
        assert response.status_code == 403 and "aiwf publish" in error(response)["error"]
    assert remote.seen == []


@pytest.mark.parametrize(("env", "message"), [
    ({"AIWF_SPARQL_URL": "http://127.0.0.1:9/query", "AIWF_SERVICE_ALLOW": "http://example.org/sparql"},
     "AIWF_SERVICE_ALLOW cannot be used with AIWF_SPARQL_URL"),
    ({"AIWF_SPARQL_URL": "http://ann:pw@127.0.0.1:9/query"}, "carries credentials"),
    ({"AIWF_SPARQL_URL": "ftp://127.0.0.1:9/query"}, "not an http(s) URL"),
    ({"AIWF_SPARQL_URL": "http://127.0.0.1:9/query", "AIWF_SPARQL_PASSWORD": "pw"},
     "AIWF_SPARQL_PASSWORD is set but AIWF_SPARQL_USER is not"),
])
def test_a_remote_the_server_cannot_use_stops_aiwf_serve_before_it_starts(capsys, monkeypatch, env, message):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("PORT", str(free_port()))
    assert main(["serve"]) == 2
    assert message in capsys.readouterr().err


def test_no_query_process_is_started(small_remote, tmp_path, monkeypatch):
    from nhs_ai_workforce.sparql import pool

    def refuse(*args, **kwargs):
        raise AssertionError("a query pool was started in remote mode")

    monkeypatch.setattr(pool.PooledExecutor, "__init__", refuse)
    app = create_app({"SETTINGS": small_settings(tmp_path, small_remote)})
    assert isinstance(app.extensions["aiwf"].executor, RemoteExecutor)
    assert ask(app.test_client(), "ASK { ?s ?p ?o }").json["boolean"] is True


# -- a new publication, picked up without a restart -----------------------------------------------


@pytest.mark.slow
@pytest.mark.server
def test_a_new_publication_is_served_without_a_restart(settings, ns, built_store, tmp_path):
    topol = "https://nhs-ai-workforce.example.org/id/initiative/topol-review"
    query = "/sparql?query=" + quote(f"SELECT ?l {{ <{topol}> rdfs:label ?l }}")
    with running_oxigraph(tmp_path / "oxigraph") as origin:
        publish(settings.store_path, origin)
        first = publication.read(f"{origin}/query", BASE)
        env = {"AIWF_SPARQL_URL": f"{origin}/query", "AIWF_SPARQL_REFRESH": "0.5"}
        with running_server(tmp_path / "server" / "store", env=env) as server:
            status, headers, body = fetch(f"{server}{query}")
            assert status == 200 and b"The Topol Review" in body
            etag = headers["ETag"]
            assert etag == f'"{hashlib.sha256(body).hexdigest()}"'  # the bytes' own tag, as in embedded mode
            assert b"The Topol Review" in fetch(f"{server}/doc/initiative/topol-review")[2]
            assert fetch(f"{server}{query}", headers={"If-None-Match": etag})[0] == 304
            # a new build, with a new label, published to the remote while the server runs
            old, new = Literal("The Topol Review", lang="en"), Literal("Topol, renamed", lang="en")
            rows = [(graph, s, p, new if o == old else o) for graph, s, p, o in sample_triples(ns)]
            make_live(settings, make_dataset(ns, rows))
            publish(settings.store_path, origin)
            second = publication.read(f"{origin}/query", BASE)
            assert second.id != first.id
            deadline = time.monotonic() + 15
            seen: list = []
            while time.monotonic() < deadline:
                # several requests, so that each server process has been asked
                answers = [fetch(f"{server}{query}") for _ in range(6)]
                seen = [*answers, fetch(f"{server}/doc/initiative/topol-review")]
                if all(b"Topol, renamed" in body for _, _, body in seen):
                    break
                time.sleep(0.2)
            assert all(b"Topol, renamed" in body and b"The Topol Review" not in body for _, _, body in seen)
            # within AIWF_SPARQL_REFRESH of a publication a process may still name the last one; after it, none does
            time.sleep(0.6)
            status, headers, body = fetch(f"{server}{query}", headers={"If-None-Match": etag})
            assert status == 200 and headers["ETag"] == f'"{hashlib.sha256(body).hexdigest()}"' != etag
            health = json.loads(fetch(f"{server}/health")[2])
            assert health.pop("replay").keys() == {"recorded", "replayed"}
            assert health.pop("queries").keys() == {"running", "waiting", "lent", "loans", "asked_back"}
            assert health == {"status": "ok", "build": second.id, "store": "remote", "published_build": second.build}


def test_the_record_is_read_at_most_once_per_interval_and_a_failure_is_held_briefly(tmp_path):
    from nhs_ai_workforce.store.remote_live import FAILURE_HOLD_S, RemoteCurrentStore
    from nhs_ai_workforce.store.remote_store import RemoteStoreError

    now = [100.0]
    answers = {"record": record_answer()}

    def handle(request: Seen, before: int) -> Answer:
        return answers["record"]

    with fake_remote(handle) as remote:
        settings = small_settings(tmp_path, remote.origin).with_(sparql_refresh_s=5.0)
        current = RemoteCurrentStore(settings, clock=lambda: now[0])
        first = current.get()
        now[0] += 4.9
        assert current.get() is first and len(remote.seen) == 1  # within the interval: not read again
        now[0] += 0.2
        assert current.get() is first and len(remote.seen) == 2  # read again, the same publication: kept
        answers["record"] = record_answer(id="20260101T000000000001Z-bbbbbb")
        now[0] += 5.1
        second, build = current.snapshot()
        assert second is not first and build == "20260101T000000000001Z-bbbbbb" and current.is_live(build)
        assert current.is_live(build) and not current.is_live("20260101T000000000000Z-aaaaaa")
        seen = len(remote.seen)
        now[0] += 5.1
        assert not current.is_live(build) and len(remote.seen) == seen  # stale, and asking fetches nothing
        answers["record"] = Answer(503, b"maintenance")
        for _ in range(3):
            with pytest.raises(RemoteStoreError, match="HTTP 503"):
                current.get()
        assert len(remote.seen) == 4  # the failure is held, not asked again
        answers["record"] = record_answer(id="20260101T000000000001Z-bbbbbb")
        now[0] += FAILURE_HOLD_S
        assert current.get() is second  # back, the same publication: what was derived from it is kept
