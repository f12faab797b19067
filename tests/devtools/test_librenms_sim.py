"""Behaviour of the LibreNMS API simulator (devtools/librenms_sim.py) against what docs/librenms-api.md describes."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from devtools.librenms_sim import DEFAULT_DATA_DIR, DEFAULT_TOKEN, LibreNMSSimulator, synthesize_devices
from tests.conftest import ROOT

TOKEN = DEFAULT_TOKEN
AUTH = {"X-Auth-Token": TOKEN}
FIXTURE_DEVICES: list[dict[str, Any]] = json.loads((DEFAULT_DATA_DIR / "devices.json").read_text())["devices"]
FIXTURE_LOCATIONS: list[dict[str, Any]] = json.loads((DEFAULT_DATA_DIR / "locations.json").read_text())[
    "locations"
]
FIXTURE_SYSTEM: list[dict[str, Any]] = json.loads((DEFAULT_DATA_DIR / "system.json").read_text())["system"]
ALL_IDS = [device["device_id"] for device in FIXTURE_DEVICES]


def fixture_inventory(hostname: str) -> list[dict[str, Any]]:
    return json.loads((DEFAULT_DATA_DIR / "inventory" / f"{hostname}.json").read_text())["inventory"]


def fixture_device(device_id: int) -> dict[str, Any]:
    return next(device for device in FIXTURE_DEVICES if device["device_id"] == device_id)


def ids_where(predicate: Any) -> list[int]:
    """Fixture ids matching ``predicate``, in the file's (= default) order."""
    return [device["device_id"] for device in FIXTURE_DEVICES if predicate(device)]


def contains(column: str, needle: str) -> Any:
    return lambda device: device[column] is not None and needle.lower() in device[column].lower()


def get(sim: LibreNMSSimulator, path: str, **params: str) -> requests.Response:
    return requests.get(f"{sim.url}/api/v0{path}", headers=AUTH, params=params, timeout=10)


def device_ids(sim: LibreNMSSimulator, **params: str) -> list[int]:
    response = get(sim, "/devices", **params)
    assert response.status_code == 200
    return [device["device_id"] for device in response.json()["devices"]]


@pytest.fixture(scope="module")
def sim() -> Iterator[LibreNMSSimulator]:
    with LibreNMSSimulator(port=0) as simulator:
        yield simulator


@pytest.fixture
def fresh_sim() -> Iterator[LibreNMSSimulator]:
    """A private simulator for tests that change faults or count requests."""
    with LibreNMSSimulator(port=0) as simulator:
        yield simulator


@pytest.fixture
def small_data_dir(tmp_path: Path) -> Path:
    """Two fixture devices, no locations, an addresses file for core-sw01."""
    core, pdu = fixture_device(12), fixture_device(306)
    (tmp_path / "devices.json").write_text(json.dumps({"status": "ok", "devices": [core, pdu], "count": 2}))
    (tmp_path / "locations.json").write_text(json.dumps({"status": "ok", "locations": [], "count": 0}))
    (tmp_path / "system.json").write_text(json.dumps({"status": "ok", "system": FIXTURE_SYSTEM, "count": 1}))
    (tmp_path / "addresses").mkdir()
    addresses = [
        {
            "ipv4_address_id": 900,
            "ipv4_address": "10.10.0.2",
            "ipv4_prefixlen": 23,
            "ipv4_network_id": 77,
            "port_id": 5001,
            "context_name": None,
        },
        {
            "ipv4_address_id": 901,
            "ipv4_address": "192.0.2.77",
            "ipv4_prefixlen": 32,
            "ipv4_network_id": 78,
            "port_id": 5002,
            "context_name": "mgmt",
        },
    ]
    (tmp_path / "addresses" / "core-sw01.hq.example.net.json").write_text(json.dumps(addresses))
    return tmp_path


# --------------------------------------------------------------------------- authentication


def test_missing_token_returns_401_with_laravel_body(sim: LibreNMSSimulator) -> None:
    response = requests.get(f"{sim.url}/api/v0/devices", timeout=10)
    assert response.status_code == 401
    assert response.json() == {"message": "Unauthenticated."}


def test_bad_token_returns_401_with_json_content_type(sim: LibreNMSSimulator) -> None:
    response = requests.get(f"{sim.url}/api/v0/devices", headers={"X-Auth-Token": "wrong"}, timeout=10)
    assert response.status_code == 401
    assert response.headers["Content-Type"] == "application/json"
    assert response.json() == {"message": "Unauthenticated."}


def test_bad_token_on_unknown_path_returns_401_not_404(sim: LibreNMSSimulator) -> None:
    response = requests.get(f"{sim.url}/api/v0/no/such/route", headers={"X-Auth-Token": "wrong"}, timeout=10)
    assert response.status_code == 401
    assert response.json() == {"message": "Unauthenticated."}


