"""``aiwf build``, ``validate``, ``builds`` and ``rollback``: making the graph and choosing the live build."""

from __future__ import annotations

import argparse

from ..core.settings import DEFAULT_BASE
from .common import EXIT_INVALID, EXIT_OK, UsageError, err, settings_from, table


def cmd_build(args: argparse.Namespace) -> int:
    from ..core.terms import BlankNodeError
    from ..pipeline.build import build
    from ..pipeline.errors import BuildFailed
    from ..store.dumps import DumpError
    from ..store.live import StoreError

    settings = settings_from(args)
    write_dumps = args.dumps if args.dumps is not None else settings.base == DEFAULT_BASE
    try:
        result = build(settings, write_dumps=write_dumps)
    except BuildFailed as error:
        err("build failed; the live store and data/ are unchanged.", error.report())
        return EXIT_INVALID
    except (DumpError, BlankNodeError, StoreError, OSError) as error:
        err("build failed; the live store and data/ are unchanged.", f"{type(error).__name__}: {error}")
        return EXIT_INVALID
    counts = [*result.graph_counts.items(), ("total", result.total_quads)]
    print(f"build {result.build_id} -> {settings.store_path}")
    print(table(counts, ("graph", "triples")), end="")
    print(f"inferred triples: {result.inferred}")
    print(f"dumps: {'rewritten in ' + str(settings.data_dir) if result.dumps else 'not written'}")
    print(table([(p, f"{s:.2f}") for p, s in result.timings.items()], ("phase", "seconds")), end="")
    if result.warnings:
        err(f"{len(result.warnings)} warning(s):", *result.warnings)
    return EXIT_OK


def cmd_validate(args: argparse.Namespace) -> int:
    from ..pipeline.build import validate_only
    from ..pipeline.errors import BuildFailed

    try:
        report = validate_only(settings_from(args))
    except BuildFailed as error:
        err("the seed tables cannot be read:", error.report())
        return EXIT_INVALID
    print(report.text.rstrip())
    if not report.conforms:
        err(f"{len(report.problems)} violation(s):", *report.problems)
        return EXIT_INVALID
    return EXIT_OK


def cmd_builds(args: argparse.Namespace) -> int:
    from ..sparql.formatting import render_table
    from ..store.builds import keep_count, list_builds

    settings = settings_from(args)
    found = list_builds(settings)
    if not found:
        print(f"no builds under {settings.store_path.parent}; run `aiwf build`")
        return EXIT_OK
    rows = [
        (b.build_id, b.time.strftime("%Y-%m-%d %H:%M:%S UTC") if b.time else "",
         "" if b.quads is None else str(b.quads), "live" if b.live else "")
        for b in found
    ]
    print(render_table(("build", "time", "quads", ""), rows, max_width=40), end="")
    print(f"keeping the newest {keep_count(settings)} (AIWF_KEEP_BUILDS); `aiwf rollback` restores the previous")
    return EXIT_OK


def cmd_rollback(args: argparse.Namespace) -> int:
    from ..store.builds import RollbackError, rollback

    settings = settings_from(args)
    try:
        previous, now = rollback(settings, args.build_id)
    except RollbackError as error:
        raise UsageError(str(error)) from error
    print(f"rolled back: {settings.store_path} -> {now} (was {previous or 'none'})")
    return EXIT_OK


def register(command) -> None:
    """Add the build commands to the parser (``command(name, handler, help)`` makes a subcommand)."""
    build = command("build", cmd_build, "build seeds into a validated store and data/ dumps")
    build.add_argument(
        "--dumps",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="rewrite data/ (default: only when building under the default base URI)",
    )
    command("validate", cmd_validate, "check the seeds against the SHACL shapes only")
    command("builds", cmd_builds, "list the builds kept on disk, newest first, and which is live")
    rollback = command("rollback", cmd_rollback, "make the previous build (or BUILD_ID) live again, atomically")
    rollback.add_argument("build_id", nargs="?", metavar="BUILD_ID", help="a build listed by `aiwf builds`")
