"""``aiwf query``, ``stats``, ``export`` and ``mappings``: reading the live graph."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..core.namespaces import ProjectNamespaces
from ..core.settings import Settings
from ..sparql.formatting import FORMAT_NAMES
from ..store.dumps import EXPORT_FORMATS
from .common import EXIT_OK, EXIT_TIMEOUT, CommandFailed, UsageError, open_live_store, settings_from, table


def _query_text(args: argparse.Namespace) -> str:
    if args.file and args.query:
        raise UsageError("give the query either as an argument or with -f, not both")
    source = args.file or args.query
    if source is None:
        raise UsageError("no query: pass it as an argument, with -f FILE, or '-' for stdin")
    if args.file is None and source != "-":
        return source
    if source == "-":
        return sys.stdin.read()
    try:
        return Path(source).read_text(encoding="utf-8")
    except OSError as error:
        raise UsageError(f"cannot read {source}: {error.strerror}") from error


def answer(settings: Settings, text: str, format: str, prefixes: dict[str, str]) -> bytes:
    """Run ``text`` on the live store and format the result: what a query's child process does.

    Its address space is capped at ``AIWF_QUERY_MEMORY_MB`` (plus the headroom every query
    process has), as in the server.
    """
    from ..core.processes import ADDRESS_HEADROOM_MB, limit_memory
    from ..sparql.formatting import format_result
    from ..store.live import open_store
    from ..store.query import run_query

    if settings.query_memory_mb > 0:
        limit_memory(settings.query_memory_mb + ADDRESS_HEADROOM_MB)
    result = run_query(open_store(settings), text, prefixes=prefixes)
    return format_result(result, format, prefixes=prefixes)


def cmd_query(args: argparse.Namespace) -> int:
    """Run the query in a killable child process, as the server does: stopped (``SIGKILL``) at
    ``AIWF_QUERY_TIMEOUT`` seconds, and on Ctrl-C (the child is killed before we exit)."""
    from ..core.processes import ProcessTimedOut, run_in_process
    from ..store.live import current_dir

    settings = settings_from(args)
    text = _query_text(args)
    if current_dir(settings) is None:
        open_live_store(settings)  # raises the usage error that says to build
    prefixes = ProjectNamespaces(settings.base).prefixes()
    _refuse_service(text, prefixes)
    try:
        output = run_in_process(answer, settings, text, args.format, prefixes, timeout_s=settings.query_timeout_s)
    except SyntaxError as error:
        raise UsageError(f"malformed query: {error}") from error
    except ProcessTimedOut:
        raise CommandFailed(
            f"the query was stopped after {settings.query_timeout_s:g} s (AIWF_QUERY_TIMEOUT); "
            "narrow it, add LIMIT, or raise the limit",
            EXIT_TIMEOUT,
        ) from None
    except MemoryError:
        raise UsageError(
            f"the query ran out of memory (AIWF_QUERY_MEMORY_MB={settings.query_memory_mb}); narrow it or add LIMIT"
        ) from None
    except ChildProcessError as error:
        raise UsageError(f"the query's process died ({error}); the query may be too demanding") from None
    sys.stdout.buffer.write(output if output.endswith(b"\n") else output + b"\n")
    sys.stdout.flush()
    return EXIT_OK


def _refuse_service(text: str, prefixes: dict[str, str]) -> None:
    """Oxigraph would follow ``SERVICE`` with its own client: the CLI never calls other endpoints."""
    from ..sparql.federation import service_clauses

    for clause in service_clauses(text, predeclared=prefixes).values():
        endpoint = f" {clause.written}" if clause else ""
        raise UsageError(f"SERVICE{endpoint}: `aiwf query` never calls other endpoints; run the query on "
                         "`aiwf serve` with the endpoint listed in AIWF_SERVICE_ALLOW")


def cmd_stats(args: argparse.Namespace) -> int:
    from ..documents.stats import collect
    from ..store.live import current_build_id

    settings = settings_from(args)
    stats = collect(open_live_store(settings), ProjectNamespaces(settings.base))
    print(f"build {current_build_id(settings)}: {stats.triples} distinct triples")
    print(table(stats.graphs, ("graph", "triples")), end="")
    print(table(stats.classes, ("class", "instances")), end="")
    return EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    from ..store.dumps import dump_prefixes, export

    settings = settings_from(args)
    store = open_live_store(settings)
    prefixes = dump_prefixes(ProjectNamespaces(settings.base))
    if args.output:
        export(store, args.format, Path(args.output), prefixes=prefixes)
    else:
        export(store, args.format, sys.stdout.buffer, prefixes=prefixes)
        sys.stdout.flush()
    return EXIT_OK


def cmd_mappings(args: argparse.Namespace) -> int:
    from ..pipeline.sssom_export import export_sssom

    settings = settings_from(args)
    try:
        text = export_sssom(open_live_store(settings), settings)
    except ValueError as error:
        raise UsageError(str(error)) from error
    if args.output:
        try:
            Path(args.output).write_text(text, encoding="utf-8")
        except OSError as error:
            raise UsageError(f"cannot write {args.output}: {error.strerror}") from error
    else:
        sys.stdout.write(text)
        sys.stdout.flush()
    return EXIT_OK


def register(command) -> None:
    """Add the commands that read the graph (``command(name, handler, help)`` makes a subcommand)."""
    query = command(
        "query", cmd_query, "run a SPARQL query against the store (project prefixes predeclared)"
    )
    query.add_argument("query", nargs="?", help="the query text, or '-' to read stdin")
    query.add_argument("-f", "--file", help="read the query from FILE")
    query.add_argument(
        "--format", choices=FORMAT_NAMES, default="table"
    )
    command("stats", cmd_stats, "count triples per graph and instances per class")
    export = command(
        "export", cmd_export, "write the whole graph in an RDF format (turtle, ntriples, rdfxml: the union of graphs)"
    )
    export.add_argument(
        "--format", choices=tuple(EXPORT_FORMATS), default="nquads"
    )
    export.add_argument("-o", "--output", help="write to FILE instead of stdout")
    mappings = command("mappings", cmd_mappings, "write the role-term mappings as an SSSOM/TSV mapping set")
    mappings.add_argument("-o", "--output", help="write to FILE instead of stdout")
