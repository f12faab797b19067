"""How an existing NetBox device or VM differs from what LibreNMS says, field by field, and what the row's
action (link, update) would write. Pure: the index holds every NetBox value the comparison needs (loaded
with the existing objects, no request per device).

A field is compared only where LibreNMS (through the mappings) has a value: a platform no mapping resolves
or a device without a serial says nothing about NetBox's. Status is compared only while NetBox says active
or offline: planned, staged, failed, inventory and decommissioning are decisions people make in NetBox.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from core import defaults
from core.choices import ExistingAction, FieldType, Kind, Owner, Severity, SyncField
from core.mapping import Mappings
from core.netbox import Catalog, Existing, NetBoxIndex, librenms_field_value
from core.review.row import Difference, Issue, Ref, Row
from core.values import fold

NONE = "—"
# NetBox statuses a LibreNMS poll may set; the others are people's decisions and never compared
POLLED_STATUSES = frozenset({"active", "offline"})


def polled_status(row: Row) -> str:
    """The NetBox status LibreNMS implies: active when the device answers, else offline."""
    return "active" if row.device.up else "offline"


def differences_of(
    row: Row, item: Existing, index: NetBoxIndex, mappings: Mappings, name_from: str
) -> tuple[Difference, ...]:
    """Every field in which `item` (the object the row matched) differs from the row."""
    where = f"NetBox {'device' if item.kind is Kind.DEVICE else 'virtual machine'} '{item.name}'"
    out: list[Difference] = []

    def add(field: SyncField, netbox: str, librenms: str, librenms_from: str) -> None:
        out.append(
            Difference(
                field,
                netbox or NONE,
                librenms,
                f"{where}, field {field.value}",
                librenms_from,
                mappings.owner(field),
            )
        )

    def ref(field: SyncField, catalog: Catalog, ours: Ref | None, theirs: int | None, what: str) -> None:
        if ours is not None and ours.id != theirs:
            add(field, _name(catalog, theirs), ours.name, f"{what} → {ours.source.value}")

    if row.name and row.name != item.name:
        add(SyncField.NAME, item.name, row.name, name_from)
    serial = row.device.serial[: defaults.SERIAL_MAX_LENGTH]
    if serial and fold(serial) != fold(item.serial):
        add(SyncField.SERIAL, item.serial, serial, "LibreNMS serial")
    device = row.device
    if item.kind is Kind.DEVICE:
        ref(SyncField.SITE, index.sites, row.site, item.site_id, f"LibreNMS location '{device.location}'")
        ref(
            SyncField.LOCATION,
            index.locations,
            row.location,
            item.location_id,
            f"LibreNMS location '{device.location}'",
        )
        ref(SyncField.RACK, index.racks, row.rack, item.rack_id, "the row's rack")
        ref(
            SyncField.DEVICE_TYPE,
            index.device_types,
            row.device_type,
            item.device_type_id,
            f"LibreNMS hardware '{device.hardware}'",
        )
    else:
        ref(SyncField.CLUSTER, index.clusters, row.cluster, item.cluster_id, "the row's cluster")
    ref(SyncField.PLATFORM, index.platforms, row.platform, item.platform_id, f"LibreNMS os '{device.os}'")
    status = polled_status(row)
    if item.status in POLLED_STATUSES and item.status != status:
        add(SyncField.STATUS, item.status, status, f"LibreNMS status ({'up' if device.up else 'down'})")
    if device.ip and device.ip not in item.primary_ips:
        add(SyncField.PRIMARY_IP, ", ".join(item.primary_ips), device.ip, "LibreNMS polling address")
    wanted = librenms_value(index.field_type, item, device.server_key, device.device_id)
    if not same_librenms_value(index.field_type, item.librenms_value, wanted):
        add(SyncField.LIBRENMS_ID, _shown(item.librenms_value), _shown(wanted), "LibreNMS device id")
    if row.stack is not None and item.kind is Kind.DEVICE:
        ours = _members((m.position, m.serial) for m in row.stack.members)
        theirs = _members(
            (m.vc_position, m.serial) for m in index.by_chassis.get(item.virtual_chassis_id or -1, [])
        )
        if item.virtual_chassis_id is None:
            theirs = "not in a virtual chassis"
        if fold(ours) != fold(theirs):
            add(SyncField.STACK, theirs, ours, f"LibreNMS inventory ({row.stack.shape.value})")
    return tuple(out)


def _name(catalog: Catalog, object_id: int | None) -> str:
    if object_id is None:
        return ""
    obj = catalog.by_id.get(object_id)
    return obj.name if obj is not None else f"#{object_id}"


def _members(members: Any) -> str:
    return ", ".join(f"{pos}:{serial or '?'}" for pos, serial in sorted(members, key=lambda m: m[0] or 0))


def librenms_value(field_type: FieldType, item: Existing, server_key: str, device_id: int) -> Any:
    """The librenms_id value that links `item` to the device, in the field's shape; a JSON field keeps the
    other servers' ids it holds (the netbox-librenms-plugin's {"server": id} shape)."""
    value = librenms_field_value(field_type, server_key, device_id)
    if field_type is FieldType.JSON and isinstance(item.librenms_value, dict):
        return {**item.librenms_value, **value}
    return value


def same_librenms_value(field_type: FieldType, held: Any, wanted: Any) -> bool:
    """Whether NetBox's value is the wanted one in the wanted shape (a JSON field holding a bare id, or
    {"id": …} where an id is wanted, is another shape)."""
    if field_type is FieldType.JSON:
        if not isinstance(held, dict):
            return False
        return {k: _plain_id(v) for k, v in held.items()} == {k: _plain_id(v) for k, v in wanted.items()}
    return type(held) is type(wanted) and held == wanted


def _plain_id(value: Any) -> Any:
    """{"id": 7, "oob": …} counts as 7: the plugin's richer shape links as well."""
    return value.get("id") if isinstance(value, dict) else value


def _shown(value: Any) -> str:
    if value is None or value == "":
        return ""
    return json.dumps(value, sort_keys=True) if isinstance(value, dict) else str(value)


def planned_updates(
    differences: tuple[Difference, ...],
    action: ExistingAction | None,
    chosen: tuple[SyncField, ...],
    owner: Callable[[SyncField], Owner],
) -> tuple[tuple[SyncField, ...], list[Issue]]:
    """What the row's action writes: link → librenms_id (when it differs); update → the chosen fields (all
    that LibreNMS owns and differ, when none are chosen) and librenms_id. A chosen field NetBox owns is
    never written: the row says so."""
    offered = [d.field for d in differences if d.updatable]
    issues = [
        Issue(
            "update",
            Severity.WARNING,
            f"NetBox owns {name.value}: an update never changes it",
            name.value,
            "give the field to LibreNMS on the Mappings page (ownership) if LibreNMS should own it",
        )
        for name in chosen
        if owner(name) is Owner.NETBOX
    ]
    if action is ExistingAction.LINK:
        return tuple(f for f in offered if f is SyncField.LIBRENMS_ID), issues
    if action is not ExistingAction.UPDATE:
        return (), issues
    wanted = set(chosen or offered) | {SyncField.LIBRENMS_ID}
    return tuple(f for f in offered if f in wanted), issues
