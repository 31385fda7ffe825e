"""Reliability benchmark: does a public ``aiwf serve`` stay up under load, attack and failure?

Builds the graph from the repository's seeds into a temporary directory (``aiwf build --store
TMP/store --no-dumps``), starts ``aiwf serve`` over it on a free port of 127.0.0.1 and prints
one table, a row per scenario, with the requests measured, their rate and latency and the
failed requests (5xx, unexpected 4xx, connection errors):

* **load c=N**: a closed loop of N connections (1, 8, 32, 128) sending a mix of queries,
  pages, reconciliation suggestions and the N-Quads dump for ``--seconds``;
* **slow clients**: ``--slow`` connections that send half a request (headers without their end,
  or a body a byte a second) and hold it open, while 4 connections measure the mix;
* **runaway flood**: ``--flood`` concurrent cartesian-product queries from one client,
  resent as they are refused, while another client's simple query and ``/health`` are measured
  (the flood's own answers, 503/504 by design, are counted apart and are not failures);
* **kill -9 query process** / **kill -9 worker**: the mix at 8 connections while one query
  process (a child of a pool's fork server) or one server worker is killed with SIGKILL,
  found through the server's process tree in /proc;
* **rebuilds**: the mix at 8 connections while ``aiwf build`` rebuilds the same store path
  ``--rebuilds`` times.

Only the standard library (threads, http.client, raw sockets); run with any Python 3.11+ from
the repository root (``aiwf`` is taken from ``.venv/bin``)::

    python3 benchmarks/reliability.py                 # about two minutes
    python3 benchmarks/reliability.py --seconds 3 --only load,flood

Everything listens and connects on 127.0.0.1 only; every scenario is bounded in time and
connections; the server and every build are stopped at the end, on error and on Ctrl-C.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
PROJECT = HERE.parent
AIWF = PROJECT / ".venv" / "bin" / "aiwf"
HOST = "127.0.0.1"
JSON = "application/sparql-results+json"

SIMPLE = "SELECT ?s ?label { ?s rdfs:label ?label } LIMIT 10"
COUNT = "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }"
CONSTRUCT = "CONSTRUCT { ?s ?p ?o } { ?s a skos:Concept ; ?p ?o } LIMIT 50"
RUNAWAY = "SELECT (COUNT(*) AS ?n) { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
PREFIXES = ("PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> "
            "PREFIX skos: <http://www.w3.org/2004/02/skos/core#> ")
DUMP = "/data/nhs-ai-workforce.nq"


def sparql(query: str) -> str:
    return "/sparql?" + urllib.parse.urlencode({"query": PREFIXES + query})


#: The mix: (path, Accept), drawn uniformly; one in 12 is the 800 KB dump.
MIX = [
    (sparql(SIMPLE), JSON), (sparql(SIMPLE), "text/csv"), (sparql(COUNT), JSON), (sparql(CONSTRUCT), "text/turtle"),
    (sparql("ASK { ?s ?p ?o }"), JSON), ("/", "text/html"), ("/doc/", "text/html"), ("/doc/", "text/turtle"),
    ("/reconcile/suggest/entity?prefix=data", "application/json"), ("/health", "application/json"),
    ("/data/void", "text/turtle"), (DUMP, "application/n-quads"),
]


# -- the server ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def environment(store: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIWF_") and k not in ("HOST", "PORT")}
    env.update(AIWF_STORE=str(store), **extra)
    return env


def build(store: Path, log: Path, timeout: float = 300) -> bool:
    """``aiwf build`` into ``store`` (no dumps in data/); True if it succeeded."""
    with log.open("ab") as out:
        done = subprocess.run([str(AIWF), "build", "--store", str(store), "--no-dumps"], cwd=PROJECT,
                              env=environment(store), stdout=out, stderr=subprocess.STDOUT, timeout=timeout,
                              check=False)
    return done.returncode == 0


@contextlib.contextmanager
def server(store: Path, log: Path, **env: str) -> Iterator[tuple[int, subprocess.Popen]]:
    """``aiwf serve`` over ``store`` on a free port of 127.0.0.1, in its own process group; (port, process)."""
    port = free_port()
    with log.open("ab") as out:
        process = subprocess.Popen([str(AIWF), "serve"], cwd=PROJECT, stdout=out, stderr=subprocess.STDOUT,
                                   env=environment(store, HOST=HOST, PORT=str(port), **env), start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while get(port, "/health", timeout=2)[0] != 200:
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"aiwf serve did not start; see {log}")
            time.sleep(0.2)
        yield port, process
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)


def process_tree(root: int) -> dict[int, tuple[int, str]]:
    """Every descendant of ``root``: pid -> (parent pid, command line), from /proc."""
    table: dict[int, tuple[int, str]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            command = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except (OSError, IndexError, ValueError):
            continue
        table[int(stat.parent.name)] = (parent, command)
    found: dict[int, tuple[int, str]] = {}
    frontier = [root]
    while frontier:
        pid = frontier.pop()
        for child, (parent, command) in table.items():
            if parent == pid and child not in found:
                found[child] = (parent, command)
                frontier.append(child)
    return found


def query_processes(root: int) -> list[int]:
    """Query processes: the descendants labelled ``aiwf query`` on their command line."""
    tree = process_tree(root)
    return [pid for pid, (_, command) in tree.items() if command.strip().endswith("aiwf query")]


def workers(root: int) -> list[int]:
    """Server processes that answer requests: the parents of query processes."""
    tree = process_tree(root)
    return sorted({tree[pid][0] for pid in query_processes(root)})


# -- clients ------------------------------------------------------------------------------------


def get(port: int, path: str, accept: str = JSON, timeout: float = 30,
        connection: http.client.HTTPConnection | None = None) -> tuple[int, int]:
    """One ``GET``: (status, body bytes); status 0 for a connection error."""
    conn = connection or http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request("GET", path, headers={"Accept": accept})
        response = conn.getresponse()
        body = response.read()
        return response.status, len(body)
    except (OSError, http.client.HTTPException):
        conn.close()
        return 0, 0
    finally:
        if connection is None:
            conn.close()


@dataclass
class Tally:
    """What one scenario's measured clients saw."""

    latencies: list[float] = field(default_factory=list)
    server_errors: int = 0
    client_errors: int = 0
    connection_errors: int = 0
    seconds: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, status: int, elapsed: float) -> None:
        with self.lock:
            self.latencies.append(elapsed)
            if status == 0:
                self.connection_errors += 1
            elif status >= 500:
                self.server_errors += 1
            elif status >= 400:
                self.client_errors += 1

    @property
    def failed(self) -> int:
        return self.server_errors + self.client_errors + self.connection_errors


