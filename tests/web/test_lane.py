"""Queries answered from the front end's I/O thread (web/lane.py), against ``aiwf serve``.

A request the lane may take and the same request with one header the lane leaves to the app
(``X-Via``) must get the same response; ``/health`` counts what the lane answered and what it
handed to the app after taking it.
"""

from __future__ import annotations

import gzip
import itertools
import json
import re
import signal
import socket
import threading
import time
from pathlib import Path
from urllib.request import urlopen

import pytest
from test_replay import body_of, exchange, read_response, without_date

from conftest import numbered_store
from nhs_ai_workforce.core.settings import Settings
from servers import started_server

NUMBER = "<https://nhs-ai-workforce.example.org/def/aiwf/number>"
_marks = itertools.count()


def post(query: str, accept: str, *, extra: str = "", version: str = "HTTP/1.1") -> bytes:
    """A direct POST of ``query`` with a fresh unused prefix, so no answer is kept for it yet."""
    body = f"PREFIX lane{next(_marks)}: <urn:x:lane>\n{query}".encode()
    return (f"POST /sparql {version}\r\nHost: 127.0.0.1\r\nContent-Type: application/sparql-query\r\n"
            f"Accept: {accept}\r\n{extra}Content-Length: {len(body)}\r\n\r\n").encode() + body


def lane_counts(server) -> dict:
    with urlopen(f"{server.origin}/health") as response:
        return json.load(response)["lane"]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("lane")
    settings = numbered_store(Settings(root=tmp / "root", store_dir=tmp / "store"), count=200)
    with started_server(settings.store_dir) as running:
        yield running


@pytest.mark.parametrize(("query", "accept"), [
    (f"SELECT ?s ?o WHERE {{ ?s {NUMBER} ?o }} ORDER BY ?o LIMIT 3", "application/sparql-results+json"),
    (f"SELECT ?o WHERE {{ ?s {NUMBER} ?o }} ORDER BY ?o LIMIT 3", "text/csv"),
    (f"ASK {{ ?s {NUMBER} 7 }}", "application/sparql-results+xml"),
    (f"CONSTRUCT {{ ?s {NUMBER} ?o }} WHERE {{ ?s {NUMBER} ?o FILTER (?o < 3) }}", "text/turtle"),
    (f"DESCRIBE ?s WHERE {{ ?s {NUMBER} 5 }}", "application/n-triples"),
])
def test_the_lane_answers_as_the_app_does(server, query, accept):
    before = lane_counts(server)
    by_app, by_lane = exchange(server.port, post(query, accept, extra="X-Via: app\r\n"), post(query, accept))
    assert by_app.startswith(b"HTTP/1.1 200 OK\r\n")
    assert without_date(by_lane) == without_date(by_app)
    after = lane_counts(server)
    assert (after["answered"] - before["answered"], after["handed"] - before["handed"]) == (1, 0)


@pytest.mark.parametrize(("request_bytes", "status"), [
    (post(f"SELECT ?o WHERE {{ ?s {NUMBER} ?o }}", "image/png"), b"406"),
    (post(f"SELECT (NOW() AS ?t) WHERE {{ ?s {NUMBER} 1 }}", "text/csv"), b"200"),  # volatile: never kept
    (post(f"ASK {{ ?s {NUMBER} 1 }}", "text/csv", extra='If-None-Match: "x"\r\n'), b"200"),
    (post(f"ASK {{ ?s {NUMBER} 1 }}", "text/csv", version="HTTP/1.0"), b"200"),
    (post("SELECT * WHERE { SERVICE <http://example.org/s> { ?s ?p ?o } }", "text/csv"), b"400"),  # the guard's
])
def test_what_the_lane_leaves_to_the_app_reaches_it_untouched(server, request_bytes, status):
    before = lane_counts(server)
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(request_bytes)
        response = read_response(sock.makefile("rb"))
    assert response.split(b" ")[1] == status
    assert lane_counts(server) == before


def test_an_error_found_in_the_query_process_is_answered_by_the_app_as_its_own(server):
    malformed = "SELECT * WHERE { ?s ?p }"
    before = lane_counts(server)
    by_app, by_lane = exchange(server.port, post(malformed, "text/csv", extra="X-Via: app\r\n"),
                               post(malformed, "text/csv"))
    assert by_lane.startswith(b"HTTP/1.1 400 ")
    error, expected = json.loads(body_of(by_lane)), json.loads(body_of(by_app))
    assert (error["title"], error["line"], error["column"]) == (expected["title"], expected["line"], expected["column"])
    after = lane_counts(server)
    assert (after["answered"] - before["answered"], after["handed"] - before["handed"]) == (0, 1)


