"""``aiwf serve``: the SPARQL endpoint, pages and reconciliation over HTTP."""

from __future__ import annotations

import argparse
import os
from urllib.parse import urlsplit

from .common import UsageError, err, settings_from


def cmd_serve(args: argparse.Namespace) -> int:
    from ..sparql.federation import ServicePolicy
    from ..store.live import current_dir
    from ..store.remote_live import check_remote
    from ..web.wsgi import serve
    from .publish import is_loopback

    settings = settings_from(args)
    try:
        services = ServicePolicy.from_settings(settings)  # a bad AIWF_SERVICE_ALLOW is a usage error, before any
        if settings.sparql_url:                           # process starts; so is a remote store it cannot use
            check_remote(settings, federation=services.enabled)
    except ValueError as error:
        raise UsageError(str(error)) from None
    if settings.sparql_url:
        where = urlsplit(settings.sparql_url)
        secret = os.environ.get("AIWF_SPARQL_PASSWORD") or os.environ.get("AIWF_SPARQL_TOKEN")
        if secret and where.scheme == "http" and not is_loopback(where.hostname):
            err(f"warning: sending credentials to {where.hostname} over plain http, readable on the way; use https")
        err(f"reading the graph from the remote store {settings.sparql_url} (AIWF_SPARQL_URL); "
            "the local store is not used")
    elif current_dir(settings) is None:
        err(f"no store at {settings.store_path} yet: queries answer 503 until `aiwf build` makes one")
    if (args.workers is not None and args.workers < 1) or (args.threads is not None and args.threads < 1):
        raise UsageError("--workers and --threads must be at least 1")
    host = args.host or settings.host
    port = args.port or settings.port
    try:
        serve(settings, host=host, port=port, workers=args.workers, threads=args.threads,
              ready=lambda: print(f"serving SPARQL on http://{host}:{port}/sparql", flush=True))
    except OSError as error:
        raise UsageError(f"cannot listen on {host}:{port}: {error.strerror or error}") from error


def register(command) -> None:
    """Add the serve command to the parser (``command(name, handler, help)`` makes a subcommand)."""
    serve = command("serve", cmd_serve, "serve the SPARQL endpoint over HTTP")
    serve.add_argument("--host", help="interface to listen on (default: HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to listen on (default: PORT or 8000)")
    serve.add_argument("--workers", type=int, help="server processes (default: AIWF_WORKERS or 1)")
    serve.add_argument(
        "--threads", type=int, help="request threads of each process (default: the query slots and queue plus 4)"
    )
