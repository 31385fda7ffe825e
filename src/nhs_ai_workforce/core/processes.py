"""Child processes that can be killed: the plumbing under the query pool and :func:`run_in_process`.

pyoxigraph cannot cancel its work, and a signal handler only runs once the work has ended, so
the only time limit that really stops a query or an update is a process killed with
``SIGKILL``. This module starts such processes and stops them:

- **Start.** :func:`launch` starts a fresh interpreter (``fork`` then ``exec``) that imports
  only the module of the function it runs, so a query process holds pyoxigraph and the query
  code, not the web app (about 25 MB resident rather than the server's 60) and no helper process
  (``multiprocessing``'s forkserver and resource tracker) sits beside it; it is ready in about
  70 ms. It starts with ``LD_PRELOAD`` set to the allocator of :func:`query_allocator` when one
  is given, so its ``malloc`` is that one, and, when asked, with that ``malloc`` set to ask for
  transparent huge pages (:func:`allocator_environment`).
- **Stack and memory.** :func:`in_child` runs the work on a thread with a
  :data:`STACK_BYTES` stack (address space only; pages are used as needed);
  :func:`limit_memory` caps the address space with ``RLIMIT_AS``, and :meth:`Child.resident_mb`
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
import logging
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .channel import Channel, lifeline

if TYPE_CHECKING:
    from subprocess import Popen

__all__ = [
    "ADDRESS_HEADROOM_MB",
    "STACK_BYTES",
    "Child",
    "Launched",
    "ProcessTimedOut",
    "allocator_environment",
    "in_child",
    "interpreter_environment",
    "launch",
    "limit_memory",
    "query_allocator",
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

_log = logging.getLogger(__name__)

#: jemalloc's settings in a query process (unless ``MALLOC_CONF`` is set): one arena, as one
#: thread does the work, and freed pages handed back (by jemalloc's own thread) a second after a
#: query rather than ten seconds after the next one. An idle query process then holds 34 MB, not 39.
JEMALLOC_CONF = "narenas:1,background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:0"


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
        import ctypes.util  # the server's only: query processes never import ctypes

        return ctypes.util.find_library("jemalloc")
    if not Path(choice).is_file():
        raise ValueError(f"AIWF_QUERY_ALLOCATOR: {choice!r} is not 'auto', 'system' or a shared library file")
    return choice


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


def own_resident_mb() -> float | None:
    """This process's anonymous resident memory in MB, as :meth:`Child.resident_mb` reads a child's."""
    try:
        return _anonymous_mb(Path("/proc/self/statm").read_bytes())
    except OSError:
        return None


def _anonymous_mb(statm: bytes) -> float | None:
    """``RssAnon`` in MB from the text of ``/proc/{pid}/statm`` (resident less shared pages).

    >>> _anonymous_mb(b"221923 8647 5106 1 0 214819 0") == (8647 - 5106) * _PAGE_BYTES / 2**20
    True
    """
    try:
        fields = statm.split()
        return (int(fields[1]) - int(fields[2])) * _PAGE_BYTES / (1024 * 1024)
    except (ValueError, IndexError):
        return None


def in_child(lifeline: Channel, target: Callable[..., None], *args: Any) -> None:
    """Run ``target(*args)`` on a thread with a large stack; exit if the parent goes away.

    The main thread only watches ``lifeline``, a pipe whose writing end only the parent holds
    and never writes to: it reads as closed once the parent has exited, however it exited.
    (A parent killed with ``SIGKILL`` gives no other sign: the child is re-parented and goes
    on.) pyoxigraph releases the GIL while it
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


# -- starting a child ------------------------------------------------------------------------

#: What a launched interpreter runs: read its work from the pipe on fd ``argv[1]``, watch the
#: lifeline on fd ``argv[2]``. Only this module and the work's own module are imported.
_ENTRY = ("import sys; from nhs_ai_workforce.core.processes import _launched; "
          "_launched(int(sys.argv[1]), int(sys.argv[2]))")


