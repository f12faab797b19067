"""The NetBox index: every reference object and existing device/VM that validation looks up, in memory.
Built by core.netbox.loading; pure lookups afterwards (no network)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from core import defaults
from core.choices import FieldType, Kind, MatchBy
from core.values import fold


@dataclass(frozen=True, slots=True)
class Obj:
    """A NetBox reference object as the index keeps it."""

    id: int
    name: str
    slug: str = ""
    site_id: int | None = None
    extra: str = ""  # device types: the part number
    location_id: int | None = None  # racks: the NetBox location they stand in
    vm_role: bool = False  # roles: usable for virtual machines


@dataclass(frozen=True, slots=True)
class ExistingMatch:
    """A NetBox device or VM a row already is, and how it was found."""

    kind: Kind
    id: int
    name: str
    url: str
    by: MatchBy
    version: str = ""  # NetBox's last_updated when it was read: an update sends it as If-Match


@dataclass(frozen=True, slots=True)
class Existing:
    """An existing NetBox device or VM as the index keeps it."""

    kind: Kind
    id: int
    name: str
    site_id: int | None
    serial: str
    librenms_ids: dict[str, int]
    primary_ips: tuple[str, ...]
    # what the review compares with LibreNMS (core.review.differences); None: NetBox has no value
    location_id: int | None = None
    rack_id: int | None = None
    device_type_id: int | None = None
    platform_id: int | None = None
    cluster_id: int | None = None
    status: str = ""
    virtual_chassis_id: int | None = None
    vc_position: int | None = None
    librenms_value: Any = None  # the librenms_id custom field as NetBox holds it (its shape matters)
    last_updated: str = ""  # NetBox's version of the object: an update sends it as If-Match


class Catalog:
    """Objects of one kind (sites, device types, …) looked up by id, slug or name, case-insensitively."""

    def __init__(self, objects: Iterable[Obj] = ()) -> None:
        self.by_id: dict[int, Obj] = {}
        self.by_slug: dict[str, Obj] = {}
        self.by_name: dict[str, Obj] = {}
        self.by_extra: dict[str, Obj] = {}
        for obj in objects:
            self.add(obj)

    def add(self, obj: Obj) -> None:
        self.by_id[obj.id] = obj
        if obj.slug:
            self.by_slug.setdefault(fold(obj.slug), obj)
        self.by_name.setdefault(fold(obj.name), obj)
        if obj.extra:
            self.by_extra.setdefault(fold(obj.extra), obj)

    def find(self, text: str) -> Obj | None:
        """By slug, then name (both case-insensitive), then numeric id."""
        key = fold(text)
        if not key:
            return None
        found = self.by_slug.get(key) or self.by_name.get(key)
        if found is None and key.isdigit():
            found = self.by_id.get(int(key))
        return found

    def __len__(self) -> int:
        return len(self.by_id)

    def __iter__(self) -> Iterator[Obj]:
        return iter(self.by_id.values())


@dataclass
class NetBoxIndex:
    """Everything validation looks up, in memory. Built by `load_index`; pure lookups afterwards."""

    base_url: str = ""
    default_server_key: str = defaults.DEFAULT_SERVER_KEY
    field_type: FieldType = FieldType.INTEGER
    sites: Catalog = field(default_factory=Catalog)
    locations: Catalog = field(default_factory=Catalog)
    racks: Catalog = field(default_factory=Catalog)
    device_types: Catalog = field(default_factory=Catalog)
    platforms: Catalog = field(default_factory=Catalog)
    roles: Catalog = field(default_factory=Catalog)
    clusters: Catalog = field(default_factory=Catalog)
    targeted: bool = False  # existing objects were looked up for the search's candidates only
    existing: list[Existing] = field(default_factory=list)
    by_librenms: dict[tuple[str, int], list[Existing]] = field(default_factory=dict)
    by_serial: dict[str, list[Existing]] = field(default_factory=dict)
    by_name: dict[str, list[Existing]] = field(default_factory=dict)
    by_ip: dict[str, list[Existing]] = field(default_factory=dict)
    by_key: dict[tuple[Kind, int], Existing] = field(default_factory=dict)
    by_chassis: dict[int, list[Existing]] = field(default_factory=dict)  # virtual chassis id → members

    def add_existing(self, item: Existing) -> None:
        if (item.kind, item.id) in self.by_key:
            return
        self.existing.append(item)
        self.by_key[(item.kind, item.id)] = item
        if item.virtual_chassis_id is not None:
            self.by_chassis.setdefault(item.virtual_chassis_id, []).append(item)
        for key, device_id in item.librenms_ids.items():
            self.by_librenms.setdefault((key, device_id), []).append(item)
        if item.serial:
            self.by_serial.setdefault(fold(item.serial), []).append(item)
        if item.name:
            self.by_name.setdefault(fold(item.name), []).append(item)
        for ip in item.primary_ips:
            self.by_ip.setdefault(ip, []).append(item)

    def racks_of_site(self, site_id: int) -> list[Obj]:
        return [r for r in self.racks if r.site_id == site_id]

    def find_rack(self, text: str, site_id: int | None) -> Obj | None:
        """A rack by name within the site (rack names repeat across sites), else by id."""
        key = fold(text)
        candidates = [r for r in self.racks if fold(r.name) == key]
        for rack in candidates:
            if rack.site_id == site_id:
                return rack
        if key.isdigit() and int(key) in self.racks.by_id:
            return self.racks.by_id[int(key)]
        return candidates[0] if candidates else None

    def url(self, kind: Kind, object_id: int) -> str:
        path = "dcim/devices" if kind is Kind.DEVICE else "virtualization/virtual-machines"
        return f"{self.base_url}/{path}/{object_id}/"

    def match(self, item: Existing, by: MatchBy) -> ExistingMatch:
        return ExistingMatch(
            kind=item.kind,
            id=item.id,
            name=item.name,
            url=self.url(item.kind, item.id),
            by=by,
            version=item.last_updated,
        )

    def with_existing(self, items: Iterable[Existing]) -> NetBoxIndex:
        """The same reference data with only these existing objects (the importer's re-check under lock)."""
        fresh = NetBoxIndex(
            base_url=self.base_url,
            default_server_key=self.default_server_key,
            field_type=self.field_type,
            sites=self.sites,
            locations=self.locations,
            racks=self.racks,
            device_types=self.device_types,
            platforms=self.platforms,
            roles=self.roles,
            clusters=self.clusters,
            targeted=True,
        )
        for item in items:
            fresh.add_existing(item)
        return fresh
