"""HTTP benchmark: this project's SPARQL endpoint against `oxigraph serve` (on disk and in
memory) and rdflib-endpoint, on a warm and a cold mix.

For each dataset (the project's graph, ``data/nhs-ai-workforce.nq``, and a synthetic graph of
about a million triples made by ``synthetic.py`` in a temporary directory), four servers are
started on 127.0.0.1 over the same N-Quads file (see ``peers.py``: ``aiwf``, ``oxigraph`` on
disk, ``oxigraph-mem`` in memory, ``rdflib-ep``) and sent the same queries over HTTP, each
query to each server in turn, so only one server is under load at a time.

For each query and server: one request checks the answer (its number of results is compared
across servers), and, for the cold mix, one request with a marked text checks that the marker
leaves the answer alone; a one-second warm-up follows, then two closed loops of
``--concurrency`` keep-alive connections, each for ``--seconds``: the **warm** mix (the same
text on every request, as a client repeating itself sends it) and the **cold** mix (every
request a distinct text with the same answer and cost, see ``clients.py``, so no answer can
be reused). Fast servers are driven by ``wrk`` (Debian package ``wrk``; a Lua ``request``
function makes each cold body distinct), whose cost on the shared cores is small. A server
whose first answer took longer than 0.25 s is driven by a Python client, until ``--requests``
answers or ``--slow-seconds``, that never abandons a request at the deadline (so a slow,
single-threaded server is not left working through requests nobody waits for). Every run is
bounded in time. A run during which the machine itself stalled (a thread that only sleeps woke
25 ms or more late: ``stalls.py``) is taken again, once, and the report lists it.

Run from the repository root with any Python 3.11+ (the standard library is enough)::

    python3 benchmarks/run.py                      # both datasets, saves benchmarks/results/latest.txt
    python3 benchmarks/run.py --datasets real --seconds 3

See benchmarks/README.md for setup and what the numbers mean.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from clients import (
    HOST,
    MARKERS,
    MIXES,
    Measure,
    Query,
    count_results,
    load_queries,
    marked,
    python_load,
    request,
    run_tag,
    wrk_load,
)
from peers import BENCH_BIN, HERE, PROJECT, PROJECT_BIN, RUNNING, SERVERS, Server, launch, servers_for, stop_all
from stalls import STALL_S, TICK_S, StallProbe
from tables import Row, print_dataset, print_targets, say

SLOW_FIRST_ANSWER_S = 0.25  # above this, the Python client drives the server instead of wrk
#: Watches for stalls of the machine during each run (a script's: one thread, from the start).
PROBE = StallProbe()


@dataclass
class Options:
    concurrency: int
    requests: int
    seconds: float
    slow_seconds: float
    timeout: float
    client: str
    workdir: Path
    mixes: list[str]
    marker: str


def check_answer(
    server: Server, query: Query, opts: Options, text: str | None = None, seen: dict[str, str] | None = None
) -> tuple[str | None, float, str]:
    """One request: (None if it failed, else "ok"), seconds, the result count or the failure."""
    try:
        status, seconds, body = request(server, query, timeout=opts.timeout, text=text, seen=seen)
    except (OSError, http.client.HTTPException) as error:
        drain(server, opts)
        return None, 0.0, f"error: {type(error).__name__}"
    if status != 200:
        snippet = body[:120].decode(errors="replace").strip().replace("\n", " ")
        return None, seconds, f"HTTP {status}: {snippet}"
    try:
        return "ok", seconds, count_results(body, query)
    except (ValueError, KeyError) as error:
        return "ok", seconds, f"unreadable: {error}"


def run_one(server: Server, query: Query, opts: Options) -> list[Row]:
    """Check one query's answer on one server (plain and, for the cold mix, marked), warm up,
    then measure each mix under load; one row per mix."""
    say.note(f"{server.name}: {query.name}")
    headers: dict[str, str] = {}
    ok, first, results = check_answer(server, query, opts, seen=headers)
    if ok is None:
        return [Row(query.name, server.name, mix, None, results) for mix in opts.mixes]
    cold_results = results
    # A server that says what its answer cache did (RFC 9211 Cache-Status, as ours does): what it
    # does with the same text again (warm) and with a second cold text (it must not be a hit).
    says_cache = "cache-status" in headers
    cache = {}
    if says_cache and "warm" in opts.mixes:
        again: dict[str, str] = {}
        check_answer(server, query, opts, seen=again)
        cache["warm"] = again.get("cache-status", "-")
    if "cold" in opts.mixes:
        ok, _, cold_results = check_answer(server, query, opts, marked(query.text, opts.marker, "check" + run_tag()))
        if ok is None:
            cold_results = f"marked text failed: {cold_results}"
        elif says_cache:
            again = {}
            check_answer(server, query, opts, marked(query.text, opts.marker, "check" + run_tag()), seen=again)
            cache["cold"] = again.get("cache-status", "-")
    slow = first >= SLOW_FIRST_ANSWER_S
    use_wrk = not slow and opts.client == "wrk"
    common = dict(concurrency=opts.concurrency, timeout=opts.timeout)
    if use_wrk:
        wrk_load(server, query, seconds=1, workdir=opts.workdir, **common)  # warm-up, not counted
    elif not slow:
        python_load(server, query, seconds=1, max_requests=200, **common)
    # else: the checked answer was the warm-up
    rows = []
    for mix in opts.mixes:
        marker = opts.marker if mix == "cold" else None
        if mix == "cold" and ok is None:
            rows.append(Row(query.name, server.name, mix, None, cold_results))
            continue
        run = functools.partial(measure_mix, server, query, opts, use_wrk, slow, marker, common)
        measure, stalled = measured_steadily(run, opts.concurrency)
        server.sample_memory("")
        results_here = cold_results if mix == "cold" else results
        rows.append(Row(query.name, server.name, mix, measure, results_here, first * 1000, cache.get(mix), stalled))
    return rows


def measure_mix(server: Server, query: Query, opts: Options, use_wrk: bool, slow: bool, marker: str | None,
                common: dict) -> Measure:
    """One run of ``query`` under load: wrk, or the Python client for a slow server."""
    if use_wrk:
        measure = measured(server, wrk_load, query, seconds=opts.seconds, workdir=opts.workdir, marker=marker, **common)
        drain(server, opts)  # requests wrk left in flight at its deadline are answered before the next run
        if measure.requests >= opts.concurrency:
            return measure
        # Slower under load than its first answer said: wrk's deadline would cut off most
        # answers, so the client that waits for every request it sent measures it again.
    seconds = opts.slow_seconds if slow or use_wrk else opts.seconds
    return measured(server, python_load, query, seconds=seconds, max_requests=opts.requests, marker=marker, **common)


def measured_steadily(run, concurrency: int) -> tuple[Measure, tuple[float, float] | None]:
    """``run()``, taken again once if the machine stalled during it (:mod:`stalls`); then also
    how long the stall was (ms) and the p99 (ms) of the spoiled run."""
    PROBE.reset()
    measure = run()
    time.sleep(2 * TICK_S)  # the probe's last wake-up, late or not, is counted
    stall = PROBE.worst()
    if stall < STALL_S:
        return measure, None
    spoiled = measure.p99_ms or 0.0
    # The requests the spoiled run left in flight (wrk drops its connections at its deadline) may
    # still be running or queued; the next run must not start behind them.
    time.sleep(min(5.0, 2 * concurrency * (measure.median_ms or 0.0) / 1000))
    PROBE.reset()
    return run(), (stall * 1000, spoiled)


def measured(server: Server, load, query: Query, **options) -> Measure:
    """``load(server, query, **options)``, with the server's CPU time per answer over it."""
    cpu = server.cpu_seconds()
    measure = load(server, query, **options)
    if measure.requests:
        measure.cpu_ms = (server.cpu_seconds() - cpu) * 1000 / measure.requests
    return measure