class Launched:
    """A child started by :func:`launch`: what the parent needs of it (``pid``, ``exitcode``,
    ``kill``, ``join``)."""

    def __init__(self, popen: Popen) -> None:
        self._popen = popen
        self.pid = popen.pid

    @property
    def exitcode(self) -> int | None:
        """``None`` while it runs, else its exit code (minus the signal that killed it)."""
        return self._popen.poll()

    def kill(self) -> None:
        self._popen.kill()

    def join(self, timeout: float | None = None) -> None:
        from subprocess import TimeoutExpired

        with contextlib.suppress(TimeoutExpired):
            self._popen.wait(timeout)


def launch(
    target: Callable[..., None], *args: Any, watch: Channel, allocator: str | None = None,
    huge_pages: bool = False, label: str = "aiwf task",
) -> tuple[Launched, Channel]:
    """Start ``target(conn, watch, *args)`` in a fresh interpreter; ``(the child, the parent's end of
    its pipe)``. ``target`` must be importable (module level) and ``args`` picklable; ``watch``
    is the children's end of a :func:`lifeline`. ``allocator`` and ``huge_pages`` set the child's
    ``malloc`` (:func:`allocator_environment`); ``label`` ends its command line, for ``ps``.
    """
    import subprocess  # the parent's only: a child never starts others

    ours, theirs = socket.socketpair()
    env = allocator_environment(interpreter_environment(), allocator, huge_pages=huge_pages)
    fds = (theirs.fileno(), watch.fileno())
    try:
        popen = subprocess.Popen(
            [sys.executable, "-c", _ENTRY, *map(str, fds), label], pass_fds=fds, env=env, stdin=subprocess.DEVNULL,
            process_group=0,  # its own group: a terminal's Ctrl-C reaches the parent, which stops its children
        )
    finally:
        theirs.close()
    conn = Channel(ours)
    try:
        conn.send(sys.path)  # where the parent finds ``target``'s module
        conn.send((target, args))
    except BaseException:
        conn.close()
        popen.kill()
        popen.wait()
        raise
    return Launched(popen), conn


def allocator_environment(env: dict[str, str], allocator: str | None, *, huge_pages: bool = False) -> dict[str, str]:
    """``env`` with ``allocator`` preloaded and, with ``huge_pages``, its ``malloc`` asking the
    kernel for transparent huge pages (``madvise``): jemalloc's ``thp:always``, or glibc's
    ``glibc.malloc.hugetlb=1`` without ``allocator``. A ``MALLOC_CONF`` already set is kept.

    An Oxigraph store held in memory is hundreds of megabytes read at random: in 2 MB pages its
    lookups miss the TLB far less (a million triples: label search 45-48 ms a query in 2 MB pages,
    49-80 ms in 4 KB ones; ``benchmarks/README.md``). A small process pays for them (a query process
    on the real graph: 45 MB rather than 35), so the pool asks only for a large store.

    >>> allocator_environment({}, "/usr/lib/libjemalloc.so.2", huge_pages=True)["MALLOC_CONF"].endswith(",thp:always")
    True
    >>> allocator_environment({"GLIBC_TUNABLES": "glibc.malloc.arena_max=2"}, None, huge_pages=True)["GLIBC_TUNABLES"]
    'glibc.malloc.arena_max=2:glibc.malloc.hugetlb=1'
    """
    env = dict(env)
    if allocator:
        env["LD_PRELOAD"] = " ".join(filter(None, (allocator, env.get("LD_PRELOAD"))))
        if "jemalloc" in Path(allocator).name:
            env.setdefault("MALLOC_CONF", JEMALLOC_CONF + (",thp:always" if huge_pages else ""))
    elif huge_pages:
        env["GLIBC_TUNABLES"] = ":".join(filter(None, (env.get("GLIBC_TUNABLES"), "glibc.malloc.hugetlb=1")))
    return env


#: The directory that holds the ``nhs_ai_workforce`` package, so a launched child imports the same code.
_PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])


