"""`python -m core jobs`: the recent import jobs with their state and counts; stop one at a safe point
(`--cancel`) or kill it (`--kill`)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from core.choices import JobMode, JobState, Outcome
from core.cli.output import EXIT_CODES_HELP, EXIT_OK, SETTINGS_HELP, out
from core.settings import Settings

if TYPE_CHECKING:
    from core.jobs.connection import Conn

CANCEL_HELP = (
    "stop this job at a safe point: queued, it never runs; running, it stops after the batch in flight "
    "(whose devices, IPs and stack masters are finished and reported); the worker goes on"
)
KILL_HELP = (
    "hard stop: kill the work horse running this job at once (the worker goes on); the batch in flight may "
    "be left unfinished: objects without their result line, IP or stack master (`runs resume` or a re-run "
    "completes them). A job running inside an app cannot be killed: it stops after its batch, as with --cancel"
)


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "jobs",
        help="list recent import jobs with their state and counts (or stop one: --cancel, --kill)",
        description="List the recent import jobs (worker or in-app), newest first, with state and counts.",
        epilog=SETTINGS_HELP + "\n" + EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--limit", type=int, default=20, metavar="N", help="how many (default 20)")
    stop = parser.add_mutually_exclusive_group()
    stop.add_argument("--cancel", metavar="JOB_ID", help=CANCEL_HELP)
    stop.add_argument("--kill", metavar="JOB_ID", help=KILL_HELP)
    parser.set_defaults(func=run)


ALWAYS_SHOWN = (Outcome.CREATED, Outcome.SKIPPED, Outcome.FAILED)


def tally(counts: dict[str, int]) -> str:
    """ "created 2, completed 1, skipped 0, failed 1": created, skipped and failed always, completed and
    partial when there are any, in Outcome's order."""
    return ", ".join(
        f"{outcome.value} {counts.get(outcome.value, 0)}"
        for outcome in Outcome
        if outcome in ALWAYS_SHOWN or counts.get(outcome.value)
    )


def _stop(conn: Conn, job_id: str, *, hard: bool) -> str:
    """Stop a job (`--cancel`, `--kill`); what happened, in words."""
    from core import jobs

    before = jobs.job_status(conn, job_id, results=False)
    state = jobs.hard_stop(conn, job_id) if hard else jobs.cancel(conn, job_id)
    line = f"job {job_id}: {state.value}"
    if before.state is not JobState.RUNNING:
        return line
    if hard and before.mode == JobMode.WORKER:
        return (
            f"{line}: hard stop sent: its work horse is killed (the worker goes on); the batch in flight may be "
            f"left unfinished (`python -m core runs resume {job_id}` completes it)"
        )
    if hard:
        line += ": it runs inside an app and cannot be killed from here"
    return f"{line}: it stops after the batch in flight (its devices, IPs and stack masters are finished)"


def run(args: argparse.Namespace, settings: Settings) -> int:
    from core import jobs

    conn = jobs.connect(settings)
    if args.cancel or args.kill:
        out(_stop(conn, args.cancel or args.kill, hard=bool(args.kill)))
        return EXIT_OK
    listed = jobs.recent_jobs(conn, limit=args.limit)
    if not listed:
        out("no recent jobs")
    for status in listed:
        when = status.enqueued_at.astimezone().strftime("%Y-%m-%d %H:%M:%S") if status.enqueued_at else "-"
        state = "stopping" if status.stopping else status.state.value
        line = (
            f"{when}  {status.job_id}  {status.mode:<10} {state:<9} "
            f"{status.done}/{status.total}  {tally(status.counts)}"
        )
        out(line + (f"  — {status.error}" if status.error else ""))
    return EXIT_OK
