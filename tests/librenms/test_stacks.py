"""Virtual-chassis detection: pure tests on the fixture inventories, plus the fetch pre-filter via the simulator."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from core.librenms import (
    LibreDevice,
    LibreNMSClient,
    Stack,
    StackMember,
    detect_stack,
    detect_stacks,
    may_be_stack,
)
from core.settings import LibreNMSServer, Secret
from devtools.librenms_sim import LibreNMSSimulator
from tests.conftest import FIXTURES

INVENTORY_DIR = FIXTURES / "inventory"


def inventory(hostname: str) -> list[dict]:
    return json.loads((INVENTORY_DIR / f"{hostname}.json").read_text())["inventory"]


def row(
    index: int, cls: str, contained_in: int, pos: int, name: str = "", model: str = "", serial: str = ""
) -> dict:
    return {
        "entPhysicalIndex": index,
        "entPhysicalClass": cls,
        "entPhysicalContainedIn": contained_in,
        "entPhysicalParentRelPos": pos,
        "entPhysicalName": name,
        "entPhysicalModelName": model,
        "entPhysicalSerialNum": serial,
        "entPhysicalDescr": "",
    }


# Juniper EX virtual chassis as a third-party importer models it: a chassis root, FPC members at 0-based positions.
JUNIPER_VC = [
    row(1, "chassis", 0, -1, "Juniper Virtual Chassis", "Virtual Chassis", "PE3719440123"),
    row(2, "chassis", 1, 0, "FPC: EX4300-48T @ 0/*/*", "EX4300-48T", "PE3719440123"),
    row(3, "chassis", 1, 1, "FPC: EX4300-48T @ 1/*/*", "EX4300-48T", "PE3719440456"),
    row(4, "module", 2, 1, "PIC 0", "EX4300-48T", ""),
]


# --------------------------------------------------------------------------------------- detect_stack


def test_ios_xe_stack_has_its_three_members_in_order() -> None:
    stack = detect_stack(inventory("core-sw01.hq.example.net"), "FOC2418L0AB")
    assert stack is not None
    assert [(m.position, m.model) for m in stack.members] == [
        (1, "C9300-48P"),
        (2, "C9300-48P"),
        (3, "C9300-48U"),
    ]
    assert [m.name for m in stack.members] == ["Switch 1", "Switch 2", "Switch 3"]
    assert stack.shape == "ios-xe"


def test_ios_xe_stack_master_is_the_member_with_the_device_serial() -> None:
    stack = detect_stack(inventory("core-sw01.hq.example.net"), "FOC2418L0AB")
    assert stack is not None
    assert stack.master == StackMember(1, "FOC2418L0AB", "C9300-48P", "Switch 1", is_master=True)
    assert sum(m.is_master for m in stack.members) == 1


def test_master_follows_the_device_serial_to_another_member() -> None:
    stack = detect_stack(inventory("core-sw01.hq.example.net"), "foc2418l1cd")
    assert stack is not None
    assert stack.master.position == 2


def test_master_is_the_lowest_position_without_a_matching_serial() -> None:
    stack = detect_stack(inventory("core-sw01.hq.example.net"))
    assert stack is not None
    assert stack.master.position == 1


def test_classic_ios_stack_has_two_members_of_mixed_models() -> None:
    stack = detect_stack(inventory("dist-sw-b2.hq.example.net"), "FDO1724P0AB")
    assert stack == Stack(
        members=(
            StackMember(1, "FDO1724P0AB", "WS-C3750X-48P-S", "1", is_master=True),
            StackMember(2, "FDO1650R1QP", "WS-C3750X-24T-S", "2"),
        ),
        shape="classic-ios",
    )


def test_stack_root_with_one_member_is_not_a_stack() -> None:
    assert detect_stack(inventory("acc-sw-f3-01.hq.example.net"), "JAE24180ABC") is None


def test_isr_router_is_not_a_stack() -> None:
    assert detect_stack(inventory("rtr-wan01.hq.example.net"), "FDO2231M1AB") is None


def test_nexus_with_root_at_index_10_is_not_a_stack() -> None:
    assert detect_stack(inventory("nx-leaf01.dc2.example.net"), "FDO23450ABC") is None


def test_juniper_chassis_tree_keeps_zero_based_positions() -> None:
    stack = detect_stack(JUNIPER_VC, "PE3719440123")
    assert stack is not None
    assert stack.shape == "chassis-tree"
    assert [(m.position, m.serial, m.is_master) for m in stack.members] == [
        (0, "PE3719440123", True),
        (1, "PE3719440456", False),
    ]


def test_empty_inventory_is_not_a_stack() -> None:
    assert detect_stack([]) is None


def test_numbers_as_strings_are_accepted() -> None:
    rows = [{k: str(v) for k, v in r.items()} for r in inventory("dist-sw-b2.hq.example.net")]
    stack = detect_stack(rows, "FDO1724P0AB")
    assert stack is not None
    assert [m.position for m in stack.members] == [1, 2]


def test_missing_positions_fall_back_to_member_names() -> None:
    rows = [
        row(1, "stack", 0, -1, "c93xx Stack"),
        row(1000, "chassis", 1, -1, "Switch 1", "C9300-48P", "A1"),
        row(2000, "chassis", 1, -1, "Switch 2", "C9300-48P", "B2"),
    ]
    stack = detect_stack(rows)
    assert stack is not None
    assert [m.position for m in stack.members] == [1, 2]


def test_duplicate_positions_are_renumbered_in_index_order() -> None:
    rows = [
        row(1, "stack", 0, -1, "Stack"),
        row(1000, "chassis", 1, 1, "a", "M", "A1"),
        row(2000, "chassis", 1, 1, "b", "M", "B2"),
    ]
    stack = detect_stack(rows)
    assert stack is not None
    assert [(m.position, m.serial) for m in stack.members] == [(1, "A1"), (2, "B2")]


def test_chassis_children_of_a_non_root_do_not_make_a_stack() -> None:
    rows = [
        row(1, "chassis", 0, -1, "Chassis", "X", "S0"),
        row(2, "container", 1, 1, "Slot 1"),
        row(3, "chassis", 2, 1, "Sub 1", "Y", "S1"),
        row(4, "chassis", 2, 2, "Sub 2", "Y", "S2"),
    ]
    assert detect_stack(rows) is None


# --------------------------------------------------------------------------------------- may_be_stack


@pytest.mark.parametrize(
    ("os", "type_", "hardware"),
    [
        ("iosxe", "network", "C9300-48P"),
        ("ios", "network", "WS-C3750X-48P-S"),
        ("junos", "network", "EX4300-48T"),
        ("procurve", "network", "J9773A 2530-24G-PoEP"),
        ("arubaos-cx", "network", "JL659A 6300M"),
        ("junos", "", "Juniper Virtual Chassis Switch"),
    ],
)
def test_may_be_stack_for_stackable_network_gear(os: str, type_: str, hardware: str) -> None:
    assert may_be_stack(LibreDevice(device_id=1, hostname="h", os=os, type=type_, hardware=hardware))


@pytest.mark.parametrize(
    ("os", "type_", "hardware"),
    [
        ("linux", "server", "Dell Inc. PowerEdge R650 [1.13.2]"),
        ("vmware-esxi", "server", "Dell Inc. PowerEdge R750"),
        ("windows", "server", "Intel x64"),
        ("fortigate", "firewall", "FGT100F"),
        ("junos", "firewall", "SRX345"),
        ("ping", "server", ""),
        ("apc", "power", "AP8853"),
        ("nxos", "network", "N9K-C93180YC-FX"),
        ("arista_eos", "network", "DCS-7050SX3-48YC8"),
        ("generic", "", ""),
    ],
)
def test_may_be_stack_is_false_for_other_devices(os: str, type_: str, hardware: str) -> None:
    assert not may_be_stack(LibreDevice(device_id=1, hostname="h", os=os, type=type_, hardware=hardware))


# --------------------------------------------------------------------------------------- detect_stacks


@pytest.fixture(scope="module")
def sim() -> Iterator[LibreNMSSimulator]:
    simulator = LibreNMSSimulator(port=0).start()
    yield simulator
    simulator.stop()


@pytest.fixture
def client(sim: LibreNMSSimulator) -> LibreNMSClient:
    return LibreNMSClient(
        LibreNMSServer(key="default", url=sim.url, token=Secret("demo-librenms-token")), retries=0, backoff=0
    )


def test_detect_stacks_fetches_inventory_only_for_candidates(
    sim: LibreNMSSimulator, client: LibreNMSClient
) -> None:
    devices = client.list_devices()
    sim.reset_stats()
    detect_stacks(client, devices)
    fetched = {int(path.split("/")[4]) for path in sim.stats()["by_path"]}
    assert fetched == {d.device_id for d in devices if may_be_stack(d)}
    assert {31, 61, 71, 101, 201, 302, 306}.isdisjoint(fetched)  # nexus, arista, firewall, servers, ping, pdu
    assert sim.stats()["requests"] == len(fetched)


def test_detect_stacks_finds_the_fixture_stacks(client: LibreNMSClient) -> None:
    stacks = detect_stacks(client, client.list_devices()).stacks
    assert set(stacks) == {12, 13}
    assert len(stacks[12].members) == 3
    assert stacks[13].shape == "classic-ios"


def test_detect_stacks_without_candidates_makes_no_request(
    sim: LibreNMSSimulator, client: LibreNMSClient
) -> None:
    servers = [d for d in client.list_devices() if d.type == "server"]
    sim.reset_stats()
    assert detect_stacks(client, servers).stacks == {}
    assert sim.stats()["requests"] == 0
