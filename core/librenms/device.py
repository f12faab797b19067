"""LibreNMS devices as the product keeps them: only the fields the importer uses, coerced from any release's
shapes (docs/librenms-api.md#3-device-fields). SNMP credentials are dropped here and never kept.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from core import defaults
from core.values import as_int, flag, is_ip, text

log = logging.getLogger(__name__)

# Keys that carry SNMP credentials in a LibreNMS device object. They are dropped at the boundary and never
# reach a cache, a job, a page, a log or a CSV.
SNMP_CREDENTIAL_KEYS = frozenset(
    {"community", "authlevel", "authname", "authpass", "authalgo", "cryptopass", "cryptoalgo"}
)

RowKey = tuple[str, int]  # (server key, device id): a device's identity across servers


@dataclass(frozen=True, slots=True)
class LibreDevice:
    """A LibreNMS device with only the fields the importer uses; credentials are never kept."""

    device_id: int
    hostname: str
    sysname: str = ""
    display: str = ""
    ip: str = ""
    os: str = ""
    type: str = ""
    hardware: str = ""
    serial: str = ""
    version: str = ""
    features: str = ""
    location: str = ""
    location_id: int | None = None
    up: bool = True
    disabled: bool = False
    ignored: bool = False
    parent_id: int | None = None
    server_key: str = defaults.DEFAULT_SERVER_KEY
    snmp_disabled: bool = False  # ICMP-only: LibreNMS reads no SNMP from it, so it has no inventory
    last_discovered: str = ""  # when LibreNMS last read its ENTITY-MIB inventory (a rediscovery changes it)

    @classmethod
    def from_api(cls, obj: Mapping[str, Any], server_key: str = defaults.DEFAULT_SERVER_KEY) -> LibreDevice:
        """Coerce one device object of any LibreNMS release (ints as strings, bool status, object location)."""
        location = obj.get("location")
        if isinstance(location, Mapping):  # LibreNMS 26.5.0 variant: the location row as an object
            location_id = as_int(location.get("id"))
            location = location.get("location")
        else:
            location_id = as_int(obj.get("location_id"))
        device_id = as_int(obj.get("device_id"))
        if device_id is None:
            raise ValueError("device object without a device_id")
        return cls(
            device_id=device_id,
            hostname=text(obj.get("hostname")),
            sysname=text(obj.get("sysName")),
            display=text(obj.get("display")),
            ip=text(obj.get("overwrite_ip")) or text(obj.get("ip")),
            os=text(obj.get("os")),
            type=text(obj.get("type")),
            hardware=text(obj.get("hardware")),
            serial=text(obj.get("serial")),
            version=text(obj.get("version")),
            features=text(obj.get("features")),
            location=text(location),
            location_id=location_id,
            up=flag(obj.get("status")),
            disabled=flag(obj.get("disabled")),
            ignored=flag(obj.get("ignore")),
            parent_id=as_int(obj.get("parent_id")) if "parent_id" in obj else None,
            server_key=server_key,
            snmp_disabled=flag(obj.get("snmp_disable")),
            last_discovered=text(obj.get("last_discovered")),
        )

    @property
    def key(self) -> RowKey:
        """Identity across servers: (server key, device id)."""
        return (self.server_key, self.device_id)

    @property
    def hostname_is_ip(self) -> bool:
        return is_ip(self.hostname)


def parse_devices(raw: list[Any], server_key: str) -> tuple[list[LibreDevice], int]:
    """LibreDevices (credentials dropped) and the number of objects that could not be parsed."""
    devices: list[LibreDevice] = []
    skipped = 0
    for obj in raw:
        try:
            if not isinstance(obj, Mapping):
                raise ValueError("not an object")
            devices.append(LibreDevice.from_api(obj, server_key=server_key))
        except (ValueError, TypeError, AttributeError):
            skipped += 1
    if skipped:
        log.warning(
            "LibreNMS %s: skipped %d device object(s) without a usable device_id", server_key, skipped
        )
    return devices, skipped
