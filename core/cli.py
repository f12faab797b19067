"""The command line: `python -m core <command>`. Settings come from the environment, as for the app.

One `add_<command>_parser(subparsers)` and one `cmd_<command>(args, settings) -> exit code` per command;
`COMMANDS` lists the parser builders, so a new command is two functions and one line there. Commands print
what they found to stdout, and errors and warnings to stderr, with every configured token masked.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from core.errors import ImporterError
from core.export import csv_bytes, rows_to_csv
from core.health import check_all
from core.librenms import DeviceFilter, LibreNMSClient
from core.models import RowStatus
from core.search import run_search
from core.settings import Settings, load_settings

EXIT_OK = 0
EXIT_FAILING = 1  # the command ran and found a problem (check: a service is failing)
EXIT_ERROR = 2  # the command could not run: bad usage, settings, connection, authentication, file
EXIT_INTERRUPTED = 130

EXIT_CODES_HELP = """\
exit codes:
  0  done (check: every service is OK)
  1  check: at least one service is failing
  2  could not run: bad arguments or settings, a service unreachable or refusing the token, a file error
     (the message on stderr says which and what to do; tokens are never printed)
"""

SETTINGS_HELP = """\
settings come from the environment (or .streamlit/secrets.toml): LIBRENMS_URL, LIBRENMS_TOKEN, NETBOX_URL,
NETBOX_TOKEN, REDIS_URL, MAPPING_FILE, NAME_SOURCE, ... (see README.md)
"""

DELIMITERS = {"comma": ",", "semicolon": ";", "tab": "\t", ",": ",", ";": ";"}

Command = Callable[[argparse.Namespace, Settings], int]
ParserBuilder = Callable[["argparse._SubParsersAction[argparse.ArgumentParser]"], None]

log = logging.getLogger("core.cli")


# ------------------------------------------------------------------ output helpers


class _Redactor:
    """Masks every secret value known from the environment and the settings in text we print."""

    MIN_LENGTH = 4  # shorter "secrets" would mask ordinary words

    def __init__(self) -> None:
        self.secrets: set[str] = {
            value
            for name, value in os.environ.items()
            if any(word in name.upper() for word in ("TOKEN", "PASSWORD", "SECRET"))
            and len(value) >= self.MIN_LENGTH
        }

    def add(self, settings: Settings) -> None:
        for secret in (settings.netbox_token, *(s.token for s in settings.librenms_servers)):
            if len(secret.get()) >= self.MIN_LENGTH:
                self.secrets.add(secret.get())

    def __call__(self, text: str) -> str:
        for secret in sorted(self.secrets, key=len, reverse=True):
            text = text.replace(secret, "********")
        return text


_redact = _Redactor()


def out(text: str = "") -> None:
    print(_redact(text), file=sys.stdout, flush=True)


def err(text: str) -> None:
    print(_redact(text), file=sys.stderr, flush=True)


# ------------------------------------------------------------------ check


def add_check_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "check",
        help="check LibreNMS, NetBox and Redis: reachable, token accepted, version",
        description="Check every configured service: reachable, token accepted, the version it runs.",
        epilog=SETTINGS_HELP + "\n" + EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.set_defaults(func=cmd_check)


def cmd_check(args: argparse.Namespace, settings: Settings) -> int:
    states = check_all(settings)
    width = max(len(state.name) for state in states)
    for state in states:
        mark = "OK" if state.ok else "FAILING"
        version = state.version or "-"
        out(f"{mark:<8} {state.name:<{width}}  {version:<12} {state.detail}")
    failing = [state.name for state in states if not state.ok]
    if failing:
        err(f"failing: {', '.join(failing)}")
        return EXIT_FAILING
    return EXIT_OK


# ------------------------------------------------------------------ validate


def add_validate_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "validate",
        help="search LibreNMS, validate against NetBox, print counts, write the review as CSV",
        description=(
            "Search LibreNMS devices, validate them against NetBox (nothing is written to NetBox), "
            "print the number of rows per status, and write the review table as CSV."
        ),
        epilog=SETTINGS_HELP + "\n" + EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--server", metavar="KEY", help="LibreNMS server key (default: the first one)")
    group = parser.add_argument_group("filters (substring: location, hostname, hardware; exact: the others)")
    group.add_argument("--location", default="", help="LibreNMS location contains this")
    group.add_argument("--type", default="", help="LibreNMS device type, e.g. network, server, firewall")
    group.add_argument("--os", default="", help="LibreNMS os, e.g. iosxe, junos, linux")
    group.add_argument("--hostname", default="", help="hostname contains this")
    group.add_argument("--sysname", default="", help="sysName is this")
    group.add_argument("--hardware", default="", help="hardware contains this")
    group.add_argument("--show-disabled", action="store_true", help="include devices disabled in LibreNMS")
    group.add_argument(
        "--exclude-existing", action="store_true", help="leave out devices that already exist in NetBox"
    )
    group.add_argument(
        "--stacks", action="store_true", help="read inventories to detect stacks (virtual chassis)"
    )
    parser.add_argument(
        "--csv",
        metavar="OUT.csv",
        help="write the review here (UTF-8 with BOM, for Excel); '-' writes it to stdout without BOM "
        "and the counts to stderr",
    )
    parser.add_argument(
        "--delimiter",
        choices=list(DELIMITERS),
        metavar="{comma,semicolon,tab}",
        default="comma",
        help="CSV field separator (default: comma; semicolon suits Excel in locales with a decimal comma)",
    )
    parser.set_defaults(func=cmd_validate)


def filter_from(args: argparse.Namespace) -> DeviceFilter:
    return DeviceFilter(
        location=args.location,
        type=args.type,
        os=args.os,
        hostname=args.hostname,
        sysname=args.sysname,
        hardware=args.hardware,
        show_disabled=args.show_disabled,
        exclude_existing=args.exclude_existing,
        detect_stacks=args.stacks,
    )


def cmd_validate(args: argparse.Namespace, settings: Settings) -> int:
    server = settings.server(args.server) if args.server else settings.librenms
    client = LibreNMSClient(server, timeout=settings.librenms_timeout)
    result = run_search(settings, filter_from(args), server_key=server.key, librenms=client)
    review = result.review
    to_stdout = args.csv == "-"
    say = err if to_stdout else out  # keep stdout for the CSV when it goes there

    delimiter = DELIMITERS[args.delimiter]
    if args.csv and not to_stdout:
        path = Path(args.csv)
        try:
            path.write_bytes(csv_bytes(review, librenms_url=client.base_url, delimiter=delimiter))
        except OSError as exc:
            err(f"error: cannot write {path}: {exc.strerror or exc}")
            return EXIT_ERROR

    excluded = (
        f", {result.excluded_existing} left out (already in NetBox)" if result.excluded_existing else ""
    )
    say(f"LibreNMS '{result.server_key}': {result.found} device(s) found{excluded}")
    counts = review.counts()
    width = max(len(status.value) for status in RowStatus)
    for status in RowStatus:
        say(f"  {status.value:<{width}}  {counts[status]}")
    say(f"  {'total':<{width}}  {len(review)}")
    say(f"  {'to import':<{width}}  {len(review.importable_rows())}")
    timings = ", ".join(f"{name} {seconds:.2f} s" for name, seconds in result.timings.items())
    say(f"timings: {timings}; NetBox requests: {result.netbox_requests}")
    for warning in result.warnings:
        err(f"warning: {warning}")
    if to_stdout:
        sys.stdout.write(rows_to_csv(review, librenms_url=client.base_url, delimiter=delimiter))
        sys.stdout.flush()
    elif args.csv:
        say(f"wrote {len(review)} row(s) to {args.csv}")
    return EXIT_OK


# ------------------------------------------------------------------ the parser and main

# Parser builders, one per command, in the order `--help` lists them. New commands add theirs here.
COMMANDS: list[ParserBuilder] = [add_check_parser, add_validate_parser]


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
        _redact.add(settings)
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
