"""HTTP benchmark: this project's SPARQL endpoint against `oxigraph serve` and rdflib-endpoint.

For each dataset (the project's graph, ``data/nhs-ai-workforce.nq``, and a synthetic graph of
about a million triples made by ``synthetic.py`` in a temporary directory), three servers are
started on 127.0.0.1 over the same N-Quads file and sent the same queries over HTTP, each query
to each server in turn, so only one server is under load at a time:

* ``aiwf``: this project, started exactly as the README says (``aiwf serve`` with ``HOST``,
  ``PORT`` and ``AIWF_STORE``), over a store loaded with the project's own ``load_store``;
* ``oxigraph``: ``oxigraph serve --union-default-graph`` over a store made by ``oxigraph load``
  and ``oxigraph optimize``;
* ``rdflib-ep``: ``rdflib-endpoint serve FILE`` (an in-memory rdflib ``Dataset`` whose default
  graph is the union, as ours is).

For each query and server: one request checks the answer (its number of results is compared
across servers), a one-second warm-up follows, then a closed loop of ``--concurrency``
keep-alive connections sends the query for ``--seconds``. Fast servers are driven by ``wrk``
(Debian package ``wrk``), whose cost on the shared cores is small. A server whose first
answer took longer than 0.25 s is driven by a Python client, until ``--requests`` answers or
``--slow-seconds``, that never abandons a request at the deadline (so a slow, single-threaded
server is not left working through requests nobody waits for). Every run is bounded in time.

Run from the repository root with any Python 3.11+ (the standard library is enough)::

    python3 benchmarks/run.py                      # both datasets, saves benchmarks/results/latest.txt
    python3 benchmarks/run.py --datasets real --seconds 3

See benchmarks/README.md for setup and what the numbers mean.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
PROJECT = HERE.parent
PROJECT_BIN = PROJECT / ".venv" / "bin"
BENCH_BIN = HERE / ".venv" / "bin"
HOST = "127.0.0.1"

SLOW_FIRST_ANSWER_S = 0.25  # above this, the Python client drives the server instead of wrk
SOLUTIONS = "application/sparql-results+json"
TRIPLES = "application/n-triples"


# -- output -----------------------------------------------------------------------------------


class Report:
    """Prints to stdout and keeps the text for the results file."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def __call__(self, text: str = "") -> None:
        print(text, flush=True)
        self.lines.append(text)

    def note(self, text: str) -> None:
        """Progress on stderr only (not part of the results)."""
        print(f"  .. {text}", file=sys.stderr, flush=True)


say = Report()


# -- queries ----------------------------------------------------------------------------------

_COMMENT_OR_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|<[^<>\s]*>|#[^\n]*')
_FORM = re.compile(r"\b(SELECT|ASK|CONSTRUCT|DESCRIBE)\b", re.IGNORECASE)


@dataclass
class Query:
    name: str
    text: str

    @property
    def form(self) -> str:
        bare = _COMMENT_OR_STRING.sub(" ", self.text)
        match = _FORM.search(bare)
        return match.group(1).upper() if match else "SELECT"

    @property
    def accept(self) -> str:
        return TRIPLES if self.form in ("CONSTRUCT", "DESCRIBE") else SOLUTIONS


def load_queries(folder: Path) -> list[Query]:
    return [Query(path.stem, path.read_text(encoding="utf-8")) for path in sorted(folder.glob("*.rq"))]


def count_results(body: bytes, query: Query) -> str:
    """The size of an answer, comparable across servers: rows, triples, or true/false."""
    if query.accept == TRIPLES:
        return str(len({line for line in body.decode().splitlines() if line.strip()}))
    data = json.loads(body)
    if "boolean" in data:
        return str(bool(data["boolean"])).lower()
    return str(len(data["results"]["bindings"]))