def drain(server: Server, opts: Options) -> None:
    """Wait until a (possibly busy) server answers again."""
    with contextlib.suppress(RuntimeError):
        server.wait_ready(opts.timeout * 4, record=False)


def bench_dataset(
    dataset: str, nq: Path, queries: list[Query], opts: Options, names: list[str], ready_timeouts: dict[str, float]
) -> dict:
    """Start the servers one after the other, then send each query to each in turn.

    Only one server is under load at any time; the others sit idle. Taking the servers in
    turn for every query (rather than one server for all queries) spreads any background
    load on the machine over all of them alike.
    """
    say.note(f"{dataset}: preparing stores from {nq}")
    servers, prep = servers_for(dataset, nq, opts.workdir, names)
    rows: list[Row] = []
    startup: dict[str, dict] = {}
    live: list[Server] = []
    load_before = os.getloadavg()
    try:
        for server in servers:
            launch(server)
            say.note(f"{dataset}: starting {server.name} on port {server.port}")
            try:
                ready = server.wait_ready(ready_timeouts.get(server.name, 120))
                server.load(timeout=max(900.0, opts.timeout))
            except (RuntimeError, OSError, http.client.HTTPException) as error:
                say.note(str(error))
                startup[server.name] = {"error": str(error)}
                rows += [Row(q.name, server.name, mix, None, "server failed") for q in queries for mix in opts.mixes]
                server.stop()
                continue
            server.sample_memory("start")
            startup[server.name] = {"first_answer_s": ready, "prep_s": prep.get(server.name), "load_s": server.load_s}
            live.append(server)
        for query in queries:
            for server in live:
                rows += run_one(server, query, opts)
        for server in live:
            server.sample_memory("end")
            startup[server.name].update(memory=server.memory, processes=server.describe())
            if server.name == "aiwf":
                startup[server.name].update(front_counts(server))
    finally:
        for server in servers:
            server.stop()
            if server in RUNNING:
                RUNNING.remove(server)
    statuses = {s.name: access_log_statuses(s.log) for s in servers if s.name == "aiwf" and s.log.exists()}
    return {"rows": rows, "startup": startup, "load": (load_before, os.getloadavg()), "statuses": statuses}