def test_api_token_query_parameter_is_accepted_without_header(sim: LibreNMSSimulator) -> None:
    response = requests.get(f"{sim.url}/api/v0/system", params={"api_token": TOKEN}, timeout=10)
    assert response.status_code == 200


def test_bearer_token_is_accepted_without_header(sim: LibreNMSSimulator) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    response = requests.get(f"{sim.url}/api/v0/system", headers=headers, timeout=10)
    assert response.status_code == 200


def test_bad_header_token_is_not_rescued_by_query_token(sim: LibreNMSSimulator) -> None:
    response = requests.get(
        f"{sim.url}/api/v0/system", headers={"X-Auth-Token": "wrong"}, params={"api_token": TOKEN}, timeout=10
    )
    assert response.status_code == 401


def test_every_configured_token_is_accepted() -> None:
    with LibreNMSSimulator(tokens=["first-token", "second-token"]) as simulator:
        for token in ("first-token", "second-token"):
            response = requests.get(
                f"{simulator.url}/api/v0/system", headers={"X-Auth-Token": token}, timeout=10
            )
            assert response.status_code == 200
        response = requests.get(f"{simulator.url}/api/v0/system", headers=AUTH, timeout=10)
        assert response.status_code == 401


# --------------------------------------------------------------------------- conventions


def test_route_map_is_an_object_without_status(sim: LibreNMSSimulator) -> None:
    body = get(sim, "").json()
    assert "status" not in body
    assert body["list_devices"].endswith("/api/v0/devices")


def test_success_envelope_keys_are_status_payload_count_in_order(sim: LibreNMSSimulator) -> None:
    body = get(sim, "/devices").json()
    assert list(body) == ["status", "devices", "count"]
    assert body["status"] == "ok"
    assert body["count"] == len(body["devices"]) == len(FIXTURE_DEVICES)


def test_error_envelope_has_status_and_message_only(sim: LibreNMSSimulator) -> None:
    response = get(sim, "/devices/nope.example.net")
    assert response.status_code == 404
    assert response.json() == {"status": "error", "message": "Device nope.example.net does not exist"}


def test_unknown_route_returns_404_error_envelope(sim: LibreNMSSimulator) -> None:
    response = get(sim, "/no/such/route")
    assert response.status_code == 404
    assert response.json() == {"status": "error", "message": "This API route doesn't exist."}


def test_unimplemented_device_subroute_returns_404_error_envelope(sim: LibreNMSSimulator) -> None:
    response = get(sim, "/devices/12/vlans")
    assert response.status_code == 404
    assert response.json()["status"] == "error"


def test_write_methods_are_refused_with_error_envelope(sim: LibreNMSSimulator) -> None:
    response = requests.post(f"{sim.url}/api/v0/devices", headers=AUTH, json={"hostname": "x"}, timeout=10)
    assert response.status_code == 405
    assert response.json()["status"] == "error"


def test_body_is_pretty_printed_with_four_spaces(sim: LibreNMSSimulator) -> None:
    assert get(sim, "/system").text.startswith('{\n    "status": "ok",\n    "system": [\n        {')


def test_body_escapes_slashes_and_non_ascii_like_php(sim: LibreNMSSimulator) -> None:
    response = get(sim, "/devices")
    assert response.content.isascii()
    assert "http:\\/\\/www.cisco.com" in response.text
    assert "\\u6771\\u4eac" in response.text  # 東京
    assert response.json()["devices"] == FIXTURE_DEVICES


def test_empty_query_values_count_as_absent(sim: LibreNMSSimulator) -> None:
    assert device_ids(sim, type="", query="") == ALL_IDS


def test_query_values_are_trimmed(sim: LibreNMSSimulator) -> None:
    assert device_ids(sim, type=" sysName ", query=" FW-HQ01 ") == [71, 72]


# --------------------------------------------------------------------------- list: order


def test_default_order_is_hostname_ascending_case_insensitive(sim: LibreNMSSimulator) -> None:
    hostnames = [device["hostname"] for device in get(sim, "/devices").json()["devices"]]
    assert hostnames[0] == "10.40.2.11"
    assert hostnames[-1] == "ZRH-CORE-01.Example.NET"
    assert hostnames == sorted(hostnames, key=str.lower)


def test_order_desc_reverses_the_column(sim: LibreNMSSimulator) -> None:
    assert device_ids(sim, order="device_id desc") == sorted(ALL_IDS, reverse=True)


def test_order_keyword_and_column_are_case_insensitive(sim: LibreNMSSimulator) -> None:
    assert device_ids(sim, order="DEVICE_ID ASC") == sorted(ALL_IDS)


