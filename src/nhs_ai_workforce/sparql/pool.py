"""Queries run in worker processes that can be killed: a time limit that really stops the work.

pyoxigraph cannot cancel a running query, and a signal handler only runs once the query has
ended, so no thread can stop a runaway query. :class:`PooledExecutor` therefore ships each
:class:`~.execution.QueryJob` to a small pool of child processes and waits at most
``settings.query_timeout_s`` for the answer:

- **Time limit.** When it passes, the child is killed with ``SIGKILL`` and the request gets
  **504 Query timed out** ("query timed out after N s"). 504 rather than 503: the endpoint is
  up and serving, it is the query engine behind it (the gateway's upstream) that gave no answer
  in time; 503 stays reserved for "no store" and "no capacity". Retrying the same query will
  time out again.
- **Warm spare.** The pool keeps ``query_workers`` children for concurrent queries plus one
  spare, all with the store already open, so after a kill the next query is answered at once
  by a ready child while a replacement starts in the background. Children are forked from a
  ``forkserver`` that has imported pyoxigraph already, so a replacement is ready in tens of
  milliseconds (the process plumbing is :mod:`nhs_ai_workforce.core.processes`).
- **Crashes.** A child that dies on a query (a stack overflow in Oxigraph's recursive code,
  memory exhausted under the cap) is reported as **400 Query too demanding** when it died of
  ``SIGSEGV``/``SIGBUS``/``SIGABRT``/``SIGKILL`` (resource exhaustion: the same query would do
  it again) and **500 Query failed** otherwise; either way it is replaced at once and the
  server process never dies with it.
- **Stack and memory.** Queries run on a thread with a 512 MB stack (address space only;
  pages are used as needed), where every flat chain of operators or ``UNION``s that fits in
  the request-size limit parses without overflowing; nesting is capped by the guard. Each
  child's address space is capped with ``RLIMIT_AS`` at ``settings.query_memory_mb``
  (``AIWF_QUERY_MEMORY_MB``, default 4096; 0 for no cap).
- **Result size.** Results are serialised in the child, stopped at
  ``settings.result_limit_bytes`` (``AIWF_RESULT_LIMIT_BYTES``, default 16 MiB), and the
  request gets a 400 naming the limit (see :func:`.execution.execute`).
- **Store.** Each child opens the live store read-only through
  :class:`~nhs_ai_workforce.store.live.CurrentStore`, and reopens it when a new build is
  swapped in. Many processes share the on-disk store; nothing is parsed at startup.
- **Busy.** At most ``query_workers`` queries run at once per server process; a request that
  finds them all busy waits for one (up to the time limit, since every query ends by then)
  and otherwise gets 503 with ``Retry-After`` (as do a missing store and a stopping pool).
- **Shutdown.** :meth:`PooledExecutor.close` (also run at interpreter exit and when the
  executor is garbage-collected) kills the children. A child whose parent process disappears
  (a server worker killed with ``SIGKILL``) notices within a second and exits, even in the
  middle of a query.

Every query passes :func:`.guard.check_query` again here, so the pool refuses ``SERVICE``,
``LOAD``, updates and deep nesting whichever caller sends it, before a child is involved; the
child then refuses ``FROM`` / ``FROM NAMED`` and ``default-graph-uri`` / ``named-graph-uri``
naming a graph that is neither in the store it has open nor one of the project's graphs
(:func:`.guard.check_lexed`, :func:`.guard.check_dataset`). The text is scanned once: by the
caller (:attr:`.execution.QueryJob.lexed`) or else here, and the child reuses that scan.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
import time
import weakref
from collections import deque
from dataclasses import replace
from multiprocessing.connection import Connection

from ..core.errors import BadRequest, ServiceError, Unavailable
from ..core.namespaces import store_graphs
from ..core.processes import Child, context, in_child, limit_memory, preload, query_allocator, stop, stop_all
from ..core.settings import Settings
from .execution import QueryJob, QueryOutcome, execute
from .guard import check_dataset, check_lexed, check_query

__all__ = ["PooledExecutor"]

#: How long a new child may take to open the store and say it is ready.
START_TIMEOUT_S = 60.0
#: ``Retry-After`` (seconds) when no query worker could take a query.
RETRY_S = 5
#: Signals that mean the query exhausted the stack or the memory cap (or the kernel killed it).
_EXHAUSTED = {signal.SIGSEGV, signal.SIGBUS, signal.SIGABRT, signal.SIGKILL}

preload(__name__)  # the forkserver imports this module, so each forked child starts warm
_log = logging.getLogger(__name__)


# -- the child ---------------------------------------------------------------------------


def _query_child(
    conn: Connection, lifeline: Connection, settings: Settings, result_limit_bytes: int | None, memory_mb: int
) -> None:
    """The entry point of a query child: open the store, then answer jobs until the pipe closes."""
    limit_memory(memory_mb)
    in_child(lifeline, _serve_queries, conn, settings, result_limit_bytes)


def _graphs_of(store, settings: Settings) -> frozenset[str]:
    """The graphs ``FROM`` and the protocol's dataset may name: the store's and the project's."""
    import pyoxigraph as ox

    named = {graph.value for graph in store.named_graphs() if isinstance(graph, ox.NamedNode)}
    return frozenset(named) | store_graphs(settings)