def front_counts(server) -> dict:
    """What ``aiwf serve``'s server process says in ``/health`` of what its I/O thread answered:
    responses recorded and replayed (``web/replay.py``, ``replay``), queries answered and handed
    to the app (``web/lane.py``, ``lane``), as far as it says."""
    connection = http.client.HTTPConnection(HOST, server.port, timeout=10)
    try:
        connection.request("GET", "/health")
        health = json.loads(connection.getresponse().read())
    except (OSError, ValueError):
        return {}
    finally:
        connection.close()
    return {key: health[key] for key in ("replay", "lane") if key in health}


_ACCESS_STATUS = re.compile(r'" (\d{3}) ')


def access_log_statuses(log: Path) -> dict[str, int]:
    """How many responses of each HTTP status our server's access log records (what wrk
    counts only as errors)."""
    counts: dict[str, int] = {}
    with log.open(encoding="utf-8", errors="replace") as lines:
        for line in lines:
            if '"POST ' in line and (match := _ACCESS_STATUS.search(line)):
                counts[match.group(1)] = counts.get(match.group(1), 0) + 1
    return dict(sorted(counts.items()))


# -- main -------------------------------------------------------------------------------------


def check_tools(client: str, names: list[str]) -> str:
    needed = {"aiwf": [PROJECT_BIN / "aiwf", PROJECT_BIN / "python"], "rdflib-ep": [BENCH_BIN / "rdflib-endpoint"]}
    needed["oxigraph"] = needed["oxigraph-mem"] = [BENCH_BIN / "oxigraph"]
    missing = sorted({str(p) for name in names for p in needed[name] if not p.exists()})
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


