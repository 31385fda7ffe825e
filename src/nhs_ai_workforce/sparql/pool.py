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
- **Replacement.** The pool keeps ``query_workers`` children for concurrent queries, all with the
  store open; a killed one is replaced in the background by a fresh interpreter that imports only
  the query code and pyoxigraph (some 35 MB), ready in about 0.1 s
  (:mod:`nhs_ai_workforce.core.processes`), so the next query waits at most that long.
  ``AIWF_QUERY_SPARES`` (default 0) keeps that many idle children beside them, at 35 MB each.
- **Memory.** ``settings.query_memory_mb`` (``AIWF_QUERY_MEMORY_MB``; default half the
  machine's memory, 0 for no cap) is what all the query processes of the server may use
  together. Each of the ``settings.workers`` server processes has an equal part; in a pool,
  idle children may keep :data:`IDLE_MB` each and each running query gets an equal share of
  the rest (:attr:`PooledExecutor.memory_mb`). While a query runs, the waiting request thread
  reads the child's resident memory (:meth:`~nhs_ai_workforce.core.processes.Child.resident_mb`)
  every :data:`WATCH_S`; a child over its share is killed and the request gets **400 Query
  used too much memory** naming the limit (the query's fault: the same query would pass it
  again, so a 4xx, as for a result over the size limit); a child that keeps more than :data:`IDLE_MB`
  after a query beyond what it had when it was ready (its store, when held in memory) is replaced
  (read after a query of :data:`QUICK_S` or more, and at every :data:`MEMORY_READ_EVERY`-th job).
  ``RLIMIT_AS`` is only a backstop, :data:`~nhs_ai_workforce.core.processes.ADDRESS_HEADROOM_MB`
  above the share, for memory grabbed faster than the watch.
- **Crashes.** A child that dies on a query of ``SIGSEGV``/``SIGBUS``/``SIGABRT`` (a stack
  overflow in Oxigraph's recursive code, an allocation refused at the backstop: the same query
  would do it again) is reported as **400 Query too demanding**. A child that dies otherwise
  (killed from outside, ``SIGKILL`` from an operator or the kernel's OOM killer, another exit)
  says nothing about the query: **503 Query process lost** with ``Retry-After: 1``. Either
  way it is replaced at once and the server process never dies with it.
- **Stack.** Queries run on a thread with a 512 MB stack (address space only), where every flat
  chain of operators that fits in the request-size limit parses; the guard caps nesting.
- **Result size.** Results are serialised in the child, stopped at
  ``settings.result_limit_bytes`` (``AIWF_RESULT_LIMIT_BYTES``, default 16 MiB), and the
  request gets a 400 naming the limit (see :func:`.execution.execute`).
- **Store.** Each child opens the live store read-only through
  :class:`~nhs_ai_workforce.store.live.CurrentStore`, and reopens it when a new build is
  swapped in. Many processes share the on-disk store; nothing is parsed at startup. A store
  of at most ``settings.memory_store_bytes`` on disk (``AIWF_MEMORY_STORE_MB``, default 512)
  is copied into each child's memory (some 460 bytes a quad per child), where queries run two
  to four times faster: a small one when the child opens it, a larger one in the background
  while the store on disk answers (:mod:`.query_process`), and such a child's ``malloc`` asks for
  2 MB pages (:func:`~nhs_ai_workforce.store.live.wants_huge_pages`). The memory a copy takes is
  the store's, not a query's: the child's idle baseline moves when the copy is swapped in.
- **Busy.** At most ``query_workers`` queries run at once per server process, a few more
  may wait (``AIWF_QUERY_QUEUE``), and one client is sure of its share
  (``AIWF_QUERY_SLOTS_PER_CLIENT``); the rest are refused at once with 503 or 429 and
  ``Retry-After`` (:mod:`.admission`), as are a missing store and a stopping pool (503).
  Slots nobody else wants are lent past a client's share (``AIWF_QUERY_LEND``, on by
  default); a query in a lent slot that another client needs is stopped after
  :data:`~.admission.RECLAIM_GRACE_S` and runs again from the queue.
- **Shutdown.** :meth:`PooledExecutor.close` (also run at exit and on garbage collection) kills
  the children. A child whose parent process disappears (a server worker killed with ``SIGKILL``)
  notices within a second and exits, even in the middle of a query.

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
import threading
import time
import weakref
from collections import deque
from dataclasses import replace

from ..core.channel import lifeline
from ..core.errors import ServiceError, Unavailable
from ..core.processes import Child, launch, query_allocator, stop, stop_all
from ..core.settings import Settings
from ..store.live import wants_huge_pages
from .admission import Admission, Ticket
from .execution import QueryJob, QueryOutcome, job_message
from .guard import check_query
from .pool_errors import RETRY_S, crashed, reply_error, timed_out, too_much_memory
from .query_process import COPYING, IN_MEMORY, query_child

__all__ = ["PooledExecutor"]

#: How long a new child may take to open the store and say it is ready.
START_TIMEOUT_S = 60.0
#: Memory (MB) an idle query process may keep; one that keeps more after a query is replaced.
IDLE_MB = 256
#: A query quicker than this (seconds) cannot have taken :data:`IDLE_MB` (256 MB of new pages take
#: some 30 ms to clear), so its process's memory (5 microseconds to read) is read after it only at
#: every :data:`MEMORY_READ_EVERY`-th job.
QUICK_S = 0.005
MEMORY_READ_EVERY = 16
#: How often (seconds) a running query's memory is read.
WATCH_S = 0.05

_log = logging.getLogger(__name__)


class _AskedBack(Exception):
    """The query's lent slot was asked back, and the query stopped."""


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
        spares: int | None = None,
        timeout_s: float | None = None,
        result_limit_bytes: int | None = None,
        memory_mb: int | None = None,
        queue: int | None = None,
        per_client: int | None = None,
    ) -> None:
        self.settings = settings
        self.size = max(1, size if size is not None else settings.query_workers)
        self.spares = max(0, spares if spares is not None else settings.query_spares)
        self.timeout_s = timeout_s if timeout_s is not None else settings.query_timeout_s
        self.result_limit_bytes = result_limit_bytes if result_limit_bytes is not None else settings.result_limit_bytes
        #: Resident memory (MB) one running query may use (0: no cap), and an idle child may keep.
        self.memory_mb, self.idle_mb = _memory_shares(settings, self.size, self.spares, memory_mb)
        #: Pids of children killed on a timeout or found dead, most recent last.
        self.killed: deque[int] = deque(maxlen=100)
        self._lock = threading.Condition()
        self.admission = Admission(
            self.size, queue=settings.query_queue if queue is None else queue,
            per_client=settings.query_slots_per_client if per_client is None else per_client,
            wait_s=max(self.timeout_s, 1.0), retry_s=RETRY_S, lend=settings.query_lend,
        )
        self._ready: deque[Child] = deque()
        self._children: set[Child] = set()
        self._starting = 0
        self._started = False
        self._closed = False
        #: Children watch the reading end; the writing end closes when this process ends.
        self.allocator = query_allocator(settings.query_allocator)
        self._lifeline = lifeline()
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

    def report(self) -> dict[str, int]:
        """What ``/health`` says of the queries: the slots (:meth:`.Admission.report`), and how many
        query processes answer from a copy of the store in memory, and are making one (as of
        their last answer)."""
        with self._lock:
            held = [child.held for child in self._children]
        return {**self.admission.report(), "in_memory": held.count(IN_MEMORY), "copying": held.count(COPYING)}

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
        ticket = self.admission.enter(job.client)
        try:
            while True:
                try:
                    return self._run_in_slot(job, ticket)
                except _AskedBack:  # its slot was lent, and is wanted: start again when one is free
                    if not self.admission.requeue(ticket):
                        self.admission.wait(ticket)
        finally:
            self.admission.leave(ticket)

    def _run_in_slot(self, job: QueryJob, ticket: Ticket) -> QueryOutcome:
        for _ in range(3):  # a child found dead before it got the job: try another
            child = self._take(time.monotonic() + max(self.timeout_s, 1.0) + 5.0)
            outcome = self._run_on(child, job, ticket)
            if outcome is not None:
                return outcome
        raise Unavailable("no query worker could take the query; try again", "Query workers unavailable", RETRY_S)

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

    def _run_on(self, child: Child, job: QueryJob, ticket: Ticket) -> QueryOutcome | None:
        """Run ``job`` on ``child``; ``None`` if the child was dead before it got it."""
        if not self.send(child, job):
            return None
        try:
            reply = self._await(child, ticket)
        except (EOFError, OSError):
            raise self.lost(child) from None
        if reply is None:
            raise self.timed_out(child)
        return self.settle(child, reply)

    # Each step of a job on a child, also taken one at a time by a caller that does not wait
    # for the reply in a thread (the front end's I/O loop, :mod:`nhs_ai_workforce.web.lane`).

    def try_take(self) -> Child | None:
        """An idle child at once, or ``None``."""
        with self._lock:
            return self._ready.popleft() if self._ready and not self._closed else None

    def send(self, child: Child, job: QueryJob) -> bool:
        """Give ``job`` to ``child``; ``False`` (the child discarded) if it was dead."""
        try:
            child.conn.send(job_message(job))
        except (OSError, ValueError):
            self._discard(child)
            return False
        child.jobs += 1
        child.sent = time.monotonic()
        return True

    def settle(self, child: Child, reply: tuple) -> QueryOutcome:
        """The outcome of ``child``'s ``reply``; the child goes back to the pool, or is replaced
        if it keeps a query's memory. Raises the reply's error."""
        kind, payload, held = reply
        if isinstance(held, float):
            child.baseline = held  # its store, now copied into memory
        child.held = IN_MEMORY if isinstance(held, float) else held
        quick = time.monotonic() - child.sent < QUICK_S and child.jobs % MEMORY_READ_EVERY
        used = child.resident_mb() if self.memory_mb and held != COPYING and not quick else None
        if used is not None and used - child.baseline > self.idle_mb:
            self._discard(child)  # do not let an idle child sit on a query's memory
        else:
            self._give_back(child)
        if kind == "ok":
            return QueryOutcome(*payload)
        raise reply_error(payload)

    def lost(self, child: Child) -> ServiceError:
        """The error for a child that died running its query (discarded and replaced)."""
        code = self._discard(child)
        _log.warning("query process %d died (exit code %s) running a query; replaced", child.pid, code)
        return crashed(code, self.memory_mb)

    def timed_out(self, child: Child) -> ServiceError:
        """The error for a query past the time limit; its child is killed and replaced."""
        self._discard(child)
        _log.warning("query timed out after %g s; killed its process %d", self.timeout_s, child.pid)
        return timed_out(self.timeout_s)

    def over_memory(self, child: Child) -> float | None:
        """The memory (MB) of ``child``'s running query if it is over its share, else ``None``."""
        used = child.resident_mb() if self.memory_mb else None
        return used if used is not None and used > self.memory_mb else None

    def memory_error(self, child: Child, used: float) -> ServiceError:
        """The error for a query found using ``used`` MB, over its share; its child is killed and replaced."""
        self._discard(child)
        _log.warning("a query used %.0f MB, over its %d MB; killed its process %d", used, self.memory_mb, child.pid)
        return too_much_memory(used, self.memory_mb, self.settings.query_memory_mb)

    def stop_lent(self, child: Child) -> None:
        """Stop ``child``'s query, whose lent slot was asked back; the child is replaced."""
        self._discard(child)
        _log.info("stopped a query in a lent slot that another client needed (process %d)", child.pid)

    def _await(self, child: Child, ticket: Ticket) -> tuple | None:
        """The child's reply, ``None`` after the time limit; kills a child over its memory share,
        or whose lent slot was asked back (raising :class:`_AskedBack`)."""
        deadline = time.monotonic() + self.timeout_s
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            if child.conn.poll(min(WATCH_S, remaining) if self.memory_mb or ticket.borrowed else remaining):
                return child.conn.recv()
            if ticket.asked_back(time.monotonic()):
                self.stop_lent(child)
                raise _AskedBack
            used = self.over_memory(child)
            if used is not None:
                raise self.memory_error(child, used)

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
        process, parent_end = launch(query_child, self.settings, self.result_limit_bytes, self.memory_mb,
                                     watch=self._lifeline[0], allocator=self.allocator,
                                     huge_pages=wants_huge_pages(self.settings), label="aiwf query")
        child = Child(process, parent_end, process.pid or 0)
        try:
            if not parent_end.poll(START_TIMEOUT_S):
                raise TimeoutError("query child did not start")
            kind, _, held = parent_end.recv()
            if kind != "ready":
                raise RuntimeError(f"query child said {kind!r}")
            child.held = held
            child.baseline = child.resident_mb() or 0.0
        except BaseException:
            stop(child)
            raise
        return child


def _memory_shares(settings: Settings, size: int, spares: int, memory_mb: int | None) -> tuple[int, int]:
    """``(per running query, per idle child)`` in MB from the server-wide cap (see the module docstring).

    >>> _memory_shares(Settings(query_memory_mb=12288, workers=2, query_workers=2), 2, 1, None)
    (2944, 256)
    >>> _memory_shares(Settings(query_memory_mb=0), 2, 1, None), _memory_shares(Settings(), 2, 1, 100)
    ((0, 0), (100, 100))
    """
    if memory_mb is not None:
        return max(0, memory_mb), min(IDLE_MB, max(0, memory_mb))
    total = settings.query_memory_mb
    if total <= 0:
        return 0, 0
    servers = max(1, settings.workers)
    idle = min(IDLE_MB, total // (servers * (size + spares)))
    return max(1, (total - servers * spares * idle) // (servers * size)), idle
