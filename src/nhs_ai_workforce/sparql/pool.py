"""Queries run in worker processes that can be killed: a time limit that really stops the work.

pyoxigraph cannot cancel a running query, and a signal handler only runs once the query has
ended, so no thread can stop a runaway query. :class:`PooledExecutor` therefore ships each
:class:`~.execution.QueryJob` to a small pool of child processes and waits at most
``settings.query_timeout_s`` for the answer:

- **Time limit.** When it passes, the child is killed with ``SIGKILL`` and the request gets
  **504 Query timed out** ("query timed out after N s"). 504 rather than 503: the endpoint is
  up and serving, it is the query engine behind it (the gateway's upstream) that gave no answer
  in time; 503 stays reserved for "no store". Retrying the same query will time out again.
- **Warm spare.** The pool keeps ``query_workers`` children for concurrent queries plus one
  spare, all with the store already open, so after a kill the next query is answered at once
  by a ready child while a replacement starts in the background. Children are forked from a
  ``forkserver`` that has imported pyoxigraph already, so a replacement is ready in tens of
  milliseconds.
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
  and otherwise gets 503 ("try again").
- **Shutdown.** :meth:`PooledExecutor.close` (also run at interpreter exit and when the
  executor is garbage-collected) kills the children. A child whose parent process disappears
  (a server worker killed with ``SIGKILL``) notices within a second and exits, even in the
  middle of a query.

Every query passes :func:`.guard.check_query` again here, so the pool refuses ``SERVICE``,
``LOAD``, updates and deep nesting whichever caller sends it, before a child is involved; the
child then refuses ``FROM`` / ``FROM NAMED`` and ``default-graph-uri`` / ``named-graph-uri``
naming a graph that is neither in the store it has open nor one of the project's graphs
(:func:`.guard.check_dataset`).
"""

from __future__ import annotations

import contextlib
import ctypes.util
import logging
import multiprocessing
import os
import signal
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing import forkserver
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from ..core.errors import ServiceError
from ..core.settings import Settings
from .execution import QueryJob, QueryOutcome, execute
from .guard import check_dataset, check_query, store_graphs

__all__ = ["PooledExecutor", "ProcessTimedOut", "query_allocator", "run_in_process"]

#: The stack of the thread that runs queries in a child.
STACK_BYTES = 512 * 1024 * 1024
#: How long a new child may take to open the store and say it is ready.
START_TIMEOUT_S = 60.0
#: Signals that mean the query exhausted the stack or the memory cap (or the kernel killed it).
_EXHAUSTED = {signal.SIGSEGV, signal.SIGBUS, signal.SIGABRT, signal.SIGKILL}
#: Modules the forkserver imports once, so each forked child starts warm.
_PRELOAD = ["nhs_ai_workforce.sparql.pool"]

_context_lock = threading.Lock()
_log = logging.getLogger(__name__)


def query_allocator(choice: str) -> str | None:
    """The ``malloc`` library query processes preload for ``choice`` (``settings.query_allocator``).

    ``auto``: jemalloc where it is installed (Debian: ``libjemalloc2``), else ``None``;
    ``system``: ``None`` (glibc's malloc); anything else: the path of a shared library.
    Oxigraph's sorting, grouping and hashing allocate heavily: with jemalloc the same query
    runs up to a third faster than with glibc's malloc (``benchmarks/``).
    """
    if choice == "system":
        return None
    if choice == "auto":
        return ctypes.util.find_library("jemalloc")
    if not Path(choice).is_file():
        raise ValueError(f"AIWF_QUERY_ALLOCATOR: {choice!r} is not 'auto', 'system' or a shared library file")
    return choice


def _context(allocator: str | None = None) -> multiprocessing.context.BaseContext:
    """The ``forkserver`` context (``spawn`` where there is none), with this module preloaded.

    The first call starts the forkserver, with ``allocator`` in ``LD_PRELOAD`` when given, so
    every query process forked from it uses that ``malloc``.
    """
    with _context_lock:
        try:
            context = multiprocessing.get_context("forkserver")
        except ValueError:  # pragma: no cover - platforms without fork
            return multiprocessing.get_context("spawn")
        context.set_forkserver_preload(_PRELOAD)
        if allocator and not _forkserver_running():
            _start_forkserver(allocator)
        return context


def _forkserver_running() -> bool:
    return getattr(forkserver._forkserver, "_forkserver_pid", None) is not None