# -- servers ----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    name: str
    command: list[str]
    path: str
    log: Path
    env: dict[str, str] = field(default_factory=dict)
    cwd: Path = PROJECT
    port: int = 0
    process: subprocess.Popen | None = None
    started: float = 0.0
    first_answer_s: float | None = None

    def start(self) -> None:
        env = {**os.environ, **self.env}
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as log:
            self.started = time.perf_counter()
            # A session of its own, so the whole process group (workers too) can be ended.
            self.process = subprocess.Popen(
                self.command,
                cwd=self.cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def wait_ready(self, timeout: float, *, record: bool = True) -> float:
        """Seconds from start (or now) to the first answer of a real query."""
        begin = self.started if record else time.perf_counter()
        deadline = time.perf_counter() + timeout
        probe = Query("probe", "ASK { ?s ?p ?o }")
        while time.perf_counter() < deadline:
            if self.process and self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}; see {self.log}")
            try:
                status, _, _ = request(self, probe, timeout=5)
            except OSError:
                time.sleep(0.02)
                continue
            if status == 200:
                seconds = time.perf_counter() - begin
                if record:
                    self.first_answer_s = seconds
                return seconds
            time.sleep(0.05)
        raise RuntimeError(f"{self.name} gave no answer within {timeout:.0f} s; see {self.log}")

    def group_rss_mb(self) -> float | None:
        """Resident memory of every process in the server's session (master and workers)."""
        if not self.process:
            return None
        total = 0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
                if int(fields[3]) != self.process.pid:  # session id
                    continue
                for line in (stat.parent / "status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
            except (OSError, IndexError, ValueError):
                continue
        return total / 1024

    def cpu_seconds(self) -> float:
        """CPU time used so far by the server's processes, with their reaped children."""
        ticks = 0
        for pid in self.pids():
            with contextlib.suppress(OSError, IndexError, ValueError):
                fields = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
                ticks += sum(int(value) for value in fields[11:15])  # utime stime cutime cstime
        return ticks / os.sysconf("SC_CLK_TCK")

    def describe(self) -> str:
        """How the server runs: its processes' program names (a master and its workers)."""
        names = []
        for pid in self.pids():
            with contextlib.suppress(OSError):
                argv = (Path("/proc") / str(pid) / "cmdline").read_bytes().split(b"\0")
                words = [Path(a.decode(errors="replace")).name for a in argv[:3] if a]
                names.append(" ".join(words)[:40])
        counts: dict[str, int] = {}
        for name in names:
            counts[name] = counts.get(name, 0) + 1
        return "; ".join(f"{n} x {name}" if n > 1 else name for name, n in counts.items())

    def pids(self) -> list[int]:
        found = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            with contextlib.suppress(OSError, IndexError, ValueError):
                fields = stat.read_text().rsplit(")", 1)[1].split()
                if self.process and int(fields[3]) == self.process.pid:
                    found.append(int(stat.parent.name))
        return sorted(found)

    def stop(self) -> None:
        if not self.process or (self.process.poll() is not None and not self.pids()):
            return
        for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, sig)
            try:
                self.process.wait(timeout=wait)
            except subprocess.TimeoutExpired:
                continue
            # Workers of a master that has exited may linger a moment.
            end = time.time() + wait
            while self.pids() and time.time() < end:
                time.sleep(0.05)
            if not self.pids():
                return


RUNNING: list[Server] = []


def stop_all() -> None:
    for server in list(RUNNING):
        server.stop()
        RUNNING.remove(server)


# -- HTTP clients -----------------------------------------------------------------------------


def request(server: Server, query: Query, timeout: float) -> tuple[int, float, bytes]:
    """One POST (application/sparql-query); returns status, seconds, body."""
    connection = http.client.HTTPConnection(HOST, server.port, timeout=timeout)
    try:
        begin = time.perf_counter()
        connection.request(
            "POST",
            server.path,
            body=query.text.encode(),
            headers={"Content-Type": "application/sparql-query", "Accept": query.accept},
        )
        response = connection.getresponse()
        body = response.read()
        return response.status, time.perf_counter() - begin, body
    finally:
        connection.close()


@dataclass
class Measure:
    client: str
    requests: int = 0  # successful (2xx) answers
    errors: int = 0
    seconds: float = 0.0
    median_ms: float | None = None
    p99_ms: float | None = None
    cpu_ms: float | None = None  # the server's CPU time per answer (all its processes)
    note: str = ""

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds > 0 else 0.0


