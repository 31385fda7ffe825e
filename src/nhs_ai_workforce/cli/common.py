"""What every ``aiwf`` command shares: settings from the environment and options, errors, exit codes."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from ..core.settings import Settings

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2
#: A query stopped at its time limit (as ``timeout(1)``); a command stopped by Ctrl-C (128 + SIGINT).
EXIT_TIMEOUT, EXIT_INTERRUPTED = 124, 130
#: ``aiwf publish``: the remote store failed or refused a request; it holds other triple counts than the build.
EXIT_REMOTE, EXIT_MISMATCH = 3, 4

EPILOG = """\
exit codes:
  0  success
  1  the data are invalid: unreadable seed rows or import files, a seeds/changes/ file
     that no longer applies, or SHACL violations (report on stderr)
  2  usage: bad arguments, malformed SPARQL, unreadable files, or no store built yet
  3  publish: the remote store cannot be reached or refused a request (its HTTP status on stderr)
  4  publish: every graph was sent, but the remote's triple count of one differs from the build's
  124  query: stopped at the time limit (AIWF_QUERY_TIMEOUT seconds, default 10);
       publish: the remote did not connect or answer in time (AIWF_REMOTE_TIMEOUT)
  130  stopped by Ctrl-C (a running query's process is killed first)

environment: AIWF_BASE, AIWF_ROOT, AIWF_STORE, AIWF_QUERY_TIMEOUT, AIWF_RESULT_LIMIT, HOST, PORT;
  build also AIWF_KEEP_BUILDS (builds kept for rollback, default 3, at least 2);
  build and import also SOURCE_DATE_EPOCH (seconds since 1970: the date the build gives its data,
  its Last-Modified and dcterms:modified, so that replicas built apart say the same; default now);
  build, import and serve also AIWF_DUMP_IMPORTS (1: the dumps in data/ and /data/ include the
  classifications imported with `aiwf import`; default off, so data/ comes from seeds/ alone);
  serve also AIWF_WORKERS, AIWF_QUERY_WORKERS, AIWF_QUERY_MEMORY_MB, AIWF_RESULT_LIMIT_BYTES,
  AIWF_UPDATE_TOKEN (enables POST /update), AIWF_UPDATE_TIMEOUT, AIWF_UPDATE_MEMORY_MB,
  AIWF_UPDATE_MAX_REMOVED_SHARE, AIWF_MAX_CONNECTIONS,
  AIWF_HEADER_TIMEOUT, AIWF_BODY_TIMEOUT, AIWF_TRUSTED_PROXY, AIWF_ANSWER_CACHE_MB (answers
  kept per build on disk, shared by the server processes; default 64, 0: off), AIWF_ANSWER_MAX_AGE
  (Cache-Control max-age of GET answers, default 60 s), AIWF_MEMORY_STORE_MB (query processes
  hold a store of up to this size on disk in memory, copied in the background; default 512, 0: never),
  AIWF_SERVICE_ALLOW (endpoint IRIs SERVICE may call, comma- or space-separated; none by default: SERVICE refused),
  AIWF_SERVICE_TIMEOUT (each SERVICE call, default 5 s within the query's), AIWF_SERVICE_MAX_BYTES
  (each SERVICE answer, default 4194304);
  publish also AIWF_PUBLISH_USER and AIWF_PUBLISH_PASSWORD (HTTP Basic) or AIWF_PUBLISH_TOKEN
  (Bearer), AIWF_REMOTE_CONNECT_TIMEOUT (default 10 s), AIWF_REMOTE_TIMEOUT (60 s without a byte),
  AIWF_REMOTE_ATTEMPTS (3)
"""


class UsageError(Exception):
    """A mistake by the caller; reported on stderr with exit status 2."""


class CommandFailed(Exception):
    """A command that could not finish; reported on stderr with exit status ``status``."""

    def __init__(self, message: str, status: int = EXIT_INVALID) -> None:
        super().__init__(message)
        self.status = status


def settings_from(args: argparse.Namespace) -> Settings:
    """The settings from the environment, then ``--base`` and ``--store``; a malformed value is a usage error."""
    try:
        settings = Settings.from_env()
    except ValueError as error:
        raise UsageError(f"a setting in the environment is malformed: {error}") from None
    changes: dict[str, object] = {}
    if getattr(args, "base", None):
        changes["base"] = args.base.rstrip("/")
    if getattr(args, "store", None):
        changes["store_dir"] = Path(args.store)  # made absolute by Settings, as AIWF_STORE
    return settings.with_(**changes) if changes else settings


def err(*lines: object) -> None:
    """Print ``lines`` on stderr."""
    for line in lines:
        print(line, file=sys.stderr)


def open_live_store(settings: Settings):
    """The live store, or a :class:`UsageError` if none is built."""
    from ..store.live import NoStoreError, open_store

    try:
        return open_store(settings)
    except NoStoreError as error:
        raise UsageError(str(error)) from error


def table(rows: Sequence[tuple[str, object]], headers: tuple[str, str]) -> str:
    """Name/value rows as an aligned two-column table."""
    from ..sparql.formatting import render_table

    return render_table(headers, [(name, str(value)) for name, value in rows], max_width=100)