def pick(parser: argparse.ArgumentParser, value: str, allowed: list[str] | tuple[str, ...], what: str) -> list[str]:
    chosen = [v.strip() for v in value.split(",") if v.strip()]
    unknown = [v for v in chosen if v not in allowed]
    if unknown or not chosen:
        parser.error(f"--{what}: choose from {', '.join(allowed)} (got {value!r})")
    return [v for v in allowed if v in chosen]  # in the canonical order


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", default="real,synthetic", help="real, synthetic or both")
    parser.add_argument("--servers", default=",".join(SERVERS), help=f"a subset of {','.join(SERVERS)}")
    parser.add_argument("--mixes", default=",".join(MIXES), help="warm, cold or both (default both)")
    parser.add_argument(
        "--cold-marker",
        choices=sorted(MARKERS),
        default="prefix",
        help="how the cold mix makes each text distinct (default: an unused PREFIX declaration)",
    )
    parser.add_argument("--queries", help="only the queries whose file names contain one of these (comma-separated)")
    parser.add_argument("--concurrency", type=int, default=4, help="client connections (default 4)")
    parser.add_argument(
        "--requests", type=int, default=1000, help="answer cap per query for slow servers (Python client)"
    )
    parser.add_argument("--seconds", type=float, default=5, help="load time per query, server and mix")
    parser.add_argument(
        "--slow-seconds", type=float, default=20, help="time cap for a server whose first answer took over 0.25 s"
    )
    parser.add_argument("--timeout", type=float, default=60, help="per-request timeout, seconds")
    parser.add_argument("--scale", type=float, default=1.0, help="synthetic size (1.0 = ~1M triples)")
    parser.add_argument("--client", choices=["auto", "wrk", "python"], default="auto")
    parser.add_argument("--workdir", type=Path, help="keep stores and logs here (default: a temp dir, removed)")
    parser.add_argument("--output", type=Path, default=HERE / "results" / "latest.txt")
    args = parser.parse_args(argv)

    datasets = pick(parser, args.datasets, ["real", "synthetic"], "datasets")
    names = pick(parser, args.servers, SERVERS, "servers")
    mixes = pick(parser, args.mixes, MIXES, "mixes")
    client = check_tools(args.client, names)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="aiwf-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    opts = Options(
        args.concurrency,
        args.requests,
        args.seconds,
        args.slow_seconds,
        args.timeout,
        client,
        workdir,
        mixes,
        args.cold_marker,
    )

    def on_signal(signum, frame):
        stop_all()
        sys.exit(128 + signum)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    summary: dict[str, dict] = {}
    try:
        print_header(opts, names)
        for dataset in datasets:
            if dataset == "real":
                nq = PROJECT / "data" / "nhs-ai-workforce.nq"
                queries = load_queries(PROJECT / "queries")
                triples = count_lines(nq)
                title = f"real graph: data/nhs-ai-workforce.nq, {triples:,} triples, queries/*.rq"
                timeouts = {"rdflib-ep": 120}
            else:
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
            if args.queries:
                wanted = [w.strip() for w in args.queries.split(",") if w.strip()]
                queries = [q for q in queries if any(w in q.name for w in wanted)]
            result = bench_dataset(dataset, nq, queries, opts, names, timeouts)
            summary[dataset] = print_dataset(title, result, [q.name for q in queries], names, mixes)
            summary[dataset]["triples"] = triples
        print_targets(summary, opts.concurrency, full_scale=args.scale >= 1.0)
    finally:
        stop_all()
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text("\n".join(say.lines) + "\n", encoding="utf-8")
    print(f"saved to {args.output}", file=sys.stderr)
    return 0


def print_header(opts: Options, names: list[str]) -> None:
    before, after = MARKERS[opts.marker]
    example = (before.format(tag="<n>").strip() + " ... " + after.format(tag="<n>").strip()).strip(" .")
    say("# SPARQL over HTTP: aiwf serve vs oxigraph serve (on disk, in memory) vs rdflib-endpoint")
    say(
        f"# {time.strftime('%Y-%m-%d %H:%M:%S %Z')}; {os.cpu_count()} cores shared by client and "
        f"server; servers {', '.join(names)}: all up, one under load at a time, on {HOST}"
    )
    say(
        f"# per query and server: 1 checked answer (and 1 with a cold marker), 1 s warm-up, then per mix "
        f"({', '.join(opts.mixes)}) {opts.concurrency} keep-alive connections for {opts.seconds:g} s "
        f"({'wrk -t1' if opts.client == 'wrk' else 'Python threads'}); a server slower than "
        f"{SLOW_FIRST_ANSWER_S} s per answer: Python threads, no warm-up, until {opts.requests} answers "
        f"or {opts.slow_seconds:g} s"
    )
    say(
        "# warm = the same text on every request; cold = every request a distinct text "
        f"(--cold-marker {opts.marker}: {example}, <n> unique per request)"
    )
    say(
        "# req/s counts 2xx answers; 'x oxigraph' / 'x oxigraph-mem' = req/s / that peer's req/s on the same "
        "query and mix; cpu ms/ans = the server's process-tree CPU time over the run / answers; results = "
        "rows, distinct triples or the ASK answer"
    )
    say(f"# versions: {versions()}")
    say()


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

    allocator = (
        subprocess.run(
            [
                str(PROJECT_BIN / "python"),
                "-c",
                "from nhs_ai_workforce.core.processes import query_allocator; "
                "print(query_allocator('auto') or 'glibc')",
            ],
            capture_output=True,
            text=True,
            env={k: v for k, v in os.environ.items() if not k.startswith("AIWF_")},
        ).stdout.strip()
        or "?"
    )
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