def _error_reply(error: ServiceError) -> tuple[str, tuple]:
    return ("error", (error.status, error.title, error.message, error.line, error.column, error.retry_after))


def _error(payload: tuple) -> ServiceError:
    """The :class:`ServiceError` of an error reply (503s as :class:`Unavailable`)."""
    status, title, message, line, column, retry_after = payload
    if status == 503:
        return Unavailable(message, title, retry_after or RETRY_S)
    return ServiceError(status, title, message, line, column)


def _serve_queries(conn: Connection, settings: Settings, result_limit_bytes: int | None) -> None:
    from ..store.live import CurrentStore, StoreError

    store = CurrentStore(settings)
    with contextlib.suppress(StoreError):
        store.get()  # open it now, so the first query does not wait for it
    conn.send(("ready", os.getpid()))
    graphs: tuple[str | None, frozenset[str]] = (None, frozenset())
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        try:
            opened = store.get()
            if graphs[0] != store.build_id:
                graphs = (store.build_id, _graphs_of(opened, settings))
            check_lexed(job.lexed, allowed_graphs=graphs[1])  # the parent scanned the text
            check_dataset(job.default_graphs, job.named_graphs, allowed_graphs=graphs[1])
            reply: tuple = ("ok", execute(opened, job, result_limit_bytes=result_limit_bytes))
        except ServiceError as error:
            reply = _error_reply(error)
        except StoreError as error:
            reply = _error_reply(Unavailable(str(error)))
        except MemoryError:
            reply = _error_reply(
                BadRequest("the query ran out of memory; narrow it or add LIMIT", "Query too demanding")
            )
        except Exception as error:  # noqa: BLE001 - every failure becomes an answer
            reply = _error_reply(ServiceError(500, "Query failed", f"{type(error).__name__}: {error}"))
        try:
            conn.send(reply)
        except (OSError, ValueError):
            return
        del reply


# -- the parent --------------------------------------------------------------------------


