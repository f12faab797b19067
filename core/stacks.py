"""Virtual-chassis (switch stack) detection from the LibreNMS inventory (contract §4).

The device object never says "stack": `hardware` and `serial` describe one member. A stack is read from
the ENTITY-MIB rows of `/inventory/:id/all`: a root (ContainedIn 0) of class `stack` or `chassis` with two
or more `chassis` children. Everything here is a pure function of those rows, except `detect_stacks`,
which fetches inventories through an injected client — and only for devices that may be stacks.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from core.models import LibreDevice, Stack, StackMember, as_int

if TYPE_CHECKING:
    from core.librenms import LibreNMSClient

__all__ = ["STACKABLE_OS", "detect_stack", "detect_stacks", "may_be_stack"]

SHAPE_IOS_XE = "ios-xe"
SHAPE_CLASSIC_IOS = "classic-ios"
SHAPE_CHASSIS_TREE = "chassis-tree"

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
    """Cheap pre-filter: True for network gear that can stack, so its inventory is worth fetching."""
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
        if parent is not None and _text(row.get("entPhysicalClass")).casefold() == _MEMBER_CLASS:
            children.setdefault(parent, []).append(row)
    for root in rows:
        root_class = _text(root.get("entPhysicalClass")).casefold()
        if as_int(root.get("entPhysicalContainedIn")) != 0 or root_class not in _ROOT_CLASSES:
            continue
        index = as_int(root.get("entPhysicalIndex"))
        members = children.get(index, []) if index is not None and index != 0 else []
        if len(members) >= 2:
            return _build_stack(root_class, members, device_serial)
    return None


def detect_stacks(client: LibreNMSClient, devices: list[LibreDevice]) -> dict[int, Stack]:
    """Stacks by device_id. Inventories are fetched (concurrently, cached) only for `may_be_stack` devices.

    A device whose inventory could not be fetched is simply not a stack here; the client keeps the error
    in `client.inventory_errors`.
    """
    candidates = [d for d in devices if may_be_stack(d)]
    if not candidates:
        return {}
    inventories = client.inventories([d.device_id for d in candidates])
    stacks: dict[int, Stack] = {}
    for device in candidates:
        stack = detect_stack(inventories.get(device.device_id, []), device.serial)
        if stack is not None:
            stacks[device.device_id] = stack
    return stacks


# --------------------------------------------------------------------------------------- helpers


def _build_stack(root_class: str, rows: list[Mapping[str, Any]], device_serial: str) -> Stack:
    rows = sorted(rows, key=lambda r: as_int(r.get("entPhysicalIndex")) or 0)
    positions = _positions(rows)
    wanted_serial = device_serial.strip().casefold()
    master_at = next(
        (
            i
            for i, row in enumerate(rows)
            if wanted_serial and _text(row.get("entPhysicalSerialNum")).casefold() == wanted_serial
        ),
        None,
    )
    if master_at is None:
        master_at = positions.index(min(positions))
    members = [
        StackMember(
            position=positions[i],
            serial=_text(row.get("entPhysicalSerialNum")),
            model=_text(row.get("entPhysicalModelName")),
            name=_text(row.get("entPhysicalName")),
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
            digits = _DIGITS.findall(_text(row.get("entPhysicalName")))
            position = int(digits[-1]) if digits else None
            if position is not None and position > MAX_VC_POSITION:
                position = None
        found.append(position)
    if None in found or len(set(found)) != len(found):
        return list(range(1, len(rows) + 1))
    return [p for p in found if p is not None]


def _shape(root_class: str, rows: list[Mapping[str, Any]]) -> str:
    if root_class != "stack":
        return SHAPE_CHASSIS_TREE
    indexes = [as_int(r.get("entPhysicalIndex")) or 0 for r in rows]
    names = [_text(r.get("entPhysicalName")) for r in rows]
    if all(i % 1000 == 1 for i in indexes) or all(n.isdigit() for n in names):
        return SHAPE_CLASSIC_IOS
    return SHAPE_IOS_XE


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()
