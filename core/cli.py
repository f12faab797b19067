"""The command line: `python -m core <command>`. Settings come from the environment, as for the app.

One `add_<command>_parser(subparsers)` and one `cmd_<command>(args, settings) -> exit code` per command;
`COMMANDS` lists the parser builders, so a new command is two functions and one line there. Commands print
what they found to stdout, and errors and warnings to stderr, with every configured token masked.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
import time
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


# ------------------------------------------------------------------ import, jobs, worker

IMPORT_EXIT_CODES_HELP = """\
exit codes:
  0  every row of the CSV marked for import was created or already existed (skipped); or the job was queued
  1  at least one row failed, a CSV line was rejected, or the job was stopped, canceled or abandoned
  2  could not run: bad arguments or settings, a service unreachable, a token refused or lacking a
     permission (nothing was imported), an unreadable CSV
"""
RESULT_COLUMNS = (
    "server",
    "librenms_id",
    "name",
    "kind",
    "outcome",
    "message",
    "netbox_id",
    "url",
    "details",
)


def add_import_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "import",
        help="import the rows an edited review CSV marks for import, into NetBox",
        description=(
            "Search every LibreNMS device (stacks detected), validate against NetBox, apply the edited CSV "
            "(role, rack, cluster, ... and the import column; rejected lines are reported and not imported), "
            "then import the CSV's rows that are ready with import=yes. Rows absent from the CSV are never "
            "imported. Without --sync the import is a job for the worker (`python -m core worker`); when no "
            "worker listens it runs here and this command waits for it."
        ),
        epilog=SETTINGS_HELP + "\n" + IMPORT_EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--csv", required=True, metavar="EDITED.csv", help="the review CSV, edited")
    parser.add_argument("--server", metavar="KEY", help="LibreNMS server key (default: the first one)")
    how = parser.add_mutually_exclusive_group()
    how.add_argument("--wait", action="store_true", help="follow the job, printing progress, until it ends")
    how.add_argument("--sync", action="store_true", help="import in this process (no worker, no Redis)")
    parser.add_argument("--results", metavar="OUT.csv", help="write one line per row and its outcome here")
    parser.add_argument(
        "--batch-size", type=int, default=None, metavar="N", help="rows per NetBox bulk request (default 50)"
    )
    parser.set_defaults(func=cmd_import)


def _csv_lines(data: bytes, default_server: str) -> dict[tuple[str, int], str]:
    """{(server, librenms_id): its import cell} for every line of the CSV (the rows it speaks about)."""
    import csv
    import io

    from core.export import decode, unescape_cell

    text = decode(data)
    first, _, rest = text.partition("\n")
    marker = first.strip().strip('"')
    if marker.casefold().startswith("sep=") and len(marker) == 5:
        delimiter, text = marker[4], rest
    else:
        delimiter = max((",", ";", "\t"), key=first.count)
    found: dict[tuple[str, int], str] = {}
    for record in csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter):
        cells = {
            str(name).strip().lstrip("\ufeff").casefold(): unescape_cell((value or "").strip())
            for name, value in record.items()
            if isinstance(value, str)
        }
        with contextlib.suppress(ValueError):
            key = (cells.get("server") or default_server, int(cells.get("librenms_id", "")))
            found.setdefault(key, cells.get("import", "").casefold())
    return found


def _progress_line(done: int, total: int, counts: dict[str, int], current: str) -> str:
    tally = ", ".join(f"{name} {counts.get(name, 0)}" for name in ("created", "skipped", "failed"))
    return f"{done}/{total}  {tally}" + (f"  ({current})" if current else "")


def _write_results(path: Path, results: list[dict]) -> None:
    import csv
    import io

    from core.export import ENCODING, escape_cell

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(RESULT_COLUMNS)
    for result in results:
        cells = {
            "server": result.get("server_key", ""),
            "details": "; ".join(result.get("extra") or []),
            **{k: result.get(k) for k in RESULT_COLUMNS if k in result},
        }
        writer.writerow([escape_cell("" if cells.get(c) is None else str(cells[c])) for c in RESULT_COLUMNS])
    path.write_bytes(buffer.getvalue().encode(ENCODING))


def cmd_import(args: argparse.Namespace, settings: Settings) -> int:
    from core import defaults, jobs
    from core.export import FALSE_WORDS, TRUE_WORDS, apply_csv
    from core.importer import ImportItem, Outcome, run_import

    path = Path(args.csv)
    try:
        data = path.read_bytes()
    except OSError as exc:
        err(f"error: cannot read {path}: {exc.strerror or exc}")
        return EXIT_ERROR
    server = settings.server(args.server) if args.server else settings.librenms
    lines = _csv_lines(data, server.key)
    result = run_search(settings, DeviceFilter(show_disabled=True, detect_stacks=True), server_key=server.key)
    review = result.review
    review.select([key for key in review.rows if key not in lines], False)  # rows absent from the CSV
    report = apply_csv(review, data)
    rejected_ids = set()
    for line, raw_id, reasons in report.rejected:
        err(f"line {line}: librenms_id {raw_id or '?'} rejected, not imported: {'; '.join(reasons)}")
        rejected_ids.add(raw_id.strip())
    # never imported: rejected lines, and lines that say import=no (even when their edits made the row ready)
    review.select([k for k in review.rows if str(k[1]) in rejected_ids or lines.get(k) in FALSE_WORDS], False)
    for warning in report.warnings:
        err(f"warning: {warning}")
    rows = [row for row in review.importable_rows() if row.key in lines]
    # rows already in NetBox that the CSV still marks import=yes: the import reports them skipped, with a link
    rows += [
        row
        for row in review
        if row.key in lines and row.status is RowStatus.EXISTS and lines[row.key] in TRUE_WORDS
    ]
    out(f"CSV {path.name}: {report.summary()}; {len(rows)} row(s) to import")
    if not rows:
        if args.results:
            _write_results(Path(args.results), [])
        return EXIT_FAILING if report.rejected else EXIT_OK
    items = [ImportItem.from_row(row) for row in rows]
    shown: list[tuple] = [()]

    def show(done: int, total: int, counts: dict[str, int], current: str) -> None:
        if shown[0] != (done, current):
            shown[0] = (done, current)
            out(_progress_line(done, total, counts, current))

    error, state = "", jobs.JobState.FINISHED.value
    if args.sync:
        final = run_import(
            settings,
            items,
            progress=lambda p, _new: show(p.done, p.total, p.counts, p.current),
            batch_size=args.batch_size or defaults.IMPORT_BATCH_SIZE,
        )
        results = [r.as_dict() for r in final.results]
        counts, error = final.counts(), final.error
        if final.stopped:
            state = jobs.JobState.STOPPED.value
    else:
        handle = jobs.start_import(settings, items, batch_size=args.batch_size)
        conn = jobs.connect_or_none(settings) if handle.mode == jobs.Mode.WORKER else None
        if handle.mode == jobs.Mode.IN_PROCESS:
            conn = jobs.connect_or_none(settings) if "Redis cannot be reached" not in handle.note else None
            err(f"note: {handle.note}; waiting for it here")
        elif not args.wait:
            out(f"job {handle.job_id} queued for the worker; follow it with `python -m core jobs`")
            return EXIT_OK
        else:
            out(f"job {handle.job_id} queued for the worker")
        status = jobs.job_status(conn, handle.job_id, results=False)
        try:
            while status.active:
                show(status.done, status.total, status.counts, status.current)
                time.sleep(defaults.POLL_INTERVAL_SECONDS)
                status = jobs.job_status(conn, handle.job_id, results=False)
        except KeyboardInterrupt:
            if handle.mode == jobs.Mode.WORKER:
                err(
                    f"the job goes on in the worker; stop it with `python -m core jobs --cancel {handle.job_id}`"
                )
                raise
            err("stopping after the batch in hand…")
            jobs.cancel(conn, handle.job_id)
            while jobs.job_status(conn, handle.job_id, results=False).active:
                time.sleep(defaults.POLL_INTERVAL_SECONDS)
        status = jobs.job_status(conn, handle.job_id)
        results, counts, error, state = status.results, status.counts, status.error, status.state.value
    counts = {o.value: sum(1 for r in results if r.get("outcome") == o.value) for o in Outcome} or counts
    out(f"import {state}: " + ", ".join(f"{name} {n}" for name, n in counts.items()))
    for r in results:
        if r.get("outcome") == Outcome.FAILED.value:
            err(f"failed: {r.get('name') or r.get('librenms_id')}: {r.get('message')}")
    if args.results:
        try:
            _write_results(Path(args.results), results)
        except OSError as exc:
            err(f"error: cannot write {args.results}: {exc.strerror or exc}")
            return EXIT_ERROR
        out(f"wrote {len(results)} result(s) to {args.results}")
    if error:
        err(f"error: {error}")
    if state == jobs.JobState.FAILED.value and error:
        return EXIT_ERROR
    if state != jobs.JobState.FINISHED.value or counts.get(Outcome.FAILED.value) or report.rejected:
        return EXIT_FAILING
    return EXIT_OK


def add_jobs_parser(subparsers: argparse._SubParsersAction) -> None:
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
    parser.set_defaults(func=cmd_jobs)


def cmd_jobs(args: argparse.Namespace, settings: Settings) -> int:
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
        tally = ", ".join(f"{name} {status.counts.get(name, 0)}" for name in ("created", "skipped", "failed"))
        line = f"{when}  {status.job_id}  {status.mode:<10} {status.state.value:<9} {status.done}/{status.total}  {tally}"
        out(line + (f"  — {status.error}" if status.error else ""))
    return EXIT_OK


def add_worker_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "worker",
        help="run the RQ worker that executes import and search jobs",
        description=(
            "Run an RQ worker on QUEUE_NAME (default librenms-import) at REDIS_URL. Jobs carry no credentials: "
            "the worker's own environment gives the NetBox and LibreNMS settings, as for the app. Equivalent: "
            "`rq worker -u $REDIS_URL --worker-ttl 30 --job-monitoring-interval 15 librenms-import` "
            "(with those settings in its environment). Stop it with SIGTERM or Ctrl-C (warm shutdown)."
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
        help="seconds between heartbeats (default 15; keep it well under WORKER_HEARTBEAT_GRACE)",
    )
    parser.set_defaults(func=cmd_worker)


class _RedactingFilter(logging.Filter):
    """Masks every known secret in log records, whatever logger wrote them."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = _redact(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


def cmd_worker(args: argparse.Namespace, settings: Settings) -> int:
    from core import jobs

    for handler in logging.getLogger().handlers:
        handler.addFilter(_RedactingFilter())
    logging.getLogger("core").setLevel(min(logging.INFO, logging.getLogger().getEffectiveLevel()))
    jobs.run_worker(
        settings, burst=args.burst, name=args.name, heartbeat=args.heartbeat or jobs.HEARTBEAT_SECONDS
    )
    return EXIT_OK


# ------------------------------------------------------------------ the parser and main

# Parser builders, one per command, in the order `--help` lists them. New commands add theirs here.
COMMANDS: list[ParserBuilder] = [
    add_check_parser,
    add_validate_parser,
    add_import_parser,
    add_jobs_parser,
    add_worker_parser,
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
