"""Normal requests while slow clients hold sockets open, against `aiwf serve` alone or behind nginx.

    .venv/bin/python benchmarks/slow_clients.py                 # 500 half-sent + 100 slow bodies, 60 s
    .venv/bin/python benchmarks/slow_clients.py --nginx         # the same with deploy/nginx.conf in front
    .venv/bin/python benchmarks/slow_clients.py --seconds 10 --stalled 50 --slow 10

Loopback only and bounded: a temporary store of the tests' sample triples, a server on a free
port of 127.0.0.1, at most ``--stalled`` + ``--slow`` sockets for ``--seconds`` seconds.
Prints p50/p99/max latency and failures of ``GET /health`` and an ``ASK`` query.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from conftest import make_dataset, sample_triples
from nhs_ai_workforce.core.namespaces import ProjectNamespaces
from nhs_ai_workforce.core.settings import Settings
from nhs_ai_workforce.core.terms import oxigraph_quads
from nhs_ai_workforce.store.builds import load_store, swap_in
from servers import free_port, running_server
from slow_clients import ASK, Attack, normal_requests, running_nginx


def report(name: str, measured) -> None:
    print(f"  {name:8} {len(measured.latencies):6} answered  statuses {dict(measured.statuses)}  "
          f"p50 {measured.quantile(0.5) * 1000:6.1f} ms  p99 {measured.quantile(0.99) * 1000:6.1f} ms  "
          f"max {max(measured.latencies, default=float('nan')) * 1000:7.1f} ms  failures {len(measured.failures)}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--stalled", type=int, default=500)
    parser.add_argument("--slow", type=int, default=100)
    parser.add_argument("--nginx", action="store_true", help="put Debian's nginx in front (deploy/nginx.conf)")
    args = parser.parse_args()
    if not 0 < args.seconds <= 120 or args.stalled + args.slow > 2000:
        parser.error("keep it bounded: at most 120 s and 2000 sockets")
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(root=Path(tmp))
        ns = ProjectNamespaces(settings.base)
        swap_in(load_store(oxigraph_quads(make_dataset(ns, sample_triples(ns))), settings), settings)
        with running_server(settings.store_path) as origin:
            port = int(origin.rsplit(":", 1)[1])
            front = nullcontext()
            if args.nginx:
                nginx = shutil.which("nginx") or "/usr/sbin/nginx"
                port = free_port()
                (Path(tmp) / "nginx").mkdir()
                front = running_nginx(nginx, port, int(origin.rsplit(":", 1)[1]), Path(tmp) / "nginx")
            with front:
                print(f"{'nginx -> ' if args.nginx else ''}aiwf serve: {args.stalled} half-sent requests and "
                      f"{args.slow} slow bodies held for {args.seconds:g} s")
                with Attack(port, stalled=args.stalled, slow=args.slow) as attack:
                    time.sleep(0.5)
                    started = time.monotonic()
                    with ThreadPoolExecutor(2) as pool:
                        health = pool.submit(normal_requests, port, args.seconds, clients=4)
                        queries = pool.submit(normal_requests, port, args.seconds, clients=2, path=ASK)
                        health, queries = health.result(), queries.result()
                    held = attack.open_now
                print(f"  held at the end: {held} sockets; attack sockets opened {dict(attack.opened)}; "
                      f"server answers to them {dict(attack.answers)}; ran {time.monotonic() - started:.1f} s")
                report("/health", health)
                report("ASK", queries)
    failed = health.failures or queries.failures or set(health.statuses) | set(queries.statuses) != {200}
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
