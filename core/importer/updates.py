"""Updates of objects NetBox already has (a row's action link or update), under the batch's locks.

1. One read per kind for the batch: an object whose version (last_updated) is not the one the analyst
   reviewed is refused at once, "changed in NetBox since the review", before anything is written.
2. The fields in one bulk PATCH per kind carrying `If-Match` with the reviewed version (ETag) of every
   object in it: NetBox 4.7 checks each object of a bulk PATCH against that list under a row lock, and
   refuses the whole PATCH (412, nothing written) when one of them changed in the moment between 1 and 2.
   Then the batch is read again: who changed fails, the others are sent again. A PATCH whose answer was
   lost is read again too: an object holding what was sent was written.
3. A primary IP moves the way an import sets one (core.importer.addresses): the management interface is
   reused by name or created, an unassigned address reused, never one assigned to another object.

Every write carries the run's changelog message and is recorded as the run's (core.runs.recorder): undo
puts the old values back from NetBox's changelog.
"""

from __future__ import annotations

from datetime import datetime
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
from core.netbox.failures import bulk_update_errors, describe_error_body
from core.netbox.gateway import auth_header
from core.review import Row
from core.runs.changelog import changes_since, names_run

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
    done: list[tuple[Row, RowResult]] = []
    for kind in (Kind.DEVICE, Kind.VM):
        mine = [r for r in rows if r.existing is not None and r.existing.kind is kind]
        if not mine:
            continue
        fresh = _unchanged(ctx, mine, kind, version)
        results = {row.key: _result(row) for row in fresh}
        failed = _patch(ctx, kind, fresh, version)
        for row in fresh:
            if row.key in failed:
                ctx.finish(_failed(row, failed[row.key]))
            else:
                done.append((row, results[row.key]))
        moving = [
            (r, res) for r, res in done if SyncField.PRIMARY_IP in r.updates and r.existing.kind is kind
        ]  # type: ignore[union-attr]
        assign_primary_ips(ctx, moving, kind, addresses, repair=True)
        for row, result in moving:
            unset = [e for e in result.extra if e.startswith("primary IP") and " not set" in e]
            if unset and set(row.updates) == {SyncField.PRIMARY_IP}:  # nothing else was to be written
                result.outcome, result.message = Outcome.FAILED, "not updated: " + unset[0]
    return done


def _unchanged(ctx: RunContext, rows: list[Row], kind: Kind, version: dict[RowKey, str]) -> list[Row]:
    """The rows whose object NetBox holds in the reviewed version; the others fail now (nothing written)."""
    try:
        current = _versions(ctx, kind, [r.existing.id for r in rows])  # type: ignore[union-attr]
    except NetBoxAuthError:
        raise
    except NetBoxError as exc:
        for row in rows:
            ctx.finish(_failed(row, str(exc)))
        return []
    ours = _changed_by_resumed_run(ctx, kind, [r for r in rows if _moved(r, current, version)], version)
    keep = []
    for row in rows:
        now = current.get(row.existing.id)  # type: ignore[union-attr]
        if now is None:
            ctx.finish(_failed(row, "NetBox no longer has it"))
        elif _moved(row, current, version) and row.key not in ours:
            ctx.finish(_changed(row, now))
        else:
            version[row.key] = now  # what NetBox holds now is what this update writes over
            keep.append(row)
    return keep


def _moved(row: Row, current: dict[int, Any], version: dict[RowKey, str]) -> bool:
    now = current.get(row.existing.id)  # type: ignore[union-attr]
    return now is not None and bool(version[row.key]) and now != version[row.key]


def _changed_by_resumed_run(
    ctx: RunContext, kind: Kind, rows: list[Row], version: dict[RowKey, str]
) -> set[RowKey]:
    """Of rows whose object changed since the review, those only the run this one resumes changed (it was
    interrupted after writing their fields, before their primary IP): a resume finishes them. One
    changelog read per chunk; on a failure to read it, none (they are refused, never overwritten)."""
    if not ctx.resumes or not rows:
        return set()
    object_type = "dcim.device" if kind is Kind.DEVICE else "virtualization.virtualmachine"
    since = min(_when(version[row.key]) for row in rows)
    try:
        changes = changes_since(ctx.api, [(object_type, r.existing.id) for r in rows], since)  # type: ignore[union-attr]
    except NetBoxError:
        return set()
    ours = set()
    for row in rows:
        mine = sorted((c for c in changes if c.object_id == row.existing.id), key=lambda c: (c.time, c.id))  # type: ignore[union-attr]
        first = next((i for i, c in enumerate(mine) if names_run(c.message, ctx.resumes)), None)
        # that run's first write carried If-Match with the reviewed version: nothing came between the two;
        # what counts is whether anyone but it (and its resumes) changed the object since
        if first is not None and all(names_run(c.message, ctx.resumes) for c in mine[first:]):
            ours.add(row.key)
    return ours


def _when(version: str) -> datetime:
    """A last_updated as NetBox shows it ('…Z') as a time."""
    return datetime.fromisoformat(version.replace("Z", "+00:00"))


def _versions(ctx: RunContext, kind: Kind, ids: list[int], fields: str = "") -> dict[int, Any]:
    """{id: last_updated} of these objects (with `fields`: {id: the record as a dict}), in chunked reads."""
    endpoint = _endpoint(ctx, kind)
    out: dict[int, Any] = {}
    for start in range(0, len(ids), defaults.TARGETED_FILTER_CHUNK):
        chunk = ids[start : start + defaults.TARGETED_FILTER_CHUNK]
        records = netbox.call(
            ctx.api,
            f"read the {kind.value}s to update",
            lambda c=chunk: list(endpoint.filter(id=c, fields=fields or "id,last_updated")),
        )
        for record in records:
            out[record.id] = dict(record) if fields else str(record.last_updated or "")
    return out


