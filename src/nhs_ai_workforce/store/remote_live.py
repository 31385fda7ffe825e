"""The live publication of a remote store: what a server reading one (``AIWF_SPARQL_URL``) serves.

:class:`RemoteCurrentStore` takes the place of :class:`~.live.CurrentStore` (``get``, ``snapshot``,
``derived``, ``build_id``, ``is_live``) and hands out a :class:`~.remote_store.RemoteStore` over the
graphs of the publication the remote holds.

**Which build.** The remote holds the publication record that ``aiwf publish`` writes
(:mod:`.publication`). The server reads it on first use and again when it is older than
``AIWF_SPARQL_REFRESH`` seconds (default 5): one thread reads it while the others go on with the one
they have. Its id stands where a build id stands for the embedded store: what is derived once per
build (pages, charts, VoID and statistics, the reconciliation catalogue), the answers kept per build
and their ``ETag`` s, and ``Last-Modified``. So a new publication is served, and everything derived
from the last one dropped, within that time and without a restart. Within that time a process that
has not read the record again still names the last publication while its queries already read the
new graphs, so what it answers and keeps then carries the last id; and as each server process reads
the record itself, two processes may differ (the answers kept on disk then go to whichever kept one
last). The next read sets it right.

A remote without a record is answered as a server without a store: 503, saying to publish. A record
that cannot be read is the remote's failure (:func:`~.remote_store.remote_failure`: 502 or 504), and
requests within :data:`FAILURE_HOLD_S` get the same answer without asking the remote again.
"""

from __future__ import annotations

import copy
import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from ..core.memo import BuildMemo
from ..core.remote import Credentials, CredentialsError, RemoteError, RemotePolicy, check_url
from ..core.settings import Settings
from . import publication as records
from .live import StoreError
from .remote_store import CREDENTIALS_PREFIX, STORE_READ_MAX_BYTES, RemoteStore, remote_failure

__all__ = ["FAILURE_HOLD_S", "NoPublicationError", "RemoteCurrentStore", "check_remote"]

_log = logging.getLogger(__name__)

#: After the record could not be read, requests within this many seconds get the same error
#: without asking the remote again (so a remote that is down is not hammered, and nobody waits).
FAILURE_HOLD_S = 1.0


class NoPublicationError(StoreError):
    """The remote holds no publication record: nothing has been published to it (yet)."""


@dataclass(frozen=True)
class _Live:
    store: RemoteStore
    memo: BuildMemo
    publication: records.Publication