def test_order_puts_nulls_first_ascending(sim: LibreNMSSimulator) -> None:
    expected = [
        device["device_id"]
        for device in sorted(
            FIXTURE_DEVICES, key=lambda d: (d["sysName"] is not None, (d["sysName"] or "").lower())
        )
    ]
    assert device_ids(sim, order="sysName") == expected


@pytest.mark.parametrize(
    "order", ["device_id  desc", "device_id;drop", "device_id desc limit 1", "device_id2"]
)
def test_order_not_matching_the_pattern_is_ignored(sim: LibreNMSSimulator, order: str) -> None:
    assert device_ids(sim, order=order) == ALL_IDS


def test_order_by_unknown_column_returns_laravel_500(sim: LibreNMSSimulator) -> None:
    response = get(sim, "/devices", order="nonexistent desc")
    assert response.status_code == 500
    assert response.json() == {"message": "Server Error"}


# --------------------------------------------------------------------------- list: type filters


@pytest.mark.parametrize("kind", ["bogus", "all", "SYSNAME", "Disabled"])
def test_unknown_or_wrong_case_type_means_no_filter(sim: LibreNMSSimulator, kind: str) -> None:
    assert device_ids(sim, type=kind, query="FW-HQ01") == ALL_IDS


def test_sysname_filter_is_exact(sim: LibreNMSSimulator) -> None:
    assert device_ids(sim, type="sysName", query="FW-HQ01") == [71, 72]
    assert device_ids(sim, type="sysName", query="FW-HQ") == []


def test_sysname_filter_is_case_insensitive(sim: LibreNMSSimulator) -> None:
    assert device_ids(sim, type="sysName", query="fw-hq01") == [71, 72]


def test_hostname_filter_is_like_substring(sim: LibreNMSSimulator) -> None:
    assert device_ids(sim, type="hostname", query="fw-hq") == [71, 72]


def test_hostname_filter_is_case_insensitive(sim: LibreNMSSimulator) -> None:
    assert device_ids(sim, type="hostname", query="zrh-core") == [308]


def test_like_underscore_matches_any_single_character(sim: LibreNMSSimulator) -> None:
    assert device_ids(sim, type="hostname", query="fw_hq") == [71, 72]


def test_like_percent_matches_any_run_of_characters(sim: LibreNMSSimulator) -> None:
    assert device_ids(sim, type="hostname", query="core%hq") == [12]


def test_like_without_query_matches_every_non_null_value(sim: LibreNMSSimulator) -> None:
    assert device_ids(sim, type="hostname") == ALL_IDS
    assert device_ids(sim, type="serial") == ids_where(lambda d: d["serial"] is not None)


def test_display_filter_matches_custom_display_name(sim: LibreNMSSimulator) -> None:
    assert device_ids(sim, type="display", query="zürich") == [308]


@pytest.mark.parametrize(
    ("column", "query"),
    [("serial", "foc"), ("version", "17.9"), ("hardware", "c9300"), ("features", "universalk9")],
)
def test_text_column_filters_are_like(sim: LibreNMSSimulator, column: str, query: str) -> None:
    expected = ids_where(contains(column, query))
    assert expected
    assert device_ids(sim, type=column, query=query) == expected


def test_os_filter_is_exact_and_case_insensitive(sim: LibreNMSSimulator) -> None:
    expected = ids_where(lambda d: d["os"] == "ios")
    assert 47 in expected
    assert device_ids(sim, type="os", query="IOS") == expected


def test_device_type_filter_is_exact(sim: LibreNMSSimulator) -> None:
    assert device_ids(sim, type="type", query="firewall") == ids_where(lambda d: d["type"] == "firewall")
    assert set(device_ids(sim, type="type", query="firewall")) == {71, 72, 73}
    assert device_ids(sim, type="type", query="fire") == []


def test_location_filter_matches_location_name(sim: LibreNMSSimulator) -> None:
    expected = ids_where(contains("location", "zürich"))
    assert set(expected) == {207, 308}
    assert device_ids(sim, type="location", query="ZÜRICH") == expected


def test_location_id_filter_is_exact(sim: LibreNMSSimulator) -> None:
    expected = ids_where(lambda d: d["location_id"] == 8)
    assert 111 in expected
    assert device_ids(sim, type="location_id", query="8") == expected


def test_device_id_filter(sim: LibreNMSSimulator) -> None:
    assert device_ids(sim, type="device_id", query="71") == [71]


def test_active_selects_not_ignored_not_disabled(sim: LibreNMSSimulator) -> None:
    expected = ids_where(lambda d: d["ignore"] == 0 and d["disabled"] == 0)
    assert 303 not in expected and 304 not in expected and 12 in expected
    assert device_ids(sim, type="active") == expected


