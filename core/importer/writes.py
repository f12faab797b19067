"""The batch's devices or VMs, in one bulk write; each row NetBox refuses is reported failed in its words.
A write whose answer was lost is looked up (by name and site, or name and cluster) before it is sent again,
so no row is created twice."""

from __future__ import annotations

from typing import Any

from core import netbox
from core.choices import Kind, Outcome
from core.importer.context import RunContext
from core.importer.payloads import payload
from core.importer.results import RowResult
from core.netbox.bulk import Finder, finder
from core.review import Row


def object_finder(endpoint: Any, kind: Kind) -> Finder:
    """What identifies a device (name per site; and its serial) or a VM (name per cluster) just created."""
    if kind is Kind.DEVICE:
        return finder(endpoint, {"name": "name", "site_id": "site"}, ("name", "site", "serial"))
    return finder(endpoint, {"name": "name"}, ("name", "cluster", "serial"))


def create_objects(ctx: RunContext, rows: list[Row], kind: Kind) -> list[tuple[Row, RowResult]]:
    """Create the rows' objects; returns the created rows with their (not yet finished) result lines."""
    if not rows:
        return []
    endpoint = ctx.api.dcim.devices if kind is Kind.DEVICE else ctx.api.virtualization.virtual_machines
    field_type = ctx.review.index.field_type
    records, errors = netbox.bulk_create(
        ctx.api,
        endpoint,
        [payload(row, field_type=field_type, tag_id=ctx.tag_id) for row in rows],
        f"{kind.value}s",
        find=object_finder(endpoint, kind),
    )
    for i, error in errors.items():
        ctx.finish(RowResult.of(rows[i], Outcome.FAILED, error))
    return [
        (
            rows[i],
            RowResult.of(
                rows[i],
                Outcome.CREATED,
                f"created {kind.value}",
                netbox_id=record.id,
                url=ctx.review.index.url(kind, record.id),
            ),
        )
        for i, record in sorted(records.items())
    ]
