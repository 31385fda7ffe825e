"""One place for the base URI, the project's paths and the service limits.

Every value can be overridden from the environment (``AIWF_BASE``, ``AIWF_STORE``...), so the
same code serves the graph on localhost and on a real domain.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

DEFAULT_BASE = "https://nhs-ai-workforce.example.org"
#: A store copied into memory takes about this many times its size on disk (460 bytes a quad).
STORE_COPY_RATIO = 2.5


def _project_root() -> Path:
    """The checkout that holds ``seeds/``: the source tree, else the working directory."""
    here = Path(__file__).resolve().parents[3]
    if (here / "seeds").is_dir():
        return here
    return Path.cwd()


def _half_of_memory_mb() -> int:
    """Half of this machine's physical memory in MB (the default memory cap of all query processes)."""
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // (2 * 1024 * 1024)
    except (ValueError, OSError, AttributeError):  # pragma: no cover - no sysconf on this platform
        return 4096


#: Environment variables read as numbers: (name, field, type).
_LIMITS = (
    ("AIWF_RESULT_LIMIT_BYTES", "result_limit_bytes", int),
    ("AIWF_QUERY_WORKERS", "query_workers", int),
    ("AIWF_QUERY_SPARES", "query_spares", int),
    ("AIWF_QUERY_MEMORY_MB", "query_memory_mb", int),
    ("AIWF_QUERY_QUEUE", "query_queue", int),
    ("AIWF_QUERY_SLOTS_PER_CLIENT", "query_slots_per_client", int),
    ("AIWF_UPDATE_TIMEOUT", "update_timeout_s", float),
    ("AIWF_UPDATE_MEMORY_MB", "update_memory_mb", int),
    ("AIWF_UPDATE_MAX_REMOVED_SHARE", "update_max_removed_share", float),
    ("AIWF_WORKERS", "workers", int),
    ("AIWF_MAX_CONNECTIONS", "max_connections", int),
    ("AIWF_HEADER_TIMEOUT", "header_timeout_s", float),
    ("AIWF_BODY_TIMEOUT", "body_timeout_s", float),
    ("AIWF_KEEP_BUILDS", "keep_builds", int),
    ("AIWF_REMOTE_CONNECT_TIMEOUT", "remote_connect_timeout_s", float),
    ("AIWF_REMOTE_TIMEOUT", "remote_timeout_s", float),
    ("AIWF_REMOTE_ATTEMPTS", "remote_attempts", int),
    ("AIWF_ANSWER_CACHE_MB", "answer_cache_mb", int),
    ("AIWF_ANSWER_MAX_AGE", "answer_max_age_s", int),
    ("AIWF_ANSWER_MIN_USES", "answer_min_uses", int),
    ("AIWF_REPLAY_MB", "replay_mb", int),
    ("AIWF_MEMORY_STORE_MB", "memory_store_mb", int),
    ("AIWF_SERVICE_TIMEOUT", "service_timeout_s", float),
    ("AIWF_SERVICE_MAX_BYTES", "service_max_bytes", int),
    ("AIWF_SPARQL_REFRESH", "sparql_refresh_s", float),
)


