"""The servers under test: how each is prepared, started, measured (CPU, memory) and stopped.

* ``aiwf``: this project, started exactly as the README says (``aiwf serve`` with ``HOST``,
  ``PORT`` and ``AIWF_STORE``), over a store loaded with the project's own ``load_store``;
* ``oxigraph``: ``oxigraph serve --union-default-graph`` over an on-disk store made by
  ``oxigraph load`` and ``oxigraph optimize``;
* ``oxigraph-mem``: ``oxigraph serve --union-default-graph`` without ``--location`` (an
  in-memory store); the CLI cannot load a file at start, so the N-Quads file is POSTed to its
  ``/store`` endpoint once it answers, and that load is timed apart from its first answer;
* ``rdflib-ep``: ``rdflib-endpoint serve FILE`` (an in-memory rdflib ``Dataset`` whose default
  graph is the union, as ours is).

Every server runs in a session of its own, so its whole process tree (a master and its
workers or query processes) is found through ``/proc`` by session id, summed for CPU time and
memory, and stopped as one group.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from clients import HOST, Query, request

HERE = Path(__file__).resolve().parent
PROJECT = HERE.parent
PROJECT_BIN = PROJECT / ".venv" / "bin"
BENCH_BIN = HERE / ".venv" / "bin"

SERVERS = ["aiwf", "oxigraph", "oxigraph-mem", "rdflib-ep"]
OXIGRAPH_PEERS = ["oxigraph", "oxigraph-mem"]
PROBE = Query("probe", "ASK { ?s ?p ?o }")


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
    load_file: Path | None = None  # N-Quads to POST to /store once the server answers
    copies: bool = False  # its query processes copy the store into memory after the first answer (aiwf)
    port: int = 0
    process: subprocess.Popen | None = None
    started: float = 0.0
    first_answer_s: float | None = None
    load_s: float | None = None
    memory: dict[str, float] = field(default_factory=dict)  # MB: rss/pss at start and peak

    def start(self) -> None:
        env = {**os.environ, **self.env}
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("wb") as log:  # one run per server and dataset: a fresh log
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
        """Seconds from spawn (or from now) to the first successful answer to an ASK."""
        begin = self.started if record else time.perf_counter()
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            if self.process and self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}; see {self.log}")
            try:
                status, _, _ = request(self, PROBE, timeout=5)
            except (OSError, http.client.HTTPException):
                time.sleep(0.02)
                continue
            if status == 200:
                seconds = time.perf_counter() - begin
                if record:
                    self.first_answer_s = seconds
                return seconds
            time.sleep(0.05)
        raise RuntimeError(f"{self.name} gave no answer within {timeout:.0f} s; see {self.log}")

    def load(self, timeout: float) -> None:
        """POST ``load_file`` to the Graph Store endpoint (``oxigraph-mem``), or wait until the
        query processes have copied the store into memory (``aiwf``); times it."""
        if self.copies:
            self._wait_for_copies(timeout)
        if self.load_file is None:
            return
        size = self.load_file.stat().st_size
        connection = http.client.HTTPConnection(HOST, self.port, timeout=timeout)
        begin = time.perf_counter()
        try:
            with self.load_file.open("rb") as body:
                connection.request(
                    "POST",
                    "/store",
                    body=body,
                    headers={"Content-Type": "application/n-quads", "Content-Length": str(size)},
                )
                response = connection.getresponse()
                text = response.read()[:200].decode(errors="replace")
        finally:
            connection.close()
        if not 200 <= response.status < 300:
            raise RuntimeError(f"{self.name}: loading {self.load_file.name} gave HTTP {response.status}: {text}")
        self.load_s = time.perf_counter() - begin

    def _wait_for_copies(self, timeout: float) -> None:
        """Until ``/health`` says no query process is still copying the store: a query process
        tells when it answers, so a distinct ASK is sent every 0.1 s meanwhile."""
        begin = time.perf_counter()
        for n in range(int(timeout * 10)):
            connection = http.client.HTTPConnection(HOST, self.port, timeout=10)
            try:
                connection.request("GET", "/health")
                queries = json.loads(connection.getresponse().read()).get("queries", {})
            finally:
                connection.close()
            if not queries.get("copying"):
                if n:
                    self.load_s = time.perf_counter() - begin
                return
            request(self, PROBE, timeout=10, text=f"PREFIX copy{n}: <urn:x-benchmark:copy:{n}>\n{PROBE.text}")
            time.sleep(0.1)
        raise RuntimeError(f"{self.name}: its query processes were still copying the store after {timeout:.0f} s")

    # -- the process tree, from /proc ---------------------------------------------------------

    def pids(self) -> list[int]:
        """Every process in the server's session (its master, workers, query processes)."""
        found = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            with contextlib.suppress(OSError, IndexError, ValueError):
                fields = stat.read_text().rsplit(")", 1)[1].split()
                if self.process and int(fields[3]) == self.process.pid:
                    found.append(int(stat.parent.name))
        return sorted(found)

    def cpu_seconds(self) -> float:
        """CPU time used so far by the server's processes, with their reaped children."""
        ticks = 0
        for pid in self.pids():
            with contextlib.suppress(OSError, IndexError, ValueError):
                fields = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
                ticks += sum(int(value) for value in fields[11:15])  # utime stime cutime cstime
        return ticks / os.sysconf("SC_CLK_TCK")

    def memory_mb(self) -> tuple[float, float | None]:
        """RSS and PSS summed over the process tree (PSS shares pages common to several of
        its processes out among them, so it does not count them twice; None if unreadable)."""
        rss = pss = 0
        pss_ok = True
        for pid in self.pids():
            proc = Path("/proc") / str(pid)
            try:
                rollup = (proc / "smaps_rollup").read_text()
            except OSError:
                rollup, pss_ok = "", False
            values = {
                line.split(":")[0]: int(line.split()[1]) for line in rollup.splitlines() if line[:4] in ("Rss:", "Pss:")
            }
            if "Rss" not in values:
                with contextlib.suppress(OSError, IndexError, ValueError):
                    status = (proc / "status").read_text()
                    values["Rss"] = int(next(x for x in status.splitlines() if x.startswith("VmRSS:")).split()[1])
            rss += values.get("Rss", 0)
            pss_ok = pss_ok and "Pss" in values
            pss += values.get("Pss", 0)
        return rss / 1024, (pss / 1024 if pss_ok else None)

    def sample_memory(self, when: str) -> None:
        """Record the tree's RSS and PSS as ``when`` (``start``) and keep the peak of all samples."""
        rss, pss = self.memory_mb()
        if when:
            self.memory[f"{when}_rss"] = rss
            if pss is not None:
                self.memory[f"{when}_pss"] = pss
        self.memory["peak_rss"] = max(self.memory.get("peak_rss", 0.0), rss)
        if pss is not None:
            self.memory["peak_pss"] = max(self.memory.get("peak_pss", 0.0), pss)

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