class PooledExecutor:
    """Runs each :class:`QueryJob` in a pool of child processes that are killed on timeout.

    Thread-safe: one per server process, shared by its request threads. Children are started
    on first use (or by :meth:`start`). See the module docstring for the behaviour.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        size: int | None = None,
        spares: int = 1,
        timeout_s: float | None = None,
        result_limit_bytes: int | None = None,
        memory_mb: int | None = None,
    ) -> None:
        self.settings = settings
        self.size = max(1, size if size is not None else settings.query_workers)
        self.spares = max(0, spares)
        self.timeout_s = timeout_s if timeout_s is not None else settings.query_timeout_s
        self.result_limit_bytes = result_limit_bytes if result_limit_bytes is not None else settings.result_limit_bytes
        self.memory_mb = memory_mb if memory_mb is not None else settings.query_memory_mb
        #: Pids of children killed on a timeout or found dead, most recent last.
        self.killed: deque[int] = deque(maxlen=100)
        self._lock = threading.Condition()
        self._slots = threading.BoundedSemaphore(self.size)
        self._ready: deque[Child] = deque()
        self._children: set[Child] = set()
        self._starting = 0
        self._started = False
        self._closed = False
        #: Children watch the reading end; the writing end closes when this process ends.
        self.allocator = query_allocator(settings.query_allocator)
        self._lifeline = context(self.allocator).Pipe(duplex=False)
        self._finalizer = weakref.finalize(self, stop_all, self._children, threading.Lock())

    # -- lifecycle

    @property
    def target(self) -> int:
        """How many children the pool keeps: one per concurrent query, plus the spares."""
        return self.size + self.spares

    def start(self) -> PooledExecutor:
        """Start the children in the background (the first query also does this)."""
        with self._lock:
            self._started = True
        self._replenish()  # nothing happens once closed
        return self

    def wait_ready(self, timeout: float = START_TIMEOUT_S) -> bool:
        """Wait until every child of the pool is ready; ``False`` on timeout."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while len(self._ready) < self.target:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._closed:
                    return False
                self._lock.wait(remaining)
            return True

    def close(self) -> None:
        """Kill every child; later queries fail with 503."""
        with self._lock:
            self._closed = True
            children = list(self._children)
            self._children.clear()
            self._ready.clear()
            self._lock.notify_all()
        for child in children:
            stop(child)
        for end in self._lifeline:
            end.close()

    def __enter__(self) -> PooledExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def pids(self, *, busy: bool | None = None) -> list[int]:
        """The pids of the live children: all, or only the busy (``True``) or idle (``False``) ones."""
        with self._lock:
            idle = {child.pid for child in self._ready}
            return sorted(
                child.pid for child in self._children if busy is None or (child.pid not in idle) == busy
            )

    # -- running a job

    def run(self, job: QueryJob) -> QueryOutcome:
        """Run one job in a child; every failure is a :class:`ServiceError`."""
        # FROM and the protocol's dataset are checked in the child, against the store it runs on.
        lexed = check_query(job.text, max_bytes=self.settings.max_request_bytes, lexed=job.lexed)
        job = replace(job, lexed=lexed)
        if self._closed:
            raise self._stopping()
        if not self._started:
            self.start()
        wait = max(self.timeout_s, 1.0) + 5.0
        if not self._slots.acquire(timeout=wait):
            raise self._busy()
        try:
            for _ in range(3):  # a child found dead before it got the job: try another
                child = self._take(time.monotonic() + wait)
                outcome = self._run_on(child, job)
                if outcome is not None:
                    return outcome
            raise Unavailable("no query worker could take the query; try again", "Query workers unavailable", RETRY_S)
        finally:
            self._slots.release()

    def _busy(self) -> ServiceError:
        return Unavailable(f"all {self.size} query workers stayed busy; try again in a few seconds", "Server busy",
                           RETRY_S)

    def _stopping(self) -> ServiceError:
        return Unavailable("the query workers have been shut down", "Server stopping", RETRY_S)

    def _take(self, deadline: float) -> Child:
        with self._lock:
            while not self._ready:
                if self._closed:
                    raise self._stopping()
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise self._busy()
                self._lock.wait(remaining)
            return self._ready.popleft()

    def _give_back(self, child: Child) -> None:
        with self._lock:
            if self._closed or child not in self._children:
                closing = True
            else:
                closing = False
                self._ready.append(child)
                self._lock.notify()
        if closing:
            stop(child)

    def _discard(self, child: Child) -> int | None:
        """Kill and forget ``child``, start its replacement; returns its exit code."""
        with self._lock:
            self._children.discard(child)
            with contextlib.suppress(ValueError):
                self._ready.remove(child)
        code = stop(child)
        self.killed.append(child.pid)
        self._replenish()
        return code

    def _run_on(self, child: Child, job: QueryJob) -> QueryOutcome | None:
        """Run ``job`` on ``child``; ``None`` if the child was dead before it got it."""
        try:
            child.conn.send(job)
        except (OSError, ValueError):
            self._discard(child)
            return None
        child.jobs += 1
        try:
            answered = child.conn.poll(self.timeout_s)
            reply = child.conn.recv() if answered else None
        except (EOFError, OSError):
            code = self._discard(child)
            _log.warning("query process %d died (exit code %s) running a query; replaced", child.pid, code)
            raise self._crashed(code) from None
        if reply is None:
            self._discard(child)
            _log.warning("query timed out after %g s; killed its process %d", self.timeout_s, child.pid)
            raise ServiceError(
                504,
                "Query timed out",
                f"query timed out after {self.timeout_s:g} s and was stopped; narrow it or add LIMIT",
            )
        self._give_back(child)
        kind, payload = reply
        if kind == "ok":
            return payload
        raise _error(payload)

    def _crashed(self, code: int | None) -> ServiceError:
        if code is not None and code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = f"signal {-code}"
            if -code in _EXHAUSTED:
                return ServiceError(
                    400,
                    "Query too demanding",
                    f"the query process died ({name}) running this query: it ran out of stack or memory "
                    f"(limit {self.memory_mb} MB). Nest less deeply, shorten long chains, or narrow the query",
                )
            return ServiceError(500, "Query failed", f"the query process died ({name}); it has been replaced")
        return ServiceError(500, "Query failed", f"the query process stopped (exit code {code}); it has been replaced")

    # -- keeping the pool full

    def _replenish(self) -> None:
        """Start children in the background until the pool is back to its target."""
        with self._lock:
            if self._closed:
                return
            missing = self.target - len(self._children) - self._starting
            if missing <= 0:
                return
            self._starting += missing
        for _ in range(missing):
            threading.Thread(target=self._start_child, name="aiwf-pool-start", daemon=True).start()

    def _start_child(self) -> None:
        child = None
        try:
            child = self._spawn()
        except Exception as error:  # noqa: BLE001 - a child that cannot start is retried
            _log.warning("a query process failed to start (%s: %s); retrying", type(error).__name__, error)
            child = None
        with self._lock:
            self._starting -= 1
            if child is not None and not self._closed:
                self._children.add(child)
                self._ready.append(child)
                self._lock.notify_all()
                return
        if child is not None:
            stop(child)
        elif not self._closed:
            time.sleep(1.0)  # do not spin if children keep failing to start
            self._replenish()

    def _spawn(self) -> Child:
        spawner = context(self.allocator)
        parent_end, child_end = spawner.Pipe(duplex=True)
        process = spawner.Process(
            target=_query_child,
            args=(child_end, self._lifeline[0], self.settings, self.result_limit_bytes, self.memory_mb),
            name="aiwf-query",
            daemon=True,
        )
        process.start()
        child_end.close()
        child = Child(process, parent_end, process.pid or 0)
        try:
            if not parent_end.poll(START_TIMEOUT_S):
                raise TimeoutError("query child did not start")
            kind, _ = parent_end.recv()
            if kind != "ready":
                raise RuntimeError(f"query child said {kind!r}")
        except BaseException:
            stop(child)
            raise
        return child
