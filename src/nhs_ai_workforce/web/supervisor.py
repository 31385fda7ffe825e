"""Several server processes on one listening socket, each replaced if it dies.

The parent binds the socket(s) and forks ``workers`` children that all accept on them (the
kernel hands each connection to one). A child that exits while the server is running is
logged and replaced at once. ``SIGTERM`` or ``SIGINT`` stops the server: the parent closes its
copies of the listening sockets, then each child gets ``SIGTERM``, takes the connections still
waiting to be accepted, closes its copies (the port then refuses connections) and finishes the
requests in hand (:func:`.front.run`); any child still running after the grace period is
killed. A child that dies within its first seconds several times in a row (it cannot start)
stops the server rather than looping.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sys
import time
import traceback
from collections.abc import Callable, Sequence

__all__ = ["bind", "supervise"]

BACKLOG = 2048
#: A child that exits sooner than this after starting counts as a failure to start.
EARLY_S = 3.0
MAX_EARLY_EXITS = 5
_SIGNALS = {signal.SIGCHLD, signal.SIGTERM, signal.SIGINT}


def bind(host: str, port: int) -> list[socket.socket]:
    """Listening sockets on every address ``host`` resolves to (``OSError`` if none binds)."""
    sockets, failure = [], None
    seen = set()
    for family, kind, proto, _, address in socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM,
                                                              flags=socket.AI_PASSIVE):
        if address in seen:
            continue
        seen.add(address)
        sock = socket.socket(family, kind, proto)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            sock.bind(address)
            sock.listen(BACKLOG)
            sock.setblocking(False)
        except OSError as error:
            sock.close()
            failure = failure or error
            continue
        sockets.append(sock)
    if not sockets:
        raise failure or OSError(f"{host} resolves to no address")
    return sockets


def _say(message: str) -> None:
    print(f"[{os.getpid()}] {message}", file=sys.stderr, flush=True)


def _fork(work: Callable[[], None]) -> int:
    parent = os.getpid()
    pid = os.fork()
    if pid:
        return pid
    code = 0
    try:
        _die_with(parent)
        signal.pthread_sigmask(signal.SIG_SETMASK, set())
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when children stop
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        work()
    except BaseException:  # noqa: BLE001 - whatever it was, the child reports it and exits 1
        traceback.print_exc()
        code = 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


#: ``prctl`` option: the signal this process gets when its parent dies (Linux).
_PR_SET_PDEATHSIG = 1


def _die_with(parent: int) -> None:
    """Have the kernel send this server process ``SIGTERM`` (a graceful stop) when the supervisor
    dies, even killed with ``SIGKILL``, so none is left holding the port (Linux; elsewhere a no-op)."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):  # pragma: no cover - not Linux
        return
    if os.getppid() != parent:  # it died before we asked
        os.kill(os.getpid(), signal.SIGTERM)


def supervise(work: Callable[[], None], workers: int, grace_s: float,
              listening: Sequence[socket.socket] = ()) -> int:
    """Run ``work`` in ``workers`` child processes, replacing any that die, until ``SIGTERM``
    or ``SIGINT``; 0 after a clean stop, 1 if children keep failing to start. The ``listening``
    sockets the children accept on are closed here as the server stops, before the children are."""
    signal.pthread_sigmask(signal.SIG_BLOCK, _SIGNALS)
    children: dict[int, float] = {}
    early = 0

    def start() -> None:
        pid = _fork(work)
        children[pid] = time.monotonic()
        _say(f"started server process {pid}")

    for _ in range(max(1, workers)):
        start()
    code = 0
    try:
        while code == 0:
            received = signal.sigtimedwait(_SIGNALS, 1.0)
            if received and received.si_signo in (signal.SIGTERM, signal.SIGINT):
                break
            for pid, status in _reaped():
                started = children.pop(pid, None)
                if started is None:
                    continue
                _say(f"server process {pid} {_how(status)}; starting another")
                early = early + 1 if time.monotonic() - started < EARLY_S else 0
                if early >= MAX_EARLY_EXITS:
                    _say(f"server processes failed to start {early} times in a row; stopping")
                    code = 1
                    break
                start()
    finally:
        for sock in listening:  # the children's copies are the last: they close them as they stop
            sock.close()
        _stop(children, grace_s)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _SIGNALS)
    return code


def _reaped() -> list[tuple[int, int]]:
    found = []
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return found
        if not pid:
            return found
        found.append((pid, status))


def _how(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"was killed by {signal.Signals(os.WTERMSIG(status)).name}"
    return f"exited with code {os.waitstatus_to_exitcode(status)}"


def _stop(children: dict[int, float], grace_s: float) -> None:
    """``SIGTERM`` every child, wait up to ``grace_s`` (plus a little), then ``SIGKILL`` the rest."""
    for pid in children:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace_s + 2
    while children and time.monotonic() < deadline:
        for pid, _ in _reaped():
            children.pop(pid, None)
        if children:
            signal.sigtimedwait({signal.SIGCHLD}, 0.1)
    for pid in children:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
