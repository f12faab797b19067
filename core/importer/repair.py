"""Repair: a row NetBox has already because an earlier import of this product created it (its object
carries the import tag) but did not finish it — the run was killed, NetBox failed, the connection dropped —
is completed instead of skipped as "exists": the missing management interface, IP and primary IP, the
stack's master. Its result line says "completed" and what was added.

What counts as unfinished is read from NetBox under the run's locks (one request per kind of object and
batch), so two runs never complete the same object twice. Objects a person created are never touched here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core import defaults, netbox
from core.choices import Kind, Outcome
from core.errors import NetBoxAuthError, NetBoxError
from core.importer.context import RunContext
from core.importer.results import RowResult
from core.review import Row

FIELDS = "id,name,tags,primary_ip4,primary_ip6,virtual_chassis"


@dataclass
class Unfinished:
    """A row whose NetBox object an earlier import of this product left unfinished."""

    row: Row
    result: RowResult  # starts as "exists"; becomes "completed" when something is added
    needs_ip: bool
    chassis_id: int | None  # its stack's chassis, when the master is not set


EARLIER = "NetBox had it from an earlier import that did not finish"


def completed(result: RowResult, what: str) -> None:
    """A repair row got `what` ("primary IP", "stack master"): its line says it was completed. (A row
    created by this run is not a repair: its line is left as it is.)"""
    if result.outcome is Outcome.SKIPPED:
        result.outcome = Outcome.COMPLETED
        result.message = f"completed: {what}"
        result.extra.insert(0, EARLIER)
    elif result.outcome is Outcome.COMPLETED:
        result.message += f", {what}"


def split_unfinished(ctx: RunContext, rows: list[Row]) -> tuple[list[Unfinished], list[Row]]:
    """Of rows NetBox has already, those an import of this product made and left unfinished, and the
    others (to be reported "exists"). Raises NetBoxError."""
    objects: dict[tuple[Kind, int], Any] = {}
    for kind in (Kind.DEVICE, Kind.VM):
        ids = sorted({r.existing.id for r in rows if r.existing and r.existing.kind is kind})
        endpoint = ctx.api.dcim.devices if kind is Kind.DEVICE else ctx.api.virtualization.virtual_machines
        fields = FIELDS if kind is Kind.DEVICE else FIELDS.removesuffix(",virtual_chassis")
        for start in range(0, len(ids), defaults.TARGETED_FILTER_CHUNK):
            chunk = ids[start : start + defaults.TARGETED_FILTER_CHUNK]
            for obj in netbox.call(
                ctx.api,
                "check what earlier imports left unfinished",
                lambda e=endpoint, c=chunk, f=fields: list(e.filter(id=c, fields=f)),
            ):
                objects[(kind, obj.id)] = obj
    chassis = _masterless_chassis(ctx, [o for (k, _), o in objects.items() if k is Kind.DEVICE])
    unfinished, others = [], []
    for row in rows:
        match = row.existing
        obj = objects.get((match.kind, match.id)) if match else None
        if match is None or obj is None or not _ours(ctx, obj):
            others.append(row)
            continue
        needs_ip = ctx.settings.create_primary_ip and not obj.primary_ip4 and not obj.primary_ip6
        vc = obj.virtual_chassis if match.kind is Kind.DEVICE else None
        vc_id = getattr(vc, "id", vc) if vc else None
        chassis_id = vc_id if row.stack is not None and vc_id in chassis else None
        if needs_ip or chassis_id:
            unfinished.append(Unfinished(row, RowResult.exists(row, match), needs_ip, chassis_id))
        else:
            others.append(row)
    return unfinished, others


def _ours(ctx: RunContext, obj: Any) -> bool:
    return any(getattr(tag, "id", None) == ctx.tag_id for tag in (getattr(obj, "tags", None) or []))


def _masterless_chassis(ctx: RunContext, devices: list[Any]) -> set[int]:
    ids = sorted(
        {
            getattr(d.virtual_chassis, "id", d.virtual_chassis)
            for d in devices
            if getattr(d, "virtual_chassis", None)
        }
    )
    if not ids:
        return set()
    found = netbox.call(
        ctx.api,
        "check what earlier imports left unfinished",
        lambda: list(ctx.api.dcim.virtual_chassis.filter(id=ids, fields="id,master")),
    )
    return {vc.id for vc in found if not vc.master}


def set_masters(ctx: RunContext, rows: list[Unfinished]) -> None:
    """The stack master of each unfinished stack: the row's own device (it carries the LibreNMS id)."""
    todo = [u for u in rows if u.chassis_id and u.row.existing]
    if not todo:
        return
    patch = [{"id": u.chassis_id, "master": u.row.existing.id} for u in todo]  # type: ignore[union-attr]
    try:
        refused = netbox.bulk_update(ctx.api, ctx.api.dcim.virtual_chassis, patch, "set the stacks' masters")
    except NetBoxAuthError:
        raise
    except NetBoxError as exc:
        refused = {u.chassis_id: str(exc) for u in todo}  # type: ignore[misc]
    for u in todo:
        if u.chassis_id in refused:
            u.result.outcome = Outcome.PARTIAL
            u.result.extra.append(f"stack master still not set: {refused[u.chassis_id]}")
        else:
            completed(u.result, "stack master")
