"""Making builds: load a new store directory, swap it in atomically, prune old ones, one at a time.

``settings.store_path`` (``var/store``) is a symlink to ``var/stores/<build-id>``. A build loads
a fresh store into ``var/stores/<build-id>.partial``, closes it, renames it complete and swaps
the symlink with one ``os.replace``, so readers (:mod:`.live`) see either the old store or the
new one, never a half-written one. The last ``settings.keep_builds`` complete builds (at least
the live one and the previous, whose handles readers may still hold) are kept, so
:func:`rollback` can point the link back at one of them in the same single step.

A ``*.partial`` directory only exists while a build holds :func:`build_lock`; one found by a
build that holds the lock is from a build that was killed, and :func:`remove_leftovers` deletes it.

Each store directory gets its record (:data:`.live.BUILD_RECORD`) before it gets its final name:
when the build's data last changed. A build from files (``aiwf build``, ``aiwf import``) made with
``SOURCE_DATE_EPOCH`` set records that time, the reproducible-builds convention
(https://reproducible-builds.org/specs/source-date-epoch/), so that builds of the same sources
on several hosts serve the same ``Last-Modified`` and the same dates in their documents; any
other build records the time it was made.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
import shutil
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pyoxigraph as ox

from ..core.settings import Settings
from .live import BUILD_RECORD, BUILD_TIME_FORMAT, StoreError, build_time, current_dir, stores_dir

PARTIAL_SUFFIX = ".partial"
LOCK_FILE = ".lock"
PREVIOUS_SUFFIX = ".previous"
#: Fewest complete builds kept: the live one and the previous (readers may still have it open).
MIN_KEEP = 2


def new_build_id() -> str:
    """A unique, time-sortable build id such as ``20260128T101500123456Z-3fa2c1``."""
    stamp = datetime.now(UTC).strftime(BUILD_TIME_FORMAT)
    return f"{stamp}-{secrets.token_hex(3)}"


def source_date(settings: Settings) -> datetime | None:
    """``SOURCE_DATE_EPOCH`` (``settings.source_date_epoch``) as a time, if it is set.

    >>> source_date(Settings(source_date_epoch=1767225600)).isoformat()
    '2026-01-01T00:00:00+00:00'
    """
    if settings.source_date_epoch is None:
        return None
    return datetime.fromtimestamp(settings.source_date_epoch, tz=UTC)


def write_record(directory: Path, build_id: str, modified: datetime | None = None) -> None:
    """Write the record of the build in ``directory``: ``modified``, else the time ``build_id`` says."""
    when = modified or build_time(build_id) or datetime.now(UTC)
    record = {"build": build_id, "modified": when.astimezone(UTC).isoformat().replace("+00:00", "Z")}
    (directory / BUILD_RECORD).write_text(json.dumps(record) + "\n", encoding="utf-8")


def load_store(
    quads: Iterable[ox.Quad], settings: Settings, *, build_id: str | None = None, modified: datetime | None = None
) -> Path:
    """Bulk-load ``quads`` into a new store directory, with its record (:func:`write_record`).

    The store is flushed, optimised and closed before its directory gets its final name, so a
    returned path is always complete. Nothing is left behind if loading fails. ``modified`` is
    when the data last changed (:func:`source_date` for a build from files); by default, now.
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
        write_record(partial, build_id, modified)
        partial.rename(final)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return final


def previous_link(settings: Settings) -> Path:
    """``var/store.previous``: a link to the build that was live before the live one."""
    link = settings.store_path
    return link.with_name(link.name + PREVIOUS_SUFFIX)


def _replace_link(link: Path, target: Path) -> None:
    """Make ``link`` a relative symlink to ``target`` in one ``os.replace``."""
    link.parent.mkdir(parents=True, exist_ok=True)
    temporary = link.with_name(f".{link.name}.{secrets.token_hex(4)}.tmp")
    temporary.symlink_to(os.path.relpath(target, link.parent.resolve()))
    try:
        temporary.replace(link)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _point_link(new_dir: Path, settings: Settings) -> Path | None:
    """Replace the live link with one to ``new_dir`` atomically; the previous directory.

    The previous directory is recorded in :func:`previous_link` for :func:`rollback`.
    """
    link = settings.store_path
    if link.exists() and not link.is_symlink():
        raise StoreError(f"{link} is a real directory, not a symlink to a build; move it away")
    previous = current_dir(settings)
    _replace_link(link, new_dir)
    if previous is not None and previous != new_dir:
        _replace_link(previous_link(settings), previous)
    return previous


def swap_in(new_dir: Path, settings: Settings) -> Path | None:
    """Point ``settings.store_path`` at ``new_dir`` atomically; return the previous directory.

    Afterwards only the newest ``settings.keep_builds`` complete builds are kept, always
    including the new and the previous one.
    """
    new_dir = Path(new_dir).resolve(strict=True)
    previous = _point_link(new_dir, settings)
    prune(settings, keep={new_dir, previous})
    return previous


def restore(previous: Path | None, settings: Settings) -> None:
    """Undo a :func:`swap_in` whose build must not stay live: point back at ``previous``.

    With no previous build the link is removed (there was no live store before).
    """
    if previous is None:
        settings.store_path.unlink(missing_ok=True)
    else:
        _point_link(previous, settings)


def keep_count(settings: Settings) -> int:
    """How many complete builds :func:`prune` keeps: ``settings.keep_builds``, at least :data:`MIN_KEEP`."""
    return max(MIN_KEEP, settings.keep_builds)