def launch(server: Server) -> None:
    """Start ``server`` on a free port (its command's ``{host}`` and ``{port}`` filled in), and
    list it in :data:`RUNNING` so that :func:`stop_all` ends it."""
    server.port = free_port()
    server.command = [part.format(host=HOST, port=server.port) for part in server.command]
    server.env["PORT"] = str(server.port)
    RUNNING.append(server)
    server.start()


def stop_all() -> None:
    for server in list(RUNNING):
        server.stop()
        RUNNING.remove(server)


# -- stores -----------------------------------------------------------------------------------


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


def servers_for(dataset: str, nq: Path, workdir: Path, names: list[str]) -> tuple[list[Server], dict[str, float]]:
    """The servers named in ``names`` for one dataset, with their stores prepared (timed)."""
    base = workdir / dataset
    link = base / "aiwf" / "store"
    prep: dict[str, float] = {}
    if "aiwf" in names:
        prep["aiwf"] = prepare_aiwf_store(nq, link)
    if "oxigraph" in names:
        prep["oxigraph"] = prepare_oxigraph_store(nq, base / "oxigraph")
    oxigraph = str(BENCH_BIN / "oxigraph")
    every = [
        Server(
            "oxigraph",
            [
                oxigraph,
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
            "oxigraph-mem",
            [oxigraph, "serve", "--bind", "{host}:{port}", "--union-default-graph"],
            "/query",
            base / "oxigraph-mem.log",
            load_file=nq,
        ),
        Server(
            "aiwf",
            [str(PROJECT_BIN / "aiwf"), "serve"],
            "/sparql",
            base / "aiwf.log",
            env={"HOST": HOST, "AIWF_STORE": str(link)},
            copies=True,
        ),
        Server(
            "rdflib-ep",
            [str(BENCH_BIN / "rdflib-endpoint"), "serve", str(nq), "--host", HOST, "--port", "{port}"],
            "/",
            base / "rdflib-endpoint.log",
        ),
    ]
    return [server for server in every if server.name in names], prep
