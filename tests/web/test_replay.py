"""Responses replayed to repeated requests in the I/O thread (web/replay.py, web/front.py).

The front end runs here on a real socket with waitress's own loop and a tiny WSGI app that counts
its calls and numbers its responses, so a test can tell a replay (the app not called, an earlier
body) from an answer the app made; the last test runs ``aiwf serve`` and swaps a new build in.
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import threading
import time
from pathlib import Path
from urllib.parse import quote
from urllib.request import urlopen

import pytest
from waitress import wasyncore
from waitress.task import ThreadedTaskDispatcher

from conftest import numbered_store
from nhs_ai_workforce.core.settings import Settings
from nhs_ai_workforce.web import front
from nhs_ai_workforce.web.accesslog import AccessLog
from nhs_ai_workforce.web.replay import MAX_RESPONSE_BYTES, Recording, Replay, mark
from servers import started_server


class App:
    """Answers every request with its call number; marks the response replayable for ``build``."""

    def __init__(self) -> None:
        self.calls = 0
        self.build: str | None = "b1"
        self.padding = 0

    def __call__(self, environ, start_response):
        self.calls += 1
        mark(environ, self.build if environ.get("PATH_INFO") != "/unmarked" else None)
        body = f"answer {self.calls} to {environ.get('HTTP_ACCEPT', '-')}".encode() + b"." * self.padding
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
        return [body]


class Front:
    """The front end of one server process, serving ``app`` on a loopback port in a thread."""

    def __init__(self, app: App, replay: Replay | None) -> None:
        settings = Settings()
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.map: dict = {}
        self.dispatcher = ThreadedTaskDispatcher()
        self.dispatcher.set_thread_count(2)
        adj = front.adjustments(settings, [self.sock], 2)
        self.server = front.Server(
            AccessLog(app), self.sock, map=self.map, dispatcher=self.dispatcher, adj=adj,
            limits={"body": 1 << 20, "head": 1 << 20}, header_timeout_s=5, body_timeout_s=5)
        self.server.replay = replay
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self) -> None:
        while not self.done.is_set():
            wasyncore.loop(timeout=0.05, map=self.map, use_poll=True, count=1)

    def close(self) -> None:
        self.done.set()
        self.thread.join(5)
        self.dispatcher.shutdown(timeout=1)
        for channel in list(self.map.values()):
            with contextlib.suppress(Exception):
                channel.close()


@pytest.fixture
def app() -> App:
    return App()


@pytest.fixture
def replay(app) -> Replay:
    return Replay(lambda build: build == app.build, max_bytes=1 << 20)


@pytest.fixture
def served(app, replay):
    running = Front(app, replay)
    yield running
    running.close()


def request(path: str = "/sparql?query=x", accept: str = "text/plain", extra: str = "") -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: example\r\nAccept: {accept}\r\n{extra}\r\n".encode()


def read_response(stream) -> bytes:
    """One whole response (head and Content-Length body) from a socket's file ``stream``."""
    head = b""
    while not head.endswith(b"\r\n\r\n"):
        line = stream.readline()
        assert line, f"connection closed after {head!r}"
        head += line
    length = int(re.search(rb"Content-Length: (\d+)", head).group(1))
    return head + stream.read(length)


def body_of(response: bytes) -> bytes:
    return response.partition(b"\r\n\r\n")[2]


def without_date(response: bytes) -> bytes:
    return re.sub(rb"\r\nDate: [^\r]*", b"", response)


