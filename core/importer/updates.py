"""Updates of objects NetBox already has (a row's action link or update), under the batch's locks.

1. One read per kind for the batch: an object whose version (last_updated) is not the one the analyst
   reviewed is refused at once, "changed in NetBox since the review", before anything is written.
2. Each object's fields in a PATCH of its own carrying `If-Match: <the reviewed version>`, a few in flight:
   NetBox 4.7 checks If-Match on single-object writes only (its bulk PATCH ignores the header), and only
   If-Match makes NetBox itself refuse (412) an object someone changed in the moment between 1 and 2. A
   PATCH whose answer was lost is looked at again: NetBox holding what was sent means it was written.
3. A primary IP moves the way an import sets one (core.importer.addresses): the management interface is
   reused by name or created, an unassigned address reused, never one assigned to another object.

Every write carries the run's changelog message and is recorded as the run's (core.runs.recorder): undo
puts the old values back from NetBox's changelog.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

from core import defaults, netbox
from core.choices import Kind, Outcome, SyncField
from core.errors import NetBoxAuthError, NetBoxError
from core.importer.addresses import assign_primary_ips
from core.importer.context import RunContext
from core.importer.payloads import update_payload
from core.importer.results import RowResult
from core.librenms import ManagementAddress, RowKey
from core.netbox.failures import describe_error_body
from core.netbox.gateway import auth_header
from core.review import Row

CHANGED = "changed in NetBox since the review"
_PATHS = {Kind.DEVICE: "dcim/devices", Kind.VM: "virtualization/virtual-machines"}


def etag(version: str) -> str:
    """NetBox's weak ETag of an object from its last_updated as the API shows it ('…Z' is '…+00:00' in the
    ETag, which NetBox makes from Python's isoformat())."""
    if version.endswith("Z"):
        version = version[:-1] + "+00:00"
    return f'W/"{version}"'


def update_existing(
    ctx: RunContext,
    rows: list[Row],
    seen: dict[RowKey, str],
    addresses: dict[RowKey, ManagementAddress],
) -> list[tuple[Row, RowResult]]:
    """Write the rows' updates; returns the rows updated with their (not yet finished) result lines. Rows
    refused (changed since the review, NetBox's words) get their failed line here."""
    if not rows:
        return []
    version = {row.key: seen.get(row.key) or row.existing.version for row in rows if row.existing}
    fresh = _unchanged(ctx, rows, version)
    with ThreadPoolExecutor(max_workers=defaults.NETBOX_READ_POOL_SIZE) as pool:
        written = list(pool.map(lambda row: (row, _write(ctx, row, version[row.key])), fresh))
    done = []
    for row, result in written:
        if result.outcome is Outcome.FAILED:
            ctx.finish(result)
        else:
            done.append((row, result))
    for kind in (Kind.DEVICE, Kind.VM):
        moving = [
            (r, res) for r, res in done if SyncField.PRIMARY_IP in r.updates and r.existing.kind is kind
        ]  # type: ignore[union-attr]
        assign_primary_ips(ctx, moving, kind, addresses, repair=True)
        for row, result in moving:
            unset = [e for e in result.extra if e.startswith("primary IP") and " not set" in e]
            if unset and set(row.updates) == {SyncField.PRIMARY_IP}:  # nothing else was to be written
                result.outcome, result.message = Outcome.FAILED, "not updated: " + unset[0]
    return done


def _unchanged(ctx: RunContext, rows: list[Row], version: dict[RowKey, str]) -> list[Row]:
    """The rows whose object NetBox holds in the reviewed version; the others fail now (nothing written)."""
    keep: list[Row] = []
    for kind in (Kind.DEVICE, Kind.VM):
        mine = [r for r in rows if r.existing is not None and r.existing.kind is kind]
        if not mine:
            continue
        endpoint = ctx.api.dcim.devices if kind is Kind.DEVICE else ctx.api.virtualization.virtual_machines
        ids = [r.existing.id for r in mine]  # type: ignore[union-attr]
        try:
            current = {
                record.id: str(record.last_updated or "")
                for start in range(0, len(ids), defaults.TARGETED_FILTER_CHUNK)
                for record in netbox.call(
                    ctx.api,
                    f"read the {kind.value}s to update",
                    lambda c=ids[start : start + defaults.TARGETED_FILTER_CHUNK], e=endpoint: list(
                        e.filter(id=c, fields="id,last_updated")
                    ),
                )
            }
        except NetBoxAuthError:
            raise
        except NetBoxError as exc:
            for row in mine:
                ctx.finish(RowResult.of(row, Outcome.FAILED, f"not updated: {exc}"))
            continue
        for row in mine:
            now = current.get(row.existing.id)  # type: ignore[union-attr]
            if now is None:
                ctx.finish(RowResult.of(row, Outcome.FAILED, "not updated: NetBox no longer has it"))
            elif version[row.key] and now != version[row.key]:
                ctx.finish(_changed(row, now))
            else:
                keep.append(row)
    return keep


