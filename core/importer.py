"""Import: plan and execute the creation of devices, VMs, stacks and primary IPs in NetBox.

The one implementation behind the RQ worker and the in-process fallback. It re-validates every row against
fresh NetBox state, writes in bulk batches, isolates bad rows inside a failed batch (a bulk POST is
all-or-nothing in NetBox) so one bad device never sinks the batch, holds a lock per LibreNMS device so
overlapping jobs cannot duplicate it, and stops early on a 403 naming the missing permission.
Jobs carry only ids and choices (`ImportItem`); credentials come from the Settings of whoever runs it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any, ClassVar, Protocol

import pynetbox

from core import defaults, netbox
from core.errors import ImporterError, NetBoxAuthError, NetBoxError
from core.librenms import DeviceFilter, LibreNMSClient
from core.mapping import load_mappings
from core.models import Kind, LibreDevice, Overrides, Row, RowStatus, is_ip
from core.search import candidates_for, options_from
from core.settings import Settings
from core.stacks import detect_stacks
from core.validation import Review

log = logging.getLogger(__name__)


class Outcome(StrEnum):
    CREATED = "created"
    LINKED = "linked"  # e.g. a stack member that already existed, attached to the new virtual chassis
    SKIPPED = "skipped"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class ImportItem:
    """What a job carries for one row: the device's identity and the analyst's choices, nothing else."""

    server_key: str
    librenms_id: int
    overrides: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_row(cls, row: Row) -> ImportItem:
        chosen = {k: str(v) for k, v in asdict(row.overrides).items() if v is not None}
        return cls(server_key=row.device.server_key, librenms_id=row.device.device_id, overrides=chosen)

    def as_overrides(self) -> Overrides:
        values = dict(self.overrides)
        if values.get("kind"):
            values["kind"] = Kind(values["kind"])
        return Overrides(**values)


@dataclass(slots=True)
class RowResult:
    server_key: str
    librenms_id: int
    name: str
    outcome: Outcome
    kind: str = ""
    message: str = ""
    netbox_id: int | None = None
    url: str = ""
    extra: list[str] = field(default_factory=list)  # e.g. "primary IP 10.0.0.1/24", "member 2 linked"

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["outcome"] = self.outcome.value
        return out


@dataclass(slots=True)
class Progress:
    done: int
    total: int
    current: str
    counts: dict[str, int]


@dataclass(slots=True)
class ImportReport:
    results: list[RowResult] = field(default_factory=list)
    stopped: bool = False
    error: str = ""  # set when the whole job ended early (e.g. a missing permission)
    netbox_requests: int = 0
    seconds: float = 0.0

    def counts(self) -> dict[str, int]:
        counts = {o.value: 0 for o in Outcome}
        for result in self.results:
            counts[result.outcome.value] += 1
        return counts


@dataclass(frozen=True, slots=True)
class Plan:
    """What an import would create, for the confirmation dialog."""

    devices: int
    vms: int
    stacks: int
    stack_members: int
    ips: int
    not_ready: int

    @classmethod
    def of(cls, rows: Iterable[Row], *, primary_ip: bool = True) -> Plan:
        rows = list(rows)
        ready = [r for r in rows if r.will_import]
        stacks = [r for r in ready if r.stack is not None and r.kind is Kind.DEVICE]
        return cls(
            devices=sum(1 for r in ready if r.kind is Kind.DEVICE and r.stack is None),
            vms=sum(1 for r in ready if r.kind is Kind.VM),
            stacks=len(stacks),
            stack_members=sum(len(r.stack.members) for r in stacks if r.stack),
            ips=sum(1 for r in ready if primary_ip and r.device.ip),
            not_ready=sum(1 for r in rows if r.selected and not r.will_import),
        )


class Locks(Protocol):
    """A lock per LibreNMS device, so two jobs never create the same one."""

    def acquire(self, keys: Sequence[tuple[str, int]]) -> list[tuple[str, int]]: ...  # returns those acquired

    def release(self, keys: Sequence[tuple[str, int]]) -> None: ...


class LocalLocks:
    """Locks within one process (the in-process fallback without Redis)."""

    _held: ClassVar[set[tuple[str, int]]] = set()
    _mutex: ClassVar[threading.Lock] = threading.Lock()

    def acquire(self, keys: Sequence[tuple[str, int]]) -> list[tuple[str, int]]:
        with self._mutex:
            got = [k for k in keys if k not in self._held]
            self._held.update(got)
            return got

    def release(self, keys: Sequence[tuple[str, int]]) -> None:
        with self._mutex:
            self._held.difference_update(keys)


ProgressFn = Callable[[Progress, list[RowResult]], None]  # (progress, results finished since the last call)
StopFn = Callable[[], bool]

# What each kind of object needs, as NetBox endpoints checked with OPTIONS (POST listed = may add).
PERMISSION_ENDPOINTS = {
    "add devices": ("dcim", "devices"),
    "add virtual machines": ("virtualization", "virtual_machines"),
    "add virtual chassis": ("dcim", "virtual_chassis"),
    "add interfaces": ("dcim", "interfaces"),
    "add VM interfaces": ("virtualization", "interfaces"),
    "add IP addresses": ("ipam", "ip_addresses"),
}


def missing_permissions(api: pynetbox.api, plan: Plan, *, primary_ip: bool) -> list[str]:
    """The permissions this batch needs that the token lacks, from OPTIONS (which lists POST only when allowed)."""
    needed = []
    if plan.devices or plan.stacks:
        needed.append("add devices")
    if plan.vms:
        needed.append("add virtual machines")
    if plan.stacks:
        needed.append("add virtual chassis")
    if primary_ip and plan.ips:
        needed += ["add IP addresses"]
        if plan.devices or plan.stacks:
            needed.append("add interfaces")
        if plan.vms:
            needed.append("add VM interfaces")
    missing = []
    session = api.http_session
    headers = {"Accept": "application/json", **_auth_header(api)}
    for what in needed:
        app, name = PERMISSION_ENDPOINTS[what]
        url = f"{api.base_url}/{app}/{name.replace('_', '-')}/"
        try:
            response = session.options(url, headers=headers)
        except Exception as exc:
            raise netbox.translate(exc, api.base_url, "check permissions") from None
        if response.status_code == 403 and "token" in response.text.lower():
            raise NetBoxAuthError(
                f"NetBox rejected the API token: {netbox.describe_error_body(response.text)}"
            )
        actions = response.json().get("actions", {}) if response.ok else {}
        if "POST" not in actions:
            missing.append(what)
    return missing


def _auth_header(api: pynetbox.api) -> dict[str, str]:
    token = api.token or ""
    if token.startswith("nbt_") and "." in token:
        return {"Authorization": f"Bearer {token}"}
    return {"Authorization": f"Token {token}"} if token else {}


# ------------------------------------------------------------------ the run


class _Stop(Exception):
    pass


@dataclass
class _Context:
    settings: Settings
    api: pynetbox.api
    review: Review
    field_type: str
    tag_id: int
    librenms: LibreNMSClient
    report: ImportReport
    progress: ProgressFn
    should_stop: StopFn
    total: int
    pending: list[RowResult] = field(default_factory=list)
    done: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)  # batches run in parallel threads

    def finish(self, result: RowResult) -> None:
        with self.lock:
            self.report.results.append(result)
            self.pending.append(result)
            self.done += 1

    def tick(self, current: str) -> None:
        with self.lock:
            self.progress(Progress(self.done, self.total, current, self.report.counts()), self.pending)
            self.pending = []
        if self.should_stop():
            raise _Stop


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
    items = list({(i.server_key, i.librenms_id): i for i in items}.values())

    review, librenms = _fresh_review(settings, items, api, librenms)
    ctx = _Context(
        settings=settings,
        api=api,
        review=review,
        field_type=review.index.field_type,
        tag_id=0,
        librenms=librenms,
        report=report,
        progress=progress or (lambda _p, _r: None),
        should_stop=should_stop or (lambda: False),
        total=len(items),
    )
    ready: list[Row] = []
    for item in items:
        key = (item.server_key, item.librenms_id)
        row = review.rows.get(key)
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
            ctx.finish(_exists(row))
        elif row.status is not RowStatus.READY:
            ctx.finish(_failure(row, f"not ready ({row.status.value}): {row.issues_text()}"))
        else:
            ready.append(row)

    plan = Plan.of(ready, primary_ip=settings.create_primary_ip)
    try:
        missing = missing_permissions(api, plan, primary_ip=settings.create_primary_ip) if ready else []
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
            ctx.finish(
                _result(
                    row,
                    Outcome.SKIPPED,
                    "not attempted: " + report.error,
                )
            )
        ctx.tick("")
        return _close(report, api, before, started)

    try:
        ctx.tag_id = netbox.ensure_import_tag(api)
        ctx.tick("")
        _run_batches(ctx, list(_batches(ready, batch_size)), locks, concurrency)
    except _Stop:
        report.stopped = True
    except NetBoxAuthError as exc:
        report.error = str(exc)
    return _close(report, api, before, started)


def _close(report: ImportReport, api: pynetbox.api, before: int, started: float) -> ImportReport:
    report.netbox_requests = netbox.request_count(api) - before
    report.seconds = time.perf_counter() - started
    return report


def _fresh_review(
    settings: Settings, items: Sequence[ImportItem], api: pynetbox.api, librenms: LibreNMSClient | None
) -> tuple[Review, LibreNMSClient]:
    """Re-read the devices from LibreNMS and NetBox's state now, and re-apply the analyst's choices."""
    servers = {i.server_key for i in items}
    if len(servers) > 1:
        raise ImporterError("One import takes the devices of one LibreNMS server at a time.")
    server = settings.server(servers.pop()) if servers else settings.librenms
    client = librenms or LibreNMSClient(server, timeout=settings.librenms_timeout)
    wanted = {i.librenms_id for i in items}
    devices = [d for d in client.list_devices(DeviceFilter(show_disabled=True)) if d.device_id in wanted]
    default_key = settings.librenms_servers[0].key
    options = options_from(settings)
    index = netbox.load_index(
        api, default_server_key=default_key, candidates=candidates_for(devices, options, default_key)
    )
    stacks = {(server.key, i): s for i, s in detect_stacks(client, devices).items()}
    review = Review(devices, index, load_mappings(settings.mapping_file), options, stacks)
    for item in items:
        key = (item.server_key, item.librenms_id)
        if key in review.rows and item.overrides:
            choices: dict[str, Any] = dict(item.overrides)
            if choices.get("kind"):  # a job carries the kind as text; validation compares Kind members
                choices["kind"] = Kind(choices["kind"])
            review.apply_override([key], **choices)
    return review, client


def _exists(row: Row) -> RowResult:
    match = row.existing
    assert match is not None
    return _result(
        row,
        Outcome.SKIPPED,
        kind=match.kind.value,
        message=f"already in NetBox as {match.kind.value} '{match.name}' (matched by {match.by.value})",
        netbox_id=match.id,
        url=match.url,
    )


def _batches(rows: Sequence[Row], size: int) -> Iterator[list[Row]]:
    for start in range(0, len(rows), size):
        yield list(rows[start : start + size])


# ------------------------------------------------------------------ one batch


def _run_batches(ctx: _Context, batches: list[list[Row]], locks: Locks, concurrency: int) -> None:
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


def _import_batch(ctx: _Context, batch: list[Row], locks: Locks) -> None:
    if ctx.should_stop():
        raise _Stop
    keys = [row.key for row in batch]
    held = set(locks.acquire(keys))
    try:
        mine = []
        for row in batch:
            if row.key in held:
                mine.append(row)
            else:
                ctx.finish(
                    _result(
                        row,
                        Outcome.SKIPPED,
                        "another import is creating this device right now",
                    )
                )
        mine = _drop_created_meanwhile(ctx, mine)
        devices = [r for r in mine if r.kind is Kind.DEVICE and r.stack is None]
        vms = [r for r in mine if r.kind is Kind.VM]
        stacks = [r for r in mine if r.kind is Kind.DEVICE and r.stack is not None]
        addresses = _management_addresses(ctx, mine) if ctx.settings.create_primary_ip else {}
        created_devices = _create_objects(ctx, devices, Kind.DEVICE)
        created_vms = _create_objects(ctx, vms, Kind.VM)
        members = _devices_by_serial(ctx, [m.serial for row in stacks for m in row.stack.members if m.serial])
        for row in stacks:
            created = _create_stack(ctx, row, members)
            if created is not None:
                created_devices.append(created)
        if addresses:
            _assign_primary_ips(ctx, created_devices, Kind.DEVICE, addresses)
            _assign_primary_ips(ctx, created_vms, Kind.VM, addresses)
        for _row, result in created_devices + created_vms:
            ctx.finish(result)
    finally:
        locks.release(list(held))
    ctx.tick(batch[-1].name)


def _drop_created_meanwhile(ctx: _Context, rows: list[Row]) -> list[Row]:
    """Under the lock, one batched look at NetBox: a row another job created since our index was loaded is
    reported as existing, never created twice."""
    if not rows:
        return rows
    index_fields = "id,name,custom_fields,site"
    found: dict[tuple[str, int], dict] = {}
    names = {row.name.casefold(): row for row in rows}
    for kind, endpoint in (
        (Kind.DEVICE, ctx.api.dcim.devices),
        (Kind.VM, ctx.api.virtualization.virtual_machines),
    ):
        of_kind = [r for r in rows if r.kind is kind]
        if not of_kind:
            continue
        filters: dict[str, Any] = {"name": [r.name for r in of_kind]}
        hits = netbox.call(
            ctx.api,
            "check for existing objects",
            lambda e=endpoint, f=filters: list(e.filter(fields=index_fields, **f)),
        )
        if ctx.field_type == "integer":
            ids = [r.device.device_id for r in of_kind]
            hits += netbox.call(
                ctx.api,
                "check for existing objects",
                lambda e=endpoint, i=ids: list(e.filter(fields=index_fields, cf_librenms_id=i)),
            )
        for hit in hits:
            data = dict(hit)
            ids = netbox.parse_librenms_ids(
                (data.get("custom_fields") or {}).get(defaults.LIBRENMS_ID_FIELD),
                ctx.review.index.default_server_key,
            )
            for server_key, device_id in ids.items():
                found[(server_key, device_id)] = {**data, "kind": kind}
            row = names.get((data.get("name") or "").casefold())
            if row is not None and row.key not in found and not ids:
                site = (data.get("site") or {}).get("id") if isinstance(data.get("site"), dict) else None
                if kind is Kind.VM or row.site is None or site == row.site.id:
                    found[row.key] = {**data, "kind": kind}
    keep = []
    for row in rows:
        hit = found.get(row.key)
        if hit is None:
            keep.append(row)
            continue
        kind = hit["kind"]
        ctx.finish(
            _result(
                row,
                Outcome.SKIPPED,
                kind=kind.value,
                message=f"already in NetBox as {kind.value} '{hit.get('name')}'",
                netbox_id=hit["id"],
                url=ctx.review.index.url(kind, hit["id"]),
            )
        )
    return keep


def _payload(ctx: _Context, row: Row) -> dict[str, Any]:
    device = row.device
    common: dict[str, Any] = {
        "name": row.name,
        "status": "active" if device.up else "offline",
        "role": row.role.id if row.role else None,
        "platform": row.platform.id if row.platform else None,
        "custom_fields": {
            defaults.LIBRENMS_ID_FIELD: netbox.librenms_field_value(
                ctx.field_type, device.server_key, device.device_id
            )
        },
        "tags": [ctx.tag_id],
        "comments": f"Imported from LibreNMS '{device.server_key}' device {device.device_id} ({device.hostname}).",
    }
    if row.kind is Kind.VM:
        common["cluster"] = row.cluster.id if row.cluster else None
        if device.serial:
            common["serial"] = device.serial[:50]
        return {k: v for k, v in common.items() if v is not None}
    common.update(
        site=row.site.id if row.site else None,
        location=row.location.id if row.location else None,
        rack=row.rack.id if row.rack else None,
        device_type=row.device_type.id if row.device_type else None,
        serial=device.serial[:50],
    )
    return {k: v for k, v in common.items() if v is not None and v != ""}


def _result(row: Row, outcome: Outcome, message: str, *, kind: str = "", **details: Any) -> RowResult:
    """The result line of one row."""
    return RowResult(
        row.device.server_key,
        row.device.device_id,
        row.name,
        outcome,
        kind or row.kind.value,
        message=message,
        **details,
    )


def _failure(row: Row, message: str) -> RowResult:
    return _result(row, Outcome.FAILED, message)


def bulk_create(
    api: pynetbox.api, endpoint: Any, payloads: list[dict], what: str
) -> tuple[dict[int, Any], dict[int, str]]:
    """Bulk POST `payloads`. A bulk POST is all-or-nothing in NetBox: when it is rejected, the items NetBox
    names are set aside with their error (or, when it names none, the batch is halved) and the rest is sent
    again. Returns (created record by payload index, error text by payload index). A 403 raises: no item
    of this kind can be created with this token."""
    created: dict[int, Any] = {}
    errors: dict[int, str] = {}
    queue = [list(range(len(payloads)))]
    while queue:
        chunk = queue.pop()
        try:
            records = endpoint.create([payloads[i] for i in chunk])
        except pynetbox.RequestError as exc:
            if exc.req.status_code == 403:
                raise NetBoxAuthError(
                    f"NetBox refused to create {what} (403): {netbox.describe_error_body(exc.error)}"
                ) from None
            bad = _bad_indexes(exc.error, len(chunk))
            if len(chunk) == 1:
                errors[chunk[0]] = netbox.describe_error_body(exc.error)
            elif bad:
                errors.update({chunk[i]: _item_error(exc.error, i) for i in bad})
                rest = [index for i, index in enumerate(chunk) if i not in bad]
                if rest:
                    queue.append(rest)
            else:
                middle = len(chunk) // 2
                queue += [chunk[:middle], chunk[middle:]]
            continue
        except Exception as exc:  # any other failure is reported per item, never raised
            error = str(netbox.translate(exc, api.base_url, f"create {what}"))
            errors.update(dict.fromkeys(chunk, error))
            continue
        created.update(zip(chunk, records, strict=True))
    return created, errors


def _create_objects(ctx: _Context, rows: list[Row], kind: Kind) -> list[tuple[Row, RowResult]]:
    """The batch's devices or VMs; each row NetBox refuses is reported failed with NetBox's words."""
    if not rows:
        return []
    endpoint = ctx.api.dcim.devices if kind is Kind.DEVICE else ctx.api.virtualization.virtual_machines
    records, errors = bulk_create(ctx.api, endpoint, [_payload(ctx, row) for row in rows], f"{kind.value}s")
    for i, error in errors.items():
        ctx.finish(_failure(rows[i], error))
    return [
        (
            rows[i],
            _result(
                rows[i],
                Outcome.CREATED,
                f"created {kind.value}",
                netbox_id=record.id,
                url=ctx.review.index.url(kind, record.id),
            ),
        )
        for i, record in sorted(records.items())
    ]


def _bad_indexes(body: Any, size: int) -> set[int]:
    """Indexes NetBox names in a failed bulk POST: {"errors": [{"index": i, …}]} or a list of per-item dicts."""
    data = body
    if isinstance(body, str):
        with contextlib.suppress(ValueError):
            data = json.loads(body)
    if isinstance(data, dict) and isinstance(data.get("errors"), list):
        return {
            e["index"]
            for e in data["errors"]
            if isinstance(e, dict) and isinstance(e.get("index"), int) and 0 <= e["index"] < size
        }
    if isinstance(data, list) and len(data) == size:
        return {i for i, item in enumerate(data) if item}
    return set()


def _item_error(body: Any, index: int) -> str:
    data = body
    if isinstance(body, str):
        with contextlib.suppress(ValueError):
            data = json.loads(body)
    if isinstance(data, dict) and isinstance(data.get("errors"), list):
        for item in data["errors"]:
            if isinstance(item, dict) and item.get("index") == index:
                return netbox.describe_error_body(item.get("errors", item))
    if isinstance(data, list) and index < len(data):
        return netbox.describe_error_body(data[index])
    return netbox.describe_error_body(body)


# ------------------------------------------------------------------ stacks


def _devices_by_serial(ctx: _Context, serials: list[str]) -> dict[str, Any]:
    """NetBox devices with these serials (case-insensitive key), in one request per chunk of serials for
    the whole batch, so stack members already in NetBox are linked, not duplicated."""
    found: dict[str, Any] = {}
    for start in range(0, len(serials), defaults.TARGETED_FILTER_CHUNK):
        chunk = serials[start : start + defaults.TARGETED_FILTER_CHUNK]
        for device in netbox.call(
            ctx.api, "look up stack members", lambda c=chunk: list(ctx.api.dcim.devices.filter(serial=c))
        ):
            found[(device.serial or "").casefold()] = device
    return found


def _create_stack(ctx: _Context, row: Row, existing: dict[str, Any]) -> tuple[Row, RowResult] | None:
    """A virtual chassis with every member as a device; members already in NetBox (by serial, looked up
    for the whole batch in `existing`) are linked."""
    stack = row.stack
    assert stack is not None
    api = ctx.api
    vc = None
    try:
        vc_name = defaults.STACK_NAME_PATTERN.format(name=row.name)
        vc = api.dcim.virtual_chassis.create(
            {
                "name": vc_name,
                "tags": [ctx.tag_id],
                "comments": f"Stack from LibreNMS device {row.device.device_id}",
            }
        )
        master_id = None
        notes = []
        new_members = []
        for member, mtype in zip(stack.members, row.member_types, strict=True):
            is_master = member is stack.master
            found = existing.get(member.serial.casefold()) if member.serial else None
            if found is not None:
                found.update({"virtual_chassis": vc.id, "vc_position": member.position})
                notes.append(f"member {member.position} linked to existing device '{found.name}'")
                if is_master:
                    master_id = found.id
                continue
            payload = _payload(ctx, row)
            payload.update(
                name=row.name
                if is_master
                else defaults.STACK_MEMBER_PATTERN.format(name=row.name, position=member.position),
                device_type=mtype.id if mtype else payload.get("device_type"),
                serial=member.serial[:50],
                virtual_chassis=vc.id,
                vc_position=member.position,
            )
            if not is_master:
                payload.pop("custom_fields", None)  # the LibreNMS id belongs to the stack's master only
            new_members.append((member, is_master, payload))
        records = api.dcim.devices.create([p for _, _, p in new_members]) if new_members else []
        for (_member, is_master, _), record in zip(new_members, records, strict=True):
            if is_master:
                master_id = record.id
        if master_id is not None:
            vc.update({"master": master_id})
        notes.insert(0, f"virtual chassis '{vc_name}' with {len(stack.members)} members")
    except pynetbox.RequestError as exc:
        if exc.req.status_code == 403:
            raise NetBoxAuthError(
                f"NetBox refused to create the stack (403): {netbox.describe_error_body(exc.error)}"
            ) from None
        if vc is not None:
            with contextlib.suppress(Exception):
                vc.delete()  # leave no empty virtual chassis behind (its members were not created: all-or-nothing)
        ctx.finish(_failure(row, f"stack: {netbox.describe_error_body(exc.error)}"))
        return None
    except NetBoxError as exc:
        ctx.finish(_failure(row, f"stack: {exc}"))
        return None
    result = _result(
        row,
        Outcome.CREATED,
        kind="stack",
        message="created stack",
        netbox_id=master_id,
        url=ctx.review.index.url(Kind.DEVICE, master_id) if master_id else "",
        extra=notes,
    )
    return (row, result)


# ------------------------------------------------------------------ primary IPs


def _management_addresses(ctx: _Context, rows: list[Row]) -> dict[tuple[str, int], tuple[str, int, str]]:
    """(ip, prefix length, interface name) per row, read from LibreNMS with a small pool."""
    wanted = [r for r in rows if r.device.ip and is_ip(r.device.ip)]

    def one(row: Row) -> tuple[tuple[str, int], tuple[str, int, str] | None]:
        try:
            return row.key, ctx.librenms.management_address(row.device)
        except ImporterError:
            return row.key, _fallback_address(row.device)

    with ThreadPoolExecutor(max_workers=defaults.INVENTORY_POOL_SIZE) as pool:
        return {key: addr for key, addr in pool.map(one, wanted) if addr}


def _fallback_address(device: LibreDevice) -> tuple[str, int, str]:
    return device.ip, 128 if ":" in device.ip else 32, ""


def _assign_primary_ips(
    ctx: _Context,
    created: list[tuple[Row, RowResult]],
    kind: Kind,
    addresses: dict[tuple[str, int], tuple[str, int, str]],
) -> None:
    """Management interface + IP (reusing an unassigned one, never taking one assigned elsewhere) +
    primary_ip4/6: one bulk request per step for the whole batch; a failure costs only its own row's IP."""
    api = ctx.api
    todo = [(row, result) for row, result in created if row.key in addresses and result.netbox_id]
    if not todo:
        return
    is_device = kind is Kind.DEVICE
    owner = "device" if is_device else "virtual_machine"
    object_type = "dcim.interface" if is_device else "virtualization.vminterface"
    wanted = [f"{addresses[row.key][0]}/{addresses[row.key][1]}" for row, _ in todo]

    def not_set(i: int, why: str) -> None:
        todo[i][1].extra.append(f"primary IP {wanted[i]} not set: {why}")

    ifaces, errors = bulk_create(
        api,
        api.dcim.interfaces if is_device else api.virtualization.interfaces,
        [
            {
                owner: result.netbox_id,
                "name": addresses[row.key][2] or "mgmt0",
                **({"type": "virtual"} if is_device else {}),
                "description": "Management (from LibreNMS)",
            }
            for row, result in todo
        ],
        "management interfaces",
    )
    for i, error in errors.items():
        not_set(i, f"interface: {error}")
    known = {}
    plain = [wanted[i].split("/")[0] for i in ifaces]
    lookup = "id,address,assigned_object_id"
    for ip in netbox.call(
        api, "look up IP addresses", lambda: list(api.ipam.ip_addresses.filter(address=plain, fields=lookup))
    ):
        known.setdefault(str(ip.address).split("/")[0], ip)
    reuse: list[tuple[int, int]] = []  # (todo index, IP id)
    to_create: list[int] = []
    for i in sorted(ifaces):
        found = known.get(wanted[i].split("/")[0])
        if found is not None and found.assigned_object_id:
            not_set(i, "NetBox has this address assigned to another object")
        elif found is not None:
            reuse.append((i, found.id))
        else:
            to_create.append(i)
    ip_of: dict[int, tuple[int, str]] = {}
    if reuse:
        netbox.call(
            api,
            "assign existing IP addresses",
            lambda: api.ipam.ip_addresses.update(
                [
                    {"id": ip_id, "assigned_object_type": object_type, "assigned_object_id": ifaces[i].id}
                    for i, ip_id in reuse
                ]
            ),
        )
        ip_of.update({i: (ip_id, "reused") for i, ip_id in reuse})
    records, errors = bulk_create(
        api,
        api.ipam.ip_addresses,
        [
            {
                "address": wanted[i],
                "assigned_object_type": object_type,
                "assigned_object_id": ifaces[i].id,
                "status": "active",
                "tags": [ctx.tag_id],
            }
            for i in to_create
        ],
        "IP addresses",
    )
    for j, error in errors.items():
        not_set(to_create[j], error)
    ip_of.update({to_create[j]: (record.id, "created") for j, record in records.items()})
    if not ip_of:
        return
    endpoint = api.dcim.devices if is_device else api.virtualization.virtual_machines
    patch = [
        {"id": todo[i][1].netbox_id, ("primary_ip6" if ":" in wanted[i] else "primary_ip4"): ip_id}
        for i, (ip_id, _) in sorted(ip_of.items())
    ]
    try:
        netbox.call(api, "set primary IPs", lambda: endpoint.update(patch))
    except NetBoxAuthError:
        raise
    except NetBoxError as exc:
        for i in ip_of:
            not_set(i, str(exc))
        return
    for i, (_, how) in sorted(ip_of.items()):
        todo[i][1].extra.append(f"primary IP {wanted[i]} ({how})")