@dataclass(frozen=True)
class Settings:
    """Configuration shared by the build, the services, the web app and the CLI."""

    base: str = DEFAULT_BASE
    root: Path = field(default_factory=_project_root)
    store_dir: Path | None = None
    query_timeout_s: float = 10.0
    result_limit: int = 10_000
    max_request_bytes: int = 256 * 1024
    result_limit_bytes: int = 16 * 1024 * 1024  # a serialised result larger than this is refused
    query_workers: int = 2  # queries each server process runs at once, each in a killable process
    query_spares: int = 0  # idle query processes kept beside them, so a killed one's query finds another at once
    # memory (MB) all query processes of the server may use together (0: no cap); default half the machine's
    query_memory_mb: int = field(default_factory=lambda: _half_of_memory_mb())
    query_queue: int = 10  # requests each server process lets wait for a query slot; past it: 503
    query_slots_per_client: int | None = None  # slots one client is sure of (None: half of query_workers, min 1)
    query_lend: bool = True  # lend slots nobody else wants past a client's share, taken back when wanted
    query_allocator: str = "auto"  # malloc of query processes: auto (jemalloc if installed), system, or a .so path
    query_huge_pages: str = "auto"  # their malloc asks for 2 MB pages: auto (a large store in memory), always, never
    update_token: str | None = field(default=None, repr=False)  # enables POST /update when set
    update_timeout_s: float | None = None  # time limit of an update's process (None: query_timeout_s)
    update_memory_mb: int = 4096  # address-space cap of an update's process (0: none; it needs over 1 GB to start)
    update_max_removed_share: float = 0.1  # an update removing more of the graph needs confirm=yes
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1  # server processes started by `aiwf serve` (2 uses two cores for pages and cached answers)
    max_connections: int = 1000  # open connections each server process holds; more wait to be accepted
    header_timeout_s: float = 10.0  # a request head must arrive within this (and an idle connection closes)
    body_timeout_s: float = 30.0  # a request body must arrive within this after its head
    trusted_proxy: str | None = None  # the proxy's address whose X-Forwarded-* headers are believed
    keep_builds: int = 3  # complete builds kept for `aiwf rollback` (at least 2: readers hold the previous)
    dump_imports: bool = False  # the dumps (data/ and /data/) include the imported classifications' graphs
    # calls to other servers (`aiwf publish`, a remote store): seconds to connect, seconds without a byte,
    # attempts (core/remote.py)
    remote_connect_timeout_s: float = 10.0
    remote_timeout_s: float = 60.0
    remote_attempts: int = 3
    answer_cache_mb: int = 64  # answers kept per build on disk, shared by the server processes (0: no cache)
    answer_max_age_s: int = 60  # Cache-Control max-age of a GET answer (0: no-cache, revalidate each time)
    answer_min_uses: int = 2  # a query's answer is kept from its n-th request in a process (1: the first)
    replay_mb: int = 8  # responses each server process replays to repeated requests (web/replay.py; 0: none)
    memory_store_mb: int = 512  # query processes hold a store this small on disk (or smaller) in memory (0: never)
    memory_store_at_open_mb: int = 16  # ... copied as it is opened (some 90,000 quads); larger ones in the background
    # federated queries (sparql/federation.py): the endpoints SERVICE may call (none: SERVICE is refused),
    # and each call's time limit (within the query's) and answer size limit
    service_allow: tuple[str, ...] = ()
    service_timeout_s: float = 5.0
    service_max_bytes: int = 4 * 1024 * 1024
    # SOURCE_DATE_EPOCH (seconds since 1970 UTC): a build from files records it as when its data last
    # changed, for Last-Modified and dcterms:modified (store/builds.py); None: the time of the build
    source_date_epoch: int | None = None
    # serving from a remote store (store/remote_store.py): its SPARQL query endpoint (None: the embedded
    # store), and how often (seconds) a server reads the remote's publication record again
    sparql_url: str | None = None
    sparql_refresh_s: float = 5.0

    def __post_init__(self) -> None:
        # A relative root or store is taken against the working directory once, here, so every
        # consumer (Flask's send_file, child processes, symlinks) sees the same absolute path.
        object.__setattr__(self, "root", Path(self.root).absolute())
        if self.store_dir is not None:
            object.__setattr__(self, "store_dir", Path(self.store_dir).absolute())
        if self.query_huge_pages not in ("auto", "always", "never"):
            raise ValueError(f"AIWF_QUERY_HUGE_PAGES: {self.query_huge_pages!r} is not 'auto', 'always' or 'never'")

    @property
    def seeds_dir(self) -> Path:
        return self.root / "seeds"

    @property
    def ontology_dir(self) -> Path:
        return self.root / "ontology"

    @property
    def shapes_dir(self) -> Path:
        return self.root / "shapes"

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def queries_dir(self) -> Path:
        return self.root / "queries"

    @property
    def update_time_limit_s(self) -> float:
        """Seconds an update's process may run: ``update_timeout_s``, else the query time limit."""
        return self.query_timeout_s if self.update_timeout_s is None else self.update_timeout_s

    @property
    def query_requests_held(self) -> int:
        """Request threads queries may hold at once in one server process: running plus waiting.

        A server process needs more request threads than this, so pages and ``/health`` never
        wait behind queries.
        """
        return max(1, self.query_workers) + max(0, self.query_queue)

    @property
    def memory_store_bytes(self) -> int:
        """A store this small on disk (or smaller) is held in memory by the processes that query it.

        ``memory_store_mb``, and no more than lets every query process's copy (some 2.5 times the
        size on disk) fit in half of ``query_memory_mb``, so queries keep the other half.

        >>> Settings(query_memory_mb=12288).memory_store_bytes // 2**20
        512
        >>> Settings(query_memory_mb=1024).memory_store_bytes // 2**20
        102
        """
        wanted = max(0, self.memory_store_mb) * 1024 * 1024
        if self.query_memory_mb <= 0:
            return wanted
        copies = max(1, self.workers) * (max(1, self.query_workers) + max(0, self.query_spares))
        return min(wanted, int(self.query_memory_mb * 1024 * 1024 / 2 / copies / STORE_COPY_RATIO))

    @property
    def store_path(self) -> Path:
        """The live on-disk Oxigraph store; builds are swapped in beside it."""
        return self.store_dir or self.root / "var" / "store"

    def with_(self, **changes: object) -> Settings:
        """A copy with some values replaced (for tests and CLI options)."""
        return replace(self, **changes)

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        """Settings from ``AIWF_*``, ``HOST`` and ``PORT`` environment variables."""
        env = dict(os.environ if env is None else env)
        values: dict[str, object] = {}
        if "AIWF_BASE" in env:
            values["base"] = env["AIWF_BASE"].rstrip("/")
        if "AIWF_ROOT" in env:
            values["root"] = Path(env["AIWF_ROOT"])
        if "AIWF_STORE" in env:
            values["store_dir"] = Path(env["AIWF_STORE"])
        if "AIWF_QUERY_TIMEOUT" in env:
            values["query_timeout_s"] = float(env["AIWF_QUERY_TIMEOUT"])
        if "AIWF_RESULT_LIMIT" in env:
            values["result_limit"] = int(env["AIWF_RESULT_LIMIT"])
        for name, key, kind in _LIMITS:
            if name in env:
                values[key] = kind(env[name])
        if env.get("AIWF_QUERY_ALLOCATOR"):
            values["query_allocator"] = env["AIWF_QUERY_ALLOCATOR"]
        if env.get("AIWF_QUERY_HUGE_PAGES"):
            values["query_huge_pages"] = env["AIWF_QUERY_HUGE_PAGES"].strip().lower()
        if env.get("AIWF_UPDATE_TOKEN"):
            values["update_token"] = env["AIWF_UPDATE_TOKEN"]
        if env.get("AIWF_TRUSTED_PROXY"):
            values["trusted_proxy"] = env["AIWF_TRUSTED_PROXY"]
        for name, key in (("AIWF_DUMP_IMPORTS", "dump_imports"), ("AIWF_QUERY_LEND", "query_lend")):
            if env.get(name):
                values[key] = env[name].strip().lower() not in ("0", "no", "false", "off")
        if env.get("AIWF_SERVICE_ALLOW"):
            values["service_allow"] = tuple(entry for entry in re.split(r"[\s,]+", env["AIWF_SERVICE_ALLOW"]) if entry)
        if env.get("SOURCE_DATE_EPOCH", "").strip():
            epoch = env["SOURCE_DATE_EPOCH"].strip()
            if not epoch.isdigit():
                raise ValueError(f"SOURCE_DATE_EPOCH must be a whole number of seconds since 1970, not {epoch!r}")
            values["source_date_epoch"] = int(epoch)
        if env.get("AIWF_SPARQL_URL", "").strip():
            values["sparql_url"] = env["AIWF_SPARQL_URL"].strip()
        if "HOST" in env:
            values["host"] = env["HOST"]
        if "PORT" in env:
            values["port"] = int(env["PORT"])
        return cls(**values)
