"""The command line: `python -m core <command>`. Settings come from the environment, as for the app.

One module per command, each with `add_parser(subparsers)` and `run(args, settings) -> exit code`;
`COMMANDS` lists the parser builders, so a new command is one module and one line there. Commands print
what they found to stdout, and errors and warnings to stderr, with every configured token masked
(core.cli.output).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Sequence

from core.cli import check, import_cmd, jobs, runs, validate, worker
from core.cli.output import (
    EXIT_CODES_HELP,
    EXIT_ERROR,
    EXIT_FAILING,
    EXIT_INTERRUPTED,
    EXIT_OK,
    SETTINGS_HELP,
    err,
    out,
    redact,
)
from core.errors import ImporterError
from core.settings import Settings, load_settings

__all__ = [
    "COMMANDS",
    "EXIT_ERROR",
    "EXIT_FAILING",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "build_parser",
    "err",
    "main",
    "out",
]

Command = Callable[[argparse.Namespace, Settings], int]
ParserBuilder = Callable[["argparse._SubParsersAction[argparse.ArgumentParser]"], None]

# Parser builders, one per command, in the order `--help` lists them. New commands add theirs here.
COMMANDS: list[ParserBuilder] = [
    check.add_parser,
    validate.add_parser,
    import_cmd.add_parser,
    jobs.add_parser,
    runs.add_parser,
    worker.add_parser,
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m core",
        description="LibreNMS → NetBox importer, from the command line.",
        epilog=SETTINGS_HELP + "\n" + EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "-v", "--verbose", action="count", default=0, help="log more (-v: info, -vv: debug) to stderr"
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for add in COMMANDS:
        add(subparsers)
    return parser


def _configure_logging(verbosity: int) -> None:
    level = logging.WARNING if verbosity <= 0 else logging.INFO if verbosity == 1 else logging.DEBUG
    logging.basicConfig(level=level, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")


def main(argv: Sequence[str] | None = None) -> int:
    """Parse, load settings, run the command; map errors to exit codes (see EXIT_CODES_HELP)."""
    args = build_parser().parse_args(argv)
    _configure_logging(args.verbose)
    command: Command = args.func
    try:
        settings = load_settings()
        redact.add(settings)
        return command(args, settings)
    except ImporterError as exc:
        err(f"error: {exc}")
        return EXIT_ERROR
    except KeyboardInterrupt:
        err("interrupted")
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # `python -m core validate --csv - | head`: the reader left, nothing to report
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK
