"""A longer fuzz run than the suite's (``tests/web/test_fuzz.py``), against a real ``aiwf serve``.

Builds the graph into a temporary directory, starts ``aiwf serve`` on a free port of 127.0.0.1
(as ``reliability.py`` does) and sends Hypothesis-drawn requests over raw sockets (so query
strings and bodies carry any bytes): SPARQL queries by ``GET`` and both ``POST`` forms with
random ``Accept`` and ``format``, ``/doc/``, ``/id/``, ``/data/`` and ``/def/`` paths, and
reconciliation batches, extensions, suggestions and previews. Every answer must be under 500
(or a 503/504 refusal in the one error shape) with no ``Traceback`` in it. Needs the project's
virtualenv (Hypothesis is in the ``test`` extra)::

    .venv/bin/python benchmarks/fuzz.py                       # 2,000 examples, at most 120 s
    .venv/bin/python benchmarks/fuzz.py --examples 20000 --seconds 600 --seed 7

Loopback only; bounded by ``--examples`` and ``--seconds``; the server is stopped at the end.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import socket
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote, urlencode

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent / "tests" / "web")]

from hypothesis import HealthCheck, given, seed, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from reliability import HOST, build, server  # noqa: E402
from test_fuzz import ACCEPTS, BATCHES, FORMAT_VALUES, JSON_VALUES, QUERIES, RAW_QUERY_STRINGS  # noqa: E402

#: What Python prints for an uncaught exception (the words alone are a fuzz input, echoed in 404s).
TRACEBACK = re.compile(rb'^Traceback \(most recent call last\):\s+File "', re.MULTILINE)
ERROR_KEYS = {"ok", "status", "title", "error", "line", "column"}


def send(port: int, method: str, target: bytes, headers: dict[str, str], body: bytes = b"") -> tuple[int, bytes]:
    """One request with its bytes exactly as given; (status, body), status 0 for a connection error."""
    lines = [f"{method} ".encode() + target + b" HTTP/1.1", b"Host: 127.0.0.1", b"Connection: close",
             f"Content-Length: {len(body)}".encode()]
    lines += [f"{key}: {value}".encode("latin-1", errors="replace") for key, value in headers.items()]
    try:
        with socket.create_connection((HOST, port), timeout=60) as sock:
            sock.sendall(b"\r\n".join(lines) + b"\r\n\r\n" + body)
            data = b""
            while chunk := sock.recv(65536):
                data += chunk
    except OSError:
        return 0, b""
    head, _, payload = data.partition(b"\r\n\r\n")
    try:
        return int(head.split()[1]), payload
    except (IndexError, ValueError):
        return 0, data


class Fuzzer:
    def __init__(self, port: int, seconds: float) -> None:
        self.port, self.deadline = port, time.monotonic() + seconds
        self.sent, self.statuses, self.failures = 0, {}, []

    def __call__(self, method: str, target: str | bytes, accept: str | None = None, body: bytes = b"",
                 content_type: str | None = None) -> None:
        if time.monotonic() > self.deadline:
            return
        headers = {key: value for key, value in (("Accept", accept), ("Content-Type", content_type)) if value}
        raw = target if isinstance(target, bytes) else target.encode()
        status, payload = send(self.port, method, raw, headers, body)
        self.sent += 1
        self.statuses[status] = self.statuses.get(status, 0) + 1
        bad = status == 0 or (status >= 500 and status not in (503, 504)) or TRACEBACK.search(payload) is not None
        if not bad and status >= 400 and payload.startswith(b"{"):
            with contextlib.suppress(ValueError):
                bad = set(json.loads(payload)) != ERROR_KEYS
        if bad and len(self.failures) < 20:
            self.failures.append(f"{method} {raw[:200]!r} Accept={accept!r} body={body[:100]!r} -> {status}: "
                                 f"{payload[:300]!r}")


def targets(fuzz: Fuzzer, known: list[str]):
    """The Hypothesis tests, each bound to ``fuzz``."""

    @given(query=QUERIES, accept=ACCEPTS, fmt=FORMAT_VALUES, how=st.sampled_from(["GET", "form", "direct"]))
    def sparql(query, accept, fmt, how):
        args = {"format": fmt} if fmt is not None else {}
        if how == "GET":
            fuzz("GET", "/sparql?" + urlencode({"query": query, **args}), accept)
        elif how == "form":
            fuzz("POST", "/sparql", accept, urlencode({"query": query, **args}).encode(),
                 "application/x-www-form-urlencoded")
        else:
            body = query if isinstance(query, bytes) else query.encode()
            fuzz("POST", "/sparql?" + urlencode(args), accept, body, "application/sparql-query")

    @given(raw=RAW_QUERY_STRINGS, path=st.sampled_from(["/sparql", "/doc/", "/data/", "/reconcile", "/"]),
           body=st.binary(max_size=200), accept=ACCEPTS)
    def raw_bytes(raw, path, body, accept):
        fuzz("GET", path.encode() + b"?" + raw.encode("latin-1"), accept)
        fuzz("POST", b"/sparql?" + raw.encode("latin-1"), accept, body, "application/sparql-query")

    @given(path=st.one_of(st.sampled_from(known), st.text(max_size=40)), accept=ACCEPTS,
           prefix=st.sampled_from(["/doc/", "/id/", "/data/", "/def/aiwf/"]),
           suffix=st.sampled_from(["", ".ttl", ".html", ".jsonld", ".nq", "/"]))
    def pages(path, accept, prefix, suffix):
        fuzz("GET", prefix + quote(path + suffix, safe="/"), accept)

    @given(batch=BATCHES, extend=JSON_VALUES.map(json.dumps), prefix=st.text(max_size=20),
           entity=st.one_of(st.sampled_from(known), st.text(max_size=40)), number=st.text(max_size=6))
    def reconcile(batch, extend, prefix, entity, number):
        fuzz("POST", "/reconcile", None, urlencode({"queries": batch}).encode(), "application/x-www-form-urlencoded")
        fuzz("GET", "/reconcile?" + urlencode({"extend": extend}))
        fuzz("POST", "/reconcile/1.0-draft/match", None, batch.encode(), "application/json")
        fuzz("GET", "/reconcile/suggest/entity?" + urlencode({"prefix": prefix, "cursor": number}))
        fuzz("GET", "/reconcile/preview?" + urlencode({"id": entity, "width": number}))

    return [sparql, raw_bytes, pages, reconcile]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=2000, help="examples per target (default 2000)")
    parser.add_argument("--seconds", type=float, default=120, help="stop sending after this (default 120)")
    parser.add_argument("--seed", type=int, default=0, help="Hypothesis seed (default 0)")
    opts = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="aiwf-fuzz-") as temp:
        store = Path(temp) / "store"
        if not build(store, Path(temp) / "build.log"):
            raise SystemExit("aiwf build failed")
        with server(store, Path(temp) / "server.log") as (port, _):
            query = urlencode({"query": "SELECT DISTINCT ?s { ?s a ?t FILTER(isIRI(?s)) } LIMIT 50"})
            _, payload = send(port, "GET", f"/sparql?{query}".encode(), {"Accept": "application/json"})
            iris = [row["s"]["value"] for row in json.loads(payload)["results"]["bindings"]]
            known = iris + [iri.split("/id/", 1)[1] for iri in iris if "/id/" in iri]
            fuzz = Fuzzer(port, opts.seconds)
            started = time.monotonic()
            config = settings(max_examples=opts.examples, deadline=None, database=None,
                              suppress_health_check=list(HealthCheck))
            for target in targets(fuzz, known):
                seed(opts.seed)(config(target))()
            elapsed = time.monotonic() - started
            log = (Path(temp) / "server.log").read_bytes()
    print(f"{fuzz.sent} requests in {elapsed:.0f} s; statuses {dict(sorted(fuzz.statuses.items()))}")
    print(f"server log tracebacks: {len(TRACEBACK.findall(log))}")
    for start in [m.start() for m in TRACEBACK.finditer(log)][:3]:
        print(log[start:start + 1500].decode(errors="replace"))
    for failure in fuzz.failures:
        print("FAIL", failure)
    return 1 if fuzz.failures or TRACEBACK.search(log) else 0


if __name__ == "__main__":
    sys.exit(main())