def test_ignored_selects_ignored_enabled_devices(sim: LibreNMSSimulator) -> None:
    assert device_ids(sim, type="ignored") == ids_where(lambda d: d["ignore"] == 1 and d["disabled"] == 0)
    assert device_ids(sim, type="ignored") == [304]


def test_disabled_selects_disabled_devices(sim: LibreNMSSimulator) -> None:
    assert device_ids(sim, type="disabled") == ids_where(lambda d: d["disabled"] == 1)
    assert device_ids(sim, type="disabled") == [303]


def test_up_excludes_ignored_disabled_and_notify_disabled(sim: LibreNMSSimulator) -> None:
    expected = ids_where(
        lambda d: d["status"] == 1 and d["ignore"] == 0 and d["disabled"] == 0 and d["disable_notify"] == 0
    )
    assert 12 in expected
    assert device_ids(sim, type="up") == expected


def test_down_excludes_devices_with_notifications_disabled(sim: LibreNMSSimulator) -> None:
    expected = ids_where(
        lambda d: d["status"] == 0 and d["ignore"] == 0 and d["disabled"] == 0 and d["disable_notify"] == 0
    )
    down = device_ids(sim, type="down")
    assert down == expected
    assert 305 in down and 308 not in down and 304 not in down and 303 not in down


def test_ipv4_filter_matches_device_address(sim: LibreNMSSimulator) -> None:
    assert device_ids(sim, type="ipv4", query="10.10.0.2") == [12]


@pytest.mark.parametrize("query", ["2001:db8:40::10", "2001:0DB8:0040:0000:0000:0000:0000:0010"])
def test_ipv6_filter_accepts_compressed_and_full_forms(sim: LibreNMSSimulator, query: str) -> None:
    assert device_ids(sim, type="ipv6", query=query) == [301]


def test_mac_filter_matches_a_port_mac(sim: LibreNMSSimulator) -> None:
    mac = get(sim, "/devices/12/ports", columns="ifPhysAddress").json()["ports"][0]["ifPhysAddress"]
    assert device_ids(sim, type="mac", query=mac) == [12]


# --------------------------------------------------------------------------- single device


def test_get_device_by_id(sim: LibreNMSSimulator) -> None:
    body = get(sim, "/devices/12").json()
    assert list(body) == ["status", "devices", "count"]
    assert body["count"] == 1
    assert body["devices"][0]["hostname"] == "core-sw01.hq.example.net"


def test_get_device_by_hostname_is_case_insensitive(sim: LibreNMSSimulator) -> None:
    assert get(sim, "/devices/CORE-SW01.HQ.example.NET").json()["devices"][0]["device_id"] == 12


def test_get_device_by_ip_hostname(sim: LibreNMSSimulator) -> None:
    assert get(sim, "/devices/10.40.2.11").json()["devices"][0]["device_id"] == 47


def test_get_device_does_not_match_sysname(sim: LibreNMSSimulator) -> None:
    assert get(sim, "/devices/FW-HQ01").status_code == 404


def test_get_device_drops_dependency_keys_only(sim: LibreNMSSimulator) -> None:
    device = get(sim, "/devices/83").json()["devices"][0]
    expected = {k: v for k, v in fixture_device(83).items() if not k.startswith("dependency_parent")}
    assert device == expected
    assert list(device) == list(expected)


def test_get_device_keeps_parent_id_for_vms(sim: LibreNMSSimulator) -> None:
    assert get(sim, "/devices/201").json()["devices"][0]["parent_id"] == 111


# --------------------------------------------------------------------------- inventory


def test_inventory_without_parameters_returns_roots(sim: LibreNMSSimulator) -> None:
    rows = get(sim, "/inventory/core-sw01.hq.example.net").json()["inventory"]
    assert [row["entPhysicalIndex"] for row in rows] == [1]
    assert rows[0]["entPhysicalClass"] == "stack"


def test_inventory_root_of_nexus_is_at_index_10(sim: LibreNMSSimulator) -> None:
    rows = get(sim, "/inventory/31", entPhysicalContainedIn="0").json()["inventory"]
    assert [row["entPhysicalIndex"] for row in rows] == [10]


def test_inventory_contained_in_returns_children(sim: LibreNMSSimulator) -> None:
    expected = [
        row for row in fixture_inventory("core-sw01.hq.example.net") if row["entPhysicalContainedIn"] == 1
    ]
    body = get(sim, "/inventory/core-sw01.hq.example.net", entPhysicalContainedIn="1").json()
    assert body["inventory"] == expected
    assert [row["entPhysicalName"] for row in body["inventory"]] == ["Switch 1", "Switch 2", "Switch 3"]