def closed_loop(port: int, requests: list[tuple[str, str]], concurrency: int, seconds: float,
                tally: Tally | None = None, timeout: float = 30) -> Tally:
    """``concurrency`` keep-alive connections sending random ``requests`` for ``seconds``.

    Each connection is its own client, from its own loopback address (``127.0.x.y``): concurrency
    N stands for N users, and the server's per-client share of query slots applies to each.
    """
    tally = tally or Tally()
    stop = time.monotonic() + seconds

    def client(seed: int) -> None:
        chooser = random.Random(seed)
        source = (f"127.0.{1 + seed // 250}.{1 + seed % 250}", 0)
        conn = http.client.HTTPConnection(HOST, port, timeout=timeout, source_address=source)
        while time.monotonic() < stop:
            path, accept = chooser.choice(requests)
            started = time.perf_counter()
            status, _ = get(port, path, accept, connection=conn)
            tally.add(status, time.perf_counter() - started)
            if status == 0:
                conn = http.client.HTTPConnection(HOST, port, timeout=timeout, source_address=source)
        conn.close()

    started = time.monotonic()
    threads = [threading.Thread(target=client, args=(seed,), daemon=True) for seed in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(seconds + timeout + 5)
    tally.seconds = time.monotonic() - started
    return tally


def while_loading(port: int, seconds: float, concurrency: int, action: Callable[[], str]) -> tuple[Tally, str]:
    """Run the mix for ``seconds`` while ``action`` runs in another thread; (the mix's tally, the action's note)."""
    notes: list[str] = []
    thread = threading.Thread(target=lambda: notes.append(action()), daemon=True)
    thread.start()
    tally = closed_loop(port, MIX, concurrency, seconds)
    thread.join(120)
    return tally, notes[0] if notes else "action did not finish"


# -- scenarios ----------------------------------------------------------------------------------


def slow_clients(port: int, count: int, seconds: float) -> tuple[Tally, str]:
    """``count`` half-sent requests held open (trickling) while 4 connections measure the mix."""
    sockets: list[socket.socket] = []
    stop = threading.Event()
    dropped = 0

    def attack() -> None:
        nonlocal dropped
        for number in range(count):
            with contextlib.suppress(OSError):
                sock = socket.create_connection((HOST, port), timeout=5)
                if number % 2:  # headers that never end
                    sock.sendall(b"GET /sparql?query=ASK%7B%7D HTTP/1.1\r\nHost: 127.0.0.1\r\n")
                else:  # a body promised but sent a byte at a time
                    sock.sendall(b"POST /sparql HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                 b"Content-Type: application/sparql-query\r\nContent-Length: 10000\r\n\r\nASK")
                sockets.append(sock)
        while not stop.wait(1.0):
            for sock in list(sockets):
                try:
                    sock.sendall(b"X-a: b\r\n" if sockets.index(sock) % 2 else b" ")
                except OSError:
                    sockets.remove(sock)
                    dropped += 1

    thread = threading.Thread(target=attack, daemon=True)
    thread.start()
    time.sleep(1.0)  # let the attack open its connections first
    tally = closed_loop(port, MIX, 4, seconds, timeout=10)
    stop.set()
    thread.join(10)
    held = len(sockets)
    for sock in sockets:
        sock.close()
    return tally, f"{count} slow connections: {held} still held at the end, {dropped} closed by the server"


def runaway_flood(port: int, count: int, seconds: float) -> tuple[Tally, str]:
    """``count`` concurrent cartesian products, resent, while another client measures a query and /health."""
    stop = time.monotonic() + seconds
    answers: dict[int, int] = {}
    lock = threading.Lock()

    def flood() -> None:
        while time.monotonic() < stop:
            status, _ = get(port, sparql(RUNAWAY), timeout=seconds + 30)
            with lock:
                answers[status] = answers.get(status, 0) + 1

    threads = [threading.Thread(target=flood, daemon=True) for _ in range(count)]
    for thread in threads:
        thread.start()
    time.sleep(0.5)
    tally = closed_loop(port, [(sparql(SIMPLE), JSON), ("/health", JSON)], 2, seconds, timeout=30)
    for thread in threads:
        thread.join(60)
    seen = ", ".join(f"{status or 'conn error'}: {n}" for status, n in sorted(answers.items()))
    return tally, f"{count} runaway queries at once; their answers {seen}"


def kill_one(port: int, server_pid: int, seconds: float, find: Callable[[int], list[int]],
             what: str) -> tuple[Tally, str]:
    """The mix at 8 connections; a third of the way in, one of ``find(server_pid)`` gets SIGKILL."""

    def action() -> str:
        time.sleep(seconds / 3)
        targets = find(server_pid)
        if not targets:
            return f"no {what} found in the process tree"
        victim = random.Random(0).choice(sorted(targets))
        os.kill(victim, signal.SIGKILL)
        time.sleep(seconds / 3)
        after = find(server_pid)
        return f"killed {what} {victim} of {len(targets)}; {len(after)} running after {seconds / 3:.0f} s"
    return while_loading(port, seconds, 8, action)


def rebuilds(port: int, store: Path, log: Path, times: int, seconds: float) -> tuple[Tally, str]:
    def action() -> str:
        started, ok, tried = time.monotonic(), 0, 0
        while tried < times and time.monotonic() - started < seconds:
            tried += 1
            ok += build(store, log)
        health = get(port, "/health")[0]
        return f"{ok} of {tried} rebuilds succeeded in {time.monotonic() - started:.1f} s; /health then {health}"
    return while_loading(port, seconds, 8, action)


# -- the table ----------------------------------------------------------------------------------


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * pct / 100))] if ordered else float("nan")


