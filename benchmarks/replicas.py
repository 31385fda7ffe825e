"""Throughput of the example-query mix through nginx, in front of one `aiwf serve` replica and of two.

    .venv/bin/python benchmarks/replicas.py                        # 2 rounds, 10 s per run, 8 connections
    .venv/bin/python benchmarks/replicas.py --seconds 20 --rounds 3 --concurrency 16
    .venv/bin/python benchmarks/replicas.py --control              # and one replica with twice the workers

Two stores are built apart from the project's seeds (``aiwf build --no-dumps``, the same
``SOURCE_DATE_EPOCH``), an `aiwf serve` with its defaults is started over each (``HOST``,
``PORT``, ``AIWF_STORE``, ``AIWF_TRUSTED_PROXY``), and Debian's nginx is started in front with
``deploy/nginx-replicas.conf``: once with its upstream cut to the first replica, once with both.
``wrk`` sends the example queries (``queries/*.rq``) in turn, round robin over its connections, by
``POST`` (``application/sparql-query``; SPARQL JSON, N-Triples for CONSTRUCT), as a **warm** mix
(the same texts again and again: the replicas answer from their answer caches) and a **cold** mix
(every text made distinct with an unused ``PREFIX``: every answer is computed), for ``--seconds``
after a two-second warm-up. The configurations alternate within each round, so background load
falls on both alike. Printed per run: answers, errors, requests per second, p50 and p99, the CPU
time per answer of each replica's process tree (from ``/proc``), and then the ratio of two
replicas' throughput to one's. With ``--control``, a third configuration: one replica with twice
the server processes (``AIWF_WORKERS=4``, over the first replica's store), as many as two replicas
have, which tells the gain of a second replica from the gain of more processes. Loopback only;
everything runs in a temporary directory (or ``--workdir``) and is stopped at the end.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from clients import HOST, MARKERS, WRK_REPORT, Query, load_queries, lua_string, run_tag  # noqa: E402
from peers import PROJECT, PROJECT_BIN, Server, free_port  # noqa: E402

from servers import build_store  # noqa: E402
from slow_clients import REPLICAS_SITE, running_nginx  # noqa: E402

EPOCH = "1767225600"  # SOURCE_DATE_EPOCH of both builds: the replicas serve the same bytes
MIX_SCRIPT = """
local queries = {{ {queries} }}
local cold = {cold}
local before = {before}
local run = "{tag}"
local n = 0
request = function()
  n = n + 1
  local query = queries[(n - 1) % #queries + 1]
  local body = query[1]
  if cold then
    body = string.gsub(before, "{{tag}}", run .. "n" .. n) .. body
  end
  return wrk.format("POST", nil, {{["Content-Type"] = "application/sparql-query", ["Accept"] = query[2]}}, body)
end
{report}"""


#: The configurations measured: (name, the servers nginx sends to, by index into the servers started).
CONFIGS = [("1 replica", [0]), ("2 replicas", [0, 1])]
CONTROL = ("1 x 4 workers", [2])


@dataclass
class Run:
    """One measured run: a configuration, a mix and what wrk and /proc said."""

    config: str
    mix: str
    answers: int
    errors: int
    seconds: float
    p50_ms: float
    p99_ms: float
    cpu_ms: list[float]  # CPU time per answer of each replica's process tree

    @property
    def rps(self) -> float:
        return self.answers / self.seconds if self.seconds else 0.0


def mix_script(queries: list[Query], cold: bool) -> str:
    """The Lua that sends ``queries`` in turn, each text distinct when ``cold`` (the cold marker)."""
    entries = ", ".join(f"{{{lua_string(q.text)}, {lua_string(q.accept)}}}" for q in queries)
    before = MARKERS["prefix"][0].format(tag="{tag}")
    return MIX_SCRIPT.format(queries=entries, cold="true" if cold else "false", before=lua_string(before),
                             tag=run_tag(), report=WRK_REPORT)


def wrk(port: int, script: Path, *, concurrency: int, seconds: float) -> dict:
    """``wrk`` against nginx's ``/sparql`` for ``seconds``; its summary."""
    command = ["wrk", "-t1", f"-c{concurrency}", f"-d{max(1, round(seconds))}s", "--timeout=30s", "-s", str(script),
               f"http://{HOST}:{port}/sparql"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 90)
    line = next((out for out in done.stdout.splitlines() if out.startswith("WRKJSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk failed: {done.stdout}\n{done.stderr}")
    return json.loads(line[len("WRKJSON "):])


def one_replica_site(tmp: Path) -> Path:
    """deploy/nginx-replicas.conf with its upstream cut to the first replica."""
    lines = REPLICAS_SITE.read_text().splitlines(keepends=True)
    servers = [i for i, line in enumerate(lines) if re.match(r"\s*server 127\.0\.0\.1:\d+", line)]
    site = tmp / "nginx-one-replica.conf"
    site.write_text("".join(line for i, line in enumerate(lines) if i not in servers[1:]))
    return site


@contextlib.contextmanager
def replicas(workdir: Path, control: bool) -> Iterator[list[Server]]:
    """Two stores built apart from the seeds and an `aiwf serve` over each, on free ports; with
    ``control``, a third server over the first store with ``AIWF_WORKERS=4``."""
    running: list[Server] = []
    started = [("a", "a", {}), ("b", "b", {})] + ([("c", "a", {"AIWF_WORKERS": "4"})] if control else [])
    try:
        for name, store_name, extra in started:
            store = workdir / store_name / "store"
            if store_name == name:
                print(f"building replica {name} into {store}", file=sys.stderr)
                build_store(store, root=PROJECT, env={"SOURCE_DATE_EPOCH": EPOCH})
            port = free_port()
            server = Server(f"replica {name}", [str(PROJECT_BIN / "aiwf"), "serve"], "/sparql", workdir / f"{name}.log",
                            env={"HOST": HOST, "PORT": str(port), "AIWF_STORE": str(store),
                                 "AIWF_TRUSTED_PROXY": HOST, **extra}, port=port)
            running.append(server)
            server.start()
            server.wait_ready(120)
        yield running
    finally:
        for server in running:
            server.stop()


def measure(port: int, servers: list[Server], config: str, mix: str, queries: list[Query], workdir: Path,
            opts: argparse.Namespace) -> Run:
    """A warm-up and one measured wrk run of ``mix`` through nginx on ``port``."""
    script = workdir / f"{mix}.lua"
    script.write_text(mix_script(queries, cold=mix == "cold"), encoding="utf-8")
    wrk(port, script, concurrency=opts.concurrency, seconds=2)  # warm-up, not counted
    time.sleep(0.5)
    script.write_text(mix_script(queries, cold=mix == "cold"), encoding="utf-8")  # new tags: cold stays cold
    cpu = [server.cpu_seconds() for server in servers]
    data = wrk(port, script, concurrency=opts.concurrency, seconds=opts.seconds)
    used = [server.cpu_seconds() - before for server, before in zip(servers, cpu, strict=True)]
    answers = data["requests"] - data["status"]
    errors = data["status"] + data["timeout"] + data["connect"] + data["read"] + data["write"]
    return Run(config, mix, answers, errors, data["duration_us"] / 1e6, data["p50_us"] / 1000,
               data["p99_us"] / 1000, [seconds * 1000 / answers if answers else float("nan") for seconds in used])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10, help="measured seconds per run (default 10)")
    parser.add_argument("--rounds", type=int, default=2, help="rounds of every configuration and mix (default 2)")
    parser.add_argument("--concurrency", type=int, default=8, help="wrk connections to nginx (default 8)")
    parser.add_argument("--mixes", default="warm,cold", help="warm, cold or both (default both)")
    parser.add_argument("--control", action="store_true", help="also one replica with AIWF_WORKERS=4")
    parser.add_argument("--workdir", type=Path, help="keep the stores and logs here (default: a temporary directory)")
    parser.add_argument("--output", type=Path, help="also write the report to this file")
    args = parser.parse_args()
    mixes = [mix for mix in ("warm", "cold") if mix in args.mixes.split(",")]
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if nginx is None or shutil.which("wrk") is None:
        parser.error("needs nginx and wrk (Debian: apt-get install nginx wrk)")
    if not mixes or not 0 < args.seconds <= 120 or not 0 < args.rounds <= 10:
        parser.error("choose --mixes warm and/or cold, --seconds up to 120 and --rounds up to 10")
    queries = load_queries(PROJECT / "queries")
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="aiwf-replicas-"))
    workdir.mkdir(parents=True, exist_ok=True)
    lines: list[str] = []

    def say(line: str = "") -> None:
        print(line, flush=True)
        lines.append(line)

    load_before = os.getloadavg()
    runs: list[Run] = []
    try:
        with replicas(workdir, args.control) as servers:
            configs = CONFIGS + ([CONTROL] if args.control else [])
            one = one_replica_site(workdir)
            say(f"# aiwf serve replicas behind nginx (deploy/nginx-replicas.conf): the example-query mix, "
                f"{len(queries)} queries of queries/*.rq in turn")
            say(f"# {time.strftime('%Y-%m-%d %H:%M:%S %Z')}; {os.cpu_count()} cores shared by wrk, nginx and the "
                f"replicas; wrk -t1 -c{args.concurrency}, {args.seconds:g} s per run after a 2 s warm-up; "
                f"{args.rounds} round(s); each replica: aiwf serve with its defaults (2 server processes) over its "
                "own store; nginx: 1 worker process")
            say("# warm = the same texts again (answers from the replicas' caches); cold = every text distinct "
                "(every answer computed); cpu ms/answer = each replica's process-tree CPU time / answers")
            say()
            names = " / ".join(server.name.split()[-1] for server in servers)
            say(f"{'round':>5}  {'config':13}  {'mix':4}  {'answers':>7}  {'errors':>6}  {'req/s':>7}  "
                f"{'p50 ms':>6}  {'p99 ms':>6}  cpu ms/answer ({names})")
            for round_number in range(1, args.rounds + 1):
                for mix in mixes:
                    for number, (config, used) in enumerate(configs):
                        port = free_port()
                        nginx_dir = workdir / f"nginx-{round_number}-{mix}-{number}"
                        nginx_dir.mkdir()
                        upstream = [servers[i].port for i in used]
                        site = one if len(used) == 1 else REPLICAS_SITE
                        with running_nginx(nginx, port, upstream, nginx_dir, site=site):
                            run = measure(port, servers, config, mix, queries, workdir, args)
                        runs.append(run)
                        say(f"{round_number:>5}  {config:13}  {mix:4}  {run.answers:>7}  {run.errors:>6}  "
                            f"{run.rps:>7.1f}  {run.p50_ms:>6.1f}  {run.p99_ms:>6.1f}  "
                            f"{' / '.join(f'{ms:.2f}' for ms in run.cpu_ms)}")
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    say()
    for mix in mixes:
        mean = {config: sum(r.rps for r in runs if r.mix == mix and r.config == config) / args.rounds
                for config, _ in configs}
        control = (f"; one replica with 4 server processes {mean[CONTROL[0]]:.1f} req/s "
                   f"(x {mean[CONTROL[0]] / mean['1 replica']:.2f})" if args.control else "")
        say(f"{mix} mix, mean of {args.rounds} round(s): one replica {mean['1 replica']:.1f} req/s, two replicas "
            f"{mean['2 replicas']:.1f} req/s: two / one = {mean['2 replicas'] / mean['1 replica']:.2f}{control}")
    say(f"errors: {sum(run.errors for run in runs)}; load average {load_before[0]:.1f} before, "
        f"{os.getloadavg()[0]:.1f} after")
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return 1 if any(run.errors for run in runs) else 0


if __name__ == "__main__":
    sys.exit(main())
