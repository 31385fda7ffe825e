"""The production server, as `aiwf serve` starts it: waitress in two supervised processes, a real socket.

The store is built in a temporary directory that holds no seeds, ontology or shapes, so the
server can only answer from the existing on-disk store: startup parses nothing.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from rdflib import Literal

from conftest import make_dataset, make_live, sample_triples
from nhs_ai_workforce.core.namespaces import ProjectNamespaces
from nhs_ai_workforce.core.settings import Settings

pytestmark = [pytest.mark.slow, pytest.mark.server]

RUNAWAY = "SELECT (COUNT(*) AS ?n) { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
COUNT = "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }"
JSON = "application/sparql-results+json"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def children(pid: int) -> list[int]:
    """Direct children of ``pid``, from /proc."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def descendants(pid: int) -> list[int]:
    found = []
    for child in children(pid):
        found += [child, *descendants(child)]
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


class Server:
    def __init__(self, root: Path, port: int) -> None:
        self.port = port
        self.base = f"http://127.0.0.1:{port}"
        self.out = root / "server.out"
        self.err = root / "server.err"
        env = {key: value for key, value in os.environ.items() if not key.startswith("AIWF_")}
        env.pop("HOST", None)
        env.update(HOST="127.0.0.1", PORT=str(port), AIWF_ROOT=str(root), AIWF_QUERY_TIMEOUT="1", AIWF_WORKERS="2")
        aiwf = Path(sys.executable).with_name("aiwf")
        with self.out.open("wb") as out, self.err.open("wb") as err:
            self.process = subprocess.Popen([str(aiwf), "serve"], cwd=root, env=env, stdout=out, stderr=err)
        self.started = time.monotonic()

    def get(self, path: str, *, timeout: float = 30, **params: str) -> tuple[int, bytes, float]:
        url = self.base + path + ("?" + urllib.parse.urlencode(params) if params else "")
        return self._open(urllib.request.Request(url, headers={"Accept": JSON}), timeout)

    def post(self, path: str, body: bytes, content_type: str, *, timeout: float = 30) -> tuple[int, bytes, float]:
        request = urllib.request.Request(
            self.base + path, data=body, headers={"Accept": JSON, "Content-Type": content_type}, method="POST"
        )
        return self._open(request, timeout)

    def post_raw(self, body: bytes, content_type: str) -> tuple[int, float]:
        """POST without waiting to send the whole body first, as curl does: a server may answer
        (413) before the body has arrived, and then close the connection."""
        started = time.monotonic()
        with socket.create_connection(("127.0.0.1", self.port), timeout=30) as sock:
            head = (
                f"POST /sparql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {content_type}\r\n"
                f"Content-Length: {len(body)}\r\nAccept: {JSON}\r\nConnection: close\r\n\r\n"
            )
            sock.sendall(head.encode())

            def send_body():
                with contextlib.suppress(OSError):  # the server answered and closed early
                    sock.sendall(body)

            sender = threading.Thread(target=send_body)
            sender.start()
            status_line = sock.makefile("rb").readline()
            elapsed = time.monotonic() - started
            sender.join(30)
        return int(status_line.split()[1]), elapsed

    @staticmethod
    def _open(request, timeout: float) -> tuple[int, bytes, float]:
        started = time.monotonic()
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.status, response.read(), time.monotonic() - started
        except urllib.error.HTTPError as error:
            return error.code, error.read(), time.monotonic() - started

    def wait_healthy(self, timeout: float = 60) -> float:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.err.read_text()
            try:
                status, _, _ = self.get("/health", timeout=2)
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                status = 0
            if status == 200:
                return time.monotonic() - self.started
            time.sleep(0.1)
        raise AssertionError(f"the server did not start: {self.err.read_text()}")

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    """A directory holding only a built store: no seeds/, ontology/, shapes/ or data/."""
    root = tmp_path_factory.mktemp("server")
    settings = Settings(root=root)
    ns = ProjectNamespaces(settings.base)
    notes = [("background", ns.thing("note", str(i)), ns.AIWF.number, Literal(i)) for i in range(500)]
    rows = sample_triples(ns) + notes
    make_live(settings, make_dataset(ns, rows))
    assert not any((root / name).exists() for name in ("seeds", "ontology", "shapes", "data"))
    return root


@pytest.fixture(scope="module")
def server(root):
    server = Server(root, free_port())
    try:
        server.wait_healthy()
        yield server
    finally:
        if server.process.poll() is None:
            server.stop()


def count(body: bytes) -> int:
    return int(json.loads(body)["results"]["bindings"][0]["n"]["value"])


def test_it_answers_from_the_existing_store_without_any_source_files(server):
    status, body, _ = server.get("/sparql", query=COUNT)
    assert status == 200
    assert count(body) == 514
    status, body, _ = server.get("/health")
    assert status == 200
    assert json.loads(body)["status"] == "ok"


