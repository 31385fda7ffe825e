"""Making builds: load a new store directory, swap it in atomically, prune old ones, one at a time.

``settings.store_path`` (``var/store``) is a symlink to ``var/stores/<build-id>``. A build loads
a fresh store into ``var/stores/<build-id>.partial``, closes it, renames it complete and swaps
the symlink with one ``os.replace``, so readers (:mod:`.live`) see either the old store or the
new one, never a half-written one. The previous build is kept so open handles stay valid.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import secrets
import shutil
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pyoxigraph as ox

from ..core.settings import Settings
from .live import BUILD_TIME_FORMAT, StoreError, current_dir, stores_dir

PARTIAL_SUFFIX = ".partial"
LOCK_FILE = ".lock"


def new_build_id() -> str:
    """A unique, time-sortable build id such as ``20260128T101500123456Z-3fa2c1``."""
    stamp = datetime.now(UTC).strftime(BUILD_TIME_FORMAT)
    return f"{stamp}-{secrets.token_hex(3)}"


def load_store(
    quads: Iterable[ox.Quad], settings: Settings, *, build_id: str | None = None
) -> Path:
    """Bulk-load ``quads`` into a new store directory.

    The store is flushed, optimised and closed before its directory gets its final name, so a
    returned path is always complete. Nothing is left behind if loading fails.
    """
    build_id = build_id or new_build_id()
    final = stores_dir(settings) / build_id
    partial = final.with_name(final.name + PARTIAL_SUFFIX)
    if final.exists() or partial.exists():
        raise StoreError(f"store directory {final} already exists")
    final.parent.mkdir(parents=True, exist_ok=True)
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
