"""The benchmark's queries and HTTP clients: one checked request, a Python closed loop, ``wrk``.

Two mixes are sent (see ``MIXES``): **warm**, the same query text on every request, as a real
client repeating itself sends it; and **cold**, every request a distinct text with the same
answer and cost, so no server can reuse an earlier answer. A cold text is the query with a
marker holding a unique tag (``MARKERS``): by default an unused ``PREFIX`` declaration at the
top, which changes neither the algebra nor the answer, and survives a normalisation that
drops comments and folds spaces (an answer cache keyed by normalised text would otherwise
see one query).
"""

from __future__ import annotations

import http.client
import itertools
import json
import re
import statistics
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

HOST = "127.0.0.1"
SOLUTIONS = "application/sparql-results+json"
TRIPLES = "application/n-triples"

MIXES = ("warm", "cold")

#: Cold-mix markers: (text before the query, text after it); ``{tag}`` is unique per request.
MARKERS = {
    # An unused prefix: part of the query's prologue, not of its algebra.
    "prefix": ("PREFIX cold{tag}: <urn:x-benchmark:cold:{tag}>\n", ""),
    # A comment line: the cleanest, but invisible to a key that drops comments.
    "comment": ("", "\n# cold {tag}\n"),
    # A trailing VALUES with a variable the query never uses: joins one row to the solutions
    # (changes the algebra; not usable after a query that ends with VALUES already).
    "values": ("", '\nVALUES ?__cold {{ "{tag}" }}\n'),
}

_COMMENT_OR_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|<[^<>\s]*>|#[^\n]*')
_FORM = re.compile(r"\b(SELECT|ASK|CONSTRUCT|DESCRIBE)\b", re.IGNORECASE)
_RUNS = itertools.count(1)


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


def run_tag() -> str:
    """A tag no earlier load run of this process used (the run's number and the clock)."""
    return f"{next(_RUNS)}t{time.time_ns() % 10**12}"


def marked(text: str, marker: str, tag: str) -> str:
    """``text`` with the cold-mix ``marker`` carrying ``tag`` (letters and digits only)."""
    before, after = MARKERS[marker]
    return before.format(tag=tag) + text + after.format(tag=tag)


# -- one request ------------------------------------------------------------------------------


def request(
    server, query: Query, timeout: float, text: str | None = None, seen: dict[str, str] | None = None
) -> tuple[int, float, bytes]:
    """One POST (application/sparql-query) to ``server.port``/``server.path``: status, seconds,
    body; the response's headers (lower-case names) go into ``seen`` if given."""
    connection = http.client.HTTPConnection(HOST, server.port, timeout=timeout)
    try:
        begin = time.perf_counter()
        connection.request(
            "POST",
            server.path,
            body=(query.text if text is None else text).encode(),
            headers={"Content-Type": "application/sparql-query", "Accept": query.accept},
        )
        response = connection.getresponse()
        body = response.read()
        if seen is not None:
            seen.update((name.lower(), value) for name, value in response.getheaders())
        return response.status, time.perf_counter() - begin, body
    finally:
        connection.close()


# -- load -------------------------------------------------------------------------------------


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
    server,
    query: Query,
    *,
    concurrency: int,
    max_requests: int,
    seconds: float,
    timeout: float,
    marker: str | None = None,
) -> Measure:
    """A closed loop of keep-alive connections; no request starts after the deadline and
    none is abandoned, so the server is idle when this returns. With ``marker``, every
    request's text is distinct (the cold mix)."""
    lock = threading.Lock()
    started = [0]
    latencies: list[float] = []
    errors = [0]
    tag = run_tag()
    fixed = query.text.encode()
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
                    number = started[0]
                body = marked(query.text, marker, f"{tag}n{number}").encode() if marker else fixed
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


#: The Lua ``done`` of every wrk run: one ``WRKJSON {...}`` line that :func:`wrk_load` reads.
WRK_REPORT = """
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "WRKJSON {\\"requests\\": %d, \\"duration_us\\": %d, \\"status\\": %d, \\"timeout\\": %d, "
    .. "\\"connect\\": %d, \\"read\\": %d, \\"write\\": %d, \\"p50_us\\": %d, \\"p99_us\\": %d}\\n",
    summary.requests, summary.duration, e.status, e.timeout, e.connect, e.read, e.write,
    latency:percentile(50), latency:percentile(99)))
end
"""

WRK_SCRIPT = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/sparql-query"
wrk.headers["Accept"] = "{accept}"
wrk.body = [{level}[{body}]{level}]
local cold = {cold}
local before = {before}
local after = {after}
local run = "{tag}"
local n = 0
if cold then
  request = function()
    n = n + 1
    local tag = run .. "n" .. n
    local head = string.gsub(before, "{{tag}}", tag)
    local tail = string.gsub(after, "{{tag}}", tag)
    return wrk.format(nil, nil, nil, head .. wrk.body .. tail)
  end
end
{report}"""


def lua_string(text: str) -> str:
    """A double-quoted Lua string literal of ``text`` (ASCII)."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    return f'"{escaped}"'


def wrk_script(query: Query, marker: str | None, tag: str) -> str:
    """The Lua for one wrk run: a fixed body (warm), or a distinct body per request (cold)."""
    # The marker's two parts with a literal ``{tag}``, which the Lua replaces per request.
    before, after = (part.format(tag="{tag}") for part in MARKERS[marker]) if marker else ("", "")
    level = "=" * 8
    while f"]{level}]" in query.text:
        level += "="
    return WRK_SCRIPT.format(
        accept=query.accept,
        level=level,
        body=query.text,
        cold="true" if marker else "false",
        before=lua_string(before),
        after=lua_string(after),
        tag=tag,
        report=WRK_REPORT,
    )


def wrk_load(
    server,
    query: Query,
    *,
    concurrency: int,
    seconds: float,
    timeout: float,
    workdir: Path,
    marker: str | None = None,
) -> Measure:
    """``wrk`` for ``seconds`` (wrk runs for a duration; it has no request cap). With
    ``marker``, a Lua ``request`` function gives every request a distinct text."""
    script = workdir / "wrk.lua"
    script.write_text(wrk_script(query, marker, run_tag()), encoding="utf-8")
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