def _changed(row: Row, now: str) -> RowResult:
    return RowResult.of(
        row,
        Outcome.FAILED,
        f"not updated: {CHANGED} (last changed {now}); search again to review it as it is now",
        netbox_id=row.existing.id if row.existing else None,
        url=row.existing.url if row.existing else "",
    )


def _write(ctx: RunContext, row: Row, version: str) -> RowResult:
    """PATCH the row's fields with If-Match; the result line of the row."""
    assert row.existing is not None
    hit = row.existing
    item = ctx.review.index.by_key[(hit.kind, hit.id)]
    body = update_payload(row, item, field_type=ctx.review.index.field_type)
    changes = [d for d in row.differences if d.field in row.updates]
    result = RowResult.of(
        row,
        Outcome.UPDATED,
        _summary(row),
        kind=hit.kind.value,
        netbox_id=hit.id,
        url=hit.url,
        extra=[
            f"{d.field.value}: {d.netbox} → {d.librenms}"
            for d in changes
            if d.field is not SyncField.PRIMARY_IP
        ],
    )
    if not body:  # only the primary IP, which core.importer.addresses writes
        return result
    api = ctx.api
    url = f"{api.base_url}/{_PATHS[hit.kind]}/{hit.id}/"
    headers = {"Accept": "application/json", **auth_header(api)}
    if version:
        headers["If-Match"] = etag(version)
    try:
        answer = api.http_session.patch(url, json=body, headers=headers)
    except Exception as exc:
        if _holds(ctx, url, body):  # the answer was lost, NetBox did it
            return result
        return _failed(row, str(netbox.failure(api, "update it", exc)))
    if answer.ok:
        return result
    if answer.status_code == 412:
        if _holds(ctx, url, body):  # a try whose answer was lost had written it: the retry found it newer
            return result
        return _changed(row, "after the review")
    if answer.status_code == 403 and "token" in answer.text.lower():
        raise NetBoxAuthError(f"NetBox rejected the API token: {describe_error_body(answer.text)}")
    return _failed(row, f"NetBox refused it ({answer.status_code}): {describe_error_body(answer.text)}")


def _failed(row: Row, why: str) -> RowResult:
    hit = row.existing
    return RowResult.of(
        row,
        Outcome.FAILED,
        f"not updated: {why}",
        netbox_id=hit.id if hit else None,
        url=hit.url if hit else "",
    )


def _summary(row: Row) -> str:
    if row.updates == (SyncField.LIBRENMS_ID,):
        return "linked: librenms_id set"
    return "updated: " + ", ".join(f.value for f in row.updates)


def _holds(ctx: RunContext, url: str, body: dict[str, Any]) -> bool:
    """Whether NetBox holds every value of `body` now (False when it cannot be read); told to the run's
    record as the run's write when it does."""
    try:
        answer = ctx.api.http_session.get(url, headers={"Accept": "application/json", **auth_header(ctx.api)})
        data = answer.json() if answer.ok else None
    except Exception:
        return False
    if not isinstance(data, dict) or not all(_same(data.get(k), v) for k, v in body.items()):
        return False
    write_log = getattr(ctx.api.http_session, "write_log", None)
    if write_log is not None:
        write_log.found(urlsplit(url).path, [data], action="update")
    return True


def _same(held: Any, sent: Any) -> bool:
    if isinstance(sent, dict):
        return isinstance(held, dict) and all(_same(held.get(k), v) for k, v in sent.items())
    if isinstance(held, dict):
        held = held.get("id", held.get("value"))
    return held == sent
