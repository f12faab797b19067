"""Validation of one row: (LibreNMS device, NetBox index, mappings, the user's choices) → a Row with its
status and issues. Pure, no network; the rules are the field validators, applied in order here."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from core.choices import Kind, RowStatus, Severity
from core.librenms import LibreDevice, Stack
from core.mapping import Mappings
from core.netbox import ExistingMatch, NetBoxIndex
from core.review import validators
from core.review.differences import differences_of, planned_updates
from core.review.matcher import find_existing
from core.review.names import Options
from core.review.resolve import location_of
from core.review.row import Issue, Overrides, Row
from core.review.rules import INPUT_FIELDS


def validate_device(
    device: LibreDevice,
    index: NetBoxIndex,
    mappings: Mappings,
    options: Options = Options(),
    overrides: Overrides = Overrides(),
    stack: Stack | None = None,
    *,
    selected: bool = True,
    shared_sysnames: frozenset[str] = frozenset(),
    stack_error: str | None = None,
) -> Row:
    """Validate one device on its own (cross-row conflicts are added by `Review`). `stack_error`: why the
    device's stack detection failed (its inventory could not be read), if it did."""
    issues: list[Issue] = []
    name, found = validators.name(device, options, shared_sysnames, overrides.name)
    issues += found
    kind, kind_reason = validators.kind(device, overrides.kind)
    site, found = validators.site(device, index, mappings, overrides.site)
    issues += found

    cluster = device_type = None
    member_types: tuple = ()
    if kind is Kind.VM:
        cluster, site, found = validators.cluster(index, site, overrides.cluster)
        issues += found
    elif site is None and not overrides.site:
        issues.append(validators.missing_site(device))
    if kind is Kind.DEVICE:
        device_type, member_types, found = validators.device_type(
            device, index, mappings, stack, overrides.device_type
        )
        issues += found
        issues += validators.stack_unknown(device, stack, stack_error)
    platform, found = validators.platform(device, index, mappings, overrides.platform)
    issues += found
    role, found = validators.role(device, index, mappings, kind, overrides.role)
    issues += found
    rack, found = validators.rack(index, site, overrides.rack if kind is Kind.DEVICE else None)
    issues += found

    match = find_existing(device, name, index, site.id if site else None)
    first, last = validators.existing(match, name, kind)
    if match.existing is not None:  # what creating it would need (a role, a device type…) is moot
        issues = [i for i in issues if i.severity is not Severity.BLOCKING]
    issues = first + issues + last
    row = Row(
        device=device,
        name=name,
        kind=kind,
        kind_reason=kind_reason,
        status=status_of(issues, match.existing, bool(match.conflicts)),
        issues=tuple(issues),
        site=site,
        location=location_of(index, site, rack, device.location) if kind is Kind.DEVICE else None,
        device_type=device_type,
        platform=platform,
        role=role,
        rack=rack,
        cluster=cluster,
        existing=match.existing,
        stack=stack,
        member_types=member_types,
        overrides=overrides,
        selected=selected,
    )
    item = index.by_key.get((match.existing.kind, match.existing.id)) if match.existing else None
    if item is None:
        return row
    name_from = "set by user" if overrides.name else f"LibreNMS {options.name_source.value}"
    found = differences_of(row, item, index, mappings, name_from)
    updates, notes = planned_updates(found, overrides.action, overrides.update_fields, mappings.owner)
    return replace(row, differences=found, updates=updates, issues=row.issues + tuple(notes))


def status_of(issues: Iterable[Issue], existing: ExistingMatch | None, conflict: bool) -> RowStatus:
    """conflict > exists > blocked (a blocking issue the grid cannot fix) > needs input > ready."""
    if conflict:
        return RowStatus.CONFLICT
    if existing is not None:
        return RowStatus.EXISTS
    blocking = [i for i in issues if i.severity is Severity.BLOCKING]
    if any(i.field not in INPUT_FIELDS for i in blocking):
        return RowStatus.BLOCKED
    if blocking:
        return RowStatus.NEEDS_INPUT
    return RowStatus.READY