def test_inventory_class_filter_is_anded_with_contained_in(sim: LibreNMSSimulator) -> None:
    rows = fixture_inventory("core-sw01.hq.example.net")
    expected = [r for r in rows if r["entPhysicalContainedIn"] == 1000 and r["entPhysicalClass"] == "fan"]
    assert expected
    params = {"entPhysicalContainedIn": "1000", "entPhysicalClass": "fan"}
    assert get(sim, "/inventory/12", **params).json()["inventory"] == expected


def test_inventory_all_returns_every_row_and_ignores_parameters(sim: LibreNMSSimulator) -> None:
    body = get(sim, "/inventory/core-sw01.hq.example.net/all", entPhysicalClass="fan").json()
    assert body["inventory"] == fixture_inventory("core-sw01.hq.example.net")
    assert body["count"] == len(body["inventory"])


def test_inventory_of_known_device_without_file_is_empty(sim: LibreNMSSimulator) -> None:
    body = get(sim, "/inventory/ex-vc-dc2.example.net").json()
    assert body == {"status": "ok", "inventory": [], "count": 0}


def test_inventory_of_unknown_hostname_is_400(sim: LibreNMSSimulator) -> None:
    response = get(sim, "/inventory/nope.example.net")
    assert response.status_code == 400
    assert response.json() == {"status": "error", "message": "Invalid device provided"}


def test_inventory_of_unknown_numeric_id_is_empty_200(sim: LibreNMSSimulator) -> None:
    response = get(sim, "/inventory/99999")
    assert response.status_code == 200
    assert response.json()["inventory"] == []


def test_inventory_all_of_unknown_device_is_empty_200(sim: LibreNMSSimulator) -> None:
    response = get(sim, "/inventory/nope.example.net/all")
    assert response.status_code == 200
    assert response.json()["inventory"] == []


# --------------------------------------------------------------------------- locations and system


def test_locations_list_matches_fixture(sim: LibreNMSSimulator) -> None:
    body = get(sim, "/resources/locations").json()
    assert body == {"status": "ok", "locations": FIXTURE_LOCATIONS, "count": len(FIXTURE_LOCATIONS)}


def test_get_location_by_id_or_name_returns_object(sim: LibreNMSSimulator) -> None:
    by_id = get(sim, "/location/4").json()
    assert by_id == {"status": "ok", "get_location": FIXTURE_LOCATIONS[3]}
    by_name = get(sim, "/location/" + FIXTURE_LOCATIONS[3]["location"].upper()).json()
    assert by_name == by_id


def test_unknown_location_is_404(sim: LibreNMSSimulator) -> None:
    assert get(sim, "/location/999").status_code == 404


def test_no_locations_returns_404(small_data_dir: Path) -> None:
    with LibreNMSSimulator(data_dir=small_data_dir) as simulator:
        response = get(simulator, "/resources/locations")
    assert response.status_code == 404
    assert response.json() == {"status": "error", "message": "Locations do not exist"}


def test_system_returns_fixture(sim: LibreNMSSimulator) -> None:
    assert get(sim, "/system").json() == {"status": "ok", "system": FIXTURE_SYSTEM, "count": 1}


# --------------------------------------------------------------------------- ip addresses and ports


def test_ip_addresses_are_synthesized_for_ipv4(sim: LibreNMSSimulator) -> None:
    rows = get(sim, "/devices/core-sw01.hq.example.net/ip").json()["addresses"]
    assert len(rows) == 1
    assert list(rows[0]) == [
        "ipv4_address_id",
        "ipv4_address",
        "ipv4_prefixlen",
        "ipv4_network_id",
        "port_id",
        "context_name",
    ]
    assert rows[0]["ipv4_address"] == "10.10.0.2"
    assert rows[0]["ipv4_prefixlen"] == 24


def test_ip_addresses_are_synthesized_for_ipv6_in_both_forms(sim: LibreNMSSimulator) -> None:
    row = get(sim, "/devices/301/ip").json()["addresses"][0]
    assert row["ipv6_address"] == "2001:0db8:0040:0000:0000:0000:0000:0010"
    assert row["ipv6_compressed"] == "2001:db8:40::10"
    assert row["ipv6_prefixlen"] == 64


def test_ip_addresses_404_for_device_without_ip(sim: LibreNMSSimulator) -> None:
    response = get(sim, "/devices/newdevice-staging.example.net/ip")
    assert response.status_code == 404
    assert response.json() == {"status": "error", "message": "Device 305 does not have any IP addresses"}


def test_ip_addresses_come_from_addresses_file_when_present(small_data_dir: Path) -> None:
    with LibreNMSSimulator(data_dir=small_data_dir) as simulator:
        rows = get(simulator, "/devices/12/ip").json()["addresses"]
        assert [row["ipv4_address"] for row in rows] == ["10.10.0.2", "192.0.2.77"]
        assert device_ids(simulator, type="ipv4", query="192.0.2.77") == [12]