def complete_builds(settings: Settings) -> list[Path]:
    """The complete store directories, newest first (build ids sort by time)."""
    root = stores_dir(settings)
    if not root.is_dir():
        return []
    found = [c for c in root.iterdir() if c.is_dir() and not c.name.endswith(PARTIAL_SUFFIX)
             and not c.name.startswith(".")]
    return sorted(found, key=lambda path: path.name, reverse=True)


def linked_builds(settings: Settings) -> set[Path]:
    """The builds that a link beside the live one points at: ``var/store``, ``var/store.previous``,
    and the links of other stores sharing ``var/stores/`` (``AIWF_STORE=var/other-store``)."""
    root = stores_dir(settings).resolve()
    folder = settings.store_path.parent
    linked = set()
    with contextlib.suppress(OSError):
        for entry in folder.iterdir():
            if not entry.is_symlink():
                continue
            try:
                target = entry.resolve(strict=True)
            except (OSError, RuntimeError):
                continue  # a dangling or looping link points at nothing to keep
            if target.parent == root:
                linked.add(target)
    return linked


def prune(settings: Settings, keep: set[Path | None]) -> list[Path]:
    """Remove complete store directories beyond the newest :func:`keep_count`, sparing ``keep``.

    A build that any link in the live link's folder points at (:func:`linked_builds`) is never
    removed, and does not count towards the limit; in-progress (``.partial``) directories are
    left alone.
    """
    kept = {path.resolve() for path in keep if path is not None}
    linked = linked_builds(settings)
    limit = keep_count(settings)
    removed = []
    for child in complete_builds(settings):
        if child.resolve() in kept or child.resolve() in linked:
            continue
        if len(kept) < limit:
            kept.add(child.resolve())
            continue
        shutil.rmtree(child, ignore_errors=True)
        removed.append(child)
    return removed


def remove_leftovers(settings: Settings) -> list[Path]:
    """Remove the ``.partial`` store directories of killed builds; call with :func:`build_lock` held."""
    root = stores_dir(settings)
    if not root.is_dir():
        return []
    leftovers = sorted(p for p in root.iterdir() if p.name.endswith(PARTIAL_SUFFIX))
    for path in leftovers:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    return leftovers


@dataclass(frozen=True)
class BuildInfo:
    """One complete build kept on disk: its id, when it was made, whether it is live, its quads."""

    build_id: str
    path: Path
    time: datetime | None
    live: bool
    quads: int | None  # None if the store cannot be opened right now


def _count_quads(path: Path) -> int | None:
    try:
        store = ox.Store.read_only(str(path))
    except OSError:
        return None
    try:
        return len(store)
    finally:
        del store


def list_builds(settings: Settings, *, count: bool = True) -> list[BuildInfo]:
    """The complete builds kept, newest first; ``count`` opens each read-only to count its quads."""
    live = current_dir(settings)
    return [
        BuildInfo(path.name, path, build_time(path.name), path.resolve() == live,
                  _count_quads(path) if count else None)
        for path in complete_builds(settings)
    ]


class RollbackError(StoreError):
    """No build to roll back to: none built, the id is unknown, or it is already live."""


def _previous_build(settings: Settings, live: Path, builds: list[Path]) -> Path | None:
    """The build that was live before ``live``, if still kept; else the newest older one."""
    try:
        recorded = previous_link(settings).resolve(strict=True)
    except (FileNotFoundError, RuntimeError):
        recorded = None
    if recorded is not None and recorded != live and any(p.resolve() == recorded for p in builds):
        return recorded
    return next((p for p in builds if p.name < live.name), None)


def rollback(settings: Settings, build_id: str | None = None) -> tuple[str | None, str]:
    """Point the live link back at ``build_id``, or at the build that was live before this one.

    One atomic ``os.replace`` under :func:`build_lock`; nothing is deleted, and the build rolled
    back from becomes the previous one, so a second ``rollback`` undoes the first. Returns (the
    id that was live, the id now live).

    :raises RollbackError: if there is nothing to roll back to or ``build_id`` is not kept.
    """
    with build_lock(settings):
        remove_leftovers(settings)
        builds = complete_builds(settings)
        live = current_dir(settings)
        if build_id is None:
            if live is None:
                raise RollbackError("no build is live yet: run `aiwf build` first")
            target = _previous_build(settings, live, builds)
            if target is None:
                raise RollbackError(f"no build before the live build {live.name} is kept")
        else:
            target = next((p for p in builds if p.name == build_id), None)
            if target is None:
                kept = ", ".join(p.name for p in builds) or "none"
                raise RollbackError(f"no complete build {build_id!r} is kept (kept: {kept})")
            if live is not None and target.resolve() == live:
                raise RollbackError(f"build {build_id} is already live")
        previous = _point_link(target.resolve(strict=True), settings)
    return (previous.name if previous else None), target.name


def discard(store_dir: Path, settings: Settings) -> bool:
    """Remove a loaded store that was never swapped in; the live store is never removed."""
    if store_dir.resolve() == current_dir(settings):
        return False
    shutil.rmtree(store_dir, ignore_errors=True)
    return True


def discard_build(build_id: str, settings: Settings) -> None:
    """Remove whatever a stopped build ``build_id`` left, complete or partial (never the live store)."""
    for name in (build_id, build_id + PARTIAL_SUFFIX):
        discard(stores_dir(settings) / name, settings)


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
