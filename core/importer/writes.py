"""The batch's devices or VMs, in one bulk write; each row NetBox refuses is reported failed in its words."""

from __future__ import annotations

from core import netbox
from core.choices import Kind, Outcome
from core.importer.context import RunContext
from core.importer.payloads import payload
from core.importer.results import RowResult
from core.review import Row


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