def _endpoint(ctx: RunContext, kind: Kind) -> Any:
    return ctx.api.dcim.devices if kind is Kind.DEVICE else ctx.api.virtualization.virtual_machines


def _changed(row: Row, now: str) -> RowResult:
    return RowResult.of(
        row,
        Outcome.FAILED,
        f"not updated: {CHANGED} (last changed {now}); search again to review it as it is now",
        netbox_id=row.existing.id if row.existing else None,
        url=row.existing.url if row.existing else "",
    )


def _result(row: Row) -> RowResult:
    hit = row.existing
    assert hit is not None
    changes = [d for d in row.differences if d.field in row.updates and d.field is not SyncField.PRIMARY_IP]
    return RowResult.of(
        row,
        Outcome.UPDATED,
        _summary(row),
        kind=hit.kind.value,
        netbox_id=hit.id,
        url=hit.url,
        extra=[f"{d.field.value}: {d.netbox} → {d.librenms}" for d in changes],
    )


def _patch(ctx: RunContext, kind: Kind, rows: list[Row], version: dict[RowKey, str]) -> dict[RowKey, str]:
    """The rows' fields in bulk PATCHes with If-Match (module docstring); returns why, by row, for the rows
    not written. Raises NetBoxAuthError for a 403 that names no object."""
    index = ctx.review.index
    bodies = {}
    for row in rows:
        item = index.by_key[(kind, row.existing.id)]  # type: ignore[union-attr]
        body = update_payload(row, item, field_type=index.field_type)
        if body:  # a primary IP alone is written by core.importer.addresses
            bodies[row.existing.id] = (row, body)  # type: ignore[union-attr]
    failed: dict[RowKey, str] = {}
    api = ctx.api
    url = f"{api.base_url}/{_PATHS[kind]}/"
    ids = list(bodies)
    for start in range(0, len(ids), defaults.IF_MATCH_CHUNK):
        todo = ids[start : start + defaults.IF_MATCH_CHUNK]
        for _ in range(defaults.NETBOX_ATTEMPTS + len(todo)):  # each round writes all, or drops one at least
            if not todo:
                break
            headers = {"Accept": "application/json", **auth_header(api)}
            tags = [etag(version[bodies[i][0].key]) for i in todo if version[bodies[i][0].key]]
            if tags:
                headers["If-Match"] = ", ".join(tags)
            try:
                answer = api.http_session.patch(
                    url, json=[{"id": i, **bodies[i][1]} for i in todo], headers=headers
                )
            except Exception as exc:
                answer, lost = None, str(netbox.failure(api, f"update {kind.value}s", exc))
            if answer is not None and answer.ok:
                break
            if answer is not None and answer.status_code == 403 and not bulk_update_errors(answer.text):
                raise NetBoxAuthError(
                    f"NetBox refused to update {kind.value}s (403): {describe_error_body(answer.text)}"
                )
            named = bulk_update_errors(answer.text) if answer is not None else {}
            if named:  # NetBox names the objects it refuses: they fail, the others are sent again
                for i in set(todo) & set(named):
                    failed[bodies[i][0].key] = f"NetBox refused it: {named[i]}"
                todo = [i for i in todo if i not in named]
                continue
            if answer is not None and answer.status_code != 412:
                why = f"NetBox refused it ({answer.status_code}): {describe_error_body(answer.text)}"
                failed.update({bodies[i][0].key: why for i in todo})
                break
            # 412 (one of them changed meanwhile) or no answer (NetBox may have written it): look again
            try:
                now = _versions(ctx, kind, todo, fields="id,last_updated," + ",".join(_sent(bodies, todo)))
            except NetBoxError as exc:
                why = (
                    lost + " " if answer is None else ""
                ) + f"whether it was written could not be checked: {exc}"
                failed.update({bodies[i][0].key: why for i in todo})
                break
            rest = []
            for i in todo:
                row, body = bodies[i]
                record = now.get(i)
                if record is not None and all(_same(record.get(k), v) for k, v in body.items()):
                    _found(ctx, url, record)  # written by a try whose answer was lost
                elif record is None:
                    failed[row.key] = "NetBox no longer has it"
                elif version[row.key] and str(record.get("last_updated") or "") != version[row.key]:
                    failed[row.key] = f"{CHANGED} (last changed {record.get('last_updated')})"
                else:
                    rest.append(i)
            if answer is None and len(rest) == len(todo):  # nothing moved: it never reached NetBox
                failed.update({bodies[i][0].key: lost for i in rest})
                rest = []
            todo = rest
        else:
            failed.update({bodies[i][0].key: "NetBox kept refusing the update" for i in todo})
    return failed


def _sent(bodies: dict[int, tuple[Row, dict[str, Any]]], ids: list[int]) -> list[str]:
    return sorted({k for i in ids for k in bodies[i][1]})


def _found(ctx: RunContext, url: str, record: dict[str, Any]) -> None:
    write_log = getattr(ctx.api.http_session, "write_log", None)
    if write_log is not None:
        write_log.found(urlsplit(url).path, [record], action="update")


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


def _same(held: Any, sent: Any) -> bool:
    if isinstance(sent, dict):
        return isinstance(held, dict) and all(_same(held.get(k), v) for k, v in sent.items())
    if isinstance(held, dict):
        held = held.get("id", held.get("value"))
    return held == sent
