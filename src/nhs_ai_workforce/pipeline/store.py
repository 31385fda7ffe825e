"""The embedded on-disk Oxigraph store, replaced atomically by each build.

``settings.store_path`` (``var/store``) is a symlink to ``var/stores/<build-id>``. A build loads
a fresh store into ``var/stores/<build-id>.partial``, closes it, renames it complete and swaps
the symlink with one ``os.replace``, so readers see either the old store or the new one, never
a half-written one. Readers resolve the symlink once and keep the directory they opened; the
previous build is kept so their handles stay valid until the next build.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import secrets
import shutil
import threading
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pyoxigraph as ox
from rdflib.graph import Graph

from ..core.settings import Settings
from .terms import oxigraph_quads

PARTIAL_SUFFIX = ".partial"
LOCK_FILE = ".lock"


class StoreError(RuntimeError):
    """The store cannot be opened or replaced."""


class NoStoreError(StoreError):
    """No store has been built yet."""

    def __init__(self, path: Path) -> None:
        super().__init__(f"no store at {path}; run `aiwf build` first")
        self.path = path


def stores_dir(settings: Settings) -> Path:
    """The directory holding one subdirectory per built store."""
    return settings.store_path.parent / "stores"


def new_build_id() -> str:
    """A unique, time-sortable build id such as ``20260128T101500123456Z-3fa2c1``."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    return f"{stamp}-{secrets.token_hex(3)}"


def build_time(build_id: str | None) -> datetime | None:
    """When the build ``build_id`` (as :func:`new_build_id` mints it) was made; ``None`` if the id does not say.

    >>> build_time("20260128T101500123456Z-3fa2c1").isoformat()
    '2026-01-28T10:15:00.123456+00:00'
    >>> build_time("handmade") is None
    True
    """
    try:
        return datetime.strptime((build_id or "").split("-")[0], "%Y%m%dT%H%M%S%fZ").replace(tzinfo=UTC)
    except ValueError:
        return None


def current_dir(settings: Settings) -> Path | None:
    """The real directory of the live store, or ``None`` if none has been built."""
    try:
        path = settings.store_path.resolve(strict=True)
    except (FileNotFoundError, RuntimeError):
        return None
    return path if path.is_dir() else None


def current_build_id(settings: Settings) -> str | None:
    """The id of the live build (its directory name), or ``None``."""
    path = current_dir(settings)
    return path.name if path else None


def load_store(
    source: Graph | Iterable[ox.Quad], settings: Settings, *, build_id: str | None = None
) -> Path:
    """Bulk-load ``source`` (an rdflib Dataset or pyoxigraph quads) into a new store directory.

    The store is flushed, optimised and closed before its directory gets its final name, so a
    returned path is always complete. Nothing is left behind if loading fails.
    """
    build_id = build_id or new_build_id()
    final = stores_dir(settings) / build_id
    partial = final.with_name(final.name + PARTIAL_SUFFIX)
    if final.exists() or partial.exists():
        raise StoreError(f"store directory {final} already exists")
    final.parent.mkdir(parents=True, exist_ok=True)
    quads = oxigraph_quads(source) if isinstance(source, Graph) else source
    try:
        store = ox.Store(str(partial))
        store.bulk_extend(quads)
        store.flush()
        store.optimize()
        del store  # closes the RocksDB handle
        partial.rename(final)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return final


def swap_in(new_dir: Path, settings: Settings) -> Path | None:
    """Point ``settings.store_path`` at ``new_dir`` atomically; return the previous directory.

    Store directories other than the new and the previous one are removed afterwards.
    """
    new_dir = Path(new_dir).resolve(strict=True)
    link = settings.store_path
    if link.exists() and not link.is_symlink():
        raise StoreError(f"{link} is a real directory, not a symlink to a build; move it away")
    previous = current_dir(settings)
    link.parent.mkdir(parents=True, exist_ok=True)
    temporary = link.with_name(f".{link.name}.{secrets.token_hex(4)}.tmp")
    temporary.symlink_to(os.path.relpath(new_dir, link.parent.resolve()))
    try:
        temporary.replace(link)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    prune(settings, keep={new_dir, previous})
    return previous


def prune(settings: Settings, keep: set[Path | None]) -> list[Path]:
    """Remove complete store directories not in ``keep``; in-progress ones are left alone."""
    removed = []
    root = stores_dir(settings)
    if not root.is_dir():
        return removed
    for child in sorted(root.iterdir()):
        if not child.is_dir() or child.name.endswith(PARTIAL_SUFFIX):
            continue
        if child.resolve() in keep:
            continue
        shutil.rmtree(child, ignore_errors=True)
        removed.append(child)
    return removed


def discard(store_dir: Path, settings: Settings) -> bool:
    """Remove a loaded store that was never swapped in; the live store is never removed."""
    if store_dir.resolve() == current_dir(settings):
        return False
    shutil.rmtree(store_dir, ignore_errors=True)
    return True


@contextlib.contextmanager
def build_lock(settings: Settings) -> Iterator[None]:
    """Hold an exclusive lock so two builds never load and swap at the same time."""
    root = stores_dir(settings)
    root.mkdir(parents=True, exist_ok=True)
    with (root / LOCK_FILE).open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def open_store(settings: Settings, read_only: bool = True) -> ox.Store:
    """Open the live store; read-only handles can be shared by many processes.

    :raises NoStoreError: if no store has been built yet.
    """
    path = current_dir(settings)
    if path is None:
        raise NoStoreError(settings.store_path)
    return _open(path, read_only)


def _open(path: Path, read_only: bool) -> ox.Store:
    try:
        return ox.Store.read_only(str(path)) if read_only else ox.Store(str(path))
    except OSError as error:
        raise StoreError(f"cannot open the store at {path}: {error}") from error


class CurrentStore:
    """A read-only handle opened on first use and reopened when a new build is swapped in.

    One per process (a server worker); safe to share between threads.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._store: ox.Store | None = None
        self._dir: Path | None = None
        self._link: str | None = None

    def get(self) -> ox.Store:
        """The store of the live build; on the hot path only one ``readlink`` when unchanged."""
        try:
            link = str(self.settings.store_path.readlink())
        except OSError:
            link = None  # not a symlink (a plain store directory) or missing: resolve below
        with self._lock:
            if self._store is not None and link is not None and link == self._link:
                return self._store
        target = current_dir(self.settings)
        if target is None:
            raise NoStoreError(self.settings.store_path)
        with self._lock:
            if self._store is None or target != self._dir:
                self._store = _open(target, read_only=True)
                self._dir = target
            self._link = link
            return self._store

    @property
    def build_id(self) -> str | None:
        """The id of the build currently open, if any."""
        return self._dir.name if self._dir else None
