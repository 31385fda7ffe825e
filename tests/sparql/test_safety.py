"""Safety by default, through the app as it is served (queries in killable worker processes).

SERVICE, LOAD, FROM and the protocol's dataset never reach another host or a file: a TCP
listener and a local file watch for any attempt. A runaway query is stopped and the next one
answered; deep nesting, oversize requests and oversize results get clear 4xx errors.
"""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path

import pytest

from conftest import numbered_store
from nhs_ai_workforce.core.namespaces import ProjectNamespaces
from nhs_ai_workforce.core.settings import Settings
from nhs_ai_workforce.store.live import current_build_id
from nhs_ai_workforce.web.app import create_app

TOKEN = "s3cret-curator-token"
RUNAWAY = "SELECT (COUNT(*) AS ?n) { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
COUNT = "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }"
MARKER = "SECRET-MARKER-7f3a9c"
JSON = {"Accept": "application/sparql-results+json"}


@pytest.fixture(scope="module")
def settings(tmp_path_factory) -> Settings:
    return numbered_store(Settings(
        root=tmp_path_factory.mktemp("safety"), query_timeout_s=1.0, update_token=TOKEN, result_limit_bytes=20_000
    ))


@pytest.fixture(scope="module")
def app(settings):
    app = create_app({"SETTINGS": settings})
    yield app
    app.extensions["aiwf"].executor.close()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def listener():
    """A TCP server on a free local port that never answers; counts the connections it gets."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    sock.setblocking(False)
    yield sock
    sock.close()


def connections(sock: socket.socket) -> int:
    time.sleep(0.1)
    count = 0
    while True:
        try:
            conn, _ = sock.accept()
        except BlockingIOError:
            return count
        conn.close()
        count += 1


@pytest.fixture
def secret(tmp_path) -> Path:
    """A local Turtle file; its access time is set in the past so any read would move it."""
    path = tmp_path / "secret.ttl"
    path.write_text(f'<http://example.org/s> <http://example.org/p> "{MARKER}" .\n')
    mtime = path.stat().st_mtime
    os.utime(path, (mtime - 1000, mtime))
    return path


def atime_moves_on_read(path: Path) -> bool:
    """Does this file system record reads (not mounted noatime)? Checked on a copy."""
    probe = path.with_name("probe.ttl")
    probe.write_text("x")
    mtime = probe.stat().st_mtime
    os.utime(probe, (mtime - 1000, mtime))
    before = probe.stat().st_atime
    probe.read_text()
    return probe.stat().st_atime != before


def count(response) -> int:
    return int(json.loads(response.data)["results"]["bindings"][0]["n"]["value"])


def error(response) -> dict:
    return json.loads(response.data)


# -- nothing reaches another host or a file -----------------------------------------------


def test_service_is_refused_and_never_connects(client, listener):
    port = listener.getsockname()[1]
    query = f"SELECT * {{ SERVICE <http://127.0.0.1:{port}/sparql> {{ ?s ?p ?o }} }}"
    for response in (
        client.get("/sparql", query_string={"query": query}, headers=JSON),
        client.post("/sparql", data={"query": query}, headers=JSON),
        client.post("/sparql", data=query, content_type="application/sparql-query", headers=JSON),
    ):
        assert response.status_code == 400
        assert "SERVICE is not allowed" in error(response)["error"]
    assert connections(listener) == 0


def test_load_is_refused_everywhere_and_never_connects(client, listener):
    port = listener.getsockname()[1]
    load = f"LOAD <http://127.0.0.1:{port}/x>"
    as_query = client.get("/sparql", query_string={"query": load}, headers=JSON)
    assert as_query.status_code == 400
    assert "LOAD is not allowed" in error(as_query)["error"]
    as_update = client.post("/sparql", data={"update": load}, headers=JSON)
    assert as_update.status_code == 403
    on_update_route = client.post(
        "/update", data=load, content_type="application/sparql-update", headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert on_update_route.status_code == 400
    assert "LOAD is not allowed" in error(on_update_route)["error"]
    assert connections(listener) == 0


def test_from_and_the_protocol_dataset_naming_a_host_are_refused_and_never_connect(client, listener):
    port = listener.getsockname()[1]
    graph = f"http://127.0.0.1:{port}/g"
    responses = [
        client.get("/sparql", query_string={"query": f"SELECT * FROM <{graph}> {{ ?s ?p ?o }}"}, headers=JSON),
        client.get("/sparql", query_string={"query": f"SELECT * FROM NAMED <{graph}> {{ ?s ?p ?o }}"}, headers=JSON),
        client.get("/sparql", query_string={"query": COUNT, "default-graph-uri": graph}, headers=JSON),
        client.post("/sparql", data={"query": COUNT, "named-graph-uri": graph}, headers=JSON),
    ]
    for response in responses:
        assert response.status_code == 400, response.data
        assert graph in error(response)["error"]
        assert "not a graph of this store" in error(response)["error"]
    assert connections(listener) == 0


def test_a_local_file_is_never_read(client, secret, settings):
    iri = secret.as_uri()
    build = current_build_id(settings)
    responses = {
        "LOAD as a query": client.get("/sparql", query_string={"query": f"LOAD <{iri}>"}, headers=JSON),
        "LOAD as an update": client.post("/sparql", data={"update": f"LOAD <{iri}>"}, headers=JSON),
        "LOAD on the update route": client.post(
            "/update",
            data=f"LOAD <{iri}> INTO GRAPH <{ProjectNamespaces(settings.base).graph('background')}>",
            content_type="application/sparql-update",
            headers={"Authorization": f"Bearer {TOKEN}"},
        ),
        "FROM": client.get("/sparql", query_string={"query": f"SELECT * FROM <{iri}> {{ ?s ?p ?o }}"}, headers=JSON),
        "default-graph-uri": client.get("/sparql", query_string={"query": COUNT, "default-graph-uri": iri}),
    }
    for name, response in responses.items():
        assert response.status_code in (400, 403), name
        assert MARKER.encode() not in response.data, name
    answer = client.get("/sparql", query_string={"query": f"ASK {{ ?s ?p '{MARKER}' }}"}, headers=JSON)
    assert json.loads(answer.data)["boolean"] is False
    assert current_build_id(settings) == build
    if atime_moves_on_read(secret):
        assert secret.stat().st_atime == secret.stat().st_mtime - 1000, "something read the file"


# -- time, nesting, size --------------------------------------------------------------------


def test_a_runaway_query_is_stopped_and_the_next_query_is_answered_at_once(client, app):
    executor = app.extensions["aiwf"].executor
    started = time.monotonic()
    response = client.get("/sparql", query_string={"query": RUNAWAY}, headers=JSON)
    assert time.monotonic() - started < 10  # the limit is 1 s
    assert response.status_code == 504
    assert error(response)["title"] == "Query timed out"
    assert "query timed out after 1 s" in error(response)["error"]
    killed = executor.killed[-1]

    started = time.monotonic()
    response = client.get("/sparql", query_string={"query": COUNT}, headers=JSON)
    assert response.status_code == 200
    assert count(response) == 514
    assert time.monotonic() - started < 3
    deadline = time.monotonic() + 10
    while Path(f"/proc/{killed}").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not Path(f"/proc/{killed}").exists(), "the runaway query's process is still there"


@pytest.mark.parametrize(
    "query",
    [
        "SELECT * " + "{" * 5000 + " ?s ?p ?o " + "}" * 5000,
        "SELECT * { ?s ?p ?o FILTER(" + "(" * 5000 + "?o" + ")" * 5000 + ") }",
        "SELECT * { ?s ?p " + "[ ?p " * 5000 + "?o" + " ]" * 5000 + " }",
    ],
    ids=["groups", "parentheses", "blank-nodes"],
)
def test_deep_nesting_gets_a_clear_400_and_the_server_keeps_answering(client, query):
    response = client.post("/sparql", data=query, content_type="application/sparql-query", headers=JSON)
    assert response.status_code == 400
    assert "nests 500" in error(response)["error"]
    assert "the limit is 64" in error(response)["error"]
    assert count(client.get("/sparql", query_string={"query": COUNT}, headers=JSON)) == 514


def test_long_flat_chains_do_not_take_a_worker_down(client):
    """Chains that overflow an 8 MB stack: the workers' 512 MB stack takes them."""
    query = "SELECT * { ?s ?p ?o FILTER(" + "!" * 100_000 + "true) } LIMIT 1"
    response = client.post("/sparql", data=query, content_type="application/sparql-query", headers=JSON)
    assert response.status_code == 200
    assert count(client.get("/sparql", query_string={"query": COUNT}, headers=JSON)) == 514


