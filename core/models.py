"""The product's data: LibreNMS devices as we keep them, stacks, resolved NetBox references, issues, rows.

Every status, kind and source is a StrEnum, so pages, CSV and jobs share one vocabulary.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any


class Kind(StrEnum):
    DEVICE = "device"
    VM = "vm"


class RowStatus(StrEnum):
    READY = "ready"
    NEEDS_INPUT = "needs input"
    EXISTS = "exists"
    CONFLICT = "conflict"
    BLOCKED = "blocked"


class Severity(StrEnum):
    BLOCKING = "blocking"
    WARNING = "warning"


class Source(StrEnum):
    """Where a resolved value came from, shown next to it in the row details."""

    USER = "set by user"
    EXACT = "exact name"
    SLUG = "slug"
    MAPPING = "mapping table"
    PART_NUMBER = "part number"
    MODEL = "model"
    RULE = "default rule"
    CLUSTER = "from cluster"
    LIBRENMS = "LibreNMS"
    IN_LOCATION = "named in the LibreNMS location"
    RACK = "from rack"


class MatchBy(StrEnum):
    LIBRENMS_ID = "librenms_id"
    SERIAL = "serial"
    NAME = "name"
    PRIMARY_IP = "primary IP"


# Keys that carry SNMP credentials in a LibreNMS device object (contract §2). They are dropped at the
# boundary and never reach a cache, a job, a page, a log or a CSV.
SNMP_CREDENTIAL_KEYS = frozenset(
    {"community", "authlevel", "authname", "authpass", "authalgo", "cryptopass", "cryptoalgo"}
)


def as_int(value: Any) -> int | None:
    """An integer from a LibreNMS value (int, or a numeric string from pre PHP 8.1 releases); else None."""
    if value is None or isinstance(value, bool):
        return None
    try:
        return int(str(value).strip())
    except ValueError:
        return None


def _flag(value: Any) -> bool:
    """LibreNMS 0/1 flags come as ints, bools or (pre PHP 8.1) strings."""
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes"}
    return bool(value)


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


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
    server_key: str = "default"

    @classmethod
    def from_api(cls, obj: Mapping[str, Any], server_key: str = "default") -> LibreDevice:
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
            hostname=_text(obj.get("hostname")),
            sysname=_text(obj.get("sysName")),
            display=_text(obj.get("display")),
            ip=_text(obj.get("overwrite_ip")) or _text(obj.get("ip")),
            os=_text(obj.get("os")),
            type=_text(obj.get("type")),
            hardware=_text(obj.get("hardware")),
            serial=_text(obj.get("serial")),
            version=_text(obj.get("version")),
            features=_text(obj.get("features")),
            location=_text(location),
            location_id=location_id,
            up=_flag(obj.get("status")),
            disabled=_flag(obj.get("disabled")),
            ignored=_flag(obj.get("ignore")),
            parent_id=as_int(obj.get("parent_id")) if "parent_id" in obj else None,
            server_key=server_key,
        )

    @property
    def key(self) -> tuple[str, int]:
        """Identity across servers: (server key, device id)."""
        return (self.server_key, self.device_id)

    @property
    def hostname_is_ip(self) -> bool:
        return is_ip(self.hostname)


def is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


@dataclass(frozen=True, slots=True)
class StackMember:
    position: int
    serial: str
    model: str
    name: str = ""
    is_master: bool = False


@dataclass(frozen=True, slots=True)
class Stack:
    """A virtual chassis read from the LibreNMS inventory: two or more chassis members."""

    members: tuple[StackMember, ...]
    shape: str  # "ios-xe", "classic-ios", "chassis-tree"

    @property
    def master(self) -> StackMember:
        for member in self.members:
            if member.is_master:
                return member
        return self.members[0]


@dataclass(frozen=True, slots=True)
class Ref:
    """A NetBox object a row points at, and how it was found."""

    id: int
    name: str
    slug: str = ""
    source: Source = Source.EXACT
    site_id: int | None = None  # racks and clusters: the site they belong to


@dataclass(frozen=True, slots=True)
class ExistingMatch:
    """A NetBox device or VM this row already is."""

    kind: Kind
    id: int
    name: str
    url: str
    by: MatchBy


@dataclass(frozen=True, slots=True)
class Issue:
    field: str
    severity: Severity
    message: str
    value: str = ""
    fix: str = ""

    def __str__(self) -> str:
        text = f"{self.field}: {self.message}"
        if self.fix:
            text += f" — {self.fix}"
        return text


@dataclass(frozen=True, slots=True)
class Overrides:
    """What the user chose for a row. None means 'not chosen': validation decides."""

    kind: Kind | None = None
    name: str | None = None
    site: str | None = None
    device_type: str | None = None
    platform: str | None = None
    role: str | None = None
    rack: str | None = None
    cluster: str | None = None

    def with_(self, **changes: Any) -> Overrides:
        return replace(self, **changes)


@dataclass(frozen=True, slots=True)
class Row:
    """One LibreNMS device, validated against NetBox: what would be created, or why not."""

    device: LibreDevice
    name: str
    kind: Kind
    kind_reason: str
    status: RowStatus
    issues: tuple[Issue, ...] = ()
    site: Ref | None = None
    location: Ref | None = None  # a NetBox location of the site, when the LibreNMS location names one
    device_type: Ref | None = None
    platform: Ref | None = None
    role: Ref | None = None
    rack: Ref | None = None
    cluster: Ref | None = None
    existing: ExistingMatch | None = None
    stack: Stack | None = None
    member_types: tuple[Ref | None, ...] = ()  # device type of each stack member, in member order
    overrides: Overrides = field(default_factory=Overrides)
    selected: bool = True  # the analyst's choice; only ready rows are imported

    @property
    def key(self) -> tuple[str, int]:
        return self.device.key

    @property
    def blocking(self) -> tuple[Issue, ...]:
        return tuple(i for i in self.issues if i.severity is Severity.BLOCKING)

    @property
    def will_import(self) -> bool:
        return self.selected and self.status is RowStatus.READY

    def issues_text(self) -> str:
        """Every issue in words, what blocks the row first."""
        ordered = sorted(self.issues, key=lambda i: i.severity is not Severity.BLOCKING)
        return "; ".join(str(i) for i in ordered)
