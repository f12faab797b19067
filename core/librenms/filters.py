"""The device filter of a search: one (type, query) pair is sent to LibreNMS, every filter is re-applied
locally, so results never depend on the server's version or on how it treats `%`/`_` in LIKE queries
(docs/librenms-api.md#2-the-device-list).
"""

from __future__ import annotations

from dataclasses import dataclass

from core.librenms.device import LibreDevice
from core.values import fold


@dataclass(frozen=True)
class DeviceFilter:
    """What the user asked for on the Filter step. Empty strings mean 'any'."""

    location: str = ""
    type: str = ""
    os: str = ""
    hostname: str = ""
    sysname: str = ""
    hardware: str = ""
    show_disabled: bool = False
    # Applied by callers that hold the NetBox index / the inventory; kept here so one object describes a search.
    exclude_existing: bool = False
    detect_stacks: bool = False

    def server_side(self) -> tuple[str, str] | None:
        """The one (type, query) pair to send to LibreNMS: the most selective filter set, or None.

        Order: sysName (exact) > hostname > hardware > os (exact) > location > device type (exact).
        """
        candidates = (
            ("sysName", self.sysname),
            ("hostname", self.hostname),
            ("hardware", self.hardware),
            ("os", self.os),
            ("location", self.location),
            ("type", self.type),
        )
        for api_type, value in candidates:
            if value.strip():
                return (api_type, value.strip())
        return None

    def matches(self, device: LibreDevice) -> bool:
        """True when `device` passes every filter, compared case-insensitively and literally.

        location, hostname and hardware are substrings (LibreNMS' LIKE %q%, without its wildcards);
        sysName, os and type are exact. Disabled devices only pass with `show_disabled`.
        """
        if device.disabled and not self.show_disabled:
            return False
        for wanted, have in (
            (self.location, device.location),
            (self.hostname, device.hostname),
            (self.hardware, device.hardware),
        ):
            if wanted.strip() and fold(wanted) not in have.casefold():
                return False
        for wanted, have in (
            (self.sysname, device.sysname),
            (self.os, device.os),
            (self.type, device.type),
        ):
            if wanted.strip() and fold(wanted) != fold(have):
                return False
        return True
