"""An import run: re-validate the rows against fresh NetBox and LibreNMS state, check permissions, then
write in bulk batches (a few in flight), each under a lock per LibreNMS device and re-checked under it.

One bad device never sinks the batch (bulk writes isolate the rows NetBox refuses); a 403 that refuses a
whole kind of object stops the run and names the missing permission. Jobs carry only ids and choices
(`ImportItem`); credentials come from the Settings of whoever runs it.
"""

from __future__ import annotations

import logging
import math
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed

import pynetbox
import requests

from core import defaults, netbox
from core.choices import Kind, Outcome, RowStatus, SyncField
from core.errors import ImporterError, ImportStopped, NetBoxAuthError, NetBoxError
from core.importer.addresses import assign_primary_ips, management_addresses
from core.importer.context import ProgressFn, RunContext, StopFn
from core.importer.items import ImportItem
from core.importer.locks import LocalLocks, Locks
from core.importer.plan import Plan, plan_lines, plan_rows
from core.importer.precheck import missing_permissions, refusal
from core.importer.recheck import drop_created_meanwhile
from core.importer.repair import Unfinished, set_masters, split_unfinished
from core.importer.results import ImportReport, RowResult
from core.importer.stacks import create_stacks, existing_members, leftover_chassis
from core.importer.updates import update_existing
from core.importer.writes import create_objects
from core.librenms import DeviceFilter, LibreNMSClient, client_for
from core.netbox.gateway import failure
from core.review import Row
from core.runs.changelog import signed, user_of
from core.runs.recorder import Recorder, Sink, recording
from core.search import run_search
from core.settings import Settings

log = logging.getLogger(__name__)

PlanFn = Callable[[list[dict[str, str]]], None]


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
    run_id: str = "",
    resumes: str = "",
    record: Sink | None = None,
    on_plan: PlanFn | None = None,
) -> ImportReport:
    """Import the given rows. Never raises for one bad device; raises ImporterError only when nothing can
    start (LibreNMS/NetBox unreachable, bad token) — a missing permission is reported in `report.error`.

    A run: every change it makes in NetBox carries a changelog message naming it (`run_id`: a job's id; a
    new one when empty; `resumes`: the run it resumes, named too, so that run's undo covers this one's
    changes). Each object NetBox confirms is passed to `record` at once (core.runs.recorder); `on_plan`
    gets the plan (core.importer.plan.plan_lines) before anything is written. Rows an earlier, unfinished
    run made are completed (core.importer.repair)."""
    api = nb_api or netbox.connect(settings)
    session = api.http_session
    previous = getattr(session, "changelog_message", "")
    report = ImportReport(run_id=run_id or uuid.uuid4().hex)
    session.changelog_message = signed(
        defaults.RESUME_MESSAGE.format(run_id=report.run_id, resumed=resumes)
        if resumes
        else defaults.CHANGELOG_MESSAGE.format(run_id=report.run_id),
        settings.analyst,
    )
    recorder = Recorder(record)
    try:
        with recording(api, recorder):
            return _run(
                settings,
                items,
                report,
                api,
                progress,
                should_stop,
                locks,
                librenms,
                batch_size,
                concurrency,
                on_plan,
                resumes,
            )
    finally:
        session.changelog_message = previous
        report.objects = [o.as_dict() for o in recorder.objects]
        report.record_lost = recorder.lost


