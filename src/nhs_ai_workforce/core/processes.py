"""Child processes that can be killed: the plumbing under the query pool and :func:`run_in_process`.

pyoxigraph cannot cancel its work, and a signal handler only runs once the work has ended, so
the only time limit that really stops a query or an update is a process killed with
``SIGKILL``. This module starts such processes and stops them:

- **Start.** Children are forked from a ``forkserver`` (``spawn`` where there is none) that
  has imported the modules named with :func:`preload` already, so a child is ready in tens of
  milliseconds. The forkserver starts with ``LD_PRELOAD`` set to the allocator of
  :func:`query_allocator` when one is given, so every child forked from it uses that
  ``malloc``.
- **Stack and memory.** :func:`in_child` runs the work on a thread with a
  :data:`STACK_BYTES` stack (address space only; pages are used as needed);
  :func:`limit_memory` caps the address space with ``RLIMIT_AS``, and :func:`resident_mb`
  reads the memory a child really uses, so its parent can watch it. The address space is a
  poor measure of memory: an idle query process already reserves about 0.7 GB of it with
  jemalloc and 1 GB with glibc's malloc (the work thread's stack, malloc arenas, RocksDB's
  threads) while using some 35 MB, so a cap near 1 GB made children fail to start. An
  address-space cap is therefore only a backstop, set :data:`ADDRESS_HEADROOM_MB` above the
  memory the parent lets the child use.
- **Lifeline.** A child whose parent process disappears (even killed with ``SIGKILL``)
  notices within a second and exits, even in the middle of its work (:func:`in_child`).
- **Stop.** :func:`stop` kills, reaps and closes a :class:`Child`; it is safe to repeat.

:func:`run_in_process` puts these together for one call with a time limit.
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
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing import forkserver
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

__all__ = [
    "ADDRESS_HEADROOM_MB",
    "STACK_BYTES",
    "Child",
    "ProcessTimedOut",
    "context",
    "in_child",
    "limit_memory",
    "preload",
    "query_allocator",
    "resident_mb",
    "run_in_process",
    "stop",
    "stop_all",
]

#: Bytes of a memory page, the unit of ``/proc/{pid}/statm``.
_PAGE_BYTES = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096

#: The stack of the thread that does a child's work.
STACK_BYTES = 512 * 1024 * 1024

#: Address space (MB) a child reserves beyond the memory it uses: the work thread's stack, malloc
#: arenas and RocksDB's threads (an idle query process: ~0.7 GB with jemalloc, ~1 GB with glibc).
ADDRESS_HEADROOM_MB = 2048

#: Modules the forkserver imports once, so each forked child starts warm (see :func:`preload`).
_PRELOAD = [__name__]
_context_lock = threading.Lock()
_log = logging.getLogger(__name__)


def preload(*modules: str) -> None:
    """Have the forkserver import ``modules`` when it starts (the modules its children run)."""
    with _context_lock:
        _PRELOAD.extend(module for module in modules if module not in _PRELOAD)


def query_allocator(choice: str) -> str | None:
    """The ``malloc`` library query processes preload for ``choice`` (``settings.query_allocator``).

    ``auto``: jemalloc where it is installed (Debian: ``libjemalloc2``), else ``None``;
    ``system``: ``None`` (glibc's malloc); anything else: the path of a shared library.
    Oxigraph's sorting, grouping and hashing allocate heavily: with jemalloc the same query
    runs up to a third faster than with glibc's malloc (``benchmarks/``).

    >>> query_allocator("system") is None
    True
    """
    if choice == "system":
        return None
    if choice == "auto":
        return ctypes.util.find_library("jemalloc")
    if not Path(choice).is_file():
        raise ValueError(f"AIWF_QUERY_ALLOCATOR: {choice!r} is not 'auto', 'system' or a shared library file")
    return choice


def context(allocator: str | None = None) -> multiprocessing.context.BaseContext:
    """The ``forkserver`` context (``spawn`` where there is none), with the :func:`preload` modules.

    The first call starts the forkserver, with ``allocator`` in ``LD_PRELOAD`` when given, so
    every process forked from it uses that ``malloc``.
    """
    with _context_lock:
        try:
            found = multiprocessing.get_context("forkserver")
        except ValueError:  # pragma: no cover - platforms without fork
            return multiprocessing.get_context("spawn")
        found.set_forkserver_preload(list(_PRELOAD))
        if allocator and not _forkserver_running():
            _start_forkserver(allocator)
        return found


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


# -- in the child ------------------------------------------------------------------------------


def limit_memory(megabytes: int) -> None:
    """Cap this process's address space at ``megabytes`` (``RLIMIT_AS``); 0 or less: no cap."""
    if megabytes <= 0:
        return
    try:
        import resource

        limit = megabytes * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ImportError, ValueError, OSError):  # pragma: no cover - not on this platform
        pass


