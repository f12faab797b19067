"""An import run: re-validate the rows against fresh NetBox and LibreNMS state, check permissions, then
write in bulk batches (two in flight), each under a lock per LibreNMS device and re-checked under it.

One bad device never sinks the batch (bulk writes isolate the rows NetBox refuses); a 403 that refuses a
whole kind of object stops the run and names the missing permission. Jobs carry only ids and choices
(`ImportItem`); credentials come from the Settings of whoever runs it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed

import pynetbox

from core import defaults, netbox
from core.choices import Kind, Outcome, RowStatus
from core.errors import ImporterError, ImportStopped, NetBoxAuthError, NetBoxError
from core.importer.addresses import assign_primary_ips, management_addresses
from core.importer.context import ProgressFn, RunContext, StopFn
from core.importer.items import ImportItem
from core.importer.locks import LocalLocks, Locks
from core.importer.plan import Plan
from core.importer.recheck import drop_created_meanwhile
from core.importer.results import ImportReport, RowResult
from core.importer.stacks import create_stack, devices_by_serial
from core.importer.writes import create_objects
from core.librenms import DeviceFilter, LibreNMSClient
from core.review import Row
from core.search import run_search
from core.settings import Settings


def run_import(
    settings: Settings,
    items: Sequence[ImportItem],
    *,
    progress: ProgressFn | None = None,
    should_stop: StopFn | None = None,
    locks: Locks | None = None,
    librenms: LibreNMSClient | None = None,
    nb_api: pynetbox.api | None = None,
    batch_size: int = defaults.IMPORT_BATCH_SIZE,
    concurrency: int = defaults.IMPORT_CONCURRENCY,
) -> ImportReport:
    """Import the given rows. Never raises for one bad device; raises ImporterError only when nothing can
    start (LibreNMS/NetBox unreachable, bad token) — a missing permission is reported in `report.error`."""
    started = time.perf_counter()
    report = ImportReport()
    api = nb_api or netbox.connect(settings)
    before = netbox.request_count(api)
    locks = locks or LocalLocks()
    items = list({item.key: item for item in items}.values())
    servers = {item.server_key for item in items}
    if len(servers) > 1:
        raise ImporterError("One import takes the devices of one LibreNMS server at a time.")
    server = settings.server(servers.pop()) if servers else settings.librenms
    client = librenms or LibreNMSClient(server, timeout=settings.librenms_timeout)
    review = run_search(
        settings,
        DeviceFilter(show_disabled=True, detect_stacks=True),
        server_key=server.key,
        librenms=client,
        nb_api=api,
        device_ids={item.librenms_id for item in items},
        choices={item.key: item.choice() for item in items},
    ).review
    ctx = RunContext(
        settings=settings,
        api=api,
        review=review,
        librenms=client,
        report=report,
        progress=progress or (lambda _p, _r: None),
        should_stop=should_stop or (lambda: False),
        total=len(items),
    )
    ready = _sort_out(ctx, items)
    plan = Plan.of(ready, primary_ip=settings.create_primary_ip)
    try:
        needed = plan.permissions(primary_ip=settings.create_primary_ip) if ready else []
        missing = netbox.missing_permissions(api, needed)
    except NetBoxError as exc:
        missing, report.error = [], str(exc)
    if missing or report.error:
        report.error = report.error or (
            "The NetBox token may not "
            + ", ".join(missing)
            + ". Nothing was imported: ask a NetBox admin to "
            "grant these object permissions to the token's user, then run the import again."
        )
        for row in ready:
            ctx.finish(RowResult.of(row, Outcome.SKIPPED, "not attempted: " + report.error))
        ctx.report_progress("")
        return _close(report, api, before, started)

    try:
        ctx.tag_id = netbox.ensure_import_tag(api)
        ctx.tick("")
        _run_batches(ctx, list(_batches(ready, batch_size)), locks, concurrency)
    except ImportStopped:
        report.stopped = True
    except NetBoxAuthError as exc:
        report.error = str(exc)
    return _close(report, api, before, started)


def _sort_out(ctx: RunContext, items: Sequence[ImportItem]) -> list[Row]:
    """The rows to write; the others get their result line now (gone from LibreNMS, exists, not ready)."""
    ready = []
    for item in items:
        row = ctx.review.rows.get(item.key)
        if row is None:
            ctx.finish(
                RowResult(
                    item.server_key,
                    item.librenms_id,
                    "",
                    Outcome.FAILED,
                    message="LibreNMS no longer has this device",
                )
            )
        elif row.status is RowStatus.EXISTS and row.existing is not None:
            ctx.finish(RowResult.exists(row, row.existing))
        elif row.status is not RowStatus.READY:
            ctx.finish(
                RowResult.of(row, Outcome.FAILED, f"not ready ({row.status.value}): {row.issues_text()}")
            )
        else:
            ready.append(row)
    return ready


def _close(report: ImportReport, api: pynetbox.api, before: int, started: float) -> ImportReport:
    report.netbox_requests = netbox.request_count(api) - before
    report.seconds = time.perf_counter() - started
    return report


def _batches(rows: Sequence[Row], size: int) -> Iterator[list[Row]]:
    for start in range(0, len(rows), size):
        yield list(rows[start : start + size])


def _run_batches(ctx: RunContext, batches: list[list[Row]], locks: Locks, concurrency: int) -> None:
    """A few batches at a time: NetBox handles one bulk POST on one core, so two in flight use both."""
    if concurrency <= 1 or len(batches) <= 1:
        for batch in batches:
            _import_batch(ctx, batch, locks)
        return
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        futures = [pool.submit(_import_batch, ctx, batch, locks) for batch in batches]
        try:
            for future in as_completed(futures):
                future.result()
        except BaseException:
            for future in futures:
                future.cancel()  # batches not started yet; those in flight finish
            raise


def _import_batch(ctx: RunContext, batch: list[Row], locks: Locks) -> None:
    if ctx.should_stop():
        raise ImportStopped("The import was stopped.")
    held = set(locks.acquire([row.key for row in batch]))
    try:
        mine = []
        for row in batch:
            if row.key in held:
                mine.append(row)
            else:
                ctx.finish(
                    RowResult.of(row, Outcome.SKIPPED, "another import is creating this device right now")
                )
        mine = drop_created_meanwhile(ctx, mine)
        devices = [r for r in mine if r.kind is Kind.DEVICE and r.stack is None]
        vms = [r for r in mine if r.kind is Kind.VM]
        stacks = [r for r in mine if r.kind is Kind.DEVICE and r.stack is not None]
        addresses = management_addresses(ctx, mine) if ctx.settings.create_primary_ip else {}
        created_devices = create_objects(ctx, devices, Kind.DEVICE)
        created_vms = create_objects(ctx, vms, Kind.VM)
        members = devices_by_serial(ctx, [m.serial for row in stacks for m in row.stack.members if m.serial])
        for row in stacks:
            created = create_stack(ctx, row, members)
            if created is not None:
                created_devices.append(created)
        if addresses:
            assign_primary_ips(ctx, created_devices, Kind.DEVICE, addresses)
            assign_primary_ips(ctx, created_vms, Kind.VM, addresses)
        for _row, result in created_devices + created_vms:
            ctx.finish(result)
    finally:
        locks.release(list(held))
    ctx.tick(batch[-1].name)
