"""The NetBox payload of a device or VM: the row's resolved values, the librenms_id in the field's shape,
the import tag and a comment naming the LibreNMS device."""

from __future__ import annotations

from typing import Any

from core import defaults
from core.choices import FieldType, Kind
from core.netbox import librenms_field_value
from core.review import Row


def payload(row: Row, *, field_type: FieldType, tag_id: int) -> dict[str, Any]:
    """What to POST for this row (a stack's members start from it)."""
    device = row.device
    common: dict[str, Any] = {
        "name": row.name,
        "status": "active" if device.up else "offline",
        "role": row.role.id if row.role else None,
        "platform": row.platform.id if row.platform else None,
        "custom_fields": {
            defaults.LIBRENMS_ID_FIELD: librenms_field_value(field_type, device.server_key, device.device_id)
        },
        "tags": [tag_id],
        "comments": f"Imported from LibreNMS '{device.server_key}' device {device.device_id} ({device.hostname}).",
    }
    if row.kind is Kind.VM:
        common["cluster"] = row.cluster.id if row.cluster else None
        if device.serial:
            common["serial"] = device.serial[: defaults.SERIAL_MAX_LENGTH]
        return {k: v for k, v in common.items() if v is not None}
    common.update(
        site=row.site.id if row.site else None,
        location=row.location.id if row.location else None,
        rack=row.rack.id if row.rack else None,
        device_type=row.device_type.id if row.device_type else None,
        serial=device.serial[: defaults.SERIAL_MAX_LENGTH],
    )
    return {k: v for k, v in common.items() if v is not None and v != ""}