def test_a_two_megabyte_query_is_refused_at_once(client):
    query = "SELECT * { ?s ?p ?o } #" + "x" * (2 * 1024 * 1024)
    for send in (
        lambda: client.get("/sparql", query_string={"query": query}, headers=JSON),
        lambda: client.post("/sparql", data={"query": query}, headers=JSON),
        lambda: client.post("/sparql", data=query, content_type="application/sparql-query", headers=JSON),
    ):
        started = time.monotonic()
        response = send()
        assert response.status_code == 413
        assert time.monotonic() - started < 2
        assert "limit" in error(response)["error"]


def test_an_oversize_result_gets_a_clear_error(client):
    response = client.get("/sparql", query_string={"query": "SELECT * { ?s ?p ?o }"}, headers=JSON)
    assert response.status_code == 400
    assert error(response)["title"] == "Result too large"
    assert "20000 bytes" in error(response)["error"]
    limited = client.get("/sparql", query_string={"query": "SELECT * { ?s ?p ?o } LIMIT 5"}, headers=JSON)
    assert limited.status_code == 200


def test_the_default_executor_runs_queries_in_other_processes(app, client):
    executor = app.extensions["aiwf"].executor
    assert count(client.get("/sparql", query_string={"query": COUNT}, headers=JSON)) == 514
    assert executor.pids() and os.getpid() not in executor.pids()
