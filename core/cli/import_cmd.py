"""`python -m core import`: import the rows an edited review CSV marks for import.

Which rows: core.csvio.import_csv decides, the same rule as the Import page's upload. Only the CSV's devices
are searched and reviewed (stacks detected on them only). A row NetBox already has is linked or updated
when its `action` cell says so (and its `update` cell names the fields, else every field LibreNMS owns
that differs); without an action, a row the CSV marks import=yes that NetBox already has is listed with
its link (and in --results as skipped), never sent to the import.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from core import defaults
from core.choices import JobMode, JobState, Outcome, PlanAction
from core.cli.jobs import tally
from core.cli.output import EXIT_ERROR, EXIT_FAILING, EXIT_OK, SETTINGS_HELP, err, out
from core.csvio import CsvReport, import_csv, plan_csv_bytes, read_table, write_results
from core.errors import QueueUnavailable
from core.importer import ImportItem, RowPlan, RowResult, plan_rows
from core.librenms import DeviceFilter, client_for
from core.review import Review, Row
from core.search import run_search
from core.settings import Settings
from core.values import public_url

EXIT_CODES_HELP = """\
exit codes:
  0  every row of the CSV marked for import was created, updated or is already in NetBox; or the job was
     queued;
     or --dry-run listed the rows
  1  at least one row failed, a CSV line was rejected, or the job was stopped, canceled or abandoned
  2  could not run: bad arguments or settings, a service unreachable, a token refused or lacking a
     permission (nothing was imported), an unreadable CSV
"""


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "import",
        help="import the rows an edited review CSV marks for import, into NetBox",
        description=(
            "Search the CSV's LibreNMS devices (stacks detected), validate them against NetBox, apply the edited "
            "CSV (role, rack, cluster, ... and the import column) the way the Import page's upload does, then "
            "import the rows that are ready and ticked. A non-empty import cell is the last word: import=no is "
            "never imported, even when the line's edits make the row ready. Rejected lines, and rows absent "
            "from the CSV, are never imported; rows already in NetBox are listed with their link. Without "
            "--sync the import is a job for the worker (`python -m core worker`); when no worker listens it "
            "runs here and this command waits for it."
        ),
        epilog=SETTINGS_HELP + "\n" + EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--csv", required=True, metavar="EDITED.csv", help="the review CSV, edited")
    parser.add_argument("--server", metavar="KEY", help="LibreNMS server key (default: the first one)")
    how = parser.add_mutually_exclusive_group()
    how.add_argument("--wait", action="store_true", help="follow the job, printing progress, until it ends")
    how.add_argument(
        "--sync",
        action="store_true",
        help="import in this process, without a worker; it takes the same device locks in Redis as the "
        "worker's jobs, so the two never create one device twice (without Redis its locks are this "
        "process's only, and it says so)",
    )
    how.add_argument(
        "--dry-run",
        action="store_true",
        help="print the rows the CSV would import (librenms_id, name, kind, what would be created) and "
        "import nothing",
    )
    parser.add_argument("--results", metavar="OUT.csv", help="write one line per row and its outcome here")
    parser.add_argument(
        "--plan", metavar="PLAN.csv", help="write the plan (one line per object each row creates) here first"
    )
    parser.add_argument(
        "--batch-size",
        type=int,
        default=None,
        metavar="N",
        help=f"rows per NetBox bulk request (default {defaults.IMPORT_BATCH_SIZE})",
    )
    parser.set_defaults(func=run)


# ------------------------------------------------------------------ what the CSV imports


def review_csv(settings: Settings, data: bytes, server_key: str) -> tuple[Review, CsvReport, list[str]]:
    """The CSV's devices reviewed and the CSV applied (core.csvio.import_csv): afterwards the rows it
    imports are `review.importable_rows()`. Also returns the search's warnings."""
    table = read_table(data)
    server = settings.server(server_key)
    client = client_for(settings, server)
    result = run_search(
        settings,
        DeviceFilter(show_disabled=True, detect_stacks=True),
        server_key=server.key,
        librenms=client,
        device_ids=table.device_ids(),
    )
    report = import_csv(result.review, table, keep_unlisted=False)
    return result.review, report, result.warnings


