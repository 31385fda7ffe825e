"""``aiwf import``: load a published classification (ONS SOC 2020, ESCO) into its own named graph, or drop it."""

from __future__ import annotations

import argparse
from pathlib import Path

from .common import EXIT_INVALID, EXIT_OK, UsageError, err, settings_from, table

DESCRIPTION = """\
Load a classification from the file its publisher distributes into its own named graph
({base}/id/graph/soc2020 or .../esco) as SKOS, check it against shapes/classifications.ttl,
record it under var/imports/ and publish the store again with it (later builds keep it):

  aiwf import soc2020 soc2020volume1structureanddescriptionsofunitgroups.xlsx
      ONS SOC 2020 Volume 1 workbook (sheet 'SOC2020 descriptions'): every major, sub-major,
      minor and unit group, with each unit group's related job titles (Open Government Licence v3.0)
  aiwf import esco occupations_en.csv --isco-groups ISCOGroups_en.csv
      ESCO's English CSV files: every occupation with its preferred, alternative and hidden labels,
      under its ISCO-08 groups (this service uses the ESCO classification of the European Commission)
  aiwf import --remove esco      publish without an imported classification and delete its files
  aiwf import                    list the imported classifications

The dumps in data/ leave the imported graphs out unless AIWF_DUMP_IMPORTS=1; a failed import
leaves the live store and var/imports/ untouched."""


def _list(settings) -> int:
    from ..store.imports import imports_dir, read_records
    from ..store.live import StoreError

    try:
        found = read_records(settings)
    except StoreError as error:
        raise UsageError(str(error)) from error
    if not found:
        print(f"no classification imported under {imports_dir(settings)}; see `aiwf import --help`")
        return EXIT_OK
    for record in found:
        sources = ", ".join(name for name, _ in record.files)
        print(f"{record.name}: {record.triples} triples from {sources}, version {record.version or 'not given'}, "
              f"imported {record.imported}")
    return EXIT_OK


def _paths(args: argparse.Namespace) -> list[Path]:
    if not args.file:
        raise UsageError(f"give the file to import: aiwf import {args.classification} FILE")
    paths = [Path(args.file)]
    if args.classification == "esco":
        if not args.isco_groups:
            raise UsageError("ESCO needs its ISCO groups file too: aiwf import esco OCCUPATIONS.csv "
                             "--isco-groups ISCOGroups.csv")
        paths.append(Path(args.isco_groups))
    elif args.isco_groups:
        raise UsageError("--isco-groups is for `aiwf import esco` only")
    for path in paths:
        if not path.is_file():
            raise UsageError(f"{path}: no such file")
    return paths


def cmd_import(args: argparse.Namespace) -> int:
    from ..core.terms import BlankNodeError
    from ..pipeline.classification import ImportFailed
    from ..pipeline.errors import BuildFailed
    from ..pipeline.imports import NotImported, import_classification, read_classification, remove_import
    from ..pipeline.validation import ShapesError
    from ..store.dumps import DumpError
    from ..store.live import StoreError

    settings = settings_from(args)
    if args.remove:
        if args.classification or args.file:
            raise UsageError("--remove takes only the name of the classification to remove")
    elif not args.classification:
        return _list(settings)
    try:
        if args.remove:
            result = remove_import(settings, args.remove)
        else:
            classification = read_classification(args.classification, _paths(args), version=args.version)
            result = import_classification(settings, classification)
    except NotImported as error:
        raise UsageError(str(error)) from error
    except (ImportFailed, BuildFailed) as error:
        err("import failed; the live store and var/imports/ are unchanged.", error.report())
        return EXIT_INVALID
    except (DumpError, BlankNodeError, StoreError, ShapesError, OSError) as error:
        err("import failed; the live store and var/imports/ are unchanged.", f"{type(error).__name__}: {error}")
        return EXIT_INVALID
    build = result.build
    if result.record is None:
        print(f"removed {result.name}")
    else:
        record = result.record
        print(f"imported {record.name}: {record.triples} triples from {', '.join(n for n, _ in record.files)} "
              f"(version {record.version or 'not given'})")
        for note in record.notes:
            print(f"note: {note}")
    print(f"build {build.build_id} -> {settings.store_path}")
    print(table([*build.graph_counts.items(), ("total", build.total_quads)], ("graph", "triples")), end="")
    print(table([(p, f"{s:.2f}") for p, s in build.timings.items()], ("phase", "seconds")), end="")
    if build.warnings:
        err(f"{len(build.warnings)} warning(s) in the seed graphs:", *build.warnings)
    return EXIT_OK


def register(command) -> None:
    """Add ``aiwf import`` to the parser (``command(name, handler, help)`` makes a subcommand)."""
    sub = command("import", cmd_import, "load ONS SOC 2020 or ESCO from its published file into its own graph")
    sub.description = DESCRIPTION
    sub.add_argument("classification", nargs="?", choices=("soc2020", "esco"), metavar="CLASSIFICATION",
                     help="soc2020 or esco")
    sub.add_argument("file", nargs="?", metavar="FILE",
                     help="the SOC 2020 Volume 1 workbook (.xlsx), or ESCO's occupations CSV")
    sub.add_argument("--isco-groups", metavar="CSV", help="ESCO's ISCO groups CSV (with esco)")
    sub.add_argument("--version", metavar="VERSION",
                     help="the version to record (default: the workbook's date; the version in ESCO's file name)")
    sub.add_argument("--remove", metavar="CLASSIFICATION", choices=("soc2020", "esco"),
                     help="publish without this imported classification and delete its files")