def _run(
    settings: Settings,
    items: Sequence[ImportItem],
    report: ImportReport,
    api: pynetbox.api,
    progress: ProgressFn | None,
    should_stop: StopFn | None,
    locks: Locks | None,
    librenms: LibreNMSClient | None,
    batch_size: int,
    concurrency: int,
    on_plan: PlanFn | None,
    resumes: str = "",
) -> ImportReport:
    started = time.perf_counter()
    before = netbox.request_count(api)
    locks = locks or LocalLocks()
    items = list({item.key: item for item in items}.values())
    servers = {item.server_key for item in items}
    if len(servers) > 1:
        raise ImporterError("One import takes the devices of one LibreNMS server at a time.")
    server = settings.server(servers.pop()) if servers else settings.librenms
    client = librenms or client_for(settings, server)
    t0 = time.perf_counter()
    review = run_search(
        settings,
        DeviceFilter(show_disabled=True, detect_stacks=True),
        server_key=server.key,
        librenms=client,
        nb_api=api,
        device_ids={item.librenms_id for item in items},
        choices={item.key: item.choice() for item in items},
    ).review
    report.add_time("re-check", time.perf_counter() - t0)
    ctx = RunContext(
        settings=settings,
        api=api,
        review=review,
        librenms=client,
        report=report,
        progress=progress or (lambda _p, _r: None),
        should_stop=should_stop or (lambda: False),
        total=len(items),
        seen={item.key: item.seen for item in items if item.seen},
        resumes=resumes,
    )
    ready, maybe_unfinished = _sort_out(ctx, items)
    if on_plan is not None:
        rows = [ctx.review.rows[i.key] for i in items if i.key in ctx.review.rows]
        on_plan(plan_lines(plan_rows(rows, primary_ip=settings.create_primary_ip, ticked_only=False)))
    plan = Plan.of(ready, primary_ip=settings.create_primary_ip)
    try:
        with ctx.stage("permissions"):
            missing = missing_permissions(settings, plan, api) if ready else []
    except NetBoxError as exc:
        missing, report.error = [], str(exc)
    if missing or report.error:
        report.error = report.error or refusal(settings, missing)
        for row in ready:
            ctx.finish(RowResult.of(row, Outcome.SKIPPED, "not attempted: " + report.error))
        _finish_exists(ctx, maybe_unfinished)
        ctx.report_progress("")
        return _close(report, api, before, started)

    try:
        with ctx.stage("permissions"):
            ctx.tag_id = netbox.ensure_import_tag(api)
    except NetBoxAuthError as exc:
        report.error = str(exc)
        return _close(report, api, before, started)
    except NetBoxError as exc:  # nothing was written yet: every row says so, the job ends normally
        report.error = f"Nothing was imported: {exc}"
        for row in ready:
            ctx.finish(RowResult.of(row, Outcome.SKIPPED, "not attempted: " + report.error))
        _finish_exists(ctx, maybe_unfinished)
        ctx.report_progress("")
        return _close(report, api, before, started)
    try:
        ctx.tick("")
        _run_batches(ctx, batches_of(ready + maybe_unfinished, batch_size, concurrency), locks, concurrency)
    except ImportStopped:
        report.stopped = True
    except NetBoxAuthError as exc:
        report.error = str(exc)
    return _close(report, api, before, started)


def _sort_out(ctx: RunContext, items: Sequence[ImportItem]) -> tuple[list[Row], list[Row]]:
    """The rows to write, and those NetBox has already that an earlier run may have left unfinished (the
    repair looks at them under the locks); the others get their result line now (gone from LibreNMS, not
    ready, or NetBox has them and no import made them unfinished)."""
    ready, maybe_unfinished = [], []
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
        elif row.will_update:
            ready.append(row)
        elif row.status is RowStatus.EXISTS and row.existing is not None:
            maybe_unfinished.append(row)
        elif row.status is not RowStatus.READY:
            ctx.finish(
                RowResult.of(row, Outcome.FAILED, f"not ready ({row.status.value}): {row.issues_text()}")
            )
        else:
            ready.append(row)
    return ready, maybe_unfinished


def _finish_exists(ctx: RunContext, rows: Sequence[Row]) -> None:
    for row in rows:
        assert row.existing is not None
        ctx.finish(RowResult.exists(row, row.existing))


def _close(report: ImportReport, api: pynetbox.api, before: int, started: float) -> ImportReport:
    report.by = _changed_by(api)
    report.netbox_requests = netbox.request_count(api) - before
    report.seconds = time.perf_counter() - started
    return report


def _changed_by(api: pynetbox.api) -> str:
    """The NetBox user the run's changes are under ("" before any write)."""
    write_log = getattr(api.http_session, "write_log", None)
    first = next((o for o in getattr(write_log, "objects", []) if o.request_id), None)
    return user_of(api, first.request_id) if first else ""


def batches_of(rows: Sequence[Row], size: int, workers: int = 1) -> list[list[Row]]:
    """The rows in order, cut into batches of at most about `size` devices to create (a stack counts each
    member), as many as a multiple of the workers, so that every worker writes to the end: 100 rows on 3
    workers are 3 batches of about 33 devices, not 2 of 50 and an idle worker."""
    weights = [len(row.stack.members) if row.stack else 1 for row in rows]
    total = sum(weights)
    needed = math.ceil(total / max(size, 1))
    count = min(len(rows), math.ceil(needed / workers) * workers)  # no last batch writing alone
    out: list[list[Row]] = [[] for _ in range(count)]
    done = 0
    for row, weight in zip(rows, weights, strict=True):  # a row goes where the middle of its weight falls
        out[min(int((done + weight / 2) * count / total), count - 1)].append(row)
        done += weight
    return [batch for batch in out if batch]


def _run_batches(ctx: RunContext, batches: list[list[Row]], locks: Locks, concurrency: int) -> None:
    """A few batches at a time: NetBox handles one bulk POST on one core, and each batch waits on NetBox
    in turn (its writes follow one another), so a few in flight keep NetBox's workers busy."""
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
        _write_batch(ctx, mine)
    finally:
        locks.release(list(held))
    ctx.tick(batch[-1].name)