def percentile(sorted_values: list[float], pct: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    rank = max(1, -(-len(sorted_values) * pct // 100))
    return sorted_values[int(rank) - 1]


def python_load(
    server: Server, query: Query, *, concurrency: int, max_requests: int, seconds: float, timeout: float
) -> Measure:
    """A closed loop of keep-alive connections; no request starts after the deadline and
    none is abandoned, so the server is idle when this returns."""
    lock = threading.Lock()
    started = [0]
    latencies: list[float] = []
    errors = [0]
    body = query.text.encode()
    headers = {"Content-Type": "application/sparql-query", "Accept": query.accept}
    begin = time.perf_counter()
    deadline = begin + seconds

    def worker() -> None:
        connection = http.client.HTTPConnection(HOST, server.port, timeout=timeout)
        try:
            while True:
                with lock:
                    if started[0] >= max_requests or time.perf_counter() >= deadline:
                        return
                    started[0] += 1
                t0 = time.perf_counter()
                try:
                    connection.request("POST", server.path, body=body, headers=headers)
                    response = connection.getresponse()
                    response.read()
                    ok = 200 <= response.status < 300
                except (OSError, http.client.HTTPException):
                    ok = False
                    connection.close()
                elapsed = time.perf_counter() - t0
                with lock:
                    if ok:
                        latencies.append(elapsed)
                    else:
                        errors[0] += 1
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    measure = Measure("py", requests=len(latencies), errors=errors[0], seconds=time.perf_counter() - begin)
    if latencies:
        latencies.sort()
        measure.median_ms = statistics.median(latencies) * 1000
        measure.p99_ms = percentile(latencies, 99) * 1000
    return measure


WRK_SCRIPT = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/sparql-query"
wrk.headers["Accept"] = "{accept}"
wrk.body = [{level}[{body}]{level}]
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "WRKJSON {{\\"requests\\": %d, \\"duration_us\\": %d, \\"status\\": %d, \\"timeout\\": %d, "
    .. "\\"connect\\": %d, \\"read\\": %d, \\"write\\": %d, \\"p50_us\\": %d, \\"p99_us\\": %d}}\\n",
    summary.requests, summary.duration, e.status, e.timeout, e.connect, e.read, e.write,
    latency:percentile(50), latency:percentile(99)))
end
"""


def wrk_load(
    server: Server, query: Query, *, concurrency: int, seconds: float, timeout: float, workdir: Path
) -> Measure:
    """``wrk`` for ``seconds`` (wrk runs for a duration; it has no request cap)."""
    level = "=" * 8
    while f"]{level}]" in query.text:
        level += "="
    script = workdir / "wrk.lua"
    script.write_text(WRK_SCRIPT.format(accept=query.accept, level=level, body=query.text))
    url = f"http://{HOST}:{server.port}{server.path}"
    command = [
        "wrk",
        "-t1",
        f"-c{concurrency}",
        f"-d{max(1, round(seconds))}s",
        f"--timeout={max(1, round(timeout))}s",
        "-s",
        str(script),
        url,
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + timeout + 30)
    line = next((out for out in done.stdout.splitlines() if out.startswith("WRKJSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk failed: {done.stdout}\n{done.stderr}")
    data = json.loads(line[len("WRKJSON ") :])
    errors = data["status"] + data["timeout"] + data["connect"] + data["read"] + data["write"]
    good = data["requests"] - data["status"]
    measure = Measure("wrk", requests=good, errors=errors, seconds=data["duration_us"] / 1e6)
    if good:
        measure.median_ms = data["p50_us"] / 1000
        measure.p99_ms = data["p99_us"] / 1000
    return measure


# -- the benchmark ----------------------------------------------------------------------------


@dataclass
class Options:
    concurrency: int
    requests: int
    seconds: float
    slow_seconds: float
    timeout: float
    client: str
    workdir: Path


@dataclass
class Row:
    query: str
    server: str
    measure: Measure | None
    results: str
    first_ms: float | None = None


def run_one(server: Server, query: Query, opts: Options) -> Row:
    """Check one query's answer on one server, warm up, then measure it under load."""
    say.note(f"{server.name}: {query.name}")
    try:
        status, first, body = request(server, query, timeout=opts.timeout)
    except (OSError, http.client.HTTPException) as error:
        drain(server, opts)
        return Row(query.name, server.name, None, f"error: {type(error).__name__}")
    if status != 200:
        snippet = body[:120].decode(errors="replace").strip().replace("\n", " ")
        return Row(query.name, server.name, None, f"HTTP {status}: {snippet}")
    try:
        results = count_results(body, query)
    except (ValueError, KeyError) as error:
        results = f"unreadable: {error}"
    load_args = dict(concurrency=opts.concurrency, max_requests=opts.requests, timeout=opts.timeout)
    slow = first >= SLOW_FIRST_ANSWER_S
    if not slow and opts.client == "wrk":
        wrk_args = dict(concurrency=opts.concurrency, timeout=opts.timeout, workdir=opts.workdir)
        wrk_load(server, query, seconds=1, **wrk_args)  # warm-up, not counted
        cpu = server.cpu_seconds()
        measure = wrk_load(server, query, seconds=opts.seconds, **wrk_args)
    elif not slow:
        python_load(server, query, seconds=1, **{**load_args, "max_requests": 200})
        cpu = server.cpu_seconds()
        measure = python_load(server, query, seconds=opts.seconds, **load_args)
    else:  # the checked answer was the warm-up
        cpu = server.cpu_seconds()
        measure = python_load(server, query, seconds=opts.slow_seconds, **load_args)
    if measure.requests:
        measure.cpu_ms = (server.cpu_seconds() - cpu) * 1000 / measure.requests
    return Row(query.name, server.name, measure, results, first * 1000)


def drain(server: Server, opts: Options) -> None:
    """Wait until a (possibly busy) server answers again."""
    with contextlib.suppress(RuntimeError):
        server.wait_ready(opts.timeout * 4, record=False)


def prepare_aiwf_store(nq: Path, link: Path) -> float:
    """Load ``nq`` into a store with the project's own code; ``link`` is the AIWF_STORE path."""
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "import pyoxigraph as ox\n"
        "from nhs_ai_workforce.core.settings import Settings\n"
        "from nhs_ai_workforce.store.builds import load_store, swap_in\n"
        "settings = Settings().with_(store_dir=Path(sys.argv[2]))\n"
        "quads = ox.parse(path=sys.argv[1], format=ox.RdfFormat.N_QUADS)\n"
        "swap_in(load_store(quads, settings), settings)\n"
    )
    begin = time.perf_counter()
    subprocess.run([str(PROJECT_BIN / "python"), "-c", code, str(nq), str(link)], check=True, cwd=PROJECT)
    return time.perf_counter() - begin


