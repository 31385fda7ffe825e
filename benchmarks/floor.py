"""How cheap can a cold answer be in Python here? The floors under ``aiwf serve``'s cold mix.

Starts, one at a time, the tiny servers of ``floor_server.py`` (a constant answer from the
standard library's event loop, from plain WSGI on waitress and from Flask on waitress; and the
same three with the query run in one of two in-memory query processes) and ``aiwf serve`` itself
(Flask on waitress), and loads each with ``wrk``'s cold mix of one
query (every request a distinct text, as in ``run.py``) at 4 keep-alive connections. It prints
answers per second, the CPU time per answer of the whole process tree and of its busiest process
(the one a server's speed is bound by on two cores), and the fixed time per answer,
``1 / (req/s)``.

Then it asks what the cold-mix targets of issue 14 need, from the per-query figures of a
``run.py`` results file (``--results``). A model: on the two cores, a cold answer to query *i*
takes ``t_fixed + e_i / 2``, where ``t_fixed`` is a server's time per answer on the cheapest
query (measured here) and ``e_i`` the engine's work beyond that query, as ``oxigraph serve`` in
memory spent it (its CPU per answer on query *i* less that on the cheapest). The model is first
checked against aiwf's own measured cold mix in the results file; then it gives, for each floor,
the projected mix total and per-query geometric mean against ``oxigraph serve`` on disk, and the
largest ``t_fixed`` at which each target is met.

Run from the repository root (the project's ``.venv`` and ``wrk`` are needed)::

    python3 benchmarks/floor.py                       # about 2 minutes; saves results/floor.txt
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import sys
import tempfile
import time
from pathlib import Path

from clients import HOST, load_queries, wrk_load
from peers import PROJECT, PROJECT_BIN, RUNNING, Server, launch, prepare_aiwf_store, stop_all

HERE = Path(__file__).resolve().parent
MODES = ["asyncio", "wsgi", "flask", "asyncio+query", "wsgi+query", "flask+query", "aiwf"]
CORES = 2
#: Issue 14's cold-mix targets: (dataset, peer, [(0: the mix total | 1: the geometric mean, bar)]).
TARGETS = [("real graph", "oxigraph", [(0, 1.0), (1, 0.6)]), ("synthetic graph", "oxigraph-mem", [(0, 1.0)])]


def ticks_by_process(server: Server) -> dict[int, int]:
    """CPU clock ticks used so far by each process of the server's tree."""
    ticks = {}
    for pid in server.pids():
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
            ticks[pid] = int(fields[11]) + int(fields[12])
    return ticks


def server_for(mode: str, nq: Path, workdir: Path) -> Server:
    if mode == "aiwf":
        link = workdir / "aiwf" / "store"
        prepare_aiwf_store(nq, link)
        return Server("aiwf", [str(PROJECT_BIN / "aiwf"), "serve"], "/sparql", workdir / "aiwf.log",
                      env={"HOST": HOST, "AIWF_STORE": str(link)})
    command = [str(PROJECT_BIN / "python"), str(HERE / "floor_server.py"), mode, "{port}", str(nq)]
    return Server(mode, command, "/sparql", workdir / f"{mode}.log")


def measure(mode: str, query, nq: Path, workdir: Path, seconds: float, runs: int) -> dict:
    """The best of ``runs`` cold-mix loads of ``mode``: req/s and CPU ms per answer."""
    server = server_for(mode, nq, workdir)
    launch(server)
    try:
        server.wait_ready(120)
        wrk_load(server, query, concurrency=4, seconds=1, timeout=10, workdir=workdir, marker="prefix")  # warm-up
        best = None
        for _ in range(runs):
            before = ticks_by_process(server)
            load = wrk_load(server, query, concurrency=4, seconds=seconds, timeout=10, workdir=workdir,
                            marker="prefix")
            after = ticks_by_process(server)
            used = {pid: after[pid] - before.get(pid, 0) for pid in after}
            per_tick = 1000 / os.sysconf("SC_CLK_TCK") / max(1, load.requests)
            result = {"rps": load.rps, "errors": load.errors, "tree_ms": sum(used.values()) * per_tick,
                      "busiest_ms": max(used.values()) * per_tick}
            if best is None or result["rps"] > best["rps"]:
                best = result
        return best
    finally:
        server.stop()
        RUNNING.remove(server)


# -- the model --------------------------------------------------------------------------------


def cold_rows(results: Path, dataset: str) -> dict[tuple[str, str], tuple[float, float]]:
    """``(query, server) -> (req/s, cpu ms/ans)`` of ``dataset``'s cold mix in a run.py results file
    (``dataset``: how its section starts, ``real graph`` or ``synthetic graph``)."""
    rows, section, query = {}, "", None
    for line in results.read_text(encoding="utf-8").splitlines():
        if line.startswith("== "):
            section = "in" if line.startswith(f"== {dataset}") else ""
        elif line.startswith("-- ") and section:
            section = "cold" if line.startswith("-- cold") else "in"
        elif section == "cold" and line.strip():
            words = line.split()
            if not line.startswith(" "):
                query, words = words[0], words[1:]
            if len(words) > 7 and words[1] in ("wrk", "python"):  # a server's row: name, client, answers...
                with contextlib.suppress(ValueError):
                    rows[(query, words[0])] = (float(words[4]), float(words[7]))
    return rows