# the fields of a row's main object its one-line summary names
SUMMARY_FIELDS = ("cluster", "site", "rack", "device_type", "role", "platform")


def plan_summary(plan: RowPlan) -> str:
    """A row's plan in one phrase: its main object with the fields that matter, how many others."""
    main, *others = plan.objects
    if plan.action in (PlanAction.UPDATE, PlanAction.LINK):  # an object NetBox has: what changes in it
        changes = ", ".join(f"{name} {value}" for name, value in main.fields)
        return f"{plan.action.value} {main.what} '{main.name}': {changes}"
    if main.what == "virtual chassis":
        members = [o for o in others if o.what == "stack member"]
        fields = dict(members[0].fields) if members else {}
        text = f"virtual chassis '{main.name}' with {len(members)} member devices"
    else:
        fields = dict(main.fields)
        text = f"{main.what} '{main.name}'"
    shown = [f"{name} {fields[name]}" for name in SUMMARY_FIELDS if name in fields]
    text += f" ({', '.join(shown)})" if shown else ""
    address = next((o for o in others if o.what == "IP address"), None)
    return text + (f", primary IP {address.name}" if address else "")


def dry_run_lines(plan: RowPlan) -> list[str]:
    """A row of `import --dry-run`: librenms_id, name, kind, the plan in one phrase (tab-separated), then
    one indented line per object with every field it gets."""
    lines = ["\t".join((str(plan.key[1]), plan.name, plan.kind.value, plan_summary(plan)))]
    for obj in plan.objects:
        fields = ", ".join(f"{name}={value}" for name, value in obj.fields)
        lines.append(f"    {obj.what} '{obj.name}': {fields}" + (f" ({obj.note})" if obj.note else ""))
    return lines


def existing_result(row: Row) -> dict[str, Any]:
    """The result line of a row already in NetBox: skipped, with its link (as the importer reports it)."""
    assert row.existing is not None
    return RowResult.exists(row, row.existing).as_dict()


# ------------------------------------------------------------------ the command


def _progress_line(done: int, total: int, counts: dict[str, int], current: str) -> str:
    return f"{done}/{total}  {tally(counts)}" + (f"  ({current})" if current else "")


def _write_plan(path: str, plans: list[RowPlan]) -> bool:
    try:
        Path(path).write_bytes(plan_csv_bytes(plans))
    except OSError as exc:
        err(f"error: cannot write {path}: {exc.strerror or exc}")
        return False
    out(f"wrote the plan of {len(plans)} row(s) to {path}")
    return True


def _write(path: str, results: list[dict[str, Any]]) -> bool:
    try:
        write_results(Path(path), results)
    except OSError as exc:
        err(f"error: cannot write {path}: {exc.strerror or exc}")
        return False
    out(f"wrote {len(results)} result(s) to {path}")
    return True


def _run_here(settings: Settings, items: list[ImportItem], show, batch_size: int | None) -> str:
    """`--sync`: the import in this process, as a run with its record (core.jobs.run_here) and under the
    device locks worker jobs take (Redis, refreshed while it runs); only without Redis under this process's
    own locks, which the note says. Returns the run's id."""
    from core import jobs

    if jobs.connect_or_none(settings) is None:
        err(
            f"note: Redis cannot be reached at {public_url(settings.redis_url)}: the device locks are this "
            "process's only, so a worker job importing the same devices now is not kept from creating them too"
        )
    return jobs.run_here(
        settings,
        items=items,
        batch_size=batch_size,
        meta=lambda r: show(r.get("done", 0), r.get("total", 0), r.get("counts", {}), r.get("current", "")),
    )


def _poll(conn, job_id: str, *, results: bool = False):
    """The job's status; while Redis cannot be reached, says so once and keeps asking."""
    from core import jobs

    told = False
    while True:
        try:
            return jobs.job_status(conn, job_id, results=results)
        except QueueUnavailable:
            if not told:
                err("queue unreachable (Redis), retrying…")
                told = True
            time.sleep(defaults.POLL_INTERVAL_SECONDS)


