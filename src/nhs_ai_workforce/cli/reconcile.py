"""``aiwf reconcile``: job titles, one or a CSV column of them, matched to the graph's concepts."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..core.settings import Settings
from .common import EXIT_OK, UsageError, err, open_live_store, settings_from

RECONCILE_TYPES = ("role", "workforce-group", "organisation", "initiative", "soc2020", "esco", "isco")
DEFAULT_RECONCILE_TYPES = ("role", "workforce-group")


def _reconciler(settings: Settings):
    from ..reconcile import Reconciler, load_catalogue

    return Reconciler(load_catalogue(open_live_store(settings), base=settings.base))


def _reconcile_types(chosen: list[str] | None) -> list[str] | None:
    if not chosen:
        return list(DEFAULT_RECONCILE_TYPES)
    return None if "all" in chosen else list(dict.fromkeys(chosen))


def cmd_reconcile(args: argparse.Namespace) -> int:

    from ..sparql.formatting import render_table

    types = _reconcile_types(args.type)
    if args.csv is not None:
        if args.text is not None:
            raise UsageError("give either a job title or --csv FILE, not both")
        if not args.column:
            raise UsageError("--csv needs --column NAME, the column holding the job titles")
        return _reconcile_csv(args, types)
    if args.column or args.output:
        raise UsageError("--column and --output go with --csv FILE")
    if args.text is None:
        raise UsageError("nothing to reconcile: give a job title, or --csv FILE --column NAME")
    if args.limit < 1:
        raise UsageError("--limit must be at least 1")
    settings = settings_from(args)
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
    from ..reconcile import batch

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
    reconciler = _reconciler(settings_from(args))
    show = args.progress if args.progress is not None else len(table.rows) > 50
    progress = batch.Progress(len(table.rows)) if show and table.rows else None
    summary = batch.Summary()
    rows = batch.reconcile_rows(table, args.column, reconciler, types=types, progress=progress, summary=summary)
    if args.output:
        try:
            with Path(args.output).open("w", encoding="utf-8", newline="") as handle:
                batch.write_table(handle, table, rows)
        except OSError as error:
            raise UsageError(f"cannot write {args.output}: {error.strerror}") from error
    else:
        batch.write_table(sys.stdout, table, rows)
        sys.stdout.flush()
    err(summary.text())
    return EXIT_OK


def register(command) -> None:
    """Add the reconcile command to the parser (``command(name, handler, help)`` makes a subcommand)."""
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
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="with --csv: progress on stderr (default: for more than 50 rows)",
    )
