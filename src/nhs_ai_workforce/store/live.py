"""The live store: the build that ``settings.store_path`` (``var/store``) points at, opened read-only.

``var/store`` is a symlink to ``var/stores/<build-id>``, swapped atomically by each build
(:mod:`.builds`). Readers resolve the symlink once and keep the directory they opened; the
previous build is kept so their handles stay valid until the next build. This module is what
serving needs, and it never writes to a store.

Each build's directory also holds its record (:data:`BUILD_RECORD`), which says when the build's
data last changed (:func:`modified_time`): ``SOURCE_DATE_EPOCH`` when the build was made with it
set, else the time of the build. Served documents take their ``Last-Modified`` and dates from it,
so two servers that build the same sources with the same ``SOURCE_DATE_EPOCH`` say the same.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import os
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

import pyoxigraph as ox

from ..core.memo import BuildMemo
from ..core.settings import Settings

#: How a build id (``20260128T101500123456Z-3fa2c1``) writes its time.
BUILD_TIME_FORMAT = "%Y%m%dT%H%M%S%fZ"
#: The file in a build's store directory that records when its data last changed (``{"modified": ...}``).
BUILD_RECORD = "aiwf-build.json"
_log = logging.getLogger(__name__)


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


@functools.lru_cache(maxsize=64)  # asked on every answer (Last-Modified); strptime is slow
def build_time(build_id: str | None) -> datetime | None:
    """When the build ``build_id`` (as :func:`.builds.new_build_id` mints it) was made; ``None`` if the id does not say.

    >>> build_time("20260128T101500123456Z-3fa2c1").isoformat()
    '2026-01-28T10:15:00.123456+00:00'
    >>> build_time("handmade") is None
    True
    """
    try:
        return datetime.strptime((build_id or "").split("-")[0], BUILD_TIME_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return None


def modified_time(settings: Settings, build_id: str | None) -> datetime | None:
    """When the data of build ``build_id`` last changed: what its record says (``SOURCE_DATE_EPOCH``
    when it was built with one, else when it was built); for a build made before records were
    written, the time its id starts with, else its directory's time; ``None`` without a build.

    This is each served document's ``Last-Modified`` and the dataset's ``dcterms:modified``.

    >>> modified_time(Settings(), "20260128T101500123456Z-3fa2c1").isoformat()  # no such directory
    '2026-01-28T10:15:00.123456+00:00'
    """
    if not build_id:
        return None
    return _modified(str(stores_dir(settings)), build_id)


@functools.lru_cache(maxsize=64)  # asked on every answer; a build's record never changes
def _modified(stores: str, build_id: str) -> datetime | None:
    directory = f"{stores}/{build_id}"
    try:
        with open(f"{directory}/{BUILD_RECORD}", encoding="utf-8") as handle:  # noqa: PTH123
            return datetime.fromisoformat(json.load(handle)["modified"]).astimezone(UTC)
    except (OSError, ValueError, KeyError, TypeError):
        pass
    minted = build_time(build_id)
    if minted is not None:
        return minted
    try:
        return datetime.fromtimestamp(os.stat(directory).st_mtime, tz=UTC)  # noqa: PTH116
    except OSError:
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


def is_live(settings: Settings, build_id: str) -> bool:
    """Is ``build_id`` the live build? One ``readlink`` when the link names the build's directory
    (as builds make it: ``stores/<id>``), else the full resolution of :func:`current_build_id`."""
    try:
        if os.path.basename(os.readlink(settings.store_path)) == build_id:  # noqa: PTH115, PTH119 - hot path
            return True
    except OSError:
        pass
    return current_build_id(settings) == build_id


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


def store_bytes(path: Path) -> int:
    """The bytes of the files of the store directory ``path`` (RocksDB keeps its files flat)."""
    total = 0
    for entry in os.scandir(path):
        with contextlib.suppress(OSError):
            if entry.is_file(follow_symlinks=False):
                total += entry.stat(follow_symlinks=False).st_size
    return total


def wants_huge_pages(settings: Settings) -> bool:
    """Should a query process started now ask for transparent huge pages (``query_huge_pages``)?

    ``auto``: when the live build is larger than ``memory_store_at_open_mb`` and at most
    ``settings.memory_store_bytes``, so the process will copy it into memory in the background
    (:class:`CurrentStore`); ``always`` or ``never`` otherwise.
    """
    if settings.query_huge_pages != "auto":
        return settings.query_huge_pages == "always"
    target = current_dir(settings)
    size = store_bytes(target) if target is not None else 0
    return _copied_when(size, settings, settings.memory_store_bytes, background=True) == "background"


def _copied_when(size: int, settings: Settings, memory_bytes: int, *, background: bool) -> str | None:
    """When :class:`CurrentStore` copies a store of ``size`` bytes on disk into memory: as it is
    opened (``"open"``), in the ``"background"``, or never (``None``)."""
    if 0 < size <= min(memory_bytes, settings.memory_store_at_open_mb * 1024 * 1024):
        return "open"
    return "background" if background and 0 < size <= memory_bytes else None


def in_memory(store: ox.Store) -> ox.Store:
    """A copy of ``store`` in memory: its quads and its named graphs, empty ones included.

    Queries on it run two to four times faster than on the on-disk store (``benchmarks/``), and
    it takes about 2.5 times the store's size on disk (some 460 bytes a quad). Each quad passes
    through Python, holding the GIL: for a store copied as it is opened, before it answers.
    """
    copy = ox.Store()
    copy.bulk_extend(store.quads_for_pattern(None, None, None, None))
    for graph in store.named_graphs():
        copy.add_graph(graph)
    return copy


def in_memory_through_file(store: ox.Store) -> ox.Store:
    """:func:`in_memory` through an N-Quads file in the temporary directory, written and read
    by Oxigraph without holding the GIL, so other threads run meanwhile (a copy made in the
    background). The copy's blank nodes have other labels (a label names a blank node within
    one answer only)."""
    import tempfile  # here only: a megabyte in every process that imports it

    copy = ox.Store()
    with tempfile.NamedTemporaryFile(prefix="aiwf-store-", suffix=".nq") as quads:
        store.dump(output=quads.name, format=ox.RdfFormat.N_QUADS)
        copy.bulk_load(path=quads.name, format=ox.RdfFormat.N_QUADS)
    for graph in store.named_graphs():
        copy.add_graph(graph)
    return copy


def _could_not_copy(error: Exception) -> None:
    _log.warning("could not copy the store into memory (%s: %s); it is queried on disk", type(error).__name__, error)


class _Copy:
    """:func:`in_memory_through_file` of a store on a daemon thread at the lowest priority;
    ``made`` is the copy (``None`` if it failed: the store on disk stays), once ``done`` is set."""

    def __init__(self, store: ox.Store) -> None:
        self.made: ox.Store | None = None
        self.done = threading.Event()
        threading.Thread(target=self._run, args=(store,), name="aiwf-store-copy", daemon=True).start()

    def _run(self, store: ox.Store) -> None:
        if sys.platform.startswith("linux"):  # there a thread's id may name it, and its nice value is its own
            with contextlib.suppress(OSError):
                os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
        try:
            self.made = in_memory_through_file(store)
        except Exception as error:  # noqa: BLE001 - out of memory, say: the store on disk answers
            _could_not_copy(error)
        finally:
            self.done.set()


class CurrentStore:
    """A read-only handle opened on first use and reopened when a new build is swapped in.

    One per process (a server worker); safe to share between threads. With ``memory_bytes``,
    a build whose store directory holds at most that many bytes is copied into memory
    (:func:`in_memory`) and queried there: when it is opened if it is at most
    ``settings.memory_store_at_open_mb``, otherwise (with ``background``) by a low-priority
    thread while the store on disk answers, swapped in by the first :meth:`get` after the copy
    is made.
    """

    def __init__(self, settings: Settings, *, memory_bytes: int = 0, background: bool = False) -> None:
        self.settings = settings
        self._memory_bytes, self._background = memory_bytes, background
        #: Is the open build held in memory?
        self.in_memory = False
        self._lock = threading.Lock()
        self._store: ox.Store | None = None
        self._dir: Path | None = None
        self._link: str | None = None
        self._memo = BuildMemo(None)
        self._copy: _Copy | None = None
        self._moved = False
        self._path = str(settings.store_path)  # read on every query: a string, not a Path

    def get(self) -> ox.Store:
        """The store of the live build; on the hot path only one ``readlink`` when unchanged."""
        return self._current()[0]

    @property
    def copying(self) -> bool:
        """Is a copy of the open build being made in the background (or made, not yet swapped in)?"""
        return self._copy is not None

    def moved_into_memory(self) -> bool:
        """Has a copy made in the background been swapped in since the last call?"""
        with self._lock:
            moved, self._moved = self._moved, False
            return moved

    def _current(self) -> tuple[ox.Store, BuildMemo]:
        """The live build's store and memo, taken together."""
        try:
            link = os.readlink(self._path)  # noqa: PTH115 - on every query: no Path object
        except OSError:
            link = None  # not a symlink (a plain store directory) or missing: resolve below
        with self._lock:
            unchanged = self._store is not None and link is not None and link == self._link
            if unchanged and (self._copy is None or not self._copy.done.is_set()):
                return self._store, self._memo
        target = current_dir(self.settings)
        if target is None:
            raise NoStoreError(self.settings.store_path)
        with self._lock:
            if self._store is None or target != self._dir:
                self._open(target)
            elif self._copy is not None and self._copy.done.is_set():
                if self._copy.made is not None:
                    self._store, self.in_memory, self._moved = self._copy.made, True, True
                self._copy = None
            self._link = link
            return self._store, self._memo

    def _open(self, target: Path) -> None:
        """Open ``target`` (under the lock), copied into memory now or in the background."""
        store = _open(target, read_only=True)
        size = store_bytes(target)
        self._copy = None
        self.in_memory = False
        when = _copied_when(size, self.settings, self._memory_bytes, background=self._background)
        if when == "open":
            try:
                store, self.in_memory = in_memory(store), True  # the on-disk handle closes
            except (OSError, MemoryError) as error:
                _could_not_copy(error)
        elif when == "background":
            self._copy = _Copy(store)
        self._store = store
        self._dir = target
        self._memo = BuildMemo(target.name)

    @property
    def build_id(self) -> str | None:
        """The id of the build currently open, if any."""
        return self._dir.name if self._dir else None

    def is_live(self, build: str) -> bool:
        """Is ``build`` the live build (:func:`is_live`)?"""
        return is_live(self.settings, build)

    def snapshot(self) -> tuple[ox.Store, str]:
        """The live build's store and id, taken together (opened anew if the build changed).

        :raises NoStoreError: if no store has been built yet.
        """
        store, memo = self._current()
        return store, memo.build_id or ""

    def derived(self, key, make):
        """``make(store, build_id)`` for the live build, made once per build and key (:class:`BuildMemo`).

        :raises NoStoreError: if no store has been built yet.
        """
        store, memo = self._current()
        return memo.get(key, lambda: make(store, memo.build_id))
