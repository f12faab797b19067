"""The re-check under the locks: just before writing, what NetBox holds now is matched against the rows
with the review's own matcher (core.review.find_existing), so a row another import or a person created
since the review was built — by librenms_id, serial, name or primary IP — is never created twice."""

from __future__ import annotations

from core import netbox
from core.choices import Outcome
from core.importer.context import RunContext
from core.importer.results import RowResult
from core.review import Row, find_existing
from core.search import candidates_for


def drop_created_meanwhile(ctx: RunContext, rows: list[Row]) -> list[Row]:
    """The rows still to create; the others are reported (existing: skipped with a link; matching several
    objects or a taken name: failed with the reason)."""
    if not rows:
        return rows
    index = ctx.review.index
    default_key = index.default_server_key
    found = netbox.load_existing(
        ctx.api,
        candidates_for([row.device for row in rows], ctx.review.options, default_key),
        default_server_key=default_key,
        field_type=index.field_type,
    )
    now = index.with_existing(found)
    keep = []
    for row in rows:
        match = find_existing(row.device, row.name, now, row.site.id if row.site else None)
        if match.existing is not None:
            ctx.finish(RowResult.exists(row, match.existing))
        elif match.conflicts:
            listed = ", ".join(f"{c.kind.value} '{c.name}'" for c in match.conflicts)
            ctx.finish(RowResult.of(row, Outcome.FAILED, f"now matches several NetBox objects: {listed}"))
        elif match.taken:
            ctx.finish(
                RowResult.of(
                    row,
                    Outcome.FAILED,
                    f"NetBox {match.taken[0].kind.value} '{row.name}' now has this name and is linked to "
                    "another LibreNMS device",
                )
            )
        else:
            keep.append(row)
    return keep