def prepare_oxigraph_store(nq: Path, location: Path) -> float:
    """``oxigraph load``, then ``oxigraph optimize`` (our ``load_store`` optimises too)."""
    begin = time.perf_counter()
    oxigraph = str(BENCH_BIN / "oxigraph")
    subprocess.run([oxigraph, "load", "--location", str(location), "--file", str(nq)], check=True, capture_output=True)
    subprocess.run([oxigraph, "optimize", "--location", str(location)], check=True, capture_output=True)
    return time.perf_counter() - begin


def servers_for(dataset: str, nq: Path, workdir: Path) -> tuple[list[Server], dict[str, float]]:
    base = workdir / dataset
    link = base / "aiwf" / "store"
    prep = {"aiwf": prepare_aiwf_store(nq, link), "oxigraph": prepare_oxigraph_store(nq, base / "oxigraph")}
    servers = [
        Server(
            "oxigraph",
            [
                str(BENCH_BIN / "oxigraph"),
                "serve",
                "--location",
                str(base / "oxigraph"),
                "--bind",
                "{host}:{port}",
                "--union-default-graph",
            ],
            "/query",
            base / "oxigraph.log",
        ),
        Server(
            "aiwf",
            [str(PROJECT_BIN / "aiwf"), "serve"],
            "/sparql",
            base / "aiwf.log",
            env={"HOST": HOST, "AIWF_STORE": str(link)},
        ),
        Server(
            "rdflib-ep",
            [str(BENCH_BIN / "rdflib-endpoint"), "serve", str(nq), "--host", HOST, "--port", "{port}"],
            "/",
            base / "rdflib-endpoint.log",
        ),
    ]
    return servers, prep