def test_ports_default_to_ifname_only(sim: LibreNMSSimulator) -> None:
    body = get(sim, "/devices/12/ports").json()
    assert body == {"status": "ok", "ports": [{"ifName": "Vlan1"}], "count": 1}


def test_ports_columns_select_and_order_fields(sim: LibreNMSSimulator) -> None:
    port = get(sim, "/devices/12/ports", columns="port_id, ifName,ifOperStatus").json()["ports"][0]
    assert list(port) == ["port_id", "ifName", "ifOperStatus"]
    assert port["ifOperStatus"] == "up"


def test_ports_with_unknown_column_is_400(sim: LibreNMSSimulator) -> None:
    response = get(sim, "/devices/12/ports", columns="ifName,bogus")
    assert response.status_code == 400
    assert response.json() == {"status": "error", "message": "Invalid columns: bogus"}


def test_ports_404_for_device_without_ip(sim: LibreNMSSimulator) -> None:
    response = get(sim, "/devices/305/ports")
    assert response.status_code == 404
    assert response.json() == {"status": "error", "message": "No ports found"}


@pytest.mark.parametrize(
    ("device_id", "if_name"), [(12, "Vlan1"), (47, "Vlan1"), (31, "mgmt0"), (204, "eth0"), (71, "Ethernet0")]
)
def test_management_port_name_follows_os(sim: LibreNMSSimulator, device_id: int, if_name: str) -> None:
    assert get(sim, f"/devices/{device_id}/ports").json()["ports"] == [{"ifName": if_name}]


def test_port_mac_is_twelve_lowercase_hex_digits(sim: LibreNMSSimulator) -> None:
    mac = get(sim, "/devices/12/ports", columns="ifPhysAddress").json()["ports"][0]["ifPhysAddress"]
    assert len(mac) == 12 and mac == mac.lower() and int(mac, 16) >= 0


# --------------------------------------------------------------------------- variants


@pytest.fixture(scope="module")
def location_object_sim() -> Iterator[LibreNMSSimulator]:
    with LibreNMSSimulator(location_object=True) as simulator:
        yield simulator


@pytest.fixture(scope="module")
def legacy_sim() -> Iterator[LibreNMSSimulator]:
    with LibreNMSSimulator(legacy=True) as simulator:
        yield simulator


def test_location_object_variant_in_list(location_object_sim: LibreNMSSimulator) -> None:
    devices = {d["device_id"]: d for d in get(location_object_sim, "/devices").json()["devices"]}
    location = next(row for row in FIXTURE_LOCATIONS if row["id"] == fixture_device(12)["location_id"])
    assert devices[12]["location"] == location
    assert list(devices[12]["location"]) == ["id", "location", "lat", "lng", "timestamp", "fixed_coordinates"]


def test_location_object_variant_in_single_device(location_object_sim: LibreNMSSimulator) -> None:
    device = get(location_object_sim, "/devices/308").json()["devices"][0]
    assert device["location"]["id"] == fixture_device(308)["location_id"]
    assert device["location"]["location"] == fixture_device(308)["location"]


def test_location_object_variant_is_null_without_location(location_object_sim: LibreNMSSimulator) -> None:
    assert get(location_object_sim, "/devices/306").json()["devices"][0]["location"] is None


def test_location_object_variant_still_filters_by_name(location_object_sim: LibreNMSSimulator) -> None:
    assert set(device_ids(location_object_sim, type="location", query="zürich")) == {207, 308}


def test_legacy_list_returns_numbers_as_strings(legacy_sim: LibreNMSSimulator) -> None:
    device = next(d for d in get(legacy_sim, "/devices").json()["devices"] if d["device_id"] == "47")
    assert device["status"] == "1"
    assert device["port"] == "161"
    assert device["lat"] == str(fixture_device(47)["lat"])
    assert device["hostname"] == "10.40.2.11"


def test_legacy_single_device_status_is_boolean(legacy_sim: LibreNMSSimulator) -> None:
    assert get(legacy_sim, "/devices/12").json()["devices"][0]["status"] is True
    assert get(legacy_sim, "/devices/304").json()["devices"][0]["status"] is False


def test_legacy_single_device_icon_has_images_prefix(legacy_sim: LibreNMSSimulator) -> None:
    device = get(legacy_sim, "/devices/12").json()["devices"][0]
    assert device["icon"] == "images/os/" + fixture_device(12)["icon"]


# --------------------------------------------------------------------------- synthetic scale


def test_synthesize_devices_returns_n_unique_devices() -> None:
    devices = synthesize_devices(FIXTURE_DEVICES, 250)
    assert len(devices) == 250
    for column in ("device_id", "hostname", "ip", "sysName", "serial"):
        values = [str(d[column]).lower() for d in devices if d[column]]
        assert len(values) == len(set(values)), column
    assert {d["device_id"] for d in devices} == set(range(1, 251))


