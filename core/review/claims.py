"""Claims: what a ticked row would take in NetBox, so that two rows never take the same thing. A row that
matches an existing object claims that object; a row to be created claims its name in its scope (NetBox
names are unique per site for devices and per cluster for VMs)."""

from __future__ import annotations

from dataclasses import dataclass

from core.choices import Kind, RowStatus
from core.review.row import Row


@dataclass(frozen=True, slots=True)
class ObjectClaim:
    kind: Kind
    id: int


@dataclass(frozen=True, slots=True)
class NameClaim:
    kind: Kind
    scope_id: int  # the site (devices) or cluster (VMs)
    name: str  # case-folded


Claim = ObjectClaim | NameClaim


def claims_of(row: Row) -> list[Claim]:
    """What the row claims; a row that will not be imported claims nothing ("deselect one of them")."""
    if not row.selected:
        return []
    if row.existing is not None:
        return [ObjectClaim(row.existing.kind, row.existing.id)]
    if row.status is RowStatus.CONFLICT:
        return []
    scope = row.cluster if row.kind is Kind.VM else row.site
    return [NameClaim(row.kind, scope.id, row.name.casefold())] if scope is not None else []