class RemoteCurrentStore:
    """:class:`~.live.CurrentStore` for a remote store: the live publication and what is derived from it.

    One per server process, shared by its threads. The record is read on first use and again when
    it is older than ``settings.sparql_refresh_s``; one thread reads it while the others go on with
    the one they have (see the module docstring).
    """

    def __init__(self, settings: Settings, *, credentials: Credentials | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if not settings.sparql_url:
            raise ValueError("no remote store: AIWF_SPARQL_URL is not set")
        self.settings = settings
        self.endpoint = settings.sparql_url
        self.credentials = credentials if credentials is not None else Credentials.from_env(CREDENTIALS_PREFIX)
        self.policy = replace(RemotePolicy.from_settings(settings), max_answer_bytes=STORE_READ_MAX_BYTES)
        self._clock = clock
        self._lock = threading.Lock()
        self._reading = threading.Lock()
        self._live: _Live | None = None
        self._read_at = -math.inf
        self._failure: tuple[float, StoreError] | None = None

    # -- what CurrentStore offers

    def get(self) -> RemoteStore:
        """The store of the live publication.

        :raises NoPublicationError: if the remote holds no publication record.
        :raises RemoteStoreError: if the record cannot be read.
        """
        return self._current().store

    def snapshot(self) -> tuple[RemoteStore, str]:
        """The live publication's store and id, taken together."""
        live = self._current()
        return live.store, live.memo.build_id or ""

    def derived(self, key, make):
        """``make(store, publication id)`` for the live publication, made once per publication and key."""
        live = self._current()
        return live.memo.get(key, lambda: make(live.store, live.memo.build_id))

    @property
    def build_id(self) -> str | None:
        """The id of the publication served, if one has been read."""
        live = self._live
        return live.publication.id if live else None

    @property
    def publication(self) -> records.Publication | None:
        """The publication record served, if one has been read."""
        live = self._live
        return live.publication if live else None

    def is_live(self, build: str) -> bool:
        """Is ``build`` the publication served, as read less than the refresh interval ago? Asks the
        remote nothing (the front end's I/O thread calls it): a record read longer ago counts as stale."""
        try:
            live = self._fresh()
        except StoreError:
            return False
        return live is not None and live.publication.id == build

    # -- inside

    def _current(self) -> _Live:
        live = self._fresh()
        if live is not None:
            return live
        if not self._reading.acquire(blocking=self._live is None):
            return self._live  # type: ignore[return-value] - another thread reads the record; go on with this one
        try:
            return self._fresh() or self._read()
        finally:
            self._reading.release()

    def _fresh(self) -> _Live | None:
        """The publication if it was read less than the refresh interval ago; the held failure, raised."""
        now = self._clock()
        with self._lock:
            if self._failure is not None and now - self._failure[0] < FAILURE_HOLD_S:
                raise copy.copy(self._failure[1])  # a copy: the one held keeps no frames of another request
            if self._live is not None and now - self._read_at < self.settings.sparql_refresh_s:
                return self._live
            return None

    def _read(self) -> _Live:
        started = self._clock()
        base = self.settings.base
        limit = min(self.settings.query_timeout_s, self.settings.remote_timeout_s)
        try:
            found = records.read(self.endpoint, base, policy=self.policy, credentials=self.credentials,
                                 deadline_s=limit)
        except RemoteError as error:
            failure = remote_failure(error, deadline_s=limit)
            assert isinstance(failure, StoreError)  # too large is only a query's fault
            self._hold(started, failure)
            raise failure from None
        if found is None:
            failure = NoPublicationError(
                f"the remote store holds no publication record (graph <{records.graph_iri(base)}>): load it with "
                "`aiwf publish --to <its Graph Store endpoint>`, with the same AIWF_BASE as this server")
            self._hold(started, failure)
            raise failure
        with self._lock:
            if self._live is None or self._live.publication.id != found.id:
                if self._live is not None:
                    _log.warning("remote store: publication %s (build %s) is live; was %s", found.id, found.build,
                                 self._live.publication.id)
                store = RemoteStore(self.endpoint, found.graphs, self.policy, self.credentials,
                                    deadline_s=self.settings.remote_timeout_s)
                self._live = _Live(store, BuildMemo(found.id), found)
            self._read_at, self._failure = started, None
            return self._live

    def _hold(self, when: float, failure: StoreError) -> None:
        with self._lock:
            self._failure = (when, failure)


def check_remote(settings: Settings, *, federation: bool) -> None:
    """Refuse a remote store the server cannot use: a bad ``AIWF_SPARQL_URL``, bad credentials, or
    ``federation`` (``AIWF_SERVICE_ALLOW``), whose calls the remote would make itself, outside this
    server's limits.

    :raises ValueError: saying what is wrong.
    """
    try:
        check_url(settings.sparql_url or "")
    except ValueError as error:
        raise ValueError(f"AIWF_SPARQL_URL: {error}") from None
    try:
        Credentials.from_env(CREDENTIALS_PREFIX)
    except CredentialsError as error:
        raise ValueError(str(error)) from None
    if federation:
        raise ValueError("AIWF_SERVICE_ALLOW cannot be used with AIWF_SPARQL_URL: the remote store would make the "
                         "SERVICE calls itself, outside this server's limits and allow-list; set up federation on "
                         "the remote store, or serve the embedded store")
