"""Stopping `aiwf serve` with ``SIGTERM`` under load: the requests in hand are answered in full.

Client threads keep kept-alive connections busy with a mix of an ``ASK``, a page and a query
that takes most of a second; then the server gets ``SIGTERM``. Every request whose bytes were
sent before the signal gets a complete ``200``; a request sent on a kept-alive connection after
it gets a complete answer or a clean close before any byte of an answer (a client may retry
that one); a new connection is refused once the server has stopped listening; the server exits
0 within its grace period and leaves no process behind. Requests on a connection still waiting in
the listen queue are answered too. A response still being written when the grace period ends is
cut off, and the server exits anyway.
"""

from __future__ import annotations

import contextlib
import http.client
import random
import signal
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest

from conftest import numbered_store
from nhs_ai_workforce.core.settings import Settings
from nhs_ai_workforce.web.wsgi import grace_s
from servers import started_server

pytestmark = [pytest.mark.slow, pytest.mark.server]

JSON = "application/sparql-results+json"
ASK = "ASK { ?s ?p ?o }"
#: Some 0.5 s on the 500 numbered notes (a three-way cross join); ``{n}`` keeps each one new,
#: so no answer is reused.
SLOW = ("SELECT (COUNT(*) AS ?n) {{ ?a aiwf:number ?x . FILTER(?x < 3) ?b aiwf:number ?y . ?c aiwf:number ?z "
        "FILTER(?x + ?y + ?z != -{n}) }}")
PAGE = "/doc/initiative/topol-review"
ASK_REQUEST = f"GET /sparql?query={quote(ASK)} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: {JSON}\r\n\r\n".encode()
#: Some 10 MB of JSON.
BIG = "SELECT ?x ?y { ?a aiwf:number ?x . ?b aiwf:number ?y } LIMIT 60000"
QUERY_TIMEOUT_S = 10


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    return numbered_store(Settings(root=tmp_path_factory.mktemp("shutdown"))).store_path


def family(pid: int) -> list[int]:
    """``pid``'s descendants, from /proc."""
    parents = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            parents[int(stat.parent.name)] = int(stat.read_text().rsplit(")", 1)[1].split()[1])
    found, frontier = [], [pid]
    while frontier:
        children = [child for child, parent in parents.items() if parent in frontier]
        found += children
        frontier = children
    return found


def started(pid: int, processes: int) -> list[int]:
    """``pid``'s descendants once there are ``processes`` of them (the query processes start in the background)."""
    deadline = time.monotonic() + 30
    while len(found := family(pid)) < processes and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(found) >= processes, found
    return found


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False


@dataclass
class Outcome:
    what: str
    fresh: bool  # sent on a connection opened for it (else on a kept-alive one)
    sent: float | None  # when its last byte was sent (monotonic), None if it could not be sent
    done: float
    result: str  # "ok", "closed" (a clean close before any byte of an answer), "refused" or what went wrong


class Load:
    """Client threads, each on its own kept-alive connection, sending requests until stopped:
    ``busy`` ones send the next request as soon as they have an answer, ``pausing`` ones wait up
    to 0.4 s between requests (so their connections are often idle) and send no slow query."""

    def __init__(self, port: int, *, busy: int, pausing: int) -> None:
        self.port = port
        self.outcomes: list[Outcome] = []
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self.run, args=(n, n >= busy)) for n in range(busy + pausing)]
        self.numbers = iter(range(1, 1_000_000))
        self.lock = threading.Lock()

    def __enter__(self) -> Load:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(60)

    def request(self, n: int, pausing: bool) -> tuple[str, str, dict[str, str], str]:
        """(what, path, headers, what the body must hold) of the n-th request of a client."""
        kind = n % (2 if pausing else 3)
        if kind == 0:
            return "ask", f"/sparql?query={quote(ASK)}", {"Accept": JSON}, '"boolean":true'
        if kind == 1:
            return "page", PAGE, {"Accept": "text/html"}, "</html>"
        with self.lock:
            number = next(self.numbers)
        return ("slow", f"/sparql?query={quote(SLOW.format(n=number))}", {"Accept": JSON},
                '"value":"750000"')

    def run(self, client: int, pausing: bool) -> None:
        connection: http.client.HTTPConnection | None = None
        n = client
        pauses = random.Random(client)
        while not self.stop.is_set():
            what, path, headers, expected = self.request(n, pausing)
            n += 1
            if pausing:
                time.sleep(pauses.uniform(0, 0.4))
            fresh = connection is None
            if connection is None:
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                try:
                    connection.connect()
                except ConnectionRefusedError:
                    self.outcomes.append(Outcome("connect", True, None, time.monotonic(), "refused"))
                    return
            sent = None
            try:
                connection.request("GET", path, headers=headers)
                sent = time.monotonic()
                response = connection.getresponse()
                body = response.read().decode()
                ok = response.status == 200 and expected in body
                result = "ok" if ok else f"{response.status}: {body[:200]}"
                if response.will_close:
                    connection.close()
                    connection = None
            except http.client.RemoteDisconnected:  # EOF before the status line
                result = "closed"
                connection.close()
                connection = None
            except (OSError, http.client.HTTPException) as error:
                result = f"{type(error).__name__}: {error}"
                connection.close()
                connection = None
            self.outcomes.append(Outcome(what, fresh, sent, time.monotonic(), result))
        if connection is not None:
            connection.close()