def bench_dataset(
    dataset: str, nq: Path, queries: list[Query], opts: Options, ready_timeouts: dict[str, float]
) -> dict:
    """Start the three servers one after the other, then send each query to each in turn.

    Only one server is under load at any time; the others sit idle. Taking the servers in
    turn for every query (rather than one server for all queries) spreads any background
    load on the machine over all of them alike.
    """
    say.note(f"{dataset}: preparing stores from {nq}")
    servers, prep = servers_for(dataset, nq, opts.workdir)
    rows: list[Row] = []
    startup: dict[str, dict] = {}
    live: list[Server] = []
    load_before = os.getloadavg()
    try:
        for server in servers:
            server.port = free_port()
            server.command = [part.format(host=HOST, port=server.port) for part in server.command]
            server.env["PORT"] = str(server.port)
            say.note(f"{dataset}: starting {server.name} on port {server.port}")
            RUNNING.append(server)
            server.start()
            try:
                ready = server.wait_ready(ready_timeouts.get(server.name, 120))
            except RuntimeError as error:
                say.note(str(error))
                startup[server.name] = {"error": str(error)}
                rows += [Row(q.name, server.name, None, "server failed") for q in queries]
                continue
            startup[server.name] = {"first_answer_s": ready, "prep_s": prep.get(server.name)}
            live.append(server)
        for query in queries:
            for server in live:
                rows.append(run_one(server, query, opts))
        for server in live:
            startup[server.name].update(rss_mb=server.group_rss_mb(), processes=server.describe())
    finally:
        for server in servers:
            server.stop()
            if server in RUNNING:
                RUNNING.remove(server)
    return {"rows": rows, "startup": startup, "load": (load_before, os.getloadavg())}


# -- printing ---------------------------------------------------------------------------------

SERVERS = ["aiwf", "oxigraph", "rdflib-ep"]


