"""`python -m core jobs`: the recent import jobs with their state and counts, or cancel one."""

from __future__ import annotations

import argparse

from core.choices import Outcome
from core.cli.output import EXIT_CODES_HELP, EXIT_OK, SETTINGS_HELP, out
from core.settings import Settings


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "jobs",
        help="list recent import jobs with their state and counts (or cancel one)",
        description="List the recent import jobs (worker or in-app), newest first, with state and counts.",
        epilog=SETTINGS_HELP + "\n" + EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--limit", type=int, default=20, metavar="N", help="how many (default 20)")
    parser.add_argument(
        "--cancel", metavar="JOB_ID", help="stop this job (queued: never runs; running: stops)"
    )
    parser.set_defaults(func=run)


def tally(counts: dict[str, int]) -> str:
    """ "created 2, skipped 0, failed 1": every outcome, in Outcome's order."""
    return ", ".join(f"{outcome.value} {counts.get(outcome.value, 0)}" for outcome in Outcome)


def run(args: argparse.Namespace, settings: Settings) -> int:
    from core import jobs

    conn = jobs.connect(settings)
    if args.cancel:
        state = jobs.cancel(conn, args.cancel)
        out(f"job {args.cancel}: {state.value}")
        return EXIT_OK
    listed = jobs.recent_jobs(conn, limit=args.limit)
    if not listed:
        out("no recent jobs")
    for status in listed:
        when = status.enqueued_at.astimezone().strftime("%Y-%m-%d %H:%M:%S") if status.enqueued_at else "-"
        line = (
            f"{when}  {status.job_id}  {status.mode:<10} {status.state.value:<9} "
            f"{status.done}/{status.total}  {tally(status.counts)}"
        )
        out(line + (f"  — {status.error}" if status.error else ""))
    return EXIT_OK