def test_synthesize_devices_keeps_shapes_and_credentials() -> None:
    devices = synthesize_devices(FIXTURE_DEVICES, len(FIXTURE_DEVICES))
    for template, device in zip(FIXTURE_DEVICES, devices, strict=True):
        assert list(device) == list(template)
        assert device["community"] == template["community"]
        assert device["authpass"] == template["authpass"]


def test_synthesize_devices_is_deterministic() -> None:
    assert synthesize_devices(FIXTURE_DEVICES, 90) == synthesize_devices(FIXTURE_DEVICES, 90)


def test_synthetic_parents_point_to_synthetic_hypervisors() -> None:
    devices = synthesize_devices(FIXTURE_DEVICES, 120)
    by_id = {d["device_id"]: d for d in devices}
    vms = [d for d in devices if "parent_id" in d]
    assert len(vms) == 9
    assert all(by_id[vm["parent_id"]]["os"] == "vmware-esxi" for vm in vms)


def test_synthetic_server_serves_n_devices() -> None:
    with LibreNMSSimulator(synthetic=100) as simulator:
        body = get(simulator, "/devices").json()
        assert body["count"] == len(body["devices"]) == 100
        core = next(d for d in body["devices"] if d["hostname"].startswith("core-sw01-s"))
        rows = get(simulator, f"/inventory/{core['hostname']}/all").json()["inventory"]
    assert len(rows) == len(fixture_inventory("core-sw01.hq.example.net"))
    assert {row["device_id"] for row in rows} == {core["device_id"]}
    switch_1 = next(row for row in rows if row["entPhysicalName"] == "Switch 1")
    assert switch_1["entPhysicalSerialNum"] == core["serial"]


# --------------------------------------------------------------------------- faults and stats


def control(sim: LibreNMSSimulator, method: str, what: str, body: Any = None) -> requests.Response:
    return requests.request(method, f"{sim.url}/_sim/{what}", json=body, timeout=10)


def test_fail_next_fails_n_requests_then_recovers(fresh_sim: LibreNMSSimulator) -> None:
    assert control(fresh_sim, "POST", "faults", {"fail_next": 2}).status_code == 200
    for _ in range(2):
        response = get(fresh_sim, "/system")
        assert response.status_code == 500
        assert response.json() == {"message": "Server Error"}
    assert get(fresh_sim, "/system").status_code == 200


def test_fail_next_with_403_uses_laravel_body(fresh_sim: LibreNMSSimulator) -> None:
    fresh_sim.set_faults(fail_next=1, error_status=403)
    response = get(fresh_sim, "/devices")
    assert response.status_code == 403
    assert response.json() == {"message": "This action is unauthorized."}


def test_fail_next_with_503_answers_html(fresh_sim: LibreNMSSimulator) -> None:
    fresh_sim.set_faults(fail_next=1, error_status=503)
    response = get(fresh_sim, "/devices")
    assert response.status_code == 503
    assert response.headers["Content-Type"].startswith("text/html")


def test_error_rate_one_fails_every_request_until_cleared(fresh_sim: LibreNMSSimulator) -> None:
    fresh_sim.set_faults(error_rate=1.0)
    assert [get(fresh_sim, "/system").status_code for _ in range(5)] == [500] * 5
    assert control(fresh_sim, "DELETE", "faults").status_code == 200
    assert get(fresh_sim, "/system").status_code == 200


def test_truncate_next_sends_unparsable_json_with_matching_length(fresh_sim: LibreNMSSimulator) -> None:
    fresh_sim.set_faults(truncate_next=1)
    response = get(fresh_sim, "/devices")
    assert response.status_code == 200
    assert int(response.headers["Content-Length"]) == len(response.content)
    with pytest.raises(ValueError):
        response.json()
    assert get(fresh_sim, "/devices").json()["count"] == len(FIXTURE_DEVICES)


def test_truncate_rate_one_truncates_every_answer(fresh_sim: LibreNMSSimulator) -> None:
    fresh_sim.set_faults(truncate_rate=1.0, seed=7)
    for _ in range(3):
        with pytest.raises(ValueError):
            get(fresh_sim, "/system").json()


def test_delay_postpones_the_answer(fresh_sim: LibreNMSSimulator) -> None:
    fresh_sim.set_faults(delay=0.3)
    started = time.monotonic()
    assert get(fresh_sim, "/system").status_code == 200
    assert time.monotonic() - started >= 0.3


def test_faults_can_be_set_at_start() -> None:
    with LibreNMSSimulator(faults={"fail_next": 1}) as simulator:
        assert get(simulator, "/system").status_code == 500
        assert get(simulator, "/system").status_code == 200