def _start_forkserver(allocator: str) -> None:
    saved = os.environ.get("LD_PRELOAD")
    os.environ["LD_PRELOAD"] = f"{allocator} {saved}" if saved else allocator
    try:
        forkserver.ensure_running()
        _log.info("query processes use %s", allocator)
    finally:
        if saved is None:
            del os.environ["LD_PRELOAD"]
        else:
            os.environ["LD_PRELOAD"] = saved


# -- the child ---------------------------------------------------------------------------


def _limit_memory(megabytes: int) -> None:
    if megabytes <= 0:
        return
    try:
        import resource

        limit = megabytes * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ImportError, ValueError, OSError):  # pragma: no cover - not on this platform
        pass


def _in_child(lifeline: Connection, target: Callable[..., None], *args: Any) -> None:
    """Run ``target(*args)`` on a thread with a large stack; exit if the parent goes away.

    The main thread only watches ``lifeline``, a pipe whose writing end only the parent holds
    and never writes to: it reads as closed once the parent has exited, however it exited.
    (The parent pid would not do: forked by the forkserver, a child's parent is the
    forkserver, which lives as long as its children.) pyoxigraph releases the GIL while it
    evaluates, so the watch goes on during a long query and ``os._exit`` ends it at once.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the server, which closes us
    for stack in (STACK_BYTES, STACK_BYTES // 8, 0):  # smaller if the memory cap leaves no room
        threading.stack_size(stack)
        worker = threading.Thread(target=target, args=args, name="aiwf-query", daemon=True)
        try:
            worker.start()
        except RuntimeError:
            continue
        finally:
            threading.stack_size(0)
        break
    else:
        os._exit(70)
    while worker.is_alive():
        try:
            if lifeline.poll(0.5):  # the parent never writes: readable means closed
                os._exit(0)
        except (EOFError, OSError):
            os._exit(0)
    os._exit(0)


def _query_child(
    conn: Connection, lifeline: Connection, settings: Settings, result_limit_bytes: int | None, memory_mb: int
) -> None:
    """The entry point of a query child: open the store, then answer jobs until the pipe closes."""
    _limit_memory(memory_mb)
    _in_child(lifeline, _serve_queries, conn, settings, result_limit_bytes)


def _graphs_of(store, settings: Settings) -> frozenset[str]:
    """The graphs ``FROM`` and the protocol's dataset may name: the store's and the project's."""
    import pyoxigraph as ox

    named = {graph.value for graph in store.named_graphs() if isinstance(graph, ox.NamedNode)}
    return frozenset(named) | store_graphs(settings)


def _error_reply(status: int, title: str, message: str, line=None, column=None) -> tuple[str, tuple]:
    return ("error", (status, title, message, line, column))


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
            check_query(job.text, max_bytes=settings.max_request_bytes, allowed_graphs=graphs[1])
            check_dataset(job.default_graphs, job.named_graphs, allowed_graphs=graphs[1])
            reply: tuple = ("ok", execute(opened, job, result_limit_bytes=result_limit_bytes))
        except ServiceError as error:
            reply = _error_reply(error.status, error.title, error.message, error.line, error.column)
        except StoreError as error:
            reply = _error_reply(503, "Store unavailable", str(error))
        except MemoryError:
            reply = _error_reply(400, "Query too demanding", "the query ran out of memory; narrow it or add LIMIT")
        except Exception as error:  # noqa: BLE001 - every failure becomes an answer
            reply = _error_reply(500, "Query failed", f"{type(error).__name__}: {error}")
        try:
            conn.send(reply)
        except (OSError, ValueError):
            return
        del reply


# -- the parent --------------------------------------------------------------------------


@dataclass(eq=False)
class _Child:
    process: multiprocessing.process.BaseProcess
    conn: Connection
    pid: int
    started: float = field(default_factory=time.monotonic)
    jobs: int = 0
    exitcode: int | None = None
    stopped: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)


def _stop(child: _Child) -> int | None:
    """Kill ``child`` (if it still runs), reap it and return its exit code; safe to repeat."""
    with child.lock:
        if child.stopped:
            return child.exitcode
        child.stopped = True
        with contextlib.suppress(OSError):
            child.conn.close()
        if child.process.exitcode is None:
            with contextlib.suppress(OSError, ValueError):
                child.process.kill()
        child.process.join(5)
        child.exitcode = child.process.exitcode
        with contextlib.suppress(ValueError):
            child.process.close()
        return child.exitcode