def row(name: str, tally: Tally, note: str = "") -> str:
    count = len(tally.latencies)
    rate = count / tally.seconds if tally.seconds else 0.0
    errors = f"{tally.failed} ({tally.server_errors}/{tally.client_errors}/{tally.connection_errors})"
    return (f"{name:<22} {count:>7} {rate:>8.1f} {percentile(tally.latencies, 50) * 1000:>8.1f} "
            f"{percentile(tally.latencies, 99) * 1000:>9.1f}  {errors:<16} {note}")


HEADER = (f"{'scenario':<22} {'requests':>7} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>9}  {'failed (5xx/4xx/conn)':<16}"
          " notes")
SCENARIOS = ["load", "slow", "flood", "kill-query", "kill-worker", "rebuild"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=6, help="load time of each scenario (default 6)")
    parser.add_argument("--concurrency", default="1,8,32,128", help="connections of the load rows")
    parser.add_argument("--slow", type=int, default=200, help="half-sent requests held open (default 200)")
    parser.add_argument("--flood", type=int, default=50, help="concurrent runaway queries (default 50)")
    parser.add_argument("--rebuilds", type=int, default=3, help="rebuilds under load (default 3)")
    parser.add_argument("--query-timeout", default="3", help="AIWF_QUERY_TIMEOUT of the server (default 3 s)")
    parser.add_argument("--only", default=",".join(SCENARIOS), help=f"scenarios to run, of {','.join(SCENARIOS)}")
    parser.add_argument("--workdir", type=Path, help="keep the store and logs here (default: a temporary directory)")
    opts = parser.parse_args(argv)
    chosen = set(opts.only.split(","))
    if not AIWF.exists():
        raise SystemExit(f"{AIWF} is missing; run make setup")
    with contextlib.ExitStack() as stack:
        workdir = opts.workdir or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="aiwf-reliability-")))
        workdir.mkdir(parents=True, exist_ok=True)
        store, log = workdir / "store", workdir / "server.log"
        print(f"building the graph into {store} ...", file=sys.stderr, flush=True)
        if not build(store, workdir / "build.log"):
            raise SystemExit(f"aiwf build failed; see {workdir / 'build.log'}")
        port, process = stack.enter_context(server(store, log, AIWF_QUERY_TIMEOUT=opts.query_timeout))
        status, size = get(port, DUMP, "application/n-quads")
        print(f"server on {HOST}:{port}, pid {process.pid}; dump {status} ({size} bytes)", file=sys.stderr)
        rows = [HEADER]

        def record(name: str, tally: Tally, note: str = "") -> None:
            rows.append(row(name, tally, note))
            print(rows[-1], file=sys.stderr, flush=True)

        if "load" in chosen:
            for concurrency in map(int, opts.concurrency.split(",")):
                record(f"load c={concurrency}", closed_loop(port, MIX, concurrency, opts.seconds))
        if "slow" in chosen:
            record("slow clients", *slow_clients(port, opts.slow, opts.seconds))
        if "flood" in chosen:
            record("runaway flood", *runaway_flood(port, opts.flood, opts.seconds))
        if "kill-query" in chosen:
            record("kill -9 query process", *kill_one(port, process.pid, opts.seconds, query_processes,
                                                       "query process"))
        if "kill-worker" in chosen:
            record("kill -9 worker", *kill_one(port, process.pid, opts.seconds, workers, "worker"))
        if "rebuild" in chosen:
            record("rebuilds", *rebuilds(port, store, workdir / "build.log", opts.rebuilds, opts.seconds))
        alive = get(port, "/health")[0]
        print("\n".join(rows))
        print(f"\nafter all scenarios: /health {alive}; {os.cpu_count()} cores; query timeout {opts.query_timeout} s; "
              f"{opts.seconds:g} s per scenario; failed = 5xx + unexpected 4xx + connection errors of the measured "
              "client")
    return 0


if __name__ == "__main__":
    sys.exit(main())
