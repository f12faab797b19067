"""`python -m core validate`: search LibreNMS, validate against NetBox, print counts, write the review CSV."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from core.choices import RowStatus
from core.cli.output import EXIT_CODES_HELP, EXIT_ERROR, EXIT_OK, SETTINGS_HELP, err, out
from core.csvio import csv_bytes, rows_to_csv
from core.librenms import DeviceFilter, client_for
from core.search import run_search
from core.settings import Settings

DELIMITERS = {"comma": ",", "semicolon": ";", "tab": "\t", ",": ",", ";": ";"}


def add_parser(subparsers: argparse._SubParsersAction) -> None:
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
    parser.set_defaults(func=run)


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


def run(args: argparse.Namespace, settings: Settings) -> int:
    server = settings.server(args.server) if args.server else settings.librenms
    client = client_for(settings, server)
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