def test_fault_endpoint_rejects_unknown_or_invalid_switches(fresh_sim: LibreNMSSimulator) -> None:
    assert control(fresh_sim, "POST", "faults", {"explode": True}).status_code == 400
    assert control(fresh_sim, "POST", "faults", {"error_rate": 2}).status_code == 400
    assert control(fresh_sim, "POST", "faults", ["fail_next"]).status_code == 400
    assert control(fresh_sim, "GET", "faults").json()["error_rate"] == 0


def test_control_endpoints_are_not_reachable_under_the_api(fresh_sim: LibreNMSSimulator) -> None:
    response = requests.post(f"{fresh_sim.url}/api/v0/_sim/faults", json={"fail_next": 5}, timeout=10)
    assert response.status_code == 401
    assert get(fresh_sim, "/_sim/stats").json() == {
        "status": "error",
        "message": "This API route doesn't exist.",
    }
    assert control(fresh_sim, "GET", "faults").json()["fail_next"] == 0


def test_stats_count_api_requests_by_path_without_query(fresh_sim: LibreNMSSimulator) -> None:
    control(fresh_sim, "DELETE", "stats")
    get(fresh_sim, "/devices", type="os", query="ios")
    get(fresh_sim, "/devices")
    requests.get(f"{fresh_sim.url}/api/v0/system", timeout=10)  # 401s count too
    stats = control(fresh_sim, "GET", "stats").json()
    assert stats == {"requests": 3, "by_path": {"/api/v0/devices": 2, "/api/v0/system": 1}}


def test_stats_reset_clears_counters(fresh_sim: LibreNMSSimulator) -> None:
    get(fresh_sim, "/system")
    fresh_sim.reset_stats()
    assert fresh_sim.stats() == {"requests": 0, "by_path": {}}


# --------------------------------------------------------------------------- CLI


def test_cli_serves_and_never_prints_the_token() -> None:
    secret = "s3cr3t-cli-token-value"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "devtools.librenms_sim", "--port", "0", "--token", secret, "--verbose"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        banner = process.stdout.readline()
        assert banner.startswith("LibreNMS simulator on http://127.0.0.1:")
        url = banner.split(" on ", 1)[1].strip()
        headers = {"X-Auth-Token": secret}
        assert requests.get(f"{url}/api/v0/system", headers=headers, timeout=10).status_code == 200
        assert (
            requests.get(f"{url}/api/v0/system", params={"api_token": secret}, timeout=10).status_code == 200
        )
        bearer = {"Authorization": f"Bearer {secret}"}
        assert requests.get(f"{url}/api/v0/nope", headers=bearer, timeout=10).status_code == 404
        host, port = url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=10) as raw:
            raw.sendall(f"GET /api/v0/system?api_token={secret} HTTP/1.1 HTTP/1.1\r\n\r\n".encode())
            error_page = b"".join(iter(lambda: raw.recv(4096), b"")).decode()
        assert "400" in error_page
        assert secret not in error_page
    finally:
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=10)
    assert process.returncode == 0
    assert "/api/v0/system" in stderr  # verbose logging did happen
    assert secret not in banner + stdout + stderr


# --------------------------------------------------------------------------- faults on some paths only


def test_path_prefix_limits_the_faults_to_matching_paths(fresh_sim: LibreNMSSimulator) -> None:
    fresh_sim.set_faults(error_rate=1.0, fail_next=1, path_prefix="/api/v0/inventory")

    assert get(fresh_sim, "/devices").status_code == 200  # fail_next is not spent on other paths
    assert get(fresh_sim, "/system").status_code == 200
    assert [get(fresh_sim, "/inventory/12/all").status_code for _ in range(3)] == [500] * 3
    assert control(fresh_sim, "GET", "faults").json()["fail_next"] == 0
    fresh_sim.clear_faults()
    assert control(fresh_sim, "GET", "faults").json()["path_prefix"] is None
    assert get(fresh_sim, "/inventory/12/all").status_code == 200


def test_path_prefix_is_set_over_http_and_must_be_a_path(fresh_sim: LibreNMSSimulator) -> None:
    answer = control(fresh_sim, "POST", "faults", {"fail_next": 5, "path_prefix": "/api/v0/inventory"})
    assert answer.status_code == 200 and answer.json()["path_prefix"] == "/api/v0/inventory"
    assert get(fresh_sim, "/devices").status_code == 200
    for bad in ("api/v0/inventory", 3, ["/api"]):
        assert control(fresh_sim, "POST", "faults", {"path_prefix": bad}).status_code == 400
    assert control(fresh_sim, "POST", "faults", {"path_prefix": None}).json()["path_prefix"] is None
    assert get(fresh_sim, "/devices").status_code == 500  # the faults left apply to every path again
