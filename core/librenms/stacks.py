"""Virtual-chassis (switch stack) detection from the LibreNMS inventory
(docs/librenms-api.md#4-inventory-and-stacks).

The device object never says "stack": `hardware` and `serial` describe one member. A stack is read from
the ENTITY-MIB rows of `/inventory/:id/all`: a root (ContainedIn 0) of class `stack` or `chassis` with two
or more `chassis` children. Everything here is a pure function of those rows, except `detect_stacks`,
which fetches inventories through an injected client — and only for devices that may be stacks.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from core.choices import StackShape
from core.librenms.device import LibreDevice
from core.values import as_int, fold, text

if TYPE_CHECKING:
    from core.librenms.client import LibreNMSClient


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
    shape: StackShape

    @property
    def master(self) -> StackMember:
        for member in self.members:
            if member.is_master:
                return member
        return self.members[0]


@dataclass(frozen=True, slots=True)
class StackDetection:
    """What one detection found: stacks by device id, and the devices whose inventory could not be read
    (device id → why), which are not known to be single chassis."""

    stacks: dict[int, Stack] = field(default_factory=dict)
    errors: dict[int, str] = field(default_factory=dict)
    read: int = 0  # inventories read from LibreNMS now
    reused: int = 0  # inventories of the devices' last discovery, kept from an earlier read
    skipped: int = 0  # devices that cannot be stacks: nothing read

    def counts(self) -> dict[str, int]:
        return {"read": self.read, "reused": self.reused, "skipped": self.skipped}


# LibreNMS OS short names of switch families that can stack or form a virtual chassis. Inclusive on
# purpose: a false positive costs one inventory request, a false negative a missed stack.
STACKABLE_OS = frozenset(
    {
        "ios",  # Catalyst 3750/2960 FlexStack/StackWise
        "iosxe",  # Catalyst 3650/3850/9200/9300 StackWise
        "junos",  # EX virtual chassis
        "procurve",  # HPE/Aruba 2930/3810 stacking
        "arubaos-cx",  # 6200/6300 VSF
        "arubaos",
        "comware",  # HPE IRF
        "xos",  # ExtremeXOS SummitStack
        "boss",  # Extreme/Avaya ERS
        "ironware",  # Brocade/Ruckus ICX
        "fastiron",
        "aos",  # Alcatel-Lucent OmniSwitch
        "aos7",
        "dnos",  # Dell Networking OS
        "dnos10",
        "powerconnect",
        "ciscosb",  # Cisco small business
        "edgeswitch",
        "netgear",
        "dlink",
        "ruckus",
    }
)
STACKABLE_TYPE = "network"
VIRTUAL_CHASSIS_HINT = "virtual chassis"
MAX_VC_POSITION = 255  # NetBox: vc_position is 0..255

_ROOT_CLASSES = frozenset({"stack", "chassis"})
_MEMBER_CLASS = "chassis"
_DIGITS = re.compile(r"\d+")


def may_be_stack(device: LibreDevice) -> bool:
    """Cheap pre-filter: True for network gear that can stack, so its inventory is worth fetching. An
    ICMP-only device (LibreNMS reads no SNMP from it, so it has no inventory) never is."""
    if device.snmp_disabled or device.os.casefold() == "ping":
        return False
    if VIRTUAL_CHASSIS_HINT in device.hardware.casefold():
        return True
    return device.type.casefold() == STACKABLE_TYPE and device.os.casefold() in STACKABLE_OS


def detect_stack(inventory: list[dict], device_serial: str = "") -> Stack | None:
    """The stack described by one device's inventory rows, or None for a single chassis.

    A root of class `stack` or `chassis` with two or more `chassis` children is a stack; a stack root
    with one child (a standalone Cat9k) is not. The master is the member whose serial equals
    `device_serial`, else the lowest position.
    """
    rows = [row for row in inventory if isinstance(row, Mapping)]
    children: dict[int, list[Mapping[str, Any]]] = {}
    for row in rows:
        parent = as_int(row.get("entPhysicalContainedIn"))
        if parent is not None and text(row.get("entPhysicalClass")).casefold() == _MEMBER_CLASS:
            children.setdefault(parent, []).append(row)
    for root in rows:
        root_class = text(root.get("entPhysicalClass")).casefold()
        if as_int(root.get("entPhysicalContainedIn")) != 0 or root_class not in _ROOT_CLASSES:
            continue
        index = as_int(root.get("entPhysicalIndex"))
        members = children.get(index, []) if index is not None and index != 0 else []
        if len(members) >= 2:
            return _build_stack(root_class, members, device_serial)
    return None


def detect_stacks(
    client: LibreNMSClient, devices: list[LibreDevice], *, refresh: bool = False
) -> StackDetection:
    """Stacks by device_id. Inventories are read only for `may_be_stack` devices, and only once per
    discovery (the client's store; `refresh`: read again); those that could not be read are listed in
    `errors`."""
    candidates = [d for d in devices if may_be_stack(d)]
    skipped = len(devices) - len(candidates)
    if not candidates:
        return StackDetection(skipped=skipped)
    batch = client.inventories(candidates, refresh=refresh)
    stacks: dict[int, Stack] = {}
    for device in candidates:
        stack = detect_stack(batch.rows.get(device.device_id, []), device.serial)
        if stack is not None:
            stacks[device.device_id] = stack
    return StackDetection(stacks, dict(batch.errors), batch.read, batch.reused, skipped)


# --------------------------------------------------------------------------------------- helpers


def _build_stack(root_class: str, rows: list[Mapping[str, Any]], device_serial: str) -> Stack:
    rows = sorted(rows, key=lambda r: as_int(r.get("entPhysicalIndex")) or 0)
    positions = _positions(rows)
    wanted_serial = fold(device_serial)
    master_at = next(
        (
            i
            for i, row in enumerate(rows)
            if wanted_serial and text(row.get("entPhysicalSerialNum")).casefold() == wanted_serial
        ),
        None,
    )
    if master_at is None:
        master_at = positions.index(min(positions))
    members = [
        StackMember(
            position=positions[i],
            serial=text(row.get("entPhysicalSerialNum")),
            model=text(row.get("entPhysicalModelName")),
            name=text(row.get("entPhysicalName")),
            is_master=i == master_at,
        )
        for i, row in enumerate(rows)
    ]
    members.sort(key=lambda m: m.position)
    return Stack(members=tuple(members), shape=_shape(root_class, rows))


def _positions(rows: list[Mapping[str, Any]]) -> list[int]:
    """Member numbers as reported (0-based Juniper FPCs stay 0-based: NetBox accepts 0..255).

    A missing or out-of-range ParentRelPos falls back to the number in the member's name; if the result
    is still incomplete or has duplicates, members are numbered 1..n in index order.
    """
    found: list[int | None] = []
    for row in rows:
        position = as_int(row.get("entPhysicalParentRelPos"))
        if position is None or not 0 <= position <= MAX_VC_POSITION:
            digits = _DIGITS.findall(text(row.get("entPhysicalName")))
            position = int(digits[-1]) if digits else None
            if position is not None and position > MAX_VC_POSITION:
                position = None
        found.append(position)
    if None in found or len(set(found)) != len(found):
        return list(range(1, len(rows) + 1))
    return [p for p in found if p is not None]


def _shape(root_class: str, rows: list[Mapping[str, Any]]) -> StackShape:
    if root_class != "stack":
        return StackShape.CHASSIS_TREE
    indexes = [as_int(r.get("entPhysicalIndex")) or 0 for r in rows]
    names = [text(r.get("entPhysicalName")) for r in rows]
    if all(i % 1000 == 1 for i in indexes) or all(n.isdigit() for n in names):
        return StackShape.CLASSIC_IOS
    return StackShape.IOS_XE
