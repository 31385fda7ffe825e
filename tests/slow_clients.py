"""Hostile slow clients and a measured stream of normal requests, for the server tests and
``benchmarks/slow_clients.py``. Loopback only: every address here is 127.0.0.1.

:class:`Attack` holds ``stalled`` requests that send half a head and stop, and ``slow`` requests
that send a head and then trickle a body shorter than its ``Content-Length``; a socket the
server answers or closes is replaced at once, so the pressure lasts as long as the attack.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import re
import selectors
import socket
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from servers import stop, wait_healthy

SITE = Path(__file__).resolve().parents[1] / "deploy" / "nginx.conf"
#: Several `aiwf serve` replicas behind one nginx.
REPLICAS_SITE = SITE.with_name("nginx-replicas.conf")
_UPSTREAM = re.compile(r"(server 127\.0\.0\.1:)(\d+)")

HALF_HEAD = b"GET /sparql?query=ASK%7B%7D HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: */*\r\n"
SLOW_HEAD = (b"POST /sparql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/sparql-query\r\n"
             b"Content-Length: 10000\r\n\r\nASK {")


class Attack:
    """Hold ``stalled`` half-sent requests and ``slow`` slow bodies open against 127.0.0.1:``port``."""

    def __init__(self, port: int, *, stalled: int = 500, slow: int = 100, trickle_s: float = 1.0) -> None:
        self.port = port
        self.wanted = {"stalled": stalled, "slow": slow}
        self.trickle_s = trickle_s
        self.selector = selectors.DefaultSelector()
        self.opened = Counter()
        self.answers: Counter = Counter()  # first line of what the server sent before closing
        self.open_now = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Attack:
        for kind, count in self.wanted.items():
            for _ in range(count):
                self._open(kind)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)
        for key in list(self.selector.get_map().values()):
            key.fileobj.close()
        self.selector.close()

    def _open(self, kind: str) -> None:
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=5)
        sock.sendall(HALF_HEAD if kind == "stalled" else SLOW_HEAD)
        sock.setblocking(False)
        self.selector.register(sock, selectors.EVENT_READ, kind)
        self.opened[kind] += 1

    def _run(self) -> None:
        next_trickle = time.monotonic() + self.trickle_s
        while not self._stop.is_set():
            for key, _ in self.selector.select(0.1):
                self._closed(key)
            if time.monotonic() >= next_trickle:
                next_trickle += self.trickle_s
                for key in list(self.selector.get_map().values()):
                    if key.data == "slow":
                        try:
                            key.fileobj.send(b" ")
                        except OSError:
                            self._closed(key)
            self.open_now = len(self.selector.get_map())

    def _closed(self, key: selectors.SelectorKey) -> None:
        """The server answered or closed this socket: note what it said, open another."""
        sock = key.fileobj
        with contextlib.suppress(OSError):
            data = sock.recv(4096)
            if not data:
                data = b"(closed)"
            self.answers[data.split(b"\r\n", 1)[0].decode("latin-1")] += 1
        self.selector.unregister(sock)
        sock.close()
        if not self._stop.is_set():
            with contextlib.suppress(OSError):
                self._open(key.data)


@dataclass
class Measured:
    """Statuses and latencies (s) of the normal requests sent during an attack."""

    latencies: list[float] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)

    def quantile(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def normal_requests(port: int, seconds: float, *, clients: int = 4, path: str = "/health",
                    pause_s: float = 0.02) -> Measured:
    """``clients`` threads each sending ``GET path`` on a new connection, one after another, for
    ``seconds`` (``pause_s`` between requests)."""
    measured = Measured()
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def client() -> None:
        while time.monotonic() < deadline:
            started = time.monotonic()
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                connection.request("GET", path, headers={"Accept": "application/json"})
                response = connection.getresponse()
                response.read()
                connection.close()
                outcome = response.status
            except OSError as error:
                outcome = f"{type(error).__name__}: {error}"
            elapsed = time.monotonic() - started
            with lock:
                if isinstance(outcome, int):
                    measured.statuses[outcome] += 1
                    measured.latencies.append(elapsed)
                else:
                    measured.failures.append(outcome)
            time.sleep(pause_s)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return measured


NGINX_MAIN = """\
{user}
daemon off;
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log;
events {{ worker_connections 4096; }}
http {{
    access_log {tmp}/access.log;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    include {tmp}/site.conf;
}}
"""


#: A query that reads the store, as a normal request beside ``/health``.
ASK = "/sparql?query=ASK%7B%3Fs%20%3Fp%20%3Fo%7D"


def measure_under_attack(port: int, label: str, *, stalled: int = 500, slow: int = 100,
                         seconds: float = 4) -> tuple[Measured, Measured, int, Attack]:
    """Hold ``stalled`` half-sent requests and ``slow`` slow bodies open while ``/health`` and an
    ``ASK`` are measured; print their figures; (health, queries, sockets still held, the attack)."""
    with Attack(port, stalled=stalled, slow=slow) as attack:
        time.sleep(0.5)
        health = normal_requests(port, seconds, clients=4)
        queries = normal_requests(port, seconds, clients=2, path=ASK)
        held = attack.open_now
    print(f"\n{label}: /health p50 {health.quantile(0.5) * 1000:.1f} ms, "
          f"p99 {health.quantile(0.99) * 1000:.1f} ms of {len(health.latencies)}; "
          f"ASK p99 {queries.quantile(0.99) * 1000:.1f} ms of {len(queries.latencies)}")
    return health, queries, held, attack


def site_for(site: Path, port: int, upstream_ports: Sequence[int]) -> str:
    """The site file ``site`` listening on 127.0.0.1:``port``, its upstream servers (in order) on
    ``upstream_ports``: one for ``deploy/nginx.conf``, as many as it lists for the replicas'."""
    text = site.read_text()
    listed = _UPSTREAM.findall(text)
    assert "listen 80;" in text and len(listed) == len(upstream_ports), (site, listed, upstream_ports)
    ports = iter(upstream_ports)
    text = _UPSTREAM.sub(lambda match: f"{match.group(1)}{next(ports)}", text)
    return text.replace("listen 80;", f"listen 127.0.0.1:{port};")


@contextlib.contextmanager
def running_nginx(nginx: str, port: int, upstream_port: int | Sequence[int], tmp: Path, *,
                  site: Path = SITE) -> Iterator[None]:
    """nginx on 127.0.0.1:``port`` in front of 127.0.0.1:``upstream_port`` (or each of several
    ports), configured by ``site`` (``deploy/nginx.conf``), with its configuration, pid, logs and
    temporary files in ``tmp``."""
    ports = [upstream_port] if isinstance(upstream_port, int) else list(upstream_port)
    (tmp / "site.conf").write_text(site_for(site, port, ports))
    user = "user root;" if os.geteuid() == 0 else ""  # as root, its workers would drop to nobody
    (tmp / "nginx.conf").write_text(NGINX_MAIN.format(tmp=tmp, user=user))
    command = [nginx, "-p", str(tmp), "-c", str(tmp / "nginx.conf"), "-e", str(tmp / "error.log")]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_healthy(f"http://127.0.0.1:{port}/health", process, 15, lambda: (tmp / "error.log").read_text())
        yield
    finally:
        stop(process)
