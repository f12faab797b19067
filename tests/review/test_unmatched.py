"""Unmatched LibreNMS values (core.unmatched) on the simulator's fixture devices against the real test NetBox
with the demo reference data; and the table-editing helpers of core.mapping the Mappings page saves with."""

from __future__ import annotations

from pathlib import Path

import pytest

from core import netbox
from core.librenms import DeviceFilter, LibreDevice, LibreNMSClient
from core.mapping import Mappings, diff_table, load_mappings, save_mappings, table_from_rows
from core.review.unmatched import Choice, Unmatched, check_targets, choices, empty_values, unmatched_values
from core.settings import Settings, load_settings
from tests.conftest import DEMO_MAPPINGS, SIM_TOKEN

DOCK = "Sitting on the Dock of the Bay"
LYON = "Branch Lyon - Rue de la République 42"


@pytest.fixture(scope="module")
def module_settings(stack_env: dict[str, str], sim, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return load_settings(
        {
            "LIBRENMS_URL": sim.url,
            "LIBRENMS_TOKEN": SIM_TOKEN,
            "NETBOX_URL": stack_env["NETBOX_URL"],
            "NETBOX_TOKEN": stack_env["NETBOX_TOKEN"],
        },
        secrets_file=tmp_path_factory.mktemp("unmatched") / "none.toml",
    )


@pytest.fixture(scope="module")
def devices(module_settings: Settings) -> list[LibreDevice]:
    return LibreNMSClient(module_settings.librenms).list_devices(DeviceFilter(show_disabled=True))


@pytest.fixture(scope="module")
def index(module_settings: Settings, reference_data) -> netbox.NetBoxIndex:
    return netbox.load_index(netbox.connect(module_settings))


@pytest.fixture(scope="module")
def demo() -> Mappings:
    return load_mappings(DEMO_MAPPINGS)


def by_value(items: list[Unmatched]) -> dict[str, Unmatched]:
    return {item.value: item for item in items}


def campus(items: list[Unmatched]) -> Unmatched:
    (found,) = [item for item in items if item.value.startswith("Campus North")]
    return found


# ------------------------------------------------------------------ unmatched values


def test_locations_without_a_site_are_listed_with_counts_and_suggestions(devices, index, demo):
    sites = unmatched_values(devices, index, demo)["sites"]
    dock = by_value(sites)[DOCK]
    assert dock.devices == 1
    assert dock.hostnames == ("monitor01.hq.example.net",)
    # no demo site is like it (devtools/demo_data.py leaves it out on purpose): no name or slug is inside
    # the value nor the value inside one, and none is difflib-close (ratio 0.4): nothing is suggested
    assert dock.suggestions == ()
    north = campus(sites)
    assert north.devices == 1
    assert north.suggestions == ()  # a long room description: no site's name resembles it either


def test_hardware_without_a_device_type_is_listed(devices, index, demo):
    hardware = by_value(unmatched_values(devices, index, demo)["device_types"])
    assert hardware["HPE ProLiant DL380 Gen10"].devices == 1
    assert hardware["HPE ProLiant DL380 Gen10"].hostnames == ("backup01.hq.example.net",)


def test_os_without_a_platform_is_listed_but_ping_and_generic_are_not(devices, index, demo):
    platforms = by_value(unmatched_values(devices, index, demo)["platforms"])
    assert "apc" in platforms
    assert "ping" not in platforms and "generic" not in platforms  # validation sets no platform for them


def test_values_that_resolve_are_not_listed(devices, index, demo):
    found = unmatched_values(devices, index, demo)
    sites = by_value(found["sites"])
    assert "HQ Data Center, Row A, 100 Harbor Way, Portsmouth" not in sites  # mapping table
    assert "Lab" not in sites  # exact site name
    device_types = by_value(found["device_types"])
    assert "J9773A 2530-24G-PoEP" not in device_types  # mapping table
    assert "C9300-48P" not in device_types  # part number
    platforms = by_value(found["platforms"])
    assert "ios" not in platforms  # mapping table
    assert "junos" not in platforms  # slug


def test_vm_hardware_is_not_listed(devices, index, demo):
    hardware = {item.value for item in unmatched_values(devices, index, demo)["device_types"]}
    assert not any("VMware" in value or "QEMU" in value for value in hardware)  # a VM has no device type


def test_empty_values_are_a_count_not_a_value(devices, index, demo):
    found = unmatched_values(devices, index, demo)
    assert all(item.value for items in found.values() for item in items)
    empty = empty_values(devices)
    assert empty["sites"] == 2  # newdevice-staging and pdu-zrh-a have no location
    assert empty["device_types"] >= 1  # newdevice-staging has no hardware


def test_most_devices_first(devices, index, demo):
    # take two mappings away: 'HQ Data Center…' (many devices) comes before the single-device values
    mappings = demo.with_entry("sites", "HQ Data Center, Row A, 100 Harbor Way, Portsmouth", None)
    sites = unmatched_values(devices, index, mappings)["sites"]
    assert sites[0].value == "HQ Data Center, Row A, 100 Harbor Way, Portsmouth"
    assert sites[0].devices > 1
    assert [s.devices for s in sites] == sorted((s.devices for s in sites), reverse=True)


def test_suggestions_name_the_closest_objects_by_slug(devices, index, demo):
    mappings = demo.with_entry("sites", LYON, None)
    lyon = by_value(unmatched_values(devices, index, mappings)["sites"])[LYON]
    # the site's name "Branch Lyon" is inside the value; no other site's name or slug is like it
    assert lyon.suggestions == (Choice(ref="br-lyon", name="Branch Lyon"),)


def test_a_saved_mapping_makes_the_value_disappear(devices, index, settings: Settings):
    before = load_mappings(settings.mapping_file)
    assert DOCK in by_value(unmatched_values(devices, index, before)["sites"])
    save_mappings(settings.mapping_file, before.with_entry("sites", DOCK, "lab"))
    after = load_mappings(settings.mapping_file)
    sites = by_value(unmatched_values(devices, index, after)["sites"])
    assert DOCK not in sites
    assert any(v.startswith("Campus North") for v in sites)  # the others stay


def test_a_mapping_to_a_missing_object_does_not_count(devices, index, demo):
    mappings = demo.with_entry("sites", DOCK, "no-such-site")
    assert DOCK in by_value(unmatched_values(devices, index, mappings)["sites"])


# ------------------------------------------------------------------ what a table may point at


def test_check_targets_accepts_slug_name_and_part_number(index):
    assert check_targets(index, "sites", {"a": "hq", "b": "HQ Portsmouth"}) == []
    assert check_targets(index, "device_types", {"a": "mx204", "b": "J9773A"}) == []
    assert check_targets(index, "platforms", {"a": "Cisco IOS"}) == []


def test_check_targets_refuses_unknown_objects(index):
    problems = check_targets(index, "sites", {DOCK: "atlantis", "Lab 2": "lab"})
    assert problems == [f"'atlantis' (for '{DOCK}') is not a NetBox site."]


def test_choices_are_every_object_by_slug(index):
    sites = choices(index, "sites")
    assert {"hq", "br-lyon", "lab"} <= {c.ref for c in sites}
    assert next(c for c in sites if c.ref == "hq").label == "HQ Portsmouth (hq)"


# ------------------------------------------------------------------ editing a table (pure)


def test_table_from_rows_skips_blank_rows_and_reads_nan_as_empty():
    entries, problems = table_from_rows([("Lab 2", "lab"), (None, None), (float("nan"), "  ")])
    assert entries == {"Lab 2": "lab"}
    assert problems == []


def test_table_from_rows_reports_half_rows_and_duplicates():
    _, problems = table_from_rows([("A", ""), ("", "hq"), ("B", "hq"), ("b ", "lab")])
    assert problems == [
        "'A' has no NetBox object: pick one or delete the row.",
        "A row mapping to 'hq' has no LibreNMS value.",
        "'b' is listed twice (values match case-insensitively): keep one row.",
    ]


def test_diff_table_names_each_change():
    change = diff_table({"a": "1", "b": "2", "c": "3"}, {"a": "1", "b": "9", "d": "4"})
    assert change.describe() == ["added 'd' → 4", "changed 'b': 2 → 9", "removed 'c' (was 3)"]
    assert not diff_table({"a": "1"}, {"a": "1"})


def test_with_table_replaces_one_table_and_keeps_the_rest(tmp_path: Path):
    demo = load_mappings(DEMO_MAPPINGS)
    changed = demo.with_table("platforms", {"ios": "cisco-ios"})
    assert changed.platforms == {"ios": "cisco-ios"}
    assert changed.sites == demo.sites and changed.roles == demo.roles
    save_mappings(tmp_path / "m.yaml", changed)
    assert load_mappings(tmp_path / "m.yaml") == changed
