"""Answers kept per build: bytes made once for a request are sent again until the next build.

The graph is read-only between builds, so what the server answers to a request (a SPARQL
result in one syntax, a resource document) stays right until another build goes live.
:class:`AnswerCache` keeps such answers on disk in ``{store_path.parent}/answers/{build_id}/``
(``var/answers/`` beside ``var/store``), one file per request key, shared by every server
process of the host, and by the next server started on the same build:

- **Keys** are the caller's (:func:`answer_key`): everything the bytes depend on, hashed. The
  SPARQL endpoint's key is the normalised query text, the dataset parameters, the negotiated
  media type, the endpoint's URL (the base of relative IRIs) and the settings that shape an
  answer (:mod:`nhs_ai_workforce.web.sparql`).
- **Bounded in bytes**: at most ``settings.answer_cache_mb`` MB (``AIWF_ANSWER_CACHE_MB``,
  default 64; 0 turns the cache off) of answers are kept, and an answer larger than an eighth of
  that is never kept. When a new answer would pass the bound, the oldest answers go, in the order
  they were kept (each build keeps a journal of them), except that an answer read since it was
  kept (its file time is refreshed on a hit, at most every :data:`TOUCH_S` per process) goes to
  the end of the journal instead (the "second chance" approximation of least recently used).
  Each answer kept removes about one, so no request waits for a large clean-up.
- **Dies with its build**: an answer is filed under the build that produced it (the query
  process says which), and only while that build is live; the first answer kept for a new
  build removes the answers of every other build. A rollback starts with an empty cache.
- **Safe to share**: writers hold a file lock (whose file also records the build, the bytes kept
  and how far eviction has read the journal) and write each answer under a temporary name that
  is renamed into place, so a reader (who takes no lock) sees a whole answer or none; an answer
  removed while it is being read is still read whole. If the directory cannot be written, the
  server answers as it would without a cache.
- **Kept from a request's second time** where the caller asks (``min_uses``; the SPARQL endpoint
  passes ``settings.answer_min_uses``, ``AIWF_ANSWER_MIN_USES``, default 2, as nginx's
  ``proxy_cache_min_uses``): a query text sent once, as most ad hoc queries are, costs no file;
  uses are counted per process, for the last :data:`USES_KEPT` requests.
- **Counted per process**: :attr:`AnswerCache.counts` (hits, misses, stored, evicted, not yet).

Each answer records the SHA-256 of its bytes, so a validator (an ``ETag``) costs nothing on a hit.

>>> from nhs_ai_workforce.core.settings import Settings
>>> import tempfile
>>> cache = AnswerCache(Settings(store_dir=Path(tempfile.mkdtemp()) / "store"))
>>> cache.get("b1", answer_key("ASK {}", "application/sparql-results+json")) is None
True
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import re
import shutil
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..core.settings import Settings
from .live import is_live

__all__ = ["CACHE_STATUS", "TOUCH_S", "Answer", "AnswerCache", "answer_key"]

#: What the answer cache did for a request, as the ``Cache-Status`` header says it (RFC 9211).
CACHE_STATUS = {
    "hit": "aiwf; hit",
    "stored": "aiwf; fwd=miss; stored",
    "miss": "aiwf; fwd=miss",
    "bypass": "aiwf; fwd=bypass",
    "volatile": "aiwf; fwd=bypass; detail=volatile",
}

#: A hit refreshes its answer's file time (its place in the eviction order) at most this often.
TOUCH_S = 60.0
#: Keys whose uses are counted (for ``min_uses``), per process: some 1 MB.
USES_KEPT = 8192
#: An answer larger than this share of the bound is never kept (it would push out many others).
LARGEST_SHARE = 8
#: The lock file, which also holds the state: the build whose answers are kept, their bytes and
#: where eviction has got to in the build's journal.
LOCK = ".lock"
#: Each build's journal: one line per answer kept (``key bytes time``), in the order they were kept.
JOURNAL = ".journal"
#: The journal is rewritten without its consumed lines once they pass this size and half of it.
COMPACT_BYTES = 64 * 1024
#: Build ids that may name a directory as they are.
_SAFE_BUILD = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]*")
_log = logging.getLogger(__name__)


def answer_key(*parts: object) -> str:
    """The file name of the answer to a request that ``parts`` describe (hex SHA-256).

    >>> answer_key("a", "b") == answer_key("a", "b") != answer_key("a b")
    True
    """
    return hashlib.sha256(_KEY_ENCODER.encode(parts).encode()).hexdigest()


#: ``json.dumps(parts, ensure_ascii=False)``, without making an encoder per call.
_KEY_ENCODER = json.JSONEncoder(ensure_ascii=False)


@dataclass(frozen=True)
class Answer:
    """The bytes answered for a request in a build, their media type and the SHA-256 of the bytes."""

    body: bytes
    media_type: str
    sha256: str
    build: str
    #: Was it found in the cache (``True``) or made for this request?
    hit: bool = False
    #: Was it kept, so the next identical request is a hit?
    stored: bool = False


class AnswerCache:
    """Answers on disk per build, bounded in bytes, shared by processes (see the module docstring).

    Thread-safe; one per server process.
    """

    def __init__(self, settings: Settings, max_bytes: int | None = None, *,
                 live: Callable[[str], bool] | None = None) -> None:
        self.settings = settings
        #: Is a build the live one? An answer of another build is not kept. By default the live
        #: build is the one ``var/store`` points at; a server reading a remote store says its own.
        self.is_live = live or (lambda build: is_live(settings, build))
        self.root = settings.store_path.parent / "answers"
        self.max_bytes = max(0, settings.answer_cache_mb * 1024 * 1024 if max_bytes is None else max_bytes)
        self.max_entry_bytes = self.max_bytes // LARGEST_SHARE
        #: What this process did: ``hits``, ``misses``, ``stored``, ``evicted``, ``errors``.
        self.counts: Counter[str] = Counter()
        self._touched: dict[str, float] = {}
        self._uses: dict[str, int] = {}  # requests seen fewer than their min_uses times, oldest first
        self._made = False
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.max_bytes > 0

    def get(self, build: str, key: str) -> Answer | None:
        """The answer kept for ``key`` in ``build``, or ``None``."""
        if not self.enabled or not _SAFE_BUILD.fullmatch(build):
            return None
        path = f"{self.root}/{build}/{key}"
        try:
            with open(path, "rb") as handle:  # noqa: PTH123 - the hot path: no Path objects
                data = handle.read()
        except OSError:
            self.counts["misses"] += 1
            return None
        header, _, body = data.partition(b"\n")
        try:
            sha256, media_type = header.decode().split(" ", 1)
        except ValueError:  # not written by this class: ignore it
            self.counts["misses"] += 1
            return None
        self.counts["hits"] += 1
        self._touch(path)
        return Answer(body, media_type, sha256, build, hit=True)

    def put(self, build: str, key: str, body: bytes, media_type: str, *, min_uses: int = 1) -> Answer:
        """``body`` as the answer for ``key`` in ``build``, kept if it may be (see the module docstring),
        and only from the ``min_uses``-th time this process makes it."""
        answer = Answer(body, media_type, hashlib.sha256(body).hexdigest(), build)
        if not self.enabled or len(body) > self.max_entry_bytes or not _SAFE_BUILD.fullmatch(build):
            return answer
        if min_uses > 1 and not self._used_enough(f"{build} {key}", min_uses):
            self.counts["not yet"] += 1
            return answer
        try:
            stored = self._store(answer, key)
        except OSError as error:
            self.counts["errors"] += 1
            if self.counts["errors"] == 1:
                _log.warning("answers cannot be kept in %s (%s); answering without a cache", self.root, error)
            return answer
        if stored:
            self.counts["stored"] += 1
        return Answer(body, media_type, answer.sha256, build, stored=stored)

    def status(self, answer: Answer) -> str:
        """What became of an answer :meth:`put` was given: ``stored``, ``miss`` (not kept) or
        ``bypass`` (the cache is off), as :data:`CACHE_STATUS` names it."""
        return "stored" if answer.stored else "miss" if self.enabled else "bypass"

    # -- inside

    def _used_enough(self, key: str, min_uses: int) -> bool:
        """Count one use of ``key``; ``True`` at the ``min_uses``-th (the last :data:`USES_KEPT` keys are counted)."""
        with self._lock:
            uses = self._uses.pop(key, 0) + 1
            if uses >= min_uses:
                return True
            self._uses[key] = uses
            if len(self._uses) > USES_KEPT:
                del self._uses[next(iter(self._uses))]
            return False

    def _touch(self, path: str) -> None:
        now = time.monotonic()
        with self._lock:
            if now - self._touched.get(path, -TOUCH_S) < TOUCH_S:
                return
            if len(self._touched) > 10_000:
                self._touched.clear()
            self._touched[path] = now
        with contextlib.suppress(OSError):
            os.utime(path)

    def _store(self, answer: Answer, key: str) -> bool:
        # Paths as strings on this path (a miss pays for it): pathlib would double its cost.
        entry = f"{answer.sha256} {answer.media_type}\n".encode() + answer.body
        if not self._made:
            self.root.mkdir(parents=True, exist_ok=True)
            self._made = True
        lock = os.open(f"{self.root}/{LOCK}", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not self.is_live(answer.build):
                return False  # a newer build went live while the query ran: its answers only
            directory = f"{self.root}/{answer.build}"
            build, total, cursor = _read_state(lock)
            if build != answer.build:  # the first answer of a build: the others' go
                self._prune()
                total = cursor = 0
            if os.path.exists(f"{directory}/{key}"):  # noqa: PTH110
                return True  # another process kept it first
            try:
                _write_file(directory, key, entry)
            except FileNotFoundError:  # the build's first answer (or its directory was removed)
                Path(directory).mkdir(exist_ok=True)
                _write_file(directory, key, entry)
            _append(directory, key, len(entry))
            total += len(entry)
            if total > self.max_bytes:
                total, cursor = self._evict(Path(directory), total, cursor)
            _write_state(lock, answer.build, total, cursor)
        finally:
            os.close(lock)
        return True

    def _prune(self) -> None:
        """Remove the answers of every build (under the lock, before a build's first answer)."""
        for path in self.root.iterdir():
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)

    def _evict(self, directory: Path, total: int, cursor: int) -> tuple[int, int]:
        """Remove the oldest answers in the journal until ``total`` is within the bound; ``(total, cursor)``.

        An answer read (touched) since it was written gets a second chance: it goes to the end of
        the journal instead. Each answer kept removes about one, so no put waits long.
        """
        journal = directory / JOURNAL
        with journal.open("rb") as lines:
            lines.seek(cursor)
            while total > self.max_bytes:
                line = lines.readline()
                if not line:  # the journal missed some answers (a process died): count again
                    return _recount(directory), 0
                cursor += len(line)
                key, size, written = line.split()
                path = directory / key.decode()
                try:
                    modified = path.stat().st_mtime
                except FileNotFoundError:
                    total -= int(size)
                    continue
                if modified > float(written) + 1:
                    _append(str(directory), key.decode(), int(size))  # read since: a second chance
                    continue
                path.unlink(missing_ok=True)
                total -= int(size)
                self.counts["evicted"] += 1
        if cursor > COMPACT_BYTES and cursor * 2 > journal.stat().st_size:
            with journal.open("rb") as lines:
                lines.seek(cursor)
                rest = lines.read()
            _write_file(str(directory), JOURNAL, rest)
            cursor = 0
        return total, cursor


