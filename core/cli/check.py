"""`python -m core check`: every configured service reachable, its token accepted, the version it runs."""

from __future__ import annotations

import argparse

from core.cli.output import EXIT_CODES_HELP, EXIT_FAILING, EXIT_OK, SETTINGS_HELP, err, out
from core.health import check_all
from core.settings import Settings


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "check",
        help="check LibreNMS, NetBox and Redis: reachable, token accepted, version",
        description="Check every configured service: reachable, token accepted, the version it runs.",
        epilog=SETTINGS_HELP + "\n" + EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
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
