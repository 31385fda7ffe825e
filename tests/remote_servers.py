"""Remote stores for the tests of remote calls, ``aiwf publish`` and serving from a remote store, all on
127.0.0.1: a real ``oxigraph serve`` process (loaded by ``aiwf publish`` if asked), small servers that
play a remote store (well or badly), and a listener that records who connects and never answers."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from servers import free_port, running_process


@dataclass
class Seen:
    """One request a fake remote received."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def params(self) -> dict[str, list[str]]:
        return parse_qs(urlsplit(self.path).query)


@dataclass
class Answer:
    status: int = 204
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[[Seen, int], Answer]  # (the request, how many came before it) -> the answer


@dataclass
class FakeRemote:
    origin: str
    seen: list[Seen]

    def url(self, path: str) -> str:
        return f"{self.origin}{path}"


@contextlib.contextmanager
def fake_remote(handler: Handler, *, read_body: bool = True) -> Iterator[FakeRemote]:
    """An HTTP server on a free port of 127.0.0.1 answering each request with ``handler``; every request
    (with its body, unless ``read_body`` is false) is kept in ``seen``."""
    seen: list[Seen] = []
    lock = threading.Lock()

    class Handle(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _any(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if read_body and length else b""
            request = Seen(self.command, self.path, dict(self.headers.items()), body)
            with lock:
                before = len(seen)
                seen.append(request)
            answer = handler(request, before)
            try:
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer.body)))
                if not read_body:
                    self.send_header("Connection", "close")
                    self.close_connection = True
                self.end_headers()
                self.wfile.write(answer.body)
            except (BrokenPipeError, ConnectionResetError):  # the client gave up waiting (a time limit)
                self.close_connection = True

        do_GET = do_PUT = do_POST = do_DELETE = _any

        def log_message(self, *args) -> None:  # quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handle)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield FakeRemote(f"http://127.0.0.1:{server.server_address[1]}", seen)
    finally:
        server.shutdown()
        server.server_close()


def count_answer(count: int) -> Answer:
    """A SPARQL JSON answer with one row, ``?n`` = ``count``."""
    body = {"head": {"vars": ["n"]}, "results": {"bindings": [
        {"n": {"type": "literal", "value": str(count), "datatype": "http://www.w3.org/2001/XMLSchema#integer"}}]}}
    return Answer(200, json.dumps(body).encode(), {"Content-Type": "application/sparql-results+json"})


def graph_store(counts: Callable[[str], int] | None = None, put: Answer | None = None) -> Handler:
    """A fake Graph Store at ``/store`` with a query endpoint at ``/query``: PUTs answer ``put`` (204 by
    default); a count query answers ``counts(graph IRI)``, by default the triples of the last PUT."""
    stored: dict[str, int] = {}

    def handle(request: Seen, before: int) -> Answer:
        if request.method == "PUT":
            graph = request.params["graph"][0]
            stored[graph] = sum(1 for line in request.body.splitlines() if line.strip())
            return put or Answer(204)
        query = request.params.get("query", [""])[0]
        graph = query.split("GRAPH <", 1)[1].split(">", 1)[0] if "GRAPH <" in query else ""
        return count_answer(counts(graph) if counts else stored.get(graph, 0))

    return handle


@dataclass
class Listener:
    """A TCP listener that accepts connections, never answers, and counts them."""

    port: int
    accepted: list[tuple[str, int]]

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@contextlib.contextmanager
def silent_listener() -> Iterator[Listener]:
    """Listen on a free port of 127.0.0.1, accept every connection, say nothing; record each peer."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    server.settimeout(0.1)
    listener = Listener(server.getsockname()[1], [])
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                connection, peer = server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            held.append(connection)
            listener.accepted.append(peer)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield listener
    finally:
        stop.set()
        thread.join(timeout=5)
        for connection in held:
            connection.close()
        server.close()


def oxigraph_command() -> str:
    """The ``oxigraph`` CLI (PyPI package ``oxigraph``, in the test extra); skipped off CI when missing."""
    beside = Path(sys.executable).with_name("oxigraph")
    found = str(beside) if beside.exists() else shutil.which("oxigraph")
    if found is None:
        reason = "the `oxigraph` CLI is not installed (pip install -e '.[test]' installs it)"
        if os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no"):
            pytest.fail(f"{reason}; CI must run the publish tests")
        pytest.skip(reason)
    return found


@contextlib.contextmanager
def running_oxigraph(location: Path, *, timeout_s: float = 60) -> Iterator[str]:
    """``oxigraph serve`` over an on-disk store at ``location`` on a free port of 127.0.0.1; its origin
    (Graph Store at ``/store``, queries at ``/query``)."""
    port = free_port()
    command = [oxigraph_command(), "serve", "--location", str(location), "--bind", f"127.0.0.1:{port}"]
    with running_process(command, f"http://127.0.0.1:{port}", "/query?query=ASK%7B%7D", timeout_s=timeout_s) as origin:
        yield origin


def publish(store: Path, origin: str, *, base: str | None = None, graphs: tuple[str, ...] = ()) -> str:
    """Run ``aiwf publish`` (as a process, as an operator would) from the build at ``store`` to the
    ``oxigraph serve`` at ``origin``; its output. Fails the test if the command does."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIWF_")}
    if base:
        env["AIWF_BASE"] = base
    command = [sys.executable, "-m", "nhs_ai_workforce.cli", "publish", "--store", str(store),
               "--to", f"{origin}/store", *(part for graph in graphs for part in ("--graph", graph))]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=False)
    if done.returncode != 0:
        pytest.fail(f"aiwf publish exited {done.returncode}: {done.stdout}\n{done.stderr}")
    return done.stdout


@contextlib.contextmanager
def published_oxigraph(location: Path, store: Path, *, base: str | None = None) -> Iterator[str]:
    """``oxigraph serve`` over ``location``, loaded with the build at ``store`` by ``aiwf publish``; its origin
    (queries at ``/query``: what ``AIWF_SPARQL_URL`` names)."""
    with running_oxigraph(location) as origin:
        publish(store, origin, base=base)
        yield origin
