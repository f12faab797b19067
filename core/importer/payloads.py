"""What the import writes for a row, in one place: the NetBox fields of its device or VM (references as
the row resolved them), the names of a stack's chassis and members, the POST payload made of them, and
the PATCH of an existing object's fields an update writes. The plan shows the same fields by name; the
run sends them by id."""

from __future__ import annotations

from typing import Any

from core import defaults
from core.choices import FieldType, Kind, SyncField
from core.librenms import StackMember
from core.netbox import Existing, librenms_field_value
from core.review import Ref, Row, polled_status
from core.review.differences import librenms_value

Value = Ref | str | int


def object_fields(row: Row) -> dict[str, Value]:
    """The fields the row's device or VM gets (without librenms_id, tags and comments), references as Refs;
    fields without a value are left out."""
    device = row.device
    fields: dict[str, Value | None] = {
        "name": row.name,
        "status": polled_status(row),
        "role": row.role,
        "platform": row.platform,
    }
    if row.kind is Kind.VM:
        fields["cluster"] = row.cluster
    else:
        fields.update(site=row.site, location=row.location, rack=row.rack, device_type=row.device_type)
    fields["serial"] = device.serial[: defaults.SERIAL_MAX_LENGTH]
    return {name: value for name, value in fields.items() if value is not None and value != ""}


def comments(row: Row) -> str:
    device = row.device
    return f"Imported from LibreNMS '{device.server_key}' device {device.device_id} ({device.hostname})."


def chassis_name(row: Row) -> str:
    return defaults.STACK_NAME_PATTERN.format(name=row.name)


def member_name(row: Row, member: StackMember) -> str:
    """The master keeps the row's name; the other members are "<name>-<position>"."""
    if member is row.stack.master:  # type: ignore[union-attr]
        return row.name
    return defaults.STACK_MEMBER_PATTERN.format(name=row.name, position=member.position)


def payload(row: Row, *, field_type: FieldType, tag_id: int) -> dict[str, Any]:
    """What to POST for this row (a stack's members start from it)."""
    body: dict[str, Any] = {
        name: value.id if isinstance(value, Ref) else value for name, value in object_fields(row).items()
    }
    device = row.device
    body["custom_fields"] = {
        defaults.LIBRENMS_ID_FIELD: librenms_field_value(field_type, device.server_key, device.device_id)
    }
    body["tags"] = [tag_id]
    body["comments"] = comments(row)
    return body


# An update's fields as NetBox's API names them (the primary IP is written by core.importer.addresses).
_REFERENCES = {
    SyncField.SITE: "site",
    SyncField.LOCATION: "location",
    SyncField.RACK: "rack",
    SyncField.DEVICE_TYPE: "device_type",
    SyncField.PLATFORM: "platform",
    SyncField.CLUSTER: "cluster",
}


def update_payload(row: Row, item: Existing, *, field_type: FieldType) -> dict[str, Any]:
    """The PATCH of `item` (the object the row matched) that writes the row's updates, but the primary IP;
    only the fields the review chose (core.review.differences.planned_updates), never another."""
    body: dict[str, Any] = {}
    for name in row.updates:
        if name is SyncField.NAME:
            body["name"] = row.name
        elif name is SyncField.SERIAL:
            body["serial"] = row.device.serial[: defaults.SERIAL_MAX_LENGTH]
        elif name is SyncField.STATUS:
            body["status"] = polled_status(row)
        elif name is SyncField.LIBRENMS_ID:
            value = librenms_value(field_type, item, row.device.server_key, row.device.device_id)
            body["custom_fields"] = {defaults.LIBRENMS_ID_FIELD: value}
        elif name in _REFERENCES:
            ref = getattr(row, _REFERENCES[name])
            if ref is not None:
                body[_REFERENCES[name]] = ref.id
    return body