def resident_mb(pid: int) -> float | None:
    """The anonymous memory (heap, stacks: ``RssAnon``) process ``pid`` has resident, in MB.

    Shared library code and the page cache are left out: they are not the query's memory.
    ``None`` when it cannot be read (the process is gone, or there is no ``/proc``). Read from
    ``/proc/{pid}/statm`` (resident less shared pages, which is ``RssAnon``): one short line,
    a seventh of the cost of ``/proc/{pid}/status``, and it is read after every query.

    >>> resident_mb(os.getpid()) > 0
    True
    """
    try:
        fd = os.open(f"/proc/{pid}/statm", os.O_RDONLY)
        try:
            fields = os.read(fd, 256).split()
        finally:
            os.close(fd)
        return (int(fields[1]) - int(fields[2])) * _PAGE_BYTES / (1024 * 1024)
    except (OSError, ValueError, IndexError):
        return None


def in_child(lifeline: Connection, target: Callable[..., None], *args: Any) -> None:
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


# -- in the parent ----------------------------------------------------------------------------


@dataclass(eq=False)
class Child:
    """A started child process and the parent's end of its pipe."""

    process: multiprocessing.process.BaseProcess
    conn: Connection
    pid: int
    started: float = field(default_factory=time.monotonic)
    jobs: int = 0
    #: Memory (MB, ``RssAnon``) the child had when it said it was ready: its store, if in memory.
    baseline: float = 0.0
    exitcode: int | None = None
    stopped: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)


def stop(child: Child) -> int | None:
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


def stop_all(children: set[Child], lock: threading.Lock) -> None:
    """Empty ``children`` (under ``lock``) and stop each."""
    with lock:
        victims = list(children)
        children.clear()
    for child in victims:
        stop(child)


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

    in_child(lifeline, call)


def run_in_process(function: Callable[..., Any], *args: Any, timeout_s: float) -> Any:
    """``function(*args)`` in a fresh child process, killed (``SIGKILL``) after ``timeout_s``.

    ``function`` must be importable (module level) and its arguments and result picklable.
    Its exceptions are raised here.

    :raises ProcessTimedOut: when the time ran out; the child is gone.
    :raises ChildProcessError: when the child died without an answer.
    """
    spawner = context()
    parent_end, child_end = spawner.Pipe(duplex=True)
    lifeline_read, lifeline_write = spawner.Pipe(duplex=False)
    process = spawner.Process(
        target=_call_child, args=(child_end, lifeline_read, function, args), name="aiwf-task", daemon=True
    )
    process.start()
    child_end.close()
    lifeline_read.close()
    child = Child(process, parent_end, process.pid or 0)
    try:
        if not parent_end.poll(timeout_s):
            raise ProcessTimedOut(f"stopped after {timeout_s:g} s")
        try:
            kind, payload = parent_end.recv()
        except (EOFError, OSError):
            process.join(5)
            raise ChildProcessError(f"the process died (exit code {process.exitcode})") from None
    finally:
        stop(child)
        lifeline_write.close()
    if kind == "error":
        raise payload
    return payload