def run(args: argparse.Namespace, settings: Settings) -> int:
    path = Path(args.csv)
    try:
        data = path.read_bytes()
    except OSError as exc:
        err(f"error: cannot read {path}: {exc.strerror or exc}")
        return EXIT_ERROR
    server_key = args.server or settings.librenms.key
    review, report, search_warnings = review_csv(settings, data, server_key)
    for line, raw_id, reasons in report.rejected:
        err(f"line {line}: librenms_id {raw_id or '?'} rejected, not imported: {'; '.join(reasons)}")
    for warning in [*search_warnings, *report.warnings]:
        err(f"warning: {warning}")
    rows = review.importable_rows()
    existing = [review.rows[key] for key, _url in report.already_in_netbox]
    out(f"CSV {path.name}: {report.summary()}; {len(rows)} row(s) to import")
    for row in existing:
        out(f"already in NetBox: {row.name} (librenms_id {row.device.device_id}): {row.existing.url}")

    if args.plan or args.dry_run:
        plans = plan_rows(rows, primary_ip=settings.create_primary_ip)
        if args.plan and not _write_plan(args.plan, plans):
            return EXIT_ERROR
    if args.dry_run:
        out(f"dry run: nothing is imported; the import would send {len(rows)} row(s):")
        for plan in plans:
            for line in dry_run_lines(plan):
                out(line)
        return EXIT_OK

    skipped = [existing_result(row) for row in existing]
    if not rows:
        if args.results and not _write(args.results, skipped):
            return EXIT_ERROR
        return EXIT_FAILING if report.rejected else EXIT_OK
    items = [ImportItem.from_row(row) for row in rows]
    shown: list[tuple] = [()]

    def show(done: int, total: int, counts: dict[str, int], current: str) -> None:
        if shown[0] != (done, current):
            shown[0] = (done, current)
            out(_progress_line(done, total, counts, current))

    from core import jobs

    if args.sync:
        run_id = _run_here(settings, items, show, args.batch_size)
        status = _poll(jobs.connect_or_none(settings), run_id, results=True)
        results, error, state = status.results, status.error, status.state
        out(f"run {run_id}")
    else:
        handle = jobs.start_import(settings, items, batch_size=args.batch_size)
        conn = jobs.connect_or_none(settings) if handle.mode == JobMode.WORKER else None
        if handle.mode == JobMode.IN_PROCESS:
            conn = jobs.connect_or_none(settings) if "Redis cannot be reached" not in handle.note else None
            err(f"note: {handle.note}; waiting for it here")
        elif not args.wait:
            out(f"job {handle.job_id} queued for the worker; follow it with `python -m core jobs`")
            return EXIT_OK
        else:
            out(f"job {handle.job_id} queued for the worker")
        status = _poll(conn, handle.job_id)
        try:
            while status.active:
                show(status.done, status.total, status.counts, status.current)
                time.sleep(defaults.POLL_INTERVAL_SECONDS)
                status = _poll(conn, handle.job_id)
        except KeyboardInterrupt:
            if handle.mode == JobMode.WORKER:
                err(
                    f"the job goes on in the worker; stop it after its batch in flight with `python -m core "
                    f"jobs --cancel {handle.job_id}` (or kill it: --kill, which may leave that batch unfinished)"
                )
                raise
            err("stopping after the batch in flight…")
            jobs.cancel(conn, handle.job_id)
            while _poll(conn, handle.job_id).active:
                time.sleep(defaults.POLL_INTERVAL_SECONDS)
        status = _poll(conn, handle.job_id, results=True)
        results, error, state = status.results, status.error, status.state
    results = skipped + results
    counts = {o.value: sum(1 for r in results if r.get("outcome") == o.value) for o in Outcome}
    out(f"import {state.value}: {tally(counts)}")
    for r in results:
        if r.get("outcome") in (Outcome.FAILED.value, Outcome.PARTIAL.value):
            what = "; ".join([str(r.get("message") or ""), *(r.get("extra") or [])])
            err(f"{r.get('outcome')}: {r.get('name') or r.get('librenms_id')}: {what}")
    if args.results and not _write(args.results, results):
        return EXIT_ERROR
    if error:
        err(f"error: {error}")
    if state is JobState.FAILED and error:
        return EXIT_ERROR
    unfinished = counts[Outcome.FAILED.value] + counts[Outcome.PARTIAL.value]
    if state is not JobState.FINISHED or unfinished or report.rejected:
        return EXIT_FAILING
    return EXIT_OK