def fmt(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def mix_rps(rows: list[Row], server: str, queries: list[str]) -> float | None:
    """Throughput of a mix that sends every query equally often: queries / sum(1 / rps).

    This equals total requests / total time when every query gets the same number of requests.
    """
    total = 0.0
    for name in queries:
        row = next((r for r in rows if r.query == name and r.server == server), None)
        if row is None or row.measure is None or row.measure.rps == 0:
            return None
        total += 1 / row.measure.rps
    return len(queries) / total


def print_dataset(title: str, result: dict, queries: list[str]) -> dict:
    rows: list[Row] = result["rows"]
    say(f"== {title}")
    header = (
        f"{'query':34} {'server':10} {'client':6} {'answers':>7} {'err':>4} {'req/s':>9} "
        f"{'median ms':>10} {'p99 ms':>9} {'cpu ms/req':>10} {'vs oxigraph':>11} {'results':>8}"
    )
    say(header)
    say("-" * len(header))
    mismatches = []
    for name in queries:
        by_server = {r.server: r for r in rows if r.query == name}
        oxi = by_server.get("oxigraph")
        oxi_rps = oxi.measure.rps if oxi and oxi.measure else None
        for index, server in enumerate(SERVERS):
            row = by_server.get(server)
            if row is None:
                continue
            m = row.measure
            ratio = m.rps / oxi_rps if m and oxi_rps else None
            label = name[:34] if index == 0 else ""
            if m is None:
                say(
                    f"{label:34} {server:10} {'':6} {'':>7} {'':>4} {'':>9} {'':>10} {'':>9} "
                    f"{'':>10} {'':>11} {row.results}"
                )
                continue
            say(
                f"{label:34} {server:10} {m.client:6} {m.requests:7d} {m.errors:4d} "
                f"{fmt(m.rps, 1):>9} {fmt(m.median_ms):>10} {fmt(m.p99_ms):>9} {fmt(m.cpu_ms):>10} "
                f"{fmt(ratio):>11} {row.results:>8}"
            )
        counts = {r.server: r.results for r in by_server.values() if r.measure is not None}
        if len(set(counts.values())) > 1:
            mismatches.append((name, counts))
    say()
    mixes = {server: mix_rps(rows, server, queries) for server in SERVERS}
    ours, oxi, rdf = mixes["aiwf"], mixes["oxigraph"], mixes["rdflib-ep"]
    for server in SERVERS:
        cpu = [r.measure.cpu_ms for r in rows if r.server == server and r.measure and r.measure.cpu_ms]
        cpu_mean = sum(cpu) / len(cpu) if len(cpu) == len(queries) else None
        said = [
            f"mix ({len(queries)} queries, equal share each): {server:10} {fmt(mixes[server], 1):>9} req/s",
            f"cpu {fmt(cpu_mean)} ms/req",
        ]
        if server == "aiwf":
            said.append(f"= {fmt(ours / oxi if ours and oxi else None)} x oxigraph serve")
            said.append(f"= {fmt(ours / rdf if ours and rdf else None, 1)} x rdflib-endpoint")
        say("  ".join(said))
    for peer in ("oxigraph", "rdflib-ep"):
        ratios = []
        for name in queries:
            pair = [
                next((r.measure for r in rows if r.query == name and r.server == srv and r.measure), None)
                for srv in ("aiwf", peer)
            ]
            if all(m and m.rps for m in pair):
                ratios.append(pair[0].rps / pair[1].rps)
        if ratios:
            geo = statistics.geometric_mean(ratios)
            say(
                f"aiwf / {peer} per query: geometric mean {geo:.2f}, min {min(ratios):.2f}, "
                f"max {max(ratios):.2f} (over {len(ratios)} queries; not weighted by query cost)"
            )
    answered = [
        name
        for name in queries
        if all(any(r.query == name and r.server == server and r.measure for r in rows) for server in SERVERS)
    ]
    if ours and len(answered) < len(queries) and answered:
        sub = {server: mix_rps(rows, server, answered) for server in SERVERS}
        say(
            f"mix of the {len(answered)} queries every server answered: aiwf {fmt(sub['aiwf'], 1)}, "
            f"oxigraph {fmt(sub['oxigraph'], 1)}, rdflib-ep {fmt(sub['rdflib-ep'], 1)} req/s; aiwf = "
            f"{fmt(sub['aiwf'] / sub['oxigraph'] if sub['aiwf'] and sub['oxigraph'] else None)} x oxigraph, "
            f"{fmt(sub['aiwf'] / sub['rdflib-ep'] if sub['aiwf'] and sub['rdflib-ep'] else None, 1)} x rdflib-endpoint"
        )
    worst = [(r.measure.p99_ms, r.query) for r in rows if r.server == "aiwf" and r.measure and r.measure.p99_ms]
    if worst:
        p99, name = max(worst)
        say(f"worst p99 of aiwf: {p99:.2f} ms ({name})")
    errors = sum(r.measure.errors for r in rows if r.measure)
    failed = [(r.server, r.query, r.results) for r in rows if r.measure is None]
    say(f"errors during load: {errors}; queries that failed outright: {len(failed)}")
    for server, name, why in failed:
        say(f"  FAILED {server} {name}: {why}")
    if mismatches:
        say("result-count mismatches (rows, triples or ASK answer per server):")
        for name, counts in mismatches:
            say(f"  {name}: " + ", ".join(f"{s}={c}" for s, c in counts.items()))
    else:
        say("result counts: all servers agree on every query")
    say()
    before, after = result["load"]
    say(f"machine load average (1 min) before / after this dataset: {before[0]:.2f} / {after[0]:.2f}")
    say(f"{'startup':10} {'store prep s':>12} {'first answer s':>15} {'RSS MB':>8}  processes")
    for server in SERVERS:
        info = result["startup"].get(server, {})
        if "error" in info:
            say(f"{server:10} failed: {info['error']}")
            continue
        say(
            f"{server:10} {fmt(info.get('prep_s')):>12} {fmt(info.get('first_answer_s')):>15} "
            f"{fmt(info.get('rss_mb'), 0):>8}  {info.get('processes', '')}"
        )
    say()
    return {"mixes": mixes, "rows": rows}


# -- main -------------------------------------------------------------------------------------


def check_tools(client: str) -> str:
    missing = [
        str(p)
        for p in (PROJECT_BIN / "aiwf", PROJECT_BIN / "python", BENCH_BIN / "oxigraph", BENCH_BIN / "rdflib-endpoint")
        if not p.exists()
    ]
    if missing:
        sys.exit(
            "missing: " + ", ".join(missing) + "\nsee benchmarks/README.md (make setup; "
            "python3 -m venv benchmarks/.venv && benchmarks/.venv/bin/pip install -r "
            "benchmarks/requirements.txt)"
        )
    if client in ("auto", "wrk") and shutil.which("wrk") is None:
        if client == "wrk":
            sys.exit("wrk is not installed (apt-get install wrk)")
        say.note("wrk not found: falling back to the Python client (slower, takes CPU from the servers)")
        return "python"
    return "python" if client == "python" else "wrk"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", default="real,synthetic", help="real, synthetic or both")
    parser.add_argument("--concurrency", type=int, default=4, help="client connections (default 4)")
    parser.add_argument(
        "--requests", type=int, default=1000, help="answer cap per query for slow servers (Python client)"
    )
    parser.add_argument("--seconds", type=float, default=5, help="load time per query and server")
    parser.add_argument(
        "--slow-seconds", type=float, default=20, help="time cap for a server whose first answer took over 0.25 s"
    )
    parser.add_argument("--timeout", type=float, default=60, help="per-request timeout, seconds")
    parser.add_argument("--scale", type=float, default=1.0, help="synthetic size (1.0 = ~1M triples)")
    parser.add_argument("--client", choices=["auto", "wrk", "python"], default="auto")
    parser.add_argument("--workdir", type=Path, help="keep stores and logs here (default: a temp dir, removed)")
    parser.add_argument("--output", type=Path, default=HERE / "results" / "latest.txt")
    args = parser.parse_args(argv)

    client = check_tools(args.client)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="aiwf-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    opts = Options(args.concurrency, args.requests, args.seconds, args.slow_seconds, args.timeout, client, workdir)

    def on_signal(signum, frame):
        stop_all()
        sys.exit(128 + signum)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    datasets = [d.strip() for d in args.datasets.split(",") if d.strip()]
    summary: dict[str, dict] = {}
    try:
        say("# SPARQL over HTTP: aiwf serve vs oxigraph serve vs rdflib-endpoint")
        say(
            f"# {time.strftime('%Y-%m-%d %H:%M:%S %Z')}; {os.cpu_count()} cores shared by client and "
            f"server; all three servers up, one under load at a time, on {HOST}"
        )
        say(
            f"# per query and server: 1 checked answer, 1 s warm-up, then {opts.concurrency} keep-alive "
            f"connections for {opts.seconds:g} s ({'wrk -t1' if client == 'wrk' else 'Python threads'}); "
            f"a server slower than {SLOW_FIRST_ANSWER_S} s per answer: Python threads, no warm-up, "
            f"until {opts.requests} answers or {opts.slow_seconds:g} s"
        )
        say(
            "# req/s counts 2xx answers; 'vs oxigraph' = req/s / oxigraph serve's req/s; "
            "results = rows, distinct triples or the ASK answer"
        )
        say(f"# versions: {versions()}")
        say()
        for dataset in datasets:
            if dataset == "real":
                nq = PROJECT / "data" / "nhs-ai-workforce.nq"
                queries = load_queries(PROJECT / "queries")
                title = f"real graph: data/nhs-ai-workforce.nq, {count_lines(nq):,} triples, queries/*.rq"
                timeouts = {"rdflib-ep": 120}
            elif dataset == "synthetic":
                sys.path.insert(0, str(HERE))
                import synthetic

                nq = workdir / "synthetic" / "synthetic.nq"
                say.note(f"generating the synthetic graph into {nq}")
                triples, digest = synthetic.generate(nq, scale=args.scale)
                queries = load_queries(HERE / "queries" / "synthetic")
                title = (
                    f"synthetic graph: {triples:,} triples (seeded, sha256 {digest[:12]}), "
                    f"benchmarks/queries/synthetic/*.rq"
                )
                timeouts = {"rdflib-ep": 900}
            else:
                parser.error(f"unknown dataset {dataset!r}")
            result = bench_dataset(dataset, nq, queries, opts, timeouts)
            summary[dataset] = print_dataset(title, result, [q.name for q in queries])
            summary[dataset]["triples"] = triples if dataset == "synthetic" else None
        print_targets(summary)
    finally:
        stop_all()
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text("\n".join(say.lines) + "\n", encoding="utf-8")
    print(f"saved to {args.output}", file=sys.stderr)
    return 0


def print_targets(summary: dict[str, dict]) -> None:
    say("== targets (issue: part 7)")
    synthetic = summary.get("synthetic")
    if synthetic:
        mixes = synthetic["mixes"]
        ours, oxi, rdf = mixes["aiwf"], mixes["oxigraph"], mixes["rdflib-ep"]
        size = f"{synthetic['triples']:,} triples"
        ratio = ours / oxi if ours and oxi else None
        say(
            f"[{'PASS' if ratio and ratio >= 0.8 else 'FAIL'}] synthetic mix ({size}) >= 0.8 x "
            f"oxigraph serve: {fmt(ratio)}"
        )
        ratio = ours / rdf if ours and rdf else None
        say(
            f"[{'PASS' if ratio and ratio >= 10 else 'FAIL'}] synthetic mix ({size}) >= 10 x "
            f"rdflib-endpoint: {fmt(ratio, 1)}"
        )
    real = summary.get("real")
    if real:
        ours = [r for r in real["rows"] if r.server == "aiwf"]
        slow = [r for r in ours if r.measure is None or r.measure.p99_ms is None or r.measure.p99_ms >= 50]
        worst = max((r.measure.p99_ms for r in ours if r.measure and r.measure.p99_ms), default=None)
        say(
            f"[{'PASS' if ours and not slow else 'FAIL'}] p99 < 50 ms for every queries/ example "
            f"on the real graph: worst {fmt(worst)} ms"
            + (f"; over: {', '.join(r.query for r in slow)}" if slow else "")
        )


def count_lines(path: Path) -> int:
    with path.open("rb") as handle:
        return sum(1 for line in handle if line.strip())


def versions() -> str:
    def pip_version(python: Path, package: str) -> str:
        done = subprocess.run(
            [str(python), "-c", f"import importlib.metadata as m; print(m.version({package!r}))"],
            capture_output=True,
            text=True,
        )
        return done.stdout.strip() or "?"

    allocator = subprocess.run(
        [str(PROJECT_BIN / "python"), "-c",
         "from nhs_ai_workforce.core.processes import query_allocator; print(query_allocator('auto') or 'glibc')"],
        capture_output=True, text=True, env={k: v for k, v in os.environ.items() if not k.startswith("AIWF_")},
    ).stdout.strip() or "?"
    wrk = (
        subprocess.run(["wrk", "--version"], capture_output=True, text=True).stdout.split()[:2]
        if shutil.which("wrk")
        else ["-"]
    )
    return (
        f"pyoxigraph {pip_version(PROJECT_BIN / 'python', 'pyoxigraph')} (aiwf; query processes' malloc: {allocator}), "
        f"oxigraph {pip_version(BENCH_BIN / 'python', 'oxigraph')}, "
        f"rdflib-endpoint {pip_version(BENCH_BIN / 'python', 'rdflib-endpoint')} "
        f"(rdflib {pip_version(BENCH_BIN / 'python', 'rdflib')}), wrk {' '.join(wrk[1:2])}"
    )


if __name__ == "__main__":
    sys.exit(main())