def _write_batch(ctx: RunContext, rows: list[Row]) -> None:
    """Write the batch's rows. Every NetBox call is contained: a failure costs only the rows it concerns,
    which say what failed; only a 403 refusing a whole kind of object (NetBoxAuthError) and a stop leave,
    after the rows created so far got their result lines."""
    created: list[tuple[Row, RowResult]] = []
    repairs: list[Unfinished] = []
    try:
        updating = [row for row in rows if row.will_update]
        existing = [row for row in rows if row.status is RowStatus.EXISTS and not row.will_update]
        rows = [row for row in rows if row.status is not RowStatus.EXISTS]
        try:
            with ctx.stage("re-check"):
                repairs, done = split_unfinished(ctx, existing) if existing else ([], [])
            _finish_exists(ctx, done)
        except NetBoxAuthError:
            raise
        except NetBoxError as exc:
            for row in existing:
                result = RowResult.exists(row, row.existing)  # type: ignore[arg-type]
                result.extra.append(
                    f"whether an earlier import left it unfinished could not be checked: {exc}"
                )
                ctx.finish(result)
        try:
            with ctx.stage("re-check"):
                rows = drop_created_meanwhile(ctx, rows)
        except NetBoxAuthError:
            raise
        except NetBoxError as exc:  # without the re-check a row could be created twice: none is
            for row in rows:
                ctx.finish(
                    RowResult.of(
                        row, Outcome.FAILED, f"not created: NetBox could not be checked for it first: {exc}"
                    )
                )
            rows = []
        devices = [r for r in rows if r.kind is Kind.DEVICE and r.stack is None]
        vms = [r for r in rows if r.kind is Kind.VM]
        stacks = [r for r in rows if r.kind is Kind.DEVICE and r.stack is not None]
        moving = [row for row in updating if SyncField.PRIMARY_IP in row.updates]
        with ctx.stage("addresses"):
            addresses = management_addresses(
                ctx,
                (rows + [u.row for u in repairs if u.needs_ip] if ctx.settings.create_primary_ip else [])
                + moving,
            )
        with ctx.stage("updates"):
            created += update_existing(ctx, updating, ctx.seen, addresses)
        with ctx.stage("device writes"):
            created_devices = create_objects(ctx, devices, Kind.DEVICE)
            created += created_devices
            created_vms = create_objects(ctx, vms, Kind.VM)
            created += created_vms
        with ctx.stage("stacks"):
            _create_stacks(ctx, stacks, created_devices, created)
            set_masters(ctx, repairs)
        if ctx.settings.create_primary_ip:
            with ctx.stage("primary IPs"):
                assign_primary_ips(ctx, created_devices, Kind.DEVICE, addresses)
                assign_primary_ips(ctx, created_vms, Kind.VM, addresses)
                for kind in (Kind.DEVICE, Kind.VM):
                    fix = [(u.row, u.result) for u in repairs if u.needs_ip and u.row.existing.kind is kind]  # type: ignore[union-attr]
                    assign_primary_ips(ctx, fix, kind, addresses, repair=True)
    except (ImportStopped, NetBoxAuthError):
        raise
    except Exception as exc:  # a failure no step expected: the rows not yet finished say so, the job goes on
        why = _unexpected(ctx, exc)
        done = ctx.finished_keys() | {row.key for row, _ in created} | {u.row.key for u in repairs}
        for row in rows:
            if row.key not in done:
                ctx.finish(RowResult.of(row, Outcome.FAILED, f"not created: {why}"))
        for result in [r for _, r in created] + [u.result for u in repairs]:
            result.extra.append(f"the import of its batch then failed: {why}")
            if result.outcome in (Outcome.CREATED, Outcome.COMPLETED):
                result.outcome = Outcome.PARTIAL
    finally:
        for _row, result in created:
            ctx.finish(result)
        for repair in repairs:
            ctx.finish(repair.result)


def _create_stacks(
    ctx: RunContext,
    stacks: list[Row],
    created_devices: list[tuple[Row, RowResult]],
    created: list[tuple[Row, RowResult]],
) -> None:
    """The batch's stacks; each one made is added to `created_devices` and `created`."""
    if not stacks:
        return
    members, lookup_failed = existing_members(ctx, stacks)
    try:
        leftover = leftover_chassis(ctx, stacks)
    except NetBoxAuthError:
        raise
    except NetBoxError as exc:
        lookup_failed.update({row.key: f"(chassis left by an interrupted import) {exc}" for row in stacks})
        leftover = {}
    for row in stacks:
        if row.key in lookup_failed:
            ctx.finish(
                RowResult.of(
                    row,
                    Outcome.FAILED,
                    "stack not created: could not look up whether NetBox has its members already (by "
                    f"serial): {lookup_failed[row.key]}",
                )
            )
    made = create_stacks(ctx, [row for row in stacks if row.key not in lookup_failed], members, leftover)
    created_devices += made
    created += made


def _unexpected(ctx: RunContext, exc: Exception) -> str:
    """A failure no step of the batch handled, in words (never a token)."""
    if isinstance(exc, ImporterError):
        return str(exc)
    if isinstance(exc, (requests.RequestException, pynetbox.RequestError, pynetbox.ContentError)):
        return str(failure(ctx.api, "import it", exc))
    log.exception("The import of a batch failed")
    return (
        f"an unexpected error ({exc.__class__.__name__}); the log of whoever ran the import has the details"
    )
