"""One place for the base URI, the project's paths and the service limits.

Every value can be overridden from the environment (``AIWF_BASE``, ``AIWF_STORE``...), so the
same code serves the graph on localhost and on a real domain.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

DEFAULT_BASE = "https://nhs-ai-workforce.example.org"


def _project_root() -> Path:
    """The checkout that holds ``seeds/``: the source tree, else the working directory."""
    here = Path(__file__).resolve().parents[3]
    if (here / "seeds").is_dir():
        return here
    return Path.cwd()


#: Environment variables read as numbers: (name, field, type).
_LIMITS = (
    ("AIWF_RESULT_LIMIT_BYTES", "result_limit_bytes", int),
    ("AIWF_QUERY_WORKERS", "query_workers", int),
    ("AIWF_QUERY_MEMORY_MB", "query_memory_mb", int),
    ("AIWF_UPDATE_TIMEOUT", "update_timeout_s", float),
    ("AIWF_WORKERS", "workers", int),
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
    query_memory_mb: int = 4096  # address-space cap of each query process (0: none)
    query_allocator: str = "auto"  # malloc of query processes: auto (jemalloc if installed), system, or a .so path
    update_token: str | None = field(default=None, repr=False)  # enables POST /update when set
    update_timeout_s: float = 300.0
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 2  # server processes started by `aiwf serve`

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
        if env.get("AIWF_UPDATE_TOKEN"):
            values["update_token"] = env["AIWF_UPDATE_TOKEN"]
        if "HOST" in env:
            values["host"] = env["HOST"]
        if "PORT" in env:
            values["port"] = int(env["PORT"])
        return cls(**values)