def _read_state(lock: int) -> tuple[str, int, int]:
    """``(build, bytes kept, journal offset)`` from the lock file (``("", 0, 0)`` if unreadable)."""
    try:
        build, total, cursor = os.pread(lock, 256, 0).split()
        return build.decode(), int(total), int(cursor)
    except ValueError:
        return "", 0, 0


def _write_state(lock: int, build: str, total: int, cursor: int) -> None:
    data = f"{build} {total} {cursor}\n".encode()
    os.pwrite(lock, data, 0)
    os.ftruncate(lock, len(data))


def _write_file(directory: str, name: str, data: bytes) -> None:
    """Replace ``directory/name`` with ``data`` in one step: readers see the old file or the new one, whole."""
    temporary = f"{directory}/.{name}.{os.getpid()}-{threading.get_ident()}"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    finally:
        os.close(fd)
    os.replace(temporary, f"{directory}/{name}")  # noqa: PTH105


def _append(directory: str, key: str, size: int) -> None:
    """Record an answer at the end of its build's journal: the order in which answers go."""
    fd = os.open(f"{directory}/{JOURNAL}", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.write(fd, f"{key} {size} {time.time():.3f}\n".encode())
    finally:
        os.close(fd)


def _recount(directory: Path) -> int:
    """Rebuild the journal from the answers on disk, oldest first; the bytes they hold."""
    entries = sorted(_entries(directory), key=lambda entry: entry[2])
    journal = "".join(f"{path.name} {size} {modified:.3f}\n" for path, size, modified in entries)
    _write_file(str(directory), JOURNAL, journal.encode())
    return sum(size for _, size, _ in entries)


def _entries(directory: Path) -> list[tuple[Path, int, float]]:
    """``(path, bytes, modified)`` of each answer in ``directory``."""
    found = []
    try:
        scan = list(os.scandir(directory))
    except FileNotFoundError:
        return []
    for entry in scan:
        if entry.name.startswith("."):
            continue
        with contextlib.suppress(FileNotFoundError):
            stat = entry.stat()
            found.append((Path(entry.path), stat.st_size, stat.st_mtime))
    return found
