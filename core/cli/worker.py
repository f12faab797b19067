"""`python -m core worker`: the RQ worker that runs import and search jobs."""

from __future__ import annotations

import argparse
import logging
import socket

from core import defaults
from core.cli.output import EXIT_FAILING, EXIT_OK, SETTINGS_HELP, RedactingFilter, err, out
from core.settings import Settings


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "worker",
        help="run the RQ worker that executes import and search jobs",
        description=(
            f"Run an RQ worker on QUEUE_NAME (default {defaults.QUEUE_NAME}) at REDIS_URL. Jobs carry no "
            "credentials: the worker's own environment gives the NetBox and LibreNMS settings, as for the app. "
            "Equivalent: `rq worker -u $REDIS_URL --serializer rq.serializers.JSONSerializer --worker-ttl 30 "
            f"--job-monitoring-interval 15 {defaults.QUEUE_NAME}` (with those settings in its environment). "
            "Stop it with SIGTERM or Ctrl-C (warm shutdown)."
        ),
        epilog=SETTINGS_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--burst", action="store_true", help="quit when the queue is empty")
    parser.add_argument("--name", help="worker name (default: a random one)")
    parser.add_argument(
        "--heartbeat",
        type=int,
        default=None,
        metavar="SECONDS",
        help=f"seconds between heartbeats (default {defaults.HEARTBEAT_SECONDS}; keep it well under "
        "WORKER_HEARTBEAT_GRACE)",
    )
    parser.add_argument(
        "--alive",
        action="store_true",
        help="do not run one: exit 0 when a worker on this host listens on QUEUE_NAME and heartbeats, else 1 "
        "(a container's health check)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    from core import jobs

    if args.alive:
        return _alive(settings)
    for handler in logging.getLogger().handlers:
        handler.addFilter(RedactingFilter())
    logging.getLogger("core").setLevel(min(logging.INFO, logging.getLogger().getEffectiveLevel()))
    jobs.run_worker(
        settings, burst=args.burst, name=args.name, heartbeat=args.heartbeat or defaults.HEARTBEAT_SECONDS
    )
    return EXIT_OK


def _alive(settings: Settings) -> int:
    """The health check: this host's worker heartbeats on the queue."""
    from core import jobs

    host = socket.gethostname()
    if jobs.worker_alive(jobs.connect(settings), settings.queue_name, hostname=host):
        out(f"a worker on {host} listens on '{settings.queue_name}'")
        return EXIT_OK
    err(f"no worker on {host} heartbeats on '{settings.queue_name}'")
    return EXIT_FAILING