def refused(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
    except ConnectionRefusedError:
        return True
    return False


@pytest.mark.parametrize("workers", [1, 2])
def test_sigterm_answers_every_request_in_hand_then_exits(store, workers):
    env = {"AIWF_WORKERS": str(workers), "AIWF_QUERY_TIMEOUT": str(QUERY_TIMEOUT_S),
           "AIWF_QUERY_SLOTS_PER_CLIENT": "2", "AIWF_QUERY_QUEUE": "20"}  # room for every client: no 429
    grace = grace_s(Settings(query_timeout_s=QUERY_TIMEOUT_S))
    with started_server(store, env=env) as served:
        processes = started(served.process.pid, workers * 3)  # each server process and its two query processes
        with Load(served.port, busy=6, pausing=4) as load, socket.create_connection(("127.0.0.1", served.port)) as half:
            time.sleep(3)
            half.sendall(ASK_REQUEST[:30])
            time.sleep(0.1)
            signalled = time.monotonic()
            served.process.send_signal(signal.SIGTERM)
            time.sleep(0.5)
            half.sendall(ASK_REQUEST[30:])  # the rest of a request begun before the signal
            half.settimeout(30)
            try:
                completed = b"".join(iter(lambda: half.recv(65536), b""))
            except OSError as error:
                completed = repr(error).encode()
            code = served.process.wait(grace + 10)
            stopped = time.monotonic()
        output = served.output()
    before = [o for o in load.outcomes if o.sent is not None and o.sent < signalled]
    after = [o for o in load.outcomes if o not in before]

    def tally(outcomes: list[Outcome]) -> str:
        return ", ".join(f"{n} {result}" for result, n in Counter(
            f"{o.result[:50]} ({'new' if o.fresh else 'kept-alive'} connection)" for o in outcomes).most_common())

    head, _, body = completed.partition(b"\r\n\r\n")
    status_line = head.partition(b"\r\n")[0].decode(errors="replace")
    summary = (f"sent before SIGTERM: {tally(before)}; after: {tally(after)}; "
               f"a request half sent before: {status_line!r}; "
               f"exit {code} after {stopped - signalled:.1f} s")
    print(f"\n{summary}")
    for o in load.outcomes:
        if o.done > signalled:
            sent = "-" if o.sent is None else f"{o.sent - signalled:+.3f}"
            print(f"  {o.what:7} sent {sent} done {o.done - signalled:+.3f} {o.result[:70]}")
    in_hand = [o for o in before if o.done > signalled]
    problems = [f"sent before SIGTERM: {o}" for o in before if o.result != "ok"]
    problems += [f"sent after SIGTERM: {o}" for o in after if o.result not in ("ok", "closed", "refused")]
    if not (head.startswith(b"HTTP/1.1 200 ") and b"\r\nConnection: close" in head
            and body == b'{"head":{},"boolean":true}'):
        problems.append(f"the request half sent before SIGTERM got {completed[:300]!r}")
    if code != 0 or stopped - signalled >= grace:
        problems.append(f"exit {code} after {stopped - signalled:.1f} s (grace {grace:g} s)")
    if not refused(served.port):
        problems.append("the port still accepts connections")
    if left := [pid for pid in processes if alive(pid)]:
        problems.append(f"processes outlived the server: {left}")
    assert problems == [], f"{summary}\n{output[-3000:]}"
    assert any(o.what == "slow" for o in in_hand), summary  # a slow query was in hand when the signal came


def test_a_response_still_being_written_when_the_grace_period_ends_is_cut_off(store):
    """A client that asks for 10 MB and reads none of it holds its response past the grace
    period: the server exits anyway, and closes the connection."""
    grace = grace_s(Settings(query_timeout_s=1))
    with started_server(store, env={"AIWF_QUERY_TIMEOUT": "1"}) as served:
        processes = started(served.process.pid, 3)
        with socket.socket() as stalled:
            stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            stalled.connect(("127.0.0.1", served.port))
            stalled.sendall(f"GET /sparql?query={quote(BIG)} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: {JSON}\r\n\r\n"
                            .encode())
            time.sleep(2)  # the query has run; its answer waits for the client
            signalled = time.monotonic()
            served.process.send_signal(signal.SIGTERM)
            code = served.process.wait(20)
            stopped = time.monotonic()
            received, stalled_error = 0, None
            stalled.settimeout(10)
            try:
                while chunk := stalled.recv(1 << 20):
                    received += len(chunk)
            except OSError as error:
                stalled_error = error
        output = served.output()
    assert code == 0, output[-3000:]
    assert grace - 1 < stopped - signalled < grace + 3, output[-3000:]
    assert received < 10_000_000, (received, stalled_error)  # cut off, not finished
    assert refused(served.port)
    assert [pid for pid in processes if alive(pid)] == []


def read_until_closed(sock: socket.socket, timeout: float = 30) -> bytes:
    sock.settimeout(timeout)
    return b"".join(iter(lambda: sock.recv(65536), b""))


def responses(data: bytes) -> list[tuple[bytes, bytes]]:
    """(head, body) of each response in ``data`` (bodies with a ``Content-Length``)."""
    found = []
    while data:
        head, _, rest = data.partition(b"\r\n\r\n")
        fields = dict(line.split(b": ", 1) for line in head.split(b"\r\n")[1:])
        length = int(fields[b"Content-Length"])
        found.append((head, rest[:length]))
        data = rest[length:]
    return found


def test_requests_still_waiting_to_be_accepted_are_answered(store):
    """With its connection cap reached, the process leaves a new connection in the listen queue;
    its two requests (pipelined), sent before ``SIGTERM``, are answered all the same, the last
    with ``Connection: close``, and the idle connections are closed cleanly."""
    with started_server(store, env={"AIWF_MAX_CONNECTIONS": "2"}) as served:
        address = ("127.0.0.1", served.port)
        with contextlib.ExitStack() as stack:
            held = [stack.enter_context(socket.create_connection(address)) for _ in range(2)]
            for sock in held:  # answered and kept alive: the cap is reached
                sock.sendall(ASK_REQUEST)
                sock.settimeout(10)
                data = b""
                while not data.endswith(b'"boolean":true}'):
                    data += sock.recv(65536)
                assert data.startswith(b"HTTP/1.1 200 ")
            waiting = stack.enter_context(socket.create_connection(address))
            waiting.sendall(ASK_REQUEST * 2)
            waiting.settimeout(1)
            with pytest.raises(TimeoutError):
                waiting.recv(1)  # not accepted yet
            served.process.send_signal(signal.SIGTERM)
            answer = read_until_closed(waiting)
            closed = [read_until_closed(sock) for sock in held]
            code = served.process.wait(30)
    (first, first_body), (last, last_body) = responses(answer)
    assert first.startswith(b"HTTP/1.1 200 ") and b"\r\nConnection: close" not in first, answer[:600]
    assert last.startswith(b"HTTP/1.1 200 ") and b"\r\nConnection: close" in last, answer[:600]
    assert first_body == last_body == b'{"head":{},"boolean":true}'
    assert closed == [b"", b""]
    assert code == 0