def exchange(port: int, *requests: bytes, pause: float = 0) -> list[bytes]:
    """Send each request on one keep-alive connection, reading each response before the next."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        answers, stream = [], sock.makefile("rb")
        for data in requests:
            sock.sendall(data)
            answers.append(read_response(stream))
            time.sleep(pause)
        return answers


def test_a_repeated_request_is_replayed_without_calling_the_app(served, app, replay, capfd):
    first, second, third = exchange(served.port, request(), request(), request())
    assert app.calls == 1
    assert body_of(first) == body_of(second) == body_of(third) == b"answer 1 to text/plain"
    assert without_date(first) == without_date(second) == without_date(third)
    assert re.search(rb"\r\nDate: \w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT\r\n", third)
    assert replay.replayed == 2
    logged = [entry for entry in capfd.readouterr().out.splitlines() if "GET /sparql?query=x" in entry]
    assert len(logged) == 3, "each replay writes its own access-log line"


def test_a_repeated_post_with_its_body_is_replayed(served, app):
    def post(query: bytes) -> bytes:
        return (b"POST /sparql HTTP/1.1\r\nHost: example\r\nContent-Type: application/sparql-query\r\n"
                b"Content-Length: %d\r\n\r\n%s" % (len(query), query))

    answers = exchange(served.port, post(b"ASK {}"), post(b"ASK {}"), post(b"ASK { }"), post(b"ASK {}"))
    assert [body_of(answer) for answer in answers] == [b"answer 1 to -", b"answer 1 to -", b"answer 2 to -",
                                                       b"answer 1 to -"]


def held_bytes(outbuf) -> int:
    """The bytes an output buffer holds in memory, sent or not (a waitress ``OverflowableBuffer``)."""
    held = len(outbuf.strbuf)
    if outbuf.buf is not None and hasattr(outbuf.buf.file, "getbuffer"):
        held += outbuf.buf.file.getbuffer().nbytes
    return held


def test_replays_on_one_connection_do_not_pile_up_in_its_output_buffers(served, app):
    big = request("/sparql?query=big")
    app.padding = 64 * 1024
    with socket.create_connection(("127.0.0.1", served.port), timeout=5) as sock:
        stream = sock.makefile("rb")
        for _ in range(100):
            sock.sendall(big)
            assert len(body_of(read_response(stream))) > app.padding
        (channel,) = served.server.active_channels.values()
        with channel.outbuf_lock:
            assert sum(held_bytes(outbuf) for outbuf in channel.outbufs) < 4 * app.padding
    assert app.calls == 1


def test_a_response_over_the_recording_limit_is_never_replayed(served, app):
    app.padding = MAX_RESPONSE_BYTES
    answers = exchange(served.port, request(), request())
    assert [body_of(answer)[:22] for answer in answers] == [b"answer 1 to text/plain", b"answer 2 to text/plain"]


def test_any_difference_in_the_request_bytes_reaches_the_app(served, app):
    answers = exchange(served.port, request(), request(accept="text/csv"), request(extra="X-A: 1\r\n"), request())
    assert [body_of(answer) for answer in answers] == [
        b"answer 1 to text/plain", b"answer 2 to text/csv", b"answer 3 to text/plain", b"answer 1 to text/plain"]
    assert app.calls == 3


def test_a_new_build_is_never_answered_from_the_old_builds_recording(served, app, replay):
    exchange(served.port, request(), request())
    app.build = "b2"
    answers = exchange(served.port, request(), request())
    assert [body_of(answer) for answer in answers] == [b"answer 2 to text/plain", b"answer 2 to text/plain"]
    app.build = None  # no store: nothing is replayed, nothing is recorded
    answers = exchange(served.port, request(), request())
    assert [body_of(answer) for answer in answers] == [b"answer 3 to text/plain", b"answer 4 to text/plain"]


def test_unmarked_responses_and_closing_connections_are_never_replayed(served, app):
    exchange(served.port, request("/unmarked"), request("/unmarked"))
    assert app.calls == 2
    closing = request(extra="Connection: close\r\n")
    for _ in range(2):
        exchange(served.port, closing)
    assert app.calls == 4


def test_a_request_split_over_two_reads_or_pipelined_goes_to_the_app(served, app):
    exchange(served.port, request())
    whole = request()
    with socket.create_connection(("127.0.0.1", served.port), timeout=5) as sock:
        stream = sock.makefile("rb")
        sock.sendall(whole[:10])
        time.sleep(0.2)
        sock.sendall(whole[10:])
        assert body_of(read_response(stream)) == b"answer 2 to text/plain"
        sock.sendall(whole + request(accept="text/csv"))
        answers = [read_response(stream), read_response(stream)]
    assert [body_of(answer) for answer in answers] == [b"answer 3 to text/plain", b"answer 4 to text/csv"]


def test_nothing_is_replayed_while_the_server_stops(served, app):
    exchange(served.port, request())
    served.server.stopping = True
    (answer,) = exchange(served.port, request())
    assert app.calls == 2
    assert b"Connection: close" in answer


def test_without_a_replay_every_request_reaches_the_app(app):
    running = Front(app, None)
    try:
        exchange(running.port, request(), request(), request())
    finally:
        running.close()
    assert app.calls == 3


def recording(build: str = "b1", peer: str = "192.0.2.1", size: int = 10) -> Recording:
    head = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nDate: Mon, 01 Jan 2024 00:00:00 GMT\r\n\r\n" % size
    return Recording.of(head, b"x" * size, build=build, status="200", request_line="GET / HTTP/1.1", referer="",
                        agent="", peer=peer, remote=peer)


def test_recordings_are_bounded_in_bytes_least_recently_used_first():
    replay = Replay(lambda build: build == "b1", max_bytes=1000)
    for n in range(5):
        replay.record(b"request %d" % n, recording(size=200))
    assert replay.find(b"request 0", "192.0.2.1") is None
    assert replay.find(b"request 4", "192.0.2.1") is not None
    replay.find(b"request 2", "192.0.2.1")
    replay.record(b"request 5", recording(size=200))
    assert replay.find(b"request 2", "192.0.2.1") is not None
    assert replay.find(b"request 3", "192.0.2.1") is None
    replay.record(b"too big", recording(size=2000))
    assert replay.find(b"too big", "192.0.2.1") is None


def test_behind_a_trusted_proxy_a_recording_is_replayed_only_to_its_peer():
    replay = Replay(lambda build: build == "b1", max_bytes=1 << 20, trusted_proxy=True)
    replay.record(b"request", recording(peer="192.0.2.1"))
    assert replay.find(b"request", "192.0.2.9") is None
    assert replay.find(b"request", "192.0.2.1") is not None
    other_process = Replay(lambda build: build == "b1", max_bytes=1 << 20)
    assert other_process.find(b"request", "192.0.2.9") is None


def test_the_date_is_fresh_and_the_rest_is_as_sent():
    made = recording()
    sent = made.response(b"Tue, 02 Jan 2024 00:00:00 GMT")
    assert sent == (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\nDate: Tue, 02 Jan 2024 00:00:00 GMT\r\n\r\n"
                    + b"x" * 10)
    assert Recording.of(b"HTTP/1.1 200 OK\r\n\r\n", b"", build="b", status="200", request_line="", referer="",
                        agent="", peer="", remote="") is None


def test_aiwf_serve_replays_kept_answers_and_never_across_a_build_swap(tmp_path: Path):
    settings = numbered_store(Settings(root=tmp_path / "root", store_dir=tmp_path / "store"), count=3)
    query = "SELECT (COUNT(*) AS ?n) WHERE { ?s <https://nhs-ai-workforce.example.org/def/aiwf/number> ?o }"
    get = (f"GET /sparql?query={quote(query)} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
           "Accept: text/csv\r\n\r\n").encode()
    with started_server(settings.store_dir) as server:
        answers = exchange(server.port, *[get] * 5)
        assert {body_of(answer) for answer in answers} == {b"n\r\n3\r\n"}
        statuses = [re.search(rb"Cache-Status: ([^\r]*)", answer).group(1) for answer in answers]
        assert statuses == [b"aiwf; fwd=miss", b"aiwf; fwd=miss; stored", b"aiwf; hit", b"aiwf; hit", b"aiwf; hit"]
        assert len({without_date(answer) for answer in answers[2:]}) == 1
        numbered_store(settings, count=4)
        after = exchange(server.port, get, get)
        assert [body_of(answer) for answer in after] == [b"n\r\n4\r\n", b"n\r\n4\r\n"]
        deadline = time.monotonic() + 10  # a request is logged just after its response is sent
        while len(logged := [line for line in server.output().splitlines() if "GET /sparql?query=SELECT" in line]) < 7:
            assert time.monotonic() < deadline, logged
            time.sleep(0.05)
        assert len(logged) == 7
        with urlopen(f"{server.origin}/health") as response:
            assert json.load(response)["replay"] == {"recorded": 1, "replayed": 2}
        page = b"GET /doc/initiative/topol-review HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/turtle\r\n\r\n"
        first, second = exchange(server.port, page, page)
        assert without_date(first) == without_date(second) and b"topol-review" in body_of(first)
        with urlopen(f"{server.origin}/health") as response:
            assert json.load(response)["replay"] == {"recorded": 2, "replayed": 3}