def against(rps: dict[str, float], peer_rps: dict[str, float]) -> tuple[float, float]:
    """``(mix total, per-query geometric mean)`` of ``rps`` as multiples of ``peer_rps`` (as run.py
    counts them: the total gives every query an equal share of time)."""
    total = len(rps) / sum(1 / r for r in rps.values())
    peer_total = len(peer_rps) / sum(1 / r for r in peer_rps.values())
    geo = math.exp(sum(math.log(rps[q] / peer_rps[q]) for q in rps) / len(rps))
    return total / peer_total, geo


def projection(t_fixed_ms: float, engine_ms: dict[str, float], peer_rps: dict[str, float]) -> tuple[float, float]:
    """:func:`against` the peer if each answer to query *i* took ``t_fixed + e_i / 2``."""
    return against({q: 1000 / (t_fixed_ms + e / CORES) for q, e in engine_ms.items()}, peer_rps)


def break_even(bar: float, which: int, engine_ms: dict[str, float], disk_rps: dict[str, float]) -> float:
    """The largest ``t_fixed`` (ms) at which ``projection(...)[which]`` still reaches ``bar``."""
    low, high = 0.0, 10.0
    for _ in range(60):
        middle = (low + high) / 2
        if projection(middle, engine_ms, disk_rps)[which] >= bar:
            low = middle
        else:
            high = middle
    return low


def report_model(say, rows: dict, dataset: str, peer: str, bars: list[tuple[int, float]], measured: dict,
                 source: str) -> None:
    """Check the model against aiwf's measured cold mix on ``dataset``, then project each floor."""
    queries = sorted({q for q, _ in rows})
    if not queries or not all((q, s) in rows for q in queries for s in ("aiwf", peer, "oxigraph-mem")):
        say(f"\n(no complete {dataset} cold mix with aiwf, {peer} and oxigraph-mem in {source}: no projection)")
        return
    mem_cpu = {q: rows[(q, "oxigraph-mem")][1] for q in queries}
    cheapest = min(queries, key=mem_cpu.get)
    engine = {q: mem_cpu[q] - mem_cpu[cheapest] for q in queries}
    peer_rps = {q: rows[(q, peer)][0] for q in queries}
    aiwf_rps = {q: rows[(q, "aiwf")][0] for q in queries}
    say()
    say(f"# {dataset}, cold mix in {source} ({len(queries)} queries), against {peer}: t_i = t_fixed + e_i / {CORES}, "
        f"e_i = oxigraph-mem's cpu ms/ans on query i less on {cheapest} ({mem_cpu[cheapest]:.2f})")
    say(f"{'t_fixed from':<36} {'t_fixed ms':>10} {'total x':>8} {'geo x':>6}")
    rows_out = [("aiwf in the results file, measured", None, against(aiwf_rps, peer_rps)),
                ("aiwf in the results file, model", 1000 / aiwf_rps[cheapest], None)]
    rows_out += [(f"{mode} (measured above)", 1000 / got["rps"], None) for mode, got in measured.items()]
    for label, t_fixed, ratios in rows_out:
        total, geo = ratios or projection(t_fixed, engine, peer_rps)
        say(f"{label:<36} {'' if t_fixed is None else f'{t_fixed:.3f}':>10} {total:>8.2f} {geo:>6.2f}")
    names = {0: "total", 1: "geometric mean"}
    say("largest t_fixed meeting the targets: " + "; ".join(
        f"{names[which]} >= {bar:g} x: {break_even(bar, which, engine, peer_rps):.3f} ms" for which, bar in bars))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--query", default="11", help="the cold query (a queries/ file name part; default 11)")
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--runs", type=int, default=3, help="loads per server; the best is kept")
    parser.add_argument("--modes", default=",".join(MODES))
    parser.add_argument("--results", type=Path, default=HERE / "results" / "replay.txt")
    parser.add_argument("--output", type=Path, default=HERE / "results" / "floor.txt")
    opts = parser.parse_args(argv)
    query = next(q for q in load_queries(PROJECT / "queries") if opts.query in q.name)
    nq = PROJECT / "data" / "nhs-ai-workforce.nq"
    lines: list[str] = []

    def say(text: str = "") -> None:
        print(text, flush=True)
        lines.append(text)

    say("# The floor of a cold answer in Python: tiny servers (event loop, waitress) against aiwf serve")
    say(f"# {time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())}; {os.cpu_count()} cores shared with wrk; "
        f"load average {os.getloadavg()[0]:.2f}; cold mix of {query.name}, 4 connections, "
        f"best of {opts.runs} x {opts.seconds:g} s")
    say()
    say(f"{'server':<12} {'req/s':>9} {'t_fixed ms':>10} {'tree cpu ms/ans':>16} {'busiest process ms/ans':>23} "
        f"{'errors':>6}")
    measured: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="aiwf-floor-") as tmp:
        try:
            for mode in opts.modes.split(","):
                got = measure(mode, query, nq, Path(tmp), opts.seconds, opts.runs)
                measured[mode] = got
                say(f"{mode:<12} {got['rps']:>9.1f} {1000 / got['rps']:>10.3f} {got['tree_ms']:>16.3f} "
                    f"{got['busiest_ms']:>23.3f} {got['errors']:>6}")
        finally:
            stop_all()
    for dataset, peer, bars in TARGETS:
        report_model(say, cold_rows(opts.results, dataset), dataset, peer, bars, measured, opts.results.name)
    opts.output.parent.mkdir(parents=True, exist_ok=True)
    opts.output.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"saved {opts.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
