"""``aiwf``: build, validate, query, count, export and serve the graph from the command line.

Thin commands over the same functions the web app calls. Settings come from the environment
(``AIWF_BASE``, ``AIWF_STORE``, ``HOST``, ``PORT``...) and then from ``--base`` / ``--store``.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from . import builds, graph, imports, publish, reconcile, serve
from .common import EPILOG, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, CommandFailed, UsageError, err


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

    for wing in (builds, imports, graph, reconcile, serve, publish):
        wing.register(command)
    return main_parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the exit status (see ``aiwf --help``)."""
    args = parser().parse_args(argv)
    try:
        return args.handler(args)
    except UsageError as error:
        err(f"aiwf {args.command}: {error}")
        return EXIT_USAGE
    except CommandFailed as error:
        err(f"aiwf {args.command}: {error}")
        return error.status
    except KeyboardInterrupt:  # Ctrl-C: whatever the command started is stopped on the way out
        err(f"aiwf {args.command}: interrupted")
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # the reader stopped early (`aiwf export | head`): not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
