"""The production server: waitress in several processes sharing the on-disk store read-only.

``aiwf serve`` (and so ``make serve``) runs :func:`serve`; the same app can be served by any
WSGI server as ``nhs_ai_workforce.web.wsgi:app`` (settings from the environment), e.g.
``waitress-serve --port 8000 nhs_ai_workforce.web.wsgi:app``.

What :func:`serve` sets up:

- ``HOST:PORT`` from the settings (``HOST``, ``PORT``; default ``127.0.0.1:8000``), or the
  ``--host`` / ``--port`` options, bound once by the command, which then becomes a lean
  supervisor (a fresh interpreter holding the sockets, settings from the environment with the
  command's base, root and store: :mod:`.supervisor`) that forks ``workers`` server processes
  (``AIWF_WORKERS`` or ``--workers``, default 1) accepting on them, and replaces any that dies;
- in each process a waitress front end (:mod:`.front`) that reads every request whole before a
  request thread sees it (``threads`` of them; by default :func:`request_threads`: the running and
  queued queries plus 4, so pages and ``/health`` always find a thread), with head and body deadlines
  (``AIWF_HEADER_TIMEOUT``, ``AIWF_BODY_TIMEOUT``) and a connection cap
  (``AIWF_MAX_CONNECTIONS``), so slow or stalled clients hold sockets, never threads;
- in each process a pool of killable query processes (:mod:`nhs_ai_workforce.sparql.pool`),
  started as the process boots and shut down when it exits;
- in each process the responses it replays to repeated requests from its I/O thread
  (:mod:`.replay`; ``AIWF_REPLAY_MB``);
- one access-log line per request on stdout (with the time taken in ms), errors on stderr;
- request bodies up to ``max_request_bytes`` (413) and heads up to that plus 16 KiB (431);
- a graceful shutdown on ``SIGTERM``/``SIGINT``: the port stops accepting, every request already
  received is answered (each connection closing after its last answer) and idle connections are
  closed, within :func:`grace_s` (:func:`.front.run`).

Startup never reads the seed tables or the dumps: the processes open the existing store, so
the time to the first answer does not depend on the size of the graph.
"""

from __future__ import annotations

import gc
import os
import socket
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NoReturn

from ..core.settings import Settings

if TYPE_CHECKING:
    from flask import Flask

__all__ = ["THREADS", "application", "request_threads", "serve", "serve_process"]

#: Request threads of a server process beyond those queries may hold (running or waiting for a
#: slot: ``settings.query_requests_held``), so pages, dumps and ``/health`` never wait behind queries.
THREADS = 4
#: What ``ps`` shows of the supervisor and server processes (``pgrep -f "aiwf serve"`` finds them).
PROCESS_LABEL = "aiwf serve"


def request_threads(settings: Settings) -> int:
    """The default request threads of one server process: what queries may hold plus :data:`THREADS`."""
    return settings.query_requests_held + THREADS


def application(settings: Settings | None = None) -> Flask:
    """The app as the server runs it (settings from the environment unless given)."""
    from .app import create_app

    return create_app({"SETTINGS": settings} if settings else None)


def __getattr__(name: str) -> Any:
    """``nhs_ai_workforce.web.wsgi:app``, created on first access (importing has no effects)."""
    if name == "app":
        globals()["app"] = created = application()
        return created
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def grace_s(settings: Settings) -> float:
    """How long a stopping server waits for the requests in hand: a query may wait its time limit
    for a slot and then run for as long (an update, its own limit), plus 5 s to answer.

    >>> grace_s(Settings()), grace_s(Settings(query_timeout_s=1, update_timeout_s=30))
    (25.0, 35.0)
    """
    query = 2 * max(settings.query_timeout_s, 1.0)
    return float(max(query, settings.update_time_limit_s) + 5)


def serve(
    settings: Settings, *, host: str | None = None, port: int | None = None, workers: int | None = None,
    threads: int | None = None, ready: Callable[[], None] | None = None,
) -> NoReturn:
    """Bind ``HOST:PORT`` here (``OSError`` if it cannot be), call ``ready``, then become the lean
    supervisor (:func:`.supervisor_main.main`): this process is replaced (``exec``) by a fresh
    interpreter that keeps the listening sockets and imports nothing of the app or its settings,
    so the supervisor holds some 11 MB rather than the command line's 40; its server processes
    (:func:`serve_process`) import the app themselves. Does not return: the process exits with
    the server's exit code."""
    from ..core.processes import interpreter_environment
    from .supervisor import bind

    sockets = bind(host or settings.host, port or settings.port)
    if ready:
        ready()
    env = interpreter_environment(AIWF_BASE=settings.base, AIWF_ROOT=str(settings.root))
    env.setdefault("MALLOC_ARENA_MAX", "2")  # glibc's 8 per core only fragment: the GIL serialises most allocation
    if settings.store_dir is not None:
        env["AIWF_STORE"] = str(settings.store_dir)
    fds = [sock.fileno() for sock in sockets]
    for fd in fds:
        os.set_inheritable(fd, True)
    sys.stdout.flush()
    sys.stderr.flush()
    workers = workers or settings.workers
    args = [str(workers), str(threads or 0), repr(grace_s(settings)), *map(str, fds)]
    entry = "import sys; from nhs_ai_workforce.web.supervisor_main import main; sys.exit(main(sys.argv[2:]))"
    os.execve(sys.executable, [sys.executable, "-c", entry, PROCESS_LABEL, *args], env)  # noqa: S606 - our own interpreter


def serve_process(sockets: list[socket.socket], *, threads: int | None = None) -> None:
    """One server process: the app (settings from the environment), its query processes, and the
    front end on the bound ``sockets`` until ``SIGTERM``."""
    from .front import run

    settings = Settings.from_env()
    app = application(settings)
    state = app.extensions["aiwf"]
    executor = state.executor
    if hasattr(executor, "start"):
        executor.start()
    try:
        count = threads or request_threads(settings)
        # The app's objects live as long as the process: frozen, a full collection walks only
        # what requests made since, 1 ms instead of 13 (a stall every few seconds under load).
        gc.freeze()
        run(app, sockets, settings, threads=max(1, count), grace_s=grace_s(settings), replay=state.replay,
            lane=state.lane)
    finally:
        if hasattr(executor, "close"):
            executor.close()