def test_an_answer_the_app_kept_is_found_for_the_same_request_to_the_lane(server):
    query = f"ASK {{ ?s {NUMBER} 42 }}"
    body = f"PREFIX kept: <urn:x:kept>\n{query}".encode()
    head = ("POST /sparql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/sparql-query\r\n"
            f"Accept: text/csv\r\n{{extra}}Content-Length: {len(body)}\r\n\r\n")
    to_app, to_lane = (head.format(extra=extra).encode() + body for extra in ("X-Via: app\r\n", ""))
    before = lane_counts(server)
    answers = exchange(server.port, to_app, to_app, to_lane)  # the app keeps it on its second use
    statuses = [re.search(rb"Cache-Status: ([^\r]*)", answer).group(1) for answer in answers]
    assert statuses == [b"aiwf; fwd=miss", b"aiwf; fwd=miss; stored", b"aiwf; hit"]  # same key in both
    assert lane_counts(server) == before  # a kept answer is the app's to send


def test_two_requests_in_one_read_go_to_the_app_in_order(server):
    first, second = post(f"ASK {{ ?s {NUMBER} 1 }}", "text/csv"), post(f"ASK {{ ?s {NUMBER} 1000 }}", "text/csv")
    before = lane_counts(server)
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(first + second)
        stream = sock.makefile("rb")
        answers = [read_response(stream), read_response(stream)]
    assert [body_of(answer) for answer in answers] == [b"true", b"false"]
    assert lane_counts(server) == before


def test_a_client_that_takes_gzip_gets_the_apps_gzipped_answer_of_the_lanes_run(server):
    query = f"SELECT ?s ?o WHERE {{ ?s {NUMBER} ?o }} ORDER BY ?o"
    before = lane_counts(server)
    (response,) = exchange(server.port, post(query, "text/csv", extra="Accept-Encoding: gzip\r\n"))
    assert b"\r\nContent-Encoding: gzip\r\n" in response
    assert b"\r\nCache-Status: aiwf; fwd=miss" in response  # run once, by the lane: not found kept
    assert len(gzip.decompress(body_of(response)).splitlines()) == 201
    after = lane_counts(server)
    assert (after["answered"] - before["answered"], after["handed"] - before["handed"]) == (0, 1)


