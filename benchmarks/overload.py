"""Overload: 50 concurrent runaway queries from one address; how fast another address is answered.

Starts ``aiwf serve`` on a free port of 127.0.0.1 over a small numbered store, opens
``--hogs`` connections from 127.0.0.1 that send a runaway cross product again and again, and
meanwhile times ``--requests`` simple queries and ``/health`` requests from 127.0.0.2 (another
client). Prints the hog's answers by status and p50 / p99 / max of the other client's times.
Bounded: at most ``--seconds`` of load, loopback only.

    .venv/bin/python benchmarks/overload.py                    # defaults of aiwf serve
    .venv/bin/python benchmarks/overload.py --threads 16       # more request threads per process
    .venv/bin/python benchmarks/overload.py --set AIWF_QUERY_LEND=0   # no slot lent past a share
"""

from __future__ import annotations

import argparse
import http.client
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from conftest import numbered_store
from nhs_ai_workforce.core.settings import Settings
from servers import free_port

RUNAWAY = "SELECT (COUNT(*) AS ?n) { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
COUNT = "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }"


def get(source: str, port: int, path: str) -> tuple[int, float]:
    started = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60, source_address=(source, 0))
    try:
        conn.request("GET", path, headers={"Accept": "application/sparql-results+json"})
        response = conn.getresponse()
        response.read()
        return response.status, time.monotonic() - started
    except (OSError, http.client.HTTPException):  # not listening yet (a socket may even connect to itself)
        return 0, time.monotonic() - started
    finally:
        conn.close()


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hogs", type=int, default=50)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--threads", type=int, help="aiwf serve --threads (default: its own)")
    parser.add_argument("--set", action="append", default=[], metavar="AIWF_NAME=VALUE",
                        help="a setting of the server (default: none, its defaults)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as root:
        settings = numbered_store(Settings(root=Path(root)))
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("AIWF_")}
        env.update(HOST="127.0.0.1", PORT=str(port), AIWF_STORE=str(settings.store_path))
        env.update(setting.split("=", 1) for setting in args.set)
        command = [str(Path(sys.executable).with_name("aiwf")), "serve"]
        if args.threads:
            command += ["--threads", str(args.threads)]
        server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 60
            while get("127.0.0.1", port, "/health")[0] != 200:
                if time.monotonic() > deadline:
                    raise SystemExit("aiwf serve did not start")
                time.sleep(0.2)
            stop = threading.Event()
            hog_statuses: Counter[int] = Counter()

            def hog() -> None:
                while not stop.is_set():
                    hog_statuses[get("127.0.0.1", port, "/sparql?query=" + quote(RUNAWAY))[0]] += 1

            hogs = [threading.Thread(target=hog, daemon=True) for _ in range(args.hogs)]
            for thread in hogs:
                thread.start()
            time.sleep(2)  # let the flood fill the slots and the queue
            times: dict[str, list[float]] = {"query": [], "health": []}
            failures: Counter[str] = Counter()
            end = time.monotonic() + args.seconds
            for _ in range(args.requests):
                if time.monotonic() > end:
                    break
                for name, path in (("query", "/sparql?query=" + quote(COUNT)), ("health", "/health")):
                    status, took = get("127.0.0.2", port, path)
                    times[name].append(took)
                    if status != 200:
                        failures[f"{name} {status}"] += 1
                time.sleep(0.05)
            stop.set()
            for thread in hogs:
                thread.join(60)
        finally:
            server.terminate()
            server.wait(30)
    print(f"hog ({args.hogs} connections from 127.0.0.1), answers by status: {dict(sorted(hog_statuses.items()))}")
    for name, values in times.items():
        print(f"other client {name:6s} n={len(values)} p50={percentile(values, 0.5) * 1000:.0f} ms "
              f"p99={percentile(values, 0.99) * 1000:.0f} ms max={max(values) * 1000:.0f} ms")
    print(f"other client failures: {dict(failures) or 'none'}")


if __name__ == "__main__":
    main()
