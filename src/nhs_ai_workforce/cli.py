"""``aiwf``: build, validate, query, count, export and serve the graph from the command line.

Thin commands over the same functions the web app calls. Settings come from the environment
(``AIWF_BASE``, ``AIWF_STORE``, ``HOST``, ``PORT``...) and then from ``--base`` / ``--store``.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from .core.namespaces import ProjectNamespaces
from .core.settings import DEFAULT_BASE, Settings
from .sparql.formatting import FORMAT_NAMES
from .store.dumps import EXPORT_FORMATS

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2

EPILOG = """\
exit codes:
  0  success
  1  the data are invalid: unreadable seed rows or SHACL violations (report on stderr)
  2  usage: bad arguments, malformed SPARQL, unreadable files, or no store built yet

environment: AIWF_BASE, AIWF_ROOT, AIWF_STORE, AIWF_QUERY_TIMEOUT, AIWF_RESULT_LIMIT, HOST, PORT;
  serve also AIWF_WORKERS, AIWF_QUERY_WORKERS, AIWF_QUERY_MEMORY_MB, AIWF_RESULT_LIMIT_BYTES,
  AIWF_UPDATE_TOKEN (enables POST /update), AIWF_UPDATE_TIMEOUT
"""


class UsageError(Exception):
    """A mistake by the caller; reported on stderr with exit status 2."""


def _settings(args: argparse.Namespace) -> Settings:
    settings = Settings.from_env()
    changes: dict[str, object] = {}
    if getattr(args, "base", None):
        changes["base"] = args.base.rstrip("/")
    if getattr(args, "store", None):
        changes["store_dir"] = Path(args.store)
    return settings.with_(**changes) if changes else settings


def _err(*lines: object) -> None:
    for line in lines:
        print(line, file=sys.stderr)


def _open_store(settings: Settings):
    from .store.live import NoStoreError, open_store

    try:
        return open_store(settings)
    except NoStoreError as error:
        raise UsageError(str(error)) from error


def _table(rows: Sequence[tuple[str, object]], headers: tuple[str, str]) -> str:
    from .sparql.formatting import render_table

    return render_table(headers, [(name, str(value)) for name, value in rows], max_width=100)


# -- commands ------------------------------------------------------------------------------


def cmd_build(args: argparse.Namespace) -> int:
    from .pipeline.build import build
    from .pipeline.errors import BuildFailed

    settings = _settings(args)
    write_dumps = args.dumps if args.dumps is not None else settings.base == DEFAULT_BASE
    try:
        result = build(settings, write_dumps=write_dumps)
    except BuildFailed as error:
        _err("build failed; the live store and data/ are unchanged.", error.report())
        return EXIT_INVALID
    counts = [*result.graph_counts.items(), ("total", result.total_quads)]
    print(f"build {result.build_id} -> {settings.store_path}")
    print(_table(counts, ("graph", "triples")), end="")
    print(f"inferred triples: {result.inferred}")
    print(f"dumps: {'rewritten in ' + str(settings.data_dir) if result.dumps else 'not written'}")
    print(_table([(p, f"{s:.2f}") for p, s in result.timings.items()], ("phase", "seconds")), end="")
    if result.warnings:
        _err(f"{len(result.warnings)} warning(s):", *result.warnings)
    return EXIT_OK


def cmd_validate(args: argparse.Namespace) -> int:
    from .pipeline.build import validate_only
    from .pipeline.errors import BuildFailed

    try:
        report = validate_only(_settings(args))
    except BuildFailed as error:
        _err("the seed tables cannot be read:", error.report())
        return EXIT_INVALID
    print(report.text.rstrip())
    if not report.conforms:
        _err(f"{len(report.problems)} violation(s):", *report.problems)
        return EXIT_INVALID
    return EXIT_OK


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


def cmd_query(args: argparse.Namespace) -> int:
    from .sparql.formatting import format_result
    from .store.query import run_query

    settings = _settings(args)
    text = _query_text(args)
    store = _open_store(settings)
    prefixes = ProjectNamespaces(settings.base).prefixes()
    try:
        result = run_query(store, text, prefixes=prefixes)
        output = format_result(result, args.format, prefixes=prefixes)
    except SyntaxError as error:
        raise UsageError(f"malformed query: {error}") from error
    sys.stdout.buffer.write(output if output.endswith(b"\n") else output + b"\n")
    sys.stdout.flush()
    return EXIT_OK


def cmd_stats(args: argparse.Namespace) -> int:
    from .documents.stats import collect
    from .store.live import current_build_id

    settings = _settings(args)
    stats = collect(_open_store(settings), ProjectNamespaces(settings.base))
    print(f"build {current_build_id(settings)}: {stats.triples} distinct triples")
    print(_table(stats.graphs, ("graph", "triples")), end="")
    print(_table(stats.classes, ("class", "instances")), end="")
    return EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    from .store.dumps import dump_prefixes, export

    settings = _settings(args)
    store = _open_store(settings)
    prefixes = dump_prefixes(ProjectNamespaces(settings.base))
    if args.output:
        export(store, args.format, Path(args.output), prefixes=prefixes)
    else:
        export(store, args.format, sys.stdout.buffer, prefixes=prefixes)
        sys.stdout.flush()
    return EXIT_OK


def cmd_mappings(args: argparse.Namespace) -> int:
    from .pipeline.sssom_export import export_sssom

    settings = _settings(args)
    try:
        text = export_sssom(_open_store(settings), settings)
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


RECONCILE_TYPES = ("role", "workforce-group", "organisation", "initiative")
DEFAULT_RECONCILE_TYPES = ("role", "workforce-group")


def _reconciler(settings: Settings):
    from .reconcile import Reconciler, load_catalogue

    return Reconciler(load_catalogue(_open_store(settings), base=settings.base))


def _reconcile_types(chosen: list[str] | None) -> list[str] | None:
    if not chosen:
        return list(DEFAULT_RECONCILE_TYPES)
    return None if "all" in chosen else list(dict.fromkeys(chosen))


def cmd_reconcile(args: argparse.Namespace) -> int:
    import json

    from .sparql.formatting import render_table

    types = _reconcile_types(args.type)
    if args.csv is not None:
        if args.text is not None:
            raise UsageError("give either a job title or --csv FILE, not both")
        if not args.column:
            raise UsageError("--csv needs --column NAME, the column holding the job titles")
        return _reconcile_csv(args, types)
    if args.column or args.output or args.best:
        raise UsageError("--column, --output and --best go with --csv FILE")
    if args.text is None:
        raise UsageError("nothing to reconcile: give a job title, or --csv FILE --column NAME")
    if args.limit < 1:
        raise UsageError("--limit must be at least 1")
    settings = _settings(args)
    candidates = _reconciler(settings).match(args.text, types=types, limit=args.limit)
    if args.json:
        result = {"query": args.text, "candidates": [candidate.to_dict() for candidate in candidates]}
        print(json.dumps(result, indent=2, ensure_ascii=False))
        return EXIT_OK
    prefix = f"{settings.base}/id/"
    rows = [
        (c.name, c.id.removeprefix(prefix), f"{c.score:.1f}", "yes" if c.match else "no", c.soc2020 or "",
         c.isco or "", f"{c.matched_label} ({c.matched_by})")
        for c in candidates
    ]
    headers = ("label", "concept", "score", "match", "SOC 2020", "ISCO", "matched label")
    print(render_table(headers, rows, max_width=60), end="")
    return EXIT_OK


def _reconcile_csv(args: argparse.Namespace, types: list[str] | None) -> int:
    from .reconcile import batch

    try:
        if args.csv == "-":
            table = batch.read_table(sys.stdin)
        else:
            with Path(args.csv).open(encoding="utf-8", newline="") as handle:
                table = batch.read_table(handle)
        batch.find_column(table.fieldnames, args.column)
    except OSError as error:
        raise UsageError(f"cannot read {args.csv}: {error.strerror}") from error
    except UnicodeDecodeError as error:
        raise UsageError(f"cannot read {args.csv}: not UTF-8 text") from error
    except batch.ColumnError as error:
        raise UsageError(str(error)) from error
    reconciler = _reconciler(_settings(args))
    show = args.progress if args.progress is not None else len(table.rows) > 50
    progress = batch.Progress(len(table.rows)) if show and table.rows else None
    summary = batch.Summary()
    rows = batch.reconcile_rows(table, args.column, reconciler, types=types, best=args.best,
                                progress=progress, summary=summary)
    if args.output:
        try:
            with Path(args.output).open("w", encoding="utf-8", newline="") as handle:
                batch.write_table(handle, table, rows)
        except OSError as error:
            raise UsageError(f"cannot write {args.output}: {error.strerror}") from error
    else:
        batch.write_table(sys.stdout, table, rows)
        sys.stdout.flush()
    _err(summary.text())
    return EXIT_OK


def cmd_serve(args: argparse.Namespace) -> int:
    from .store.live import current_dir
    from .web.wsgi import THREADS, serve

    settings = _settings(args)
    if current_dir(settings) is None:
        _err(f"no store at {settings.store_path} yet: queries answer 503 until `aiwf build` makes one")
    if (args.workers is not None and args.workers < 1) or (args.threads is not None and args.threads < 1):
        raise UsageError("--workers and --threads must be at least 1")
    host = args.host or settings.host
    port = args.port or settings.port
    print(f"serving SPARQL on http://{host}:{port}/sparql with gunicorn", flush=True)
    serve(settings, host=host, port=port, workers=args.workers, threads=args.threads or THREADS)
    return EXIT_OK


# -- parser --------------------------------------------------------------------------------


def parser() -> argparse.ArgumentParser:
    """The argument parser (``--base`` and ``--store`` work before or after the command)."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--base", default=argparse.SUPPRESS, help="base URI of the graph")
    common.add_argument("--store", default=argparse.SUPPRESS, help="path of the live store link")
    main_parser = argparse.ArgumentParser(
        prog="aiwf",
        description="The NHS AI workforce knowledge graph.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[common],
    )
    commands = main_parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, handler, help: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(
            name,
            help=help,
            description=help,
            parents=[common],
            epilog=EPILOG,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        sub.set_defaults(handler=handler)
        return sub

    build = command("build", cmd_build, "build seeds into a validated store and data/ dumps")
    build.add_argument(
        "--dumps",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="rewrite data/ (default: only when building under the default base URI)",
    )
    command("validate", cmd_validate, "check the seeds against the SHACL shapes only")
    query = command(
        "query", cmd_query, "run a SPARQL query against the store (project prefixes predeclared)"
    )
    query.add_argument("query", nargs="?", help="the query text, or '-' to read stdin")
    query.add_argument("-f", "--file", help="read the query from FILE")
    query.add_argument(
        "--format", choices=FORMAT_NAMES, default="table"
    )
    command("stats", cmd_stats, "count triples per graph and instances per class")
    export = command("export", cmd_export, "write the whole graph in an RDF format")
    export.add_argument(
        "--format", choices=tuple(EXPORT_FORMATS), default="nquads"
    )
    export.add_argument("-o", "--output", help="write to FILE instead of stdout")
    mappings = command("mappings", cmd_mappings, "write the role-term mappings as an SSSOM/TSV mapping set")
    mappings.add_argument("-o", "--output", help="write to FILE instead of stdout")
    reconcile = command(
        "reconcile",
        cmd_reconcile,
        "match a job title, or a CSV column of them, to role concepts and workforce groups",
    )
    reconcile.add_argument("text", nargs="?", help="the job title (or name) to reconcile")
    reconcile.add_argument("--csv", metavar="FILE", help="reconcile a column of a CSV file ('-' for stdin)")
    reconcile.add_argument("--column", metavar="NAME", help="with --csv: the column of job titles")
    reconcile.add_argument("-o", "--output", metavar="FILE", help="with --csv: write to FILE, not stdout")
    reconcile.add_argument(
        "--type",
        action="append",
        choices=(*RECONCILE_TYPES, "all"),
        help="kind of candidate, repeatable (default: role and workforce-group)",
    )
    reconcile.add_argument("--limit", type=int, default=5, help="candidates to show (default 5)")
    reconcile.add_argument("--json", action="store_true", help="print the candidates as JSON")
    reconcile.add_argument(
        "--best",
        action="store_true",
        help="with --csv: fill the concept columns from the best candidate even when it is not a match",
    )
    reconcile.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="with --csv: progress on stderr (default: for more than 50 rows)",
    )
    serve = command("serve", cmd_serve, "serve the SPARQL endpoint over HTTP")
    serve.add_argument("--host", help="interface to listen on (default: HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to listen on (default: PORT or 8000)")
    serve.add_argument("--workers", type=int, help="server processes (default: AIWF_WORKERS or 2)")
    serve.add_argument("--threads", type=int, help="requests each process answers at once (default 4)")
    return main_parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the exit status (see ``aiwf --help``)."""
    args = parser().parse_args(argv)
    try:
        return args.handler(args)
    except UsageError as error:
        _err(f"aiwf {args.command}: {error}")
        return EXIT_USAGE
    except BrokenPipeError:  # the reader stopped early (`aiwf export | head`): not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
