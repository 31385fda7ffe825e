"""The production server: gunicorn with several workers sharing the on-disk store read-only.

``aiwf serve`` (and so ``make serve``) runs :func:`serve`; the same app can be served by any
WSGI server as ``nhs_ai_workforce.web.wsgi:app`` (settings from the environment), e.g.
``gunicorn -k gthread --threads 4 -w 2 'nhs_ai_workforce.web.wsgi:app'``.

What :func:`serve` sets up:

- ``HOST:PORT`` from the settings (``HOST``, ``PORT``; default ``127.0.0.1:8000``), or the
  ``--host`` / ``--port`` options;
- ``workers`` processes (``AIWF_WORKERS`` or ``--workers``, default 2), each a ``gthread``
  worker answering ``threads`` requests at once (default 4). Each worker opens the live store
  read-only on its first request and runs queries in its own pool of killable query processes
  (:mod:`nhs_ai_workforce.sparql.pool`), started as the worker boots and shut down when
  it exits;
- one access-log line per request on stdout (with the time taken in ms), errors on stderr;
- request lines up to 8190 bytes (gunicorn's maximum; a longer ``GET`` gets 400 at once, so
  send long queries by ``POST``); request bodies up to ``max_request_bytes`` (413);
- a graceful shutdown that lets running queries finish (their time limit plus 5 s).

Startup never reads the seed tables or the dumps: the workers open the existing store, so the
time to the first answer does not depend on the size of the graph.
"""

from __future__ import annotations

from typing import Any

from flask import Flask

from ..core.settings import Settings

__all__ = ["application", "gunicorn_options", "serve"]

#: Access log: gunicorn's combined format plus the time taken in milliseconds.
ACCESS_LOG_FORMAT = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(M)sms'
THREADS = 4
#: gunicorn's largest bounded request line.
MAX_REQUEST_LINE = 8190


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


def _bind(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host and not host.startswith("[") else f"{host}:{port}"


def _executor(worker) -> Any:
    app = getattr(worker, "wsgi", None)
    extensions = getattr(app, "extensions", {})
    state = extensions.get("aiwf")
    return getattr(state, "executor", None)


def _post_worker_init(worker) -> None:
    """Start the worker's query processes before its first request."""
    executor = _executor(worker)
    if hasattr(executor, "start"):
        executor.start()


def _worker_exit(server, worker) -> None:
    executor = _executor(worker)
    if hasattr(executor, "close"):
        executor.close()


def gunicorn_options(
    settings: Settings, *, host: str | None = None, port: int | None = None, workers: int | None = None,
    threads: int = THREADS,
) -> dict[str, Any]:
    """The gunicorn settings :func:`serve` uses.

    >>> options = gunicorn_options(Settings(), port=9000)
    >>> options["bind"], options["workers"], options["worker_class"], options["accesslog"]
    (['127.0.0.1:9000'], 2, 'gthread', '-')
    """
    return {
        "bind": [_bind(host or settings.host, port or settings.port)],
        "workers": max(1, workers or settings.workers),
        "worker_class": "gthread",
        "threads": max(1, threads),
        "accesslog": "-",
        "errorlog": "-",
        "access_log_format": ACCESS_LOG_FORMAT,
        "loglevel": "info",
        "graceful_timeout": int(settings.query_timeout_s) + 5,
        "timeout": max(30, int(settings.query_timeout_s) + 20),
        "keepalive": 5,
        "limit_request_line": MAX_REQUEST_LINE,
        "proc_name": "aiwf",
        "post_worker_init": _post_worker_init,
        "worker_exit": _worker_exit,
    }


def serve(settings: Settings, **options: Any) -> None:
    """Run gunicorn in the foreground until it is stopped (``SIGINT`` / ``SIGTERM``)."""
    from gunicorn.app.base import BaseApplication

    config = gunicorn_options(settings, **options)

    class Server(BaseApplication):
        def load_config(self) -> None:
            for key, value in config.items():
                self.cfg.set(key, value)

        def load(self) -> Flask:
            return application(settings)  # in each worker, after the fork

    Server(prog="aiwf serve").run()
