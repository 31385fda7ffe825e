"""Printing the benchmark: per-query tables for each mix, totals, startup and memory, targets."""

from __future__ import annotations

import re
import statistics
import sys
from dataclasses import dataclass

from clients import Measure
from peers import OXIGRAPH_PEERS, SERVERS
from stalls import STALL_S


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


@dataclass
class Row:
    query: str
    server: str
    mix: str
    measure: Measure | None
    results: str
    first_ms: float | None = None
    cache: str | None = None  # the server's Cache-Status for this mix's text sent again (if it says one)
    #: When the run was taken again after the machine stalled: how long the stall was (ms) and
    #: the p99 (ms) of the run it spoiled (benchmarks/stalls.py).
    stalled: tuple[float, float] | None = None


def fmt(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def ratio(ours: float | None, theirs: float | None) -> float | None:
    return ours / theirs if ours and theirs else None


def measure_of(rows: list[Row], query: str, server: str, mix: str) -> Measure | None:
    row = next((r for r in rows if r.query == query and r.server == server and r.mix == mix), None)
    return row.measure if row and row.measure and row.measure.rps else None


def mix_rps(rows: list[Row], server: str, mix: str, queries: list[str]) -> float | None:
    """Throughput of a mix that sends every query equally often: queries / sum(1 / rps).

    This equals total requests / total time when every query gets the same number of requests.
    """
    measures = [measure_of(rows, name, server, mix) for name in queries]
    if not queries or not all(measures):
        return None
    return len(queries) / sum(1 / m.rps for m in measures)


def mix_cpu(rows: list[Row], server: str, mix: str, queries: list[str]) -> float | None:
    """CPU ms per answer of the same equal-share mix: the mean of the per-query values."""
    cpu = [m.cpu_ms for m in (measure_of(rows, n, server, mix) for n in queries) if m and m.cpu_ms is not None]
    return sum(cpu) / len(cpu) if queries and len(cpu) == len(queries) else None


def per_query_ratios(rows: list[Row], server: str, peer: str, mix: str, queries: list[str]) -> list[tuple[float, str]]:
    pairs = [(measure_of(rows, n, server, mix), measure_of(rows, n, peer, mix), n) for n in queries]
    return [(ours.rps / theirs.rps, name) for ours, theirs, name in pairs if ours and theirs]


def geo_mean(rows: list[Row], server: str, peer: str, mix: str, queries: list[str]) -> float | None:
    ratios = per_query_ratios(rows, server, peer, mix, queries)
    return statistics.geometric_mean([r for r, _ in ratios]) if ratios else None


def print_mix_table(rows: list[Row], mix: str, queries: list[str], servers: list[str]) -> None:
    peers = [p for p in OXIGRAPH_PEERS if p in servers]
    header = (
        f"{'query':34} {'server':12} {'client':6} {'answers':>7} {'err':>4} {'req/s':>8} {'p50 ms':>8} "
        f"{'p99 ms':>8} {'cpu ms/ans':>10} " + " ".join(f"{'x ' + p:>14}" for p in peers) + f" {'results':>8}"
    )
    say(header)
    say("-" * len(header))
    for name in queries:
        first = True
        for server in servers:
            row = next((r for r in rows if r.query == name and r.server == server and r.mix == mix), None)
            if row is None:
                continue
            label = name[:34] if first else ""
            first = False
            m = row.measure
            if m is None:
                blanks = " ".join(f"{'':>14}" for _ in peers)
                say(
                    f"{label:34} {server:12} {'':6} {'':>7} {'':>4} {'':>8} {'':>8} {'':>8} {'':>10} "
                    f"{blanks} {row.results}"
                )
                continue
            ratios = " ".join(
                f"{fmt(ratio(m.rps, getattr(measure_of(rows, name, p, mix), 'rps', None))):>14}" for p in peers
            )
            say(
                f"{label:34} {server:12} {m.client:6} {m.requests:7d} {m.errors:4d} {fmt(m.rps, 1):>8} "
                f"{fmt(m.median_ms):>8} {fmt(m.p99_ms):>8} {fmt(m.cpu_ms):>10} {ratios} {row.results:>8}"
            )
    say()


def print_totals(rows: list[Row], mixes: list[str], queries: list[str], servers: list[str]) -> dict:
    """The equal-share mix per server and mix, its ratios to each oxigraph peer, and the
    per-query geometric mean of the ratios; returns the numbers the targets need."""
    peers = [p for p in OXIGRAPH_PEERS if p in servers]
    say(
        f"totals: every one of the {len(queries)} queries an equal share (req/s = queries / sum of 1/(req/s); "
        "cpu = mean of the per-query cpu ms per answer); geo = per-query geometric mean of the req/s ratios; "
        "max p50 / max p99 = the highest over the queries"
    )
    header = (
        f"{'mix':5} {'server':12} {'req/s':>8} "
        + " ".join(f"{'x ' + p:>14}" for p in peers)
        + " "
        + " ".join(f"{'geo x ' + p:>18}" for p in peers)
        + f" {'cpu ms/ans':>10} {'max p50':>8} {'max p99':>8} {'errors':>6}"
    )
    say(header)
    say("-" * len(header))
    totals: dict = {"rps": {}, "geo": {}, "cpu": {}, "worst_p99": {}}
    for mix in mixes:
        for server in servers:
            rps = mix_rps(rows, server, mix, queries)
            cpu = mix_cpu(rows, server, mix, queries)
            measures = [m for m in (measure_of(rows, n, server, mix) for n in queries) if m and m.p99_ms]
            worst = max((m.p99_ms for m in measures), default=None)
            worst_p50 = max((m.median_ms for m in measures if m.median_ms), default=None)
            errors = sum(r.measure.errors for r in rows if r.server == server and r.mix == mix and r.measure)
            ratios = " ".join(f"{fmt(ratio(rps, mix_rps(rows, p, mix, queries))):>14}" for p in peers)
            geos = " ".join(f"{fmt(geo_mean(rows, server, p, mix, queries)):>18}" for p in peers)
            say(
                f"{mix:5} {server:12} {fmt(rps, 1):>8} {ratios} {geos} {fmt(cpu):>10} "
                f"{fmt(worst_p50):>8} {fmt(worst):>8} {errors:6d}"
            )
            totals["rps"][(mix, server)] = rps
            totals["cpu"][(mix, server)] = cpu
            totals["worst_p99"][(mix, server)] = worst
            for peer in peers:
                totals["geo"][(mix, server, peer)] = geo_mean(rows, server, peer, mix, queries)
    if "aiwf" in servers:
        for mix in mixes:
            for peer in [s for s in servers if s != "aiwf"]:
                found = per_query_ratios(rows, "aiwf", peer, mix, queries)
                if not found:
                    continue
                low, high = min(found), max(found)
                geo = statistics.geometric_mean([r for r, _ in found])
                say(
                    f"aiwf / {peer} per query, {mix}: geometric mean {geo:.2f}, "
                    f"min {low[0]:.2f} ({low[1]}), max {high[0]:.2f} ({high[1]}), over {len(found)} queries"
                )
        answered = [n for n in queries if all(measure_of(rows, n, s, mix) for s in servers for mix in mixes)]
        if 0 < len(answered) < len(queries):
            for mix in mixes:
                sub = {s: mix_rps(rows, s, mix, answered) for s in servers}
                say(
                    f"{mix} mix of the {len(answered)} queries every server answered: "
                    + ", ".join(f"{s} {fmt(v, 1)}" for s, v in sub.items())
                    + " req/s; aiwf = "
                    + ", ".join(f"{fmt(ratio(sub['aiwf'], v))} x {s}" for s, v in sub.items() if s != "aiwf")
                )
    return totals


def print_dataset(title: str, result: dict, queries: list[str], servers: list[str], mixes: list[str]) -> dict:
    rows: list[Row] = result["rows"]
    say(f"== {title}")
    for mix in mixes:
        say(
            f"-- {mix} mix: "
            + (
                "the same query text on every request"
                if mix == "warm"
                else "every request a distinct query text (no answer can be reused)"
            )
        )
        print_mix_table(rows, mix, queries, servers)
    totals = print_totals(rows, mixes, queries, servers)
    errors = sum(r.measure.errors for r in rows if r.measure)
    failed = [r for r in rows if r.measure is None]
    say(f"errors during load: {errors}; query runs that failed outright: {len(failed)}")
    again = [r for r in rows if r.stalled]
    late = f"an idle thread woke >= {STALL_S * 1000:.0f} ms late"
    say(f"runs taken again because the machine stalled during them ({late}): {len(again)}")
    for r in again:
        stall_ms, p99_ms = r.stalled
        p99_now = fmt(r.measure.p99_ms if r.measure else None)
        say(f"  {r.server} {r.query} {r.mix}: woke {stall_ms:.0f} ms late; p99 {p99_ms:.2f} ms, then {p99_now} ms")
    for server in servers:
        for mix in mixes:
            said = [r.cache for r in rows if r.server == server and r.mix == mix and r.cache]
            if said:
                tally = {value: said.count(value) for value in dict.fromkeys(said)}
                what = "the same text again" if mix == "warm" else "a second cold text"
                say(
                    f"{server} Cache-Status for {what} ({mix}): "
                    + ", ".join(f"'{value}' x {n}" for value, n in tally.items())
                )
                if mix == "cold" and any(re.search(r";\s*hit\b", value) for value in said):
                    say(f"WARNING: {server} answered a cold text from its cache: the cold mix is not cold for it")
    for server, counts in result.get("statuses", {}).items():
        say(f"{server} access log, POST responses by status: " + ", ".join(f"{k} x {v}" for k, v in counts.items()))
        replay = result["startup"].get(server, {}).get("replay")
        if replay:
            say(f"{server} /health at the end: {replay['recorded']} responses recorded, "
                f"{replay['replayed']} replayed from the I/O thread (web/replay.py)")
        lane = result["startup"].get(server, {}).get("lane")
        if lane:
            say(f"{server} /health at the end: {lane['answered']} queries answered from the I/O thread, "
                f"{lane['handed']} handed to the app after it took them (web/lane.py)")
    for row in failed:
        say(f"  FAILED {row.server} {row.query} ({row.mix}): {row.results}")
    mismatches = []
    for name in queries:
        counts = {f"{r.server}/{r.mix}": r.results for r in rows if r.query == name and r.measure is not None}
        if len(set(counts.values())) > 1:
            mismatches.append((name, counts))
    if mismatches:
        say("result-count mismatches (rows, triples or ASK answer per server and mix):")
        for name, counts in mismatches:
            say(f"  {name}: " + ", ".join(f"{s}={c}" for s, c in counts.items()))
    else:
        say("result counts: all servers agree on every query, in every mix (a cold text gives the warm answer)")
    say()
    before, after = result["load"]
    say(f"machine load average (1 min) before / after this dataset: {before[0]:.2f} / {after[0]:.2f}")
    say(
        "startup and memory: store prep = before start (load, optimise); load = POST /store after start "
        "(oxigraph-mem), or the query processes' copy of the store into memory after start (aiwf); "
        "first answer = spawn to the first 200 to an ASK (before that load);"
    )
    say(
        "RSS and PSS summed over the server's process tree, at start (after any load) and the peak of "
        "the samples taken after every measurement"
    )
    header = (
        f"{'server':12} {'store prep s':>12} {'load s':>7} {'first answer s':>14} {'RSS MB':>7} {'PSS MB':>7} "
        f"{'peak RSS':>8} {'peak PSS':>8}  processes"
    )
    say(header)
    say("-" * len(header))
    for server in servers:
        info = result["startup"].get(server, {})
        if "error" in info:
            say(f"{server:12} failed: {info['error']}")
            continue
        mem = info.get("memory", {})
        say(
            f"{server:12} {fmt(info.get('prep_s')):>12} {fmt(info.get('load_s')):>7} "
            f"{fmt(info.get('first_answer_s')):>14} {fmt(mem.get('start_rss'), 0):>7} "
            f"{fmt(mem.get('start_pss'), 0):>7} "
            f"{fmt(mem.get('peak_rss'), 0):>8} {fmt(mem.get('peak_pss'), 0):>8}  {info.get('processes', '')}"
        )
    say()
    return {"rows": rows, "totals": totals, "startup": result["startup"], "queries": queries}


# -- targets ----------------------------------------------------------------------------------


def verdict(ok: bool | None) -> str:
    return "[ -- ]" if ok is None else "[PASS]" if ok else "[FAIL]"


def at_least(value: float | None, bar: float) -> bool | None:
    return None if value is None else value >= bar


def over_bar(rows: list[Row], bar_ms: float) -> str:
    """The queries (by number) whose p99 reached ``bar_ms``, with the mixes: '02 (warm, cold), 05 (cold)'."""
    found: dict[str, list[str]] = {}
    for row in rows:
        if row.measure is None or not row.measure.p99_ms or row.measure.p99_ms >= bar_ms:
            found.setdefault(row.query.split("-")[0], []).append(row.mix)
    return ", ".join(f"{number} ({', '.join(mixes)})" for number, mixes in sorted(found.items()))


def print_targets(summary: dict[str, dict], concurrency: int, full_scale: bool) -> None:
    """Issue 14's targets (then part 7's, on the warm mix); '--' = not measured in this run."""
    say("== targets (issue 14), measured in this run; [ -- ] = not measured (dataset, server or mix left out)")
    real, synthetic = summary.get("real"), summary.get("synthetic")

    def rps(data: dict | None, mix: str, server: str) -> float | None:
        return data["totals"]["rps"].get((mix, server)) if data else None

    if real:
        value = ratio(rps(real, "warm", "aiwf"), rps(real, "warm", "oxigraph-mem"))
        say(f"{verdict(at_least(value, 1.0))} real graph, warm mix >= 1.0 x oxigraph serve in memory: {fmt(value)}")
        value = ratio(rps(real, "cold", "aiwf"), rps(real, "cold", "oxigraph"))
        say(f"{verdict(at_least(value, 1.0))} real graph, cold mix >= 1.0 x oxigraph serve on disk: {fmt(value)}")
        value = real["totals"]["geo"].get(("cold", "aiwf", "oxigraph"))
        say(
            f"{verdict(at_least(value, 0.6))} real graph, cold mix, per-query geometric mean >= 0.6 x oxigraph "
            f"serve on disk: {fmt(value)}"
        )
        ours = [r for r in real["rows"] if r.server == "aiwf"]
        over = over_bar(ours, 25)
        worst = max((r.measure.p99_ms for r in ours if r.measure and r.measure.p99_ms), default=None)
        note = "" if concurrency == 4 else f" (run at {concurrency} connections, not 4)"
        say(
            f"{verdict((not over) if ours else None)} real graph, p99 < 25 ms for every example query, every mix, "
            f"at 4 connections{note}: worst {fmt(worst)} ms" + (f"; over: {over}" if over else "")
        )
        mem = real["startup"].get("aiwf", {}).get("memory", {})
        peak = mem.get("peak_rss")
        say(
            f"{verdict(None if peak is None else peak < 150)} real graph, aiwf serve (defaults) < 150 MB RSS in "
            f"total: peak {fmt(peak, 0)} MB RSS, {fmt(mem.get('peak_pss'), 0)} MB PSS"
        )
    if synthetic:
        size = f"{synthetic['triples']:,} triples" + ("" if full_scale else ", NOT the full million: --scale < 1")
        value = ratio(rps(synthetic, "cold", "aiwf"), rps(synthetic, "cold", "oxigraph-mem"))
        say(
            f"{verdict(at_least(value, 1.0))} synthetic ({size}), cold mix >= 1.0 x oxigraph serve in memory: "
            f"{fmt(value)}"
        )
        mem = synthetic["startup"].get("aiwf", {}).get("memory", {})
        say(
            f"[info] synthetic ({size}): aiwf serve peak {fmt(mem.get('peak_rss'), 0)} MB RSS, "
            f"{fmt(mem.get('peak_pss'), 0)} MB PSS (at start {fmt(mem.get('start_rss'), 0)} / "
            f"{fmt(mem.get('start_pss'), 0)})"
        )
    firsts = {
        name: data["startup"].get("aiwf", {}).get("first_answer_s")
        for name, data in (("real", real), ("synthetic", synthetic))
        if data
    }
    known = {k: v for k, v in firsts.items() if v is not None}
    ok = None if not known else all(v < 1.0 for v in known.values())
    growth = ""
    if len(known) == 2:
        # "Not growing": the big graph's first answer within 1.5 x the small one's, plus 0.1 s of noise.
        grows = known["synthetic"] > known["real"] * 1.5 + 0.1
        ok = ok and not grows
        growth = f"; {'grows' if grows else 'does not grow'} with the graph (synthetic <= 1.5 x real + 0.1 s)"
    say(
        f"{verdict(ok)} aiwf time to first answer after start < 1 s: "
        + ", ".join(f"{k} {fmt(v)} s" for k, v in firsts.items())
        + growth
    )
    say()
    say("== targets (issue part 7), on the warm mix")
    if synthetic:
        size = f"{synthetic['triples']:,} triples"
        value = ratio(rps(synthetic, "warm", "aiwf"), rps(synthetic, "warm", "oxigraph"))
        say(f"{verdict(at_least(value, 0.8))} synthetic mix ({size}) >= 0.8 x oxigraph serve (on disk): {fmt(value)}")
        value = ratio(rps(synthetic, "warm", "aiwf"), rps(synthetic, "warm", "rdflib-ep"))
        say(f"{verdict(at_least(value, 10))} synthetic mix ({size}) >= 10 x rdflib-endpoint: {fmt(value, 1)}")
    if real:
        ours = [r for r in real["rows"] if r.server == "aiwf" and r.mix == "warm"]
        slow = over_bar(ours, 50)
        worst = max((r.measure.p99_ms for r in ours if r.measure and r.measure.p99_ms), default=None)
        say(
            f"{verdict((not slow) if ours else None)} p99 < 50 ms for every queries/ example on the real graph: "
            f"worst {fmt(worst)} ms" + (f"; over: {slow}" if slow else "")
        )


__all__ = ["SERVERS", "Row", "fmt", "print_dataset", "print_targets", "say"]
