"""The shapes of NetBox's librenms_id custom field, read and written: an integer (ours, and the plugin's
legacy shape) for the default server, or JSON {"<server key>": id} (the netbox-librenms-plugin)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from core.choices import FieldType


def parse_librenms_ids(value: Any, default_key: str) -> dict[str, int]:
    """Every shape of the librenms_id field → {server key: device id}.

    Integer field (ours, and the plugin's legacy shape): the id, for the default server. JSON field (the
    netbox-librenms-plugin): {"<server key>": id} or {"<server key>": {"id": id, "oob": …}}.
    """
    if value is None or value == "":
        return {}
    if isinstance(value, bool):
        return {}
    if isinstance(value, int):
        return {default_key: value}
    if isinstance(value, str):
        text = value.strip()
        if text.isdecimal():  # not isdigit(): '²' is a digit that int() refuses
            return {default_key: int(text)}
        try:
            return parse_librenms_ids(json.loads(text), default_key)
        except ValueError:
            return {}
    if isinstance(value, Mapping):
        out: dict[str, int] = {}
        for key, item in value.items():
            raw = item.get("id") if isinstance(item, Mapping) else item
            if isinstance(raw, bool):  # JSON true is not device 1
                continue
            try:
                out[str(key)] = int(raw)  # type: ignore[arg-type]
            except (TypeError, ValueError):
                continue
        return out
    return {}


def librenms_field_value(field_type: FieldType, server_key: str, device_id: int) -> Any:
    """What to write into the librenms_id field, in the shape its type calls for."""
    field_type = FieldType(field_type)
    if field_type is FieldType.JSON:
        return {server_key: device_id}
    if field_type is FieldType.TEXT:
        return str(device_id)
    return device_id