def _stop_all(children: set[_Child], lock: threading.Lock) -> None:
    with lock:
        victims = list(children)
        children.clear()
    for child in victims:
        _stop(child)


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
        self._ready: deque[_Child] = deque()
        self._children: set[_Child] = set()
        self._starting = 0
        self._started = False
        self._closed = False
        #: Children watch the reading end; the writing end closes when this process ends.
        self.allocator = query_allocator(settings.query_allocator)
        self._lifeline = _context(self.allocator).Pipe(duplex=False)
        self._finalizer = weakref.finalize(self, _stop_all, self._children, threading.Lock())

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
            _stop(child)
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
        check_query(job.text, max_bytes=self.settings.max_request_bytes)
        if self._closed:
            raise ServiceError(503, "Server stopping", "the query workers have been shut down")
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
            raise ServiceError(503, "Query workers unavailable", "no query worker could take the query; try again")
        finally:
            self._slots.release()

    def _busy(self) -> ServiceError:
        return ServiceError(
            503, "Server busy", f"all {self.size} query workers stayed busy; try again in a few seconds"
        )

    def _take(self, deadline: float) -> _Child:
        with self._lock:
            while not self._ready:
                if self._closed:
                    raise ServiceError(503, "Server stopping", "the query workers have been shut down")
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise self._busy()
                self._lock.wait(remaining)
            return self._ready.popleft()

    def _give_back(self, child: _Child) -> None:
        with self._lock:
            if self._closed or child not in self._children:
                closing = True
            else:
                closing = False
                self._ready.append(child)
                self._lock.notify()
        if closing:
            _stop(child)

    def _discard(self, child: _Child) -> int | None:
        """Kill and forget ``child``, start its replacement; returns its exit code."""
        with self._lock:
            self._children.discard(child)
            with contextlib.suppress(ValueError):
                self._ready.remove(child)
        code = _stop(child)
        self.killed.append(child.pid)
        self._replenish()
        return code

    def _run_on(self, child: _Child, job: QueryJob) -> QueryOutcome | None:
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
        status, title, message, line, column = payload
        raise ServiceError(status, title, message, line, column)

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
            _stop(child)
        elif not self._closed:
            time.sleep(1.0)  # do not spin if children keep failing to start
            self._replenish()

    def _spawn(self) -> _Child:
        context = _context(self.allocator)
        parent_end, child_end = context.Pipe(duplex=True)
        process = context.Process(
            target=_query_child,
            args=(child_end, self._lifeline[0], self.settings, self.result_limit_bytes, self.memory_mb),
            name="aiwf-query",
            daemon=True,
        )
        process.start()
        child_end.close()
        child = _Child(process, parent_end, process.pid or 0)
        try:
            if not parent_end.poll(START_TIMEOUT_S):
                raise TimeoutError("query child did not start")
            kind, _ = parent_end.recv()
            if kind != "ready":
                raise RuntimeError(f"query child said {kind!r}")
        except BaseException:
            _stop(child)
            raise
        return child


# -- one function in a killable process ----------------------------------------------------


class ProcessTimedOut(TimeoutError):
    """:func:`run_in_process` killed its process after the time limit."""


def _call_child(conn: Connection, lifeline: Connection, function: Callable[..., Any], args: tuple) -> None:
    def call() -> None:
        try:
            reply: tuple = ("ok", function(*args))
        except BaseException as error:  # noqa: BLE001 - sent back to the parent
            reply = ("error", error)
        try:
            conn.send(reply)
        except Exception as error:  # noqa: BLE001 - an unpicklable result or exception
            conn.send(("error", RuntimeError(f"{type(error).__name__}: {error}")))

    _in_child(lifeline, call)


def run_in_process(function: Callable[..., Any], *args: Any, timeout_s: float) -> Any:
    """``function(*args)`` in a fresh child process, killed (``SIGKILL``) after ``timeout_s``.

    ``function`` must be importable (module level) and its arguments and result picklable.
    Its exceptions are raised here.

    :raises ProcessTimedOut: when the time ran out; the child is gone.
    :raises ChildProcessError: when the child died without an answer.
    """
    context = _context()
    parent_end, child_end = context.Pipe(duplex=True)
    lifeline_read, lifeline_write = context.Pipe(duplex=False)
    process = context.Process(
        target=_call_child, args=(child_end, lifeline_read, function, args), name="aiwf-task", daemon=True
    )
    process.start()
    child_end.close()
    lifeline_read.close()
    child = _Child(process, parent_end, process.pid or 0)
    try:
        if not parent_end.poll(timeout_s):
            raise ProcessTimedOut(f"stopped after {timeout_s:g} s")
        try:
            kind, payload = parent_end.recv()
        except (EOFError, OSError):
            process.join(5)
            raise ChildProcessError(f"the process died (exit code {process.exitcode})") from None
    finally:
        _stop(child)
        lifeline_write.close()
    if kind == "error":
        raise payload
    return payload