def test_host_and_port_come_from_the_environment(server):
    assert f"127.0.0.1:{server.port}" in server.err.read_text() + server.out.read_text()
    with socket.create_connection(("127.0.0.1", server.port), timeout=5):
        pass


def test_two_worker_processes_share_the_store(server):
    workers = children(server.process.pid)
    assert len(workers) == 2, workers


def test_concurrent_requests(server):
    """16 queries at once from one address: each is answered, or refused with 429 for going past
    the address's share of the query slots (never an error); the share itself is answered."""
    results: list[int] = []
    lock = threading.Lock()

    def ask():
        status, body, _ = server.get("/sparql", query=COUNT)
        with lock:
            results.append(count(body) if status == 200 else status)

    threads = [threading.Thread(target=ask) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert set(results) <= {514, 429}, results
    assert results.count(514) >= 6  # at least one running and five waiting per server process


def test_a_runaway_query_is_stopped_and_the_server_answers_at_once(server):
    status, body, elapsed = server.get("/sparql", query=RUNAWAY)
    assert status == 504
    assert "query timed out after 1 s" in json.loads(body)["error"]
    assert elapsed < 10
    for _ in range(4):  # whichever worker process gets it
        status, body, elapsed = server.get("/sparql", query=COUNT)
        assert status == 200
        assert count(body) == 514
        assert elapsed < 3


def test_deep_nesting_and_oversize_requests_are_refused(server):
    nested = "SELECT * " + "{" * 5000 + " ?s ?p ?o " + "}" * 5000
    status, body, _ = server.post("/sparql", nested.encode(), "application/sparql-query")
    assert status == 400
    assert "the limit is 64" in json.loads(body)["error"]
    huge = "SELECT * { ?s ?p ?o } #" + "x" * (2 * 1024 * 1024)
    for content_type, body in (
        ("application/sparql-query", huge.encode()),
        ("application/x-www-form-urlencoded", urllib.parse.urlencode({"query": huge}).encode()),
    ):
        status, elapsed = server.post_raw(body, content_type)
        assert status == 413
        assert elapsed < 5
    status, body, elapsed = server.get("/sparql", query=huge)
    assert status == 431
    assert json.loads(body)["error"] == "the request line and headers are over 278528 bytes; send long queries by POST"
    assert elapsed < 5
    status, body, _ = server.get("/sparql", query="ASK {} #" + "x" * 265_000)  # over the limit, under the head limit
    assert status == 413
    assert "the limit is 262144" in json.loads(body)["error"]
    status, body, _ = server.get("/sparql", query=COUNT)
    assert (status, count(body)) == (200, 514)


def test_requests_are_logged_and_the_server_stops_cleanly(root):
    server = Server(root, free_port())
    try:
        server.wait_healthy()
        assert server.get("/sparql", query=COUNT)[0] == 200
        family = descendants(server.process.pid)
        assert len(family) >= 2 + 2 * 2  # 2 workers, each with 2 query processes
    finally:
        code = server.stop()
    assert code == 0, server.err.read_text()
    log = server.out.read_text()
    assert '"GET /health HTTP/1.1" 200' in log
    assert '"GET /sparql?query=' in log
    deadline = time.monotonic() + 10
    while any(alive(pid) for pid in family) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [pid for pid in family if alive(pid)], "processes outlived the server"


def test_a_killed_server_process_is_replaced(root):
    server = Server(root, free_port())
    try:
        server.wait_healthy()
        victim, survivor = children(server.process.pid)
        os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            workers = children(server.process.pid)
            if len(workers) == 2 and victim not in workers:
                break
            time.sleep(0.1)
        assert survivor in workers and victim not in workers and len(workers) == 2, workers
        for _ in range(8):  # both processes answer, the new one included
            status, body, _ = server.get("/sparql", query=COUNT)
            assert (status, count(body)) == (200, 514)
        assert f"server process {victim} was killed by SIGKILL; starting another" in server.err.read_text()
    finally:
        assert server.stop() == 0


def test_server_processes_stop_when_the_supervisor_is_killed(root):
    """A supervisor killed with SIGKILL (an OOM kill, `kill -9`) leaves no server process holding
    the port: each gets SIGTERM from the kernel and stops, its query processes with it."""
    server = Server(root, free_port())
    try:
        server.wait_healthy()
        family = descendants(server.process.pid)
        assert len(family) >= 2 + 2 * 2
        server.process.kill()
        server.process.wait()
        deadline = time.monotonic() + 30
        while any(alive(pid) for pid in family) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not [pid for pid in family if alive(pid)], "server processes outlived their supervisor"
        with pytest.raises(OSError), socket.create_connection(("127.0.0.1", server.port), timeout=2):
            pass
    finally:
        if server.process.poll() is None:
            server.process.kill()