def test_many_connections_of_one_client_all_get_answers(server):
    query = f"SELECT (COUNT(*) AS ?n) WHERE {{ ?a {NUMBER} ?x . ?b {NUMBER} ?y FILTER (?x < ?y) }}"
    answers: list[bytes] = []

    def client() -> None:
        answers.extend(exchange(server.port, *(post(query, "text/csv") for _ in range(5))))

    threads = [threading.Thread(target=client) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(answers) == 30
    assert {body_of(answer) for answer in answers} == {b"n\r\n19900\r\n"}


def test_a_runaway_query_in_the_lane_times_out_as_in_the_app_and_the_next_is_answered(tmp_path: Path):
    settings = numbered_store(Settings(root=tmp_path / "root", store_dir=tmp_path / "store"), count=3000)
    runaway = f"SELECT (COUNT(*) AS ?n) WHERE {{ ?a {NUMBER} ?x . ?b {NUMBER} ?y . ?c {NUMBER} ?z }}"
    with started_server(settings.store_dir, env={"AIWF_QUERY_TIMEOUT": "1"}) as running:
        with socket.create_connection(("127.0.0.1", running.port), timeout=20) as sock:
            stream = sock.makefile("rb")
            sock.sendall(post(runaway, "text/csv"))
            timed_out = read_response(stream)
            sock.sendall(post(f"ASK {{ ?s {NUMBER} 1 }}", "text/csv"))
            answered = read_response(stream)
        assert timed_out.startswith(b"HTTP/1.1 504 ")
        assert "timed out after 1 s" in json.loads(body_of(timed_out))["error"]
        assert answered.startswith(b"HTTP/1.1 200 OK\r\n")
        assert lane_counts(running) == {"answered": 1, "handed": 1}
        assert re.search(r'"POST /sparql HTTP/1.1" 504 ', running.output())


def test_a_query_in_the_lane_when_the_server_stops_is_answered_and_its_connection_closed(tmp_path: Path):
    settings = numbered_store(Settings(root=tmp_path / "root", store_dir=tmp_path / "store"), count=1500)
    slow = f"SELECT (COUNT(*) AS ?n) WHERE {{ ?a {NUMBER} ?x . ?b {NUMBER} ?y }}"
    with started_server(settings.store_dir) as running:
        with socket.create_connection(("127.0.0.1", running.port), timeout=30) as sock:
            sock.sendall(post(slow, "text/csv"))
            time.sleep(0.1)  # the query is running in a query process
            running.process.send_signal(signal.SIGTERM)
            answer = read_response(sock.makefile("rb"))
            assert sock.recv(1) == b""  # then the connection is closed
        assert running.process.wait(30) == 0
    assert answer.startswith(b"HTTP/1.1 200 OK\r\n") and b"\r\nConnection: close\r\n" in answer
    assert body_of(answer) == b"n\r\n2250000\r\n"


def test_without_a_store_a_query_gets_the_apps_503(tmp_path: Path):
    settings = numbered_store(Settings(root=tmp_path / "root", store_dir=tmp_path / "store"), count=3)
    with started_server(settings.store_dir) as running:
        settings.store_dir.unlink()  # the live build's link: gone, as before the first build
        (response,) = exchange(running.port, post(f"ASK {{ ?s {NUMBER} 1 }}", "text/csv"))
    assert response.startswith(b"HTTP/1.1 503 ") and b"\r\nRetry-After: " in response
    assert json.loads(body_of(response))["title"] == "Store unavailable"


def test_a_slot_lent_to_one_client_is_given_back_to_another_and_its_query_answered_later(tmp_path: Path):
    settings = numbered_store(Settings(root=tmp_path / "root", store_dir=tmp_path / "store"), count=3000)
    slow = f"SELECT (COUNT(*) AS ?n) WHERE {{ ?a {NUMBER} ?x . ?b {NUMBER} ?y }}"  # 9,000,000 rows: seconds
    with started_server(settings.store_dir) as running:
        exchange(running.port, post(f"ASK {{ ?s {NUMBER} 1 }}", "text/csv"))  # its queries end quickly
        hog: list[tuple[bytes, float]] = []

        def one_slow() -> None:
            started = time.monotonic()
            (answer,) = exchange(running.port, post(slow, "text/csv"))
            hog.append((answer, time.monotonic() - started))

        threads = [threading.Thread(target=one_slow) for _ in range(2)]  # its share, and the lent slot
        for thread in threads:
            thread.start()
        time.sleep(0.3)
        started = time.monotonic()
        with socket.create_connection(("127.0.0.1", running.port), timeout=30, source_address=("127.0.0.2", 0)) as sock:
            sock.sendall(post(f"ASK {{ ?s {NUMBER} 1 }}", "text/csv"))
            other = read_response(sock.makefile("rb"))
        other_s = time.monotonic() - started
        for thread in threads:
            thread.join(60)
        with urlopen(f"{running.origin}/health") as response:
            slots = json.load(response)["queries"]
    assert slots["loans"] >= 1 and slots["asked_back"] == 1  # lent again if it was handed to the app
    assert other.startswith(b"HTTP/1.1 200 OK\r\n")
    assert [body_of(answer) for answer, _ in hog] == [b"n\r\n9000000\r\n"] * 2  # the stopped one ran again
    assert other_s < min(seconds for _, seconds in hog) / 2, (other_s, hog)


def test_a_base_that_is_no_iri_gets_a_400_not_a_closed_connection_nor_a_500(server):
    query = "BASE <http://[x/> SELECT * FROM <a> { ?s ?p ?o }"
    by_app, by_lane = exchange(server.port, post(query, "text/csv", extra="X-Via: app\r\n"), post(query, "text/csv"))
    assert by_app.startswith(b"HTTP/1.1 400 ") and by_lane.startswith(b"HTTP/1.1 400 ")


def test_a_waiting_query_whose_client_went_away_leaves_the_queue_at_once(tmp_path: Path):
    settings = numbered_store(Settings(root=tmp_path / "root", store_dir=tmp_path / "store"), count=3000)
    slow = f"SELECT (COUNT(*) AS ?n) WHERE {{ ?a {NUMBER} ?x . ?b {NUMBER} ?y }}"  # 9,000,000 rows: seconds

    def slots() -> dict:
        with urlopen(f"{running.origin}/health") as response:
            return json.load(response)["queries"]

    with started_server(settings.store_dir) as running:
        answers: list[bytes] = []
        threads = [threading.Thread(target=lambda: answers.extend(exchange(running.port, post(slow, "text/csv"))))
                   for _ in range(2)]  # its share of one slot, and the other lent or waited for
        for thread in threads:
            thread.start()
        time.sleep(0.3)
        with socket.create_connection(("127.0.0.1", running.port), timeout=30) as sock:
            sock.sendall(post(slow, "text/csv"))
            time.sleep(0.2)
            waiting = slots()
        deadline = time.monotonic() + 1.0
        while (after := slots())["waiting"] == waiting["waiting"] and time.monotonic() < deadline:
            time.sleep(0.05)
        for thread in threads:
            thread.join(60)
        log = running.output()
    assert waiting["running"] + waiting["waiting"] == 3 and waiting["waiting"] >= 1
    assert (after["running"], after["waiting"]) == (waiting["running"], waiting["waiting"] - 1)  # before a slot freed
    assert len(re.findall(r'"POST /sparql HTTP/1.1" 499 0 ', log)) == 1
    assert [body_of(answer) for answer in answers] == [b"n\r\n9000000\r\n"] * 2