def interpreter_environment(**changes: str) -> dict[str, str]:
    """This process's environment with ``changes``, for a fresh interpreter that must import this
    same ``nhs_ai_workforce`` (its directory first on ``PYTHONPATH``)."""
    env = {**os.environ, **changes}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, (_PACKAGE_ROOT, env.get("PYTHONPATH"))))
    return env


def _launched(conn_fd: int, watch_fd: int) -> None:
    """The child's side of :func:`launch`: take the work from the pipe and run it."""
    conn, watch = Channel(socket.socket(fileno=conn_fd)), Channel(socket.socket(fileno=watch_fd))
    sys.path[:] = conn.recv()
    target, args = conn.recv()
    target(conn, watch, *args)


# -- in the parent ----------------------------------------------------------------------------


@dataclass(eq=False)
class Child:
    """A started child process and the parent's end of its pipe."""

    process: Launched
    conn: Channel
    pid: int
    started: float = field(default_factory=time.monotonic)
    jobs: int = 0
    #: When its last job was sent (``time.monotonic()``).
    sent: float = 0.0
    #: Memory (MB, ``RssAnon``) the child had when it said it was ready: its store, if in memory.
    baseline: float = 0.0
    #: Where a query child holds its store, as of its last message: ``None`` (on disk), or
    #: :data:`~nhs_ai_workforce.sparql.query_process.COPYING` or ``IN_MEMORY``.
    held: str | None = None
    exitcode: int | None = None
    stopped: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)
    #: ``/proc/{pid}/statm``, opened by :meth:`resident_mb` and closed by :func:`stop`.
    statm: int | None = None

    def resident_mb(self) -> float | None:
        """The anonymous memory (heap, stacks: ``RssAnon``) the child has resident, in MB; ``None``
        once it cannot be read (the child is gone, or there is no ``/proc``).

        Shared library code and the page cache are left out: they are not the query's memory.
        Read from ``/proc/{pid}/statm`` (resident less shared pages): one short line, a seventh of
        the cost of ``/proc/{pid}/status``, with one ``pread`` on a descriptor kept open, since
        the pool reads it after every query."""
        with self.lock:
            try:
                if self.statm is None:
                    if self.stopped:
                        return None
                    self.statm = os.open(f"/proc/{self.pid}/statm", os.O_RDONLY | os.O_CLOEXEC)
                return _anonymous_mb(os.pread(self.statm, 256, 0))
            except OSError:
                return None


def stop(child: Child) -> int | None:
    """Kill ``child`` (if it still runs), reap it and return its exit code; safe to repeat."""
    with child.lock:
        if child.stopped:
            return child.exitcode
        child.stopped = True
        with contextlib.suppress(OSError):
            child.conn.close()
        if child.statm is not None:
            with contextlib.suppress(OSError):
                os.close(child.statm)
            child.statm = None
        if child.process.exitcode is None:
            with contextlib.suppress(OSError):
                child.process.kill()
        child.process.join(5)
        child.exitcode = child.process.exitcode
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


def _call_child(conn: Channel, watch: Channel, function: Callable[..., Any], args: tuple) -> None:
    def call() -> None:
        try:
            reply: tuple = ("ok", function(*args))
        except BaseException as error:  # noqa: BLE001 - sent back to the parent
            reply = ("error", error)
        try:
            conn.send(reply)
        except Exception as error:  # noqa: BLE001 - an unpicklable result or exception
            conn.send(("error", RuntimeError(f"{type(error).__name__}: {error}")))

    in_child(watch, call)


def run_in_process(function: Callable[..., Any], *args: Any, timeout_s: float) -> Any:
    """``function(*args)`` in a fresh child process, killed (``SIGKILL``) after ``timeout_s``.

    ``function`` must be importable (module level) and its arguments and result picklable.
    Its exceptions are raised here.

    :raises ProcessTimedOut: when the time ran out; the child is gone.
    :raises ChildProcessError: when the child died without an answer.
    """
    lifeline_read, lifeline_write = lifeline()
    process, parent_end = launch(_call_child, function, args, watch=lifeline_read)
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
