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

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2

EPILOG = """\
exit codes:
  0  success
  1  the data are invalid: unreadable seed rows or SHACL violations (report on stderr)
  2  usage: bad arguments, malformed SPARQL, unreadable files, or no store built yet

environment: AIWF_BASE, AIWF_ROOT, AIWF_STORE, AIWF_QUERY_TIMEOUT, AIWF_RESULT_LIMIT, HOST, PORT
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
    from .pipeline.store import NoStoreError, open_store

    try:
        return open_store(settings)
    except NoStoreError as error:
        raise UsageError(str(error)) from error


def _table(rows: Sequence[tuple[str, object]], headers: tuple[str, str]) -> str:
    from .services.query import render_table

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
    from .services.query import format_result, run_query

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
    from .pipeline.store import current_build_id
    from .services.stats import collect

    settings = _settings(args)
    stats = collect(_open_store(settings), ProjectNamespaces(settings.base))
    print(f"build {current_build_id(settings)}: {stats.triples} distinct triples")
    print(_table(stats.graphs, ("graph", "triples")), end="")
    print(_table(stats.classes, ("class", "instances")), end="")
    return EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    from .pipeline.dumps import dump_prefixes, export

    settings = _settings(args)
    store = _open_store(settings)
    prefixes = dump_prefixes(ProjectNamespaces(settings.base))
    if args.output:
        export(store, args.format, Path(args.output), prefixes=prefixes)
    else:
        export(store, args.format, sys.stdout.buffer, prefixes=prefixes)
        sys.stdout.flush()
    return EXIT_OK


def cmd_serve(args: argparse.Namespace) -> int:
    from .web.app import create_app

    settings = _settings(args)
    host = args.host or settings.host
    port = args.port or settings.port
    app = create_app({"SETTINGS": settings})
    try:
        import waitress
    except ImportError:
        print(f"serving on http://{host}:{port}/ with Flask's development server")
        app.run(host=host, port=port)
    else:
        print(f"serving on http://{host}:{port}/ with waitress")
        waitress.serve(app, host=host, port=port)
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
        "--format", choices=("table", "csv", "tsv", "json", "xml"), default="table"
    )
    command("stats", cmd_stats, "count triples per graph and instances per class")
    export = command("export", cmd_export, "write the whole graph in an RDF format")
    export.add_argument(
        "--format", choices=("turtle", "ntriples", "nquads", "trig", "jsonld"), default="nquads"
    )
    export.add_argument("-o", "--output", help="write to FILE instead of stdout")
    serve = command("serve", cmd_serve, "serve the SPARQL endpoint over HTTP")
    serve.add_argument("--host", help="interface to listen on (default: HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to listen on (default: PORT or 8000)")
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
