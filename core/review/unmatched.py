"""Unmatched LibreNMS values: the locations, hardware and os names that resolve to no NetBox object, how many
devices carry each, and the closest NetBox objects to map them to. Also the NetBox objects a mapping table
may point at, and the check that every entry of an edited table names one of them.

The matching rules are validation's own (`resolve`, `resolve_device_type`), called, not copied: a value is
listed here exactly when validation would raise "matches no NetBox …" for it. This lives apart from
`core.mapping` because the review imports mapping.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from core.choices import Kind
from core.librenms import LibreDevice
from core.mapping import TABLES, Mappings, suggest
from core.netbox import Catalog, NetBoxIndex, Obj
from core.review.kind import detect_kind
from core.review.resolve import resolve, resolve_device_type
from core.review.rules import NO_PLATFORM_OS

# the LibreNMS device field each mapping table is keyed on
FIELDS = {"sites": "location", "device_types": "hardware", "platforms": "os"}
NOUNS = {"sites": "site", "device_types": "device type", "platforms": "platform"}
SUGGESTIONS = 3
EXAMPLES = 3  # hostnames shown per unmatched value


@dataclass(frozen=True, slots=True)
class Choice:
    """A NetBox object a mapping may point at. `ref` is what the mapping file stores (the slug)."""

    ref: str
    name: str

    @property
    def label(self) -> str:
        return self.name if self.name == self.ref else f"{self.name} ({self.ref})"


@dataclass(frozen=True, slots=True)
class Unmatched:
    table: str
    value: str  # as LibreNMS spells it (the first spelling seen, lookups are case-insensitive)
    devices: int  # how many devices carry it
    hostnames: tuple[str, ...]  # a few of them
    suggestions: tuple[Choice, ...]  # the closest NetBox objects, best first; may be empty


def catalog_of(index: NetBoxIndex, table: str) -> Catalog:
    if table not in TABLES:
        raise ValueError(f"unknown mapping table {table!r}")
    return getattr(index, table)


def _choice(obj: Obj) -> Choice:
    return Choice(ref=obj.slug or obj.name, name=obj.name)


def choices(index: NetBoxIndex, table: str) -> list[Choice]:
    """Every NetBox object of the table's kind, by name."""
    return sorted((_choice(o) for o in catalog_of(index, table)), key=lambda c: c.name.casefold())


def target_exists(index: NetBoxIndex, table: str, target: str) -> bool:
    """Whether a mapping entry's right-hand side names a NetBox object, by the rule validation applies to
    mapped values (slug, name or id; for device types also part number)."""
    return resolve(catalog_of(index, table), "", target) is not None


def check_targets(index: NetBoxIndex, table: str, entries: Mapping[str, str]) -> list[str]:
    """Problems in words, one per entry whose NetBox object does not exist."""
    return [
        f"'{target}' (for '{key}') is not a NetBox {NOUNS[table]}."
        for key, target in entries.items()
        if not target_exists(index, table, target)
    ]


def _considered(device: LibreDevice, table: str) -> bool:
    """Whether validation looks this device up in the table at all."""
    if table == "device_types":
        return detect_kind(device)[0] is Kind.DEVICE  # a VM has no device type
    if table == "platforms":
        return device.os not in NO_PLATFORM_OS
    return True


def _resolves(device: LibreDevice, table: str, index: NetBoxIndex, mappings: Mappings) -> bool:
    if table == "device_types":
        return resolve_device_type(index, mappings, device.hardware) is not None
    value = getattr(device, FIELDS[table])
    return resolve(catalog_of(index, table), value, mappings.lookup(table, value)) is not None


def _suggestions(value: str, catalog: Catalog) -> tuple[Choice, ...]:
    """suggest() over names and slugs (and part numbers), one suggestion per object."""
    by_text: dict[str, Obj] = {}
    for obj in catalog:
        for text in (obj.name, obj.slug, obj.extra):
            if text:
                by_text.setdefault(text, obj)
    found: dict[int, Choice] = {}
    for text in suggest(value, by_text, n=SUGGESTIONS * 3):
        obj = by_text[text]
        found.setdefault(obj.id, _choice(obj))
    return tuple(found.values())[:SUGGESTIONS]


def unmatched_values(
    devices: Iterable[LibreDevice], index: NetBoxIndex, mappings: Mappings
) -> dict[str, list[Unmatched]]:
    """For each table, the distinct non-empty LibreNMS values that resolve to nothing, most devices first.

    Devices validation does not look up in a table are left out of it: VMs for device types, os
    'ping'/'generic' for platforms. Empty values are counted by `empty_values`, not listed here.
    """
    devices = list(devices)
    out: dict[str, list[Unmatched]] = {}
    for table in TABLES:
        groups: dict[str, list[LibreDevice]] = {}
        for device in devices:
            value = getattr(device, FIELDS[table]).strip()
            if not value or not _considered(device, table) or _resolves(device, table, index, mappings):
                continue
            groups.setdefault(value.casefold(), []).append(device)
        catalog = catalog_of(index, table)
        items = [
            Unmatched(
                table=table,
                value=getattr(group[0], FIELDS[table]).strip(),
                devices=len(group),
                hostnames=tuple(d.hostname for d in group[:EXAMPLES]),
                suggestions=_suggestions(getattr(group[0], FIELDS[table]).strip(), catalog),
            )
            for group in groups.values()
        ]
        out[table] = sorted(items, key=lambda u: (-u.devices, u.value.casefold()))
    return out


def empty_values(devices: Iterable[LibreDevice]) -> dict[str, int]:
    """For each table, how many devices (of those validation looks up in it) have no value at all."""
    devices = list(devices)
    return {
        table: sum(1 for d in devices if _considered(d, table) and not getattr(d, FIELDS[table]).strip())
        for table in TABLES
    }
