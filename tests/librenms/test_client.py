"""LibreNMSClient against a real LibreNMS simulator (and, for odd bodies, a canned HTTP server) on 127.0.0.1."""

from __future__ import annotations

import dataclasses
import json
import logging
import pickle
import re
import socket
import threading
import traceback
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests

from core.errors import (
    LibreNMSAuthError,
    LibreNMSBadResponse,
    LibreNMSError,
    LibreNMSForbidden,
    LibreNMSNotFound,
    LibreNMSServerError,
    LibreNMSTimeout,
    LibreNMSUnreachable,
)
from core.librenms import SNMP_CREDENTIAL_KEYS, DeviceFilter, LibreDevice, LibreNMSClient, ManagementAddress
from core.librenms.client import (
    FROM_ADDRESS_LIST,
    FROM_POLLING_ADDRESS_NO_LIST,
    FROM_POLLING_ADDRESS_UNLISTED,
)
from core.librenms.inventories import MemoryInventories, stack_rows
from core.settings import LibreNMSServer, Secret
from devtools.librenms_sim import LibreNMSSimulator
from tests.conftest import FIXTURES

DATA_DIR = FIXTURES
TOKEN = "demo-librenms-token"
RAW_DEVICES: list[dict] = json.loads((DATA_DIR / "devices.json").read_text())["devices"]
RAW_BY_ID = {d["device_id"]: d for d in RAW_DEVICES}
# Every credential value in the fixture that is specific enough to search for (not "SHA-256"/"AES").
CREDENTIALS = sorted(
    {str(d[k]) for d in RAW_DEVICES for k in ("community", "authname", "authpass", "cryptopass") if d.get(k)}
)
STACK_HOSTS = {12: "core-sw01", 13: "dist-sw-b2", 21: "acc-sw-f3-01", 5: "rtr-wan01", 31: "nx-leaf01"}


# --------------------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def sim() -> Iterator[LibreNMSSimulator]:
    simulator = LibreNMSSimulator(port=0).start()
    yield simulator
    simulator.stop()


@pytest.fixture(autouse=True)
def clean_sim(request: pytest.FixtureRequest) -> None:
    if "sim" in request.fixturenames:
        simulator = request.getfixturevalue("sim")
        simulator.clear_faults()
        simulator.reset_stats()


def make_client(url: str, token: str = TOKEN, **options: object) -> LibreNMSClient:
    options.setdefault("retries", 0)
    options.setdefault("backoff", 0)
    options.setdefault("timeout", 10)
    return LibreNMSClient(LibreNMSServer(key="default", url=url, token=Secret(token)), **options)


@pytest.fixture
def client(sim: LibreNMSSimulator) -> LibreNMSClient:
    return make_client(sim.url)


def _write_data_dir(target: Path, *, addresses: dict[str, object] | None = None, **files: object) -> Path:
    """A copy of the fixture data (the original is read-only) with some files replaced or added."""
    (target / "inventory").mkdir(parents=True)
    for name in ("devices.json", "locations.json", "system.json"):
        (target / name).write_text((DATA_DIR / name).read_text())
    for path in (DATA_DIR / "inventory").glob("*.json"):
        (target / "inventory" / path.name).write_text(path.read_text())
    for relative, content in files.items():
        (target / relative.replace("__", "/")).write_text(json.dumps(content))
    if addresses:
        (target / "addresses").mkdir()
        for hostname, rows in addresses.items():
            (target / "addresses" / f"{hostname}.json").write_text(json.dumps(rows))
    return target


@pytest.fixture(scope="module")
def odd_sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LibreNMSSimulator]:
    """Fixture data where rtr-wan01's inventory is malformed and core-sw01/db01 have stored addresses."""
    data = _write_data_dir(
        tmp_path_factory.mktemp("odd-librenms"),
        **{"inventory__rtr-wan01.hq.example.net.json": {"status": "ok", "inventory": "not a list"}},
        addresses={
            "core-sw01.hq.example.net": [],  # -> 404 "does not have any IP addresses"
            "db01.hq.example.net": [
                {
                    "ipv4_address_id": 9,
                    "ipv4_address": "192.168.99.1",
                    "ipv4_prefixlen": 24,
                    "ipv4_network_id": "9",
                    "port_id": 101001,
                    "context_name": None,
                }
            ],
        },
    )
    simulator = LibreNMSSimulator(data_dir=data, port=0).start()
    yield simulator
    simulator.stop()


class _Canned(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        server = self.server
        server.seen.append({"path": self.path, "headers": dict(self.headers)})  # type: ignore[attr-defined]
        status, headers, body = server.answer  # type: ignore[attr-defined]
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def canned() -> Iterator[ThreadingHTTPServer]:
    """A server answering every GET with `server.answer` = (status, headers, body); requests in `server.seen`."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Canned)
    server.daemon_threads = True
    server.answer = (200, {"Content-Type": "application/json"}, b"{}")  # type: ignore[attr-defined]
    server.seen = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def canned_url(server: ThreadingHTTPServer) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}"


class RecordingSession(requests.Session):
    """A real Session that remembers the URLs it sent."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def send(self, request: requests.PreparedRequest, **kwargs: object) -> requests.Response:
        self.urls.append(request.url or "")
        return super().send(request, **kwargs)


def ids(devices: list[LibreDevice]) -> set[int]:
    return {d.device_id for d in devices}


def raw_ids(predicate) -> set[int]:
    return {d["device_id"] for d in RAW_DEVICES if predicate(d)}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --------------------------------------------------------------------------------------- DeviceFilter (pure)


@pytest.mark.parametrize(
    ("flt", "expected"),
    [
        (
            DeviceFilter(
                sysname="a", hostname="b", hardware="c", os="d", location="e", type="f", show_disabled=True
            ),
            ("sysName", "a"),
        ),
        (DeviceFilter(hostname="b", hardware="c", os="d", location="e", type="f"), ("hostname", "b")),
        (DeviceFilter(hardware="c", os="d", location="e", type="f"), ("hardware", "c")),
        (DeviceFilter(os="d", location="e", type="f"), ("os", "d")),
        (DeviceFilter(location="e", type="f"), ("location", "e")),
        (DeviceFilter(type="f"), ("type", "f")),
    ],
)
def test_server_side_picks_the_most_selective_filter(flt: DeviceFilter, expected: tuple[str, str]) -> None:
    assert flt.server_side() == expected


def test_server_side_is_none_for_an_empty_or_blank_filter() -> None:
    assert DeviceFilter().server_side() is None
    assert DeviceFilter(hostname="  ", show_disabled=True, detect_stacks=True).server_side() is None


def test_server_side_query_is_trimmed() -> None:
    assert DeviceFilter(os="  iosxe ").server_side() == ("os", "iosxe")


def test_matches_treats_like_wildcards_literally() -> None:
    device = LibreDevice(device_id=1, hostname="sw_1.example.net")
    assert DeviceFilter(hostname="w_1").matches(device)
    assert not DeviceFilter(hostname="w%1").matches(device)
    assert not DeviceFilter(hostname="sw_1x").matches(device)


def test_matches_exact_fields_need_the_whole_value() -> None:
    device = LibreDevice(device_id=1, hostname="h", sysname="core-sw01", os="iosxe", type="network")
    assert DeviceFilter(sysname="CORE-SW01", os="IOSXE", type="Network").matches(device)
    assert not DeviceFilter(sysname="core-sw").matches(device)
    assert not DeviceFilter(os="ios").matches(device)
    assert not DeviceFilter(type="net").matches(device)


def test_matches_excludes_disabled_devices_unless_asked() -> None:
    device = LibreDevice(device_id=1, hostname="h", disabled=True)
    assert not DeviceFilter().matches(device)
    assert DeviceFilter(show_disabled=True).matches(device)


# --------------------------------------------------------------------------------------- list_devices


def test_list_devices_without_a_filter_returns_every_device(client: LibreNMSClient) -> None:
    devices = client.list_devices()
    assert len(devices) == 40
    assert ids(devices) == set(RAW_BY_ID)


def test_default_filter_hides_disabled_devices(client: LibreNMSClient) -> None:
    devices = client.list_devices(DeviceFilter())
    assert len(devices) == 39
    assert 303 not in ids(devices)


def test_show_disabled_includes_disabled_devices(client: LibreNMSClient) -> None:
    assert 303 in ids(client.list_devices(DeviceFilter(show_disabled=True)))


def test_hostname_filter_is_a_case_insensitive_substring(client: LibreNMSClient) -> None:
    devices = client.list_devices(DeviceFilter(hostname="HQ.Example"))
    assert ids(devices) == raw_ids(lambda d: "hq.example" in d["hostname"].lower() and not d["disabled"])
    assert 12 in ids(devices)


def test_hostname_filter_with_sql_wildcards_matches_literally(client: LibreNMSClient) -> None:
    assert client.list_devices(DeviceFilter(hostname="%")) == []
    assert client.list_devices(DeviceFilter(hostname="core_sw01")) == []


def test_sysname_filter_is_exact(client: LibreNMSClient) -> None:
    assert ids(client.list_devices(DeviceFilter(sysname="CORE-SW01"))) == {12}
    assert client.list_devices(DeviceFilter(sysname="core-sw")) == []


def test_os_filter_is_exact(client: LibreNMSClient) -> None:
    assert ids(client.list_devices(DeviceFilter(os="ios"))) == {47, 44, 13, 304}


def test_type_filter_is_exact(client: LibreNMSClient) -> None:
    assert ids(client.list_devices(DeviceFilter(type="firewall"))) == {71, 72, 73}


def test_location_filter_is_a_substring(client: LibreNMSClient) -> None:
    devices = client.list_devices(DeviceFilter(location="dc2 colocation"))
    assert ids(devices) == raw_ids(lambda d: (d["location"] or "").startswith("DC2 Colocation"))


def test_hardware_filter_is_a_substring(client: LibreNMSClient) -> None:
    assert ids(client.list_devices(DeviceFilter(hardware="c9300"))) == {12, 307, 308}


def test_combined_filters_are_all_applied_locally(client: LibreNMSClient) -> None:
    flt = DeviceFilter(location="HQ Data Center", type="server", os="linux")
    assert flt.server_side() == ("os", "linux")
    assert ids(client.list_devices(flt)) == {101, 102, 204, 205, 209, 210}


def test_list_devices_sends_exactly_one_type_query_pair(sim: LibreNMSSimulator) -> None:
    session = RecordingSession()
    client = make_client(sim.url, session=session)
    client.list_devices(DeviceFilter(sysname="core-sw01", os="iosxe", location="HQ", type="network"))
    assert len(session.urls) == 1
    assert session.urls[0] == f"{sim.url}/api/v0/devices?type=sysName&query=core-sw01"


def test_list_devices_without_filter_sends_no_query(sim: LibreNMSSimulator) -> None:
    session = RecordingSession()
    make_client(sim.url, session=session).list_devices(DeviceFilter(show_disabled=True))
    assert session.urls == [f"{sim.url}/api/v0/devices"]


def test_token_travels_only_in_the_header(sim: LibreNMSSimulator) -> None:
    session = RecordingSession()
    make_client(sim.url, session=session).list_devices(DeviceFilter(hostname="core"))
    assert all(TOKEN not in url and "api_token" not in url for url in session.urls)


def test_unparseable_device_objects_are_skipped_and_counted(canned: ThreadingHTTPServer) -> None:
    body = {
        "status": "ok",
        "devices": [RAW_BY_ID[12], {"hostname": "no-id"}, "junk", RAW_BY_ID[13]],
        "count": 4,
    }
    canned.answer = (200, {"Content-Type": "application/json"}, json.dumps(body).encode())
    client = make_client(canned_url(canned))
    listing = client.read_devices()
    assert ids(listing.devices) == {12, 13}
    assert listing.skipped == 2


# --------------------------------------------------------------------------------------- other reads


def test_get_device_by_hostname_is_case_insensitive(client: LibreNMSClient) -> None:
    assert client.get_device("CORE-SW01.hq.example.net").device_id == 12


def test_get_device_by_id(client: LibreNMSClient) -> None:
    assert client.get_device(13).hostname == "dist-sw-b2.hq.example.net"


def test_get_device_by_ipv6_hostname(client: LibreNMSClient) -> None:
    assert client.get_device("2001:db8:40::10").device_id == 301


def test_get_device_unknown_raises_not_found(client: LibreNMSClient) -> None:
    with pytest.raises(LibreNMSNotFound, match="does not exist"):
        client.get_device("nope.example.net")


def test_system_returns_the_version(client: LibreNMSClient) -> None:
    assert client.system()["local_ver"] == "26.6.0"


def test_locations_returns_sorted_names(client: LibreNMSClient) -> None:
    names = client.locations()
    raw = json.loads((DATA_DIR / "locations.json").read_text())["locations"]
    assert set(names) == {row["location"] for row in raw if row["location"]}
    assert names == sorted(names, key=str.casefold)


def test_locations_is_empty_when_librenms_has_none(tmp_path: Path) -> None:
    data = _write_data_dir(tmp_path / "data", **{"locations.json": {"status": "ok", "locations": []}})
    with LibreNMSSimulator(data_dir=data, port=0) as sim:
        assert make_client(sim.url).locations() == []


# --------------------------------------------------------------------------------------- errors


def test_bad_token_raises_auth_error_naming_the_setting(sim: LibreNMSSimulator) -> None:
    with pytest.raises(LibreNMSAuthError) as info:
        make_client(sim.url, token="wrong-token-7f3a9c").list_devices()
    assert str(info.value) == (
        f"LibreNMS at {sim.url} rejected the API token (401). "
        "Check LIBRENMS_TOKEN: create a token under Settings → API → API Settings."
    )


def test_auth_error_never_shows_the_token(sim: LibreNMSSimulator, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    secret = "wrong-token-7f3a9c"
    with pytest.raises(LibreNMSAuthError) as info:
        make_client(sim.url, token=secret).list_devices()
    err = info.value
    assert secret not in str(err)
    assert secret not in repr(err)
    assert secret not in "".join(traceback.format_exception(err))
    assert secret not in caplog.text


def test_errors_carry_no_chained_requests_exception(sim: LibreNMSSimulator) -> None:
    with pytest.raises(LibreNMSAuthError) as info:
        make_client(sim.url, token="wrong-token-7f3a9c").system()
    assert info.value.__cause__ is None
    assert info.value.__context__ is None


def test_auth_error_for_a_named_server_names_its_token_variable(sim: LibreNMSSimulator) -> None:
    server = LibreNMSServer(key="dc1", url=sim.url, token=Secret("bad"))
    with pytest.raises(LibreNMSAuthError, match="LIBRENMS_DC1_TOKEN"):
        LibreNMSClient(server, retries=0).system()


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (403, LibreNMSForbidden),
        (404, LibreNMSNotFound),
        (500, LibreNMSServerError),
        (503, LibreNMSServerError),
    ],
)
def test_http_status_maps_to_its_error(
    sim: LibreNMSSimulator, client: LibreNMSClient, status: int, error: type[LibreNMSError]
) -> None:
    sim.set_faults(fail_next=1, error_status=status)
    with pytest.raises(error):
        client.list_devices()


def test_error_message_names_the_url_without_the_query_string(
    sim: LibreNMSSimulator, client: LibreNMSClient
) -> None:
    sim.set_faults(fail_next=1, error_status=404)
    with pytest.raises(LibreNMSNotFound) as info:
        client.list_devices(DeviceFilter(hostname="core"))
    assert f"{sim.url}/api/v0/devices" in str(info.value)
    assert "query" not in str(info.value)


def test_server_error_is_retried_until_it_succeeds(sim: LibreNMSSimulator) -> None:
    sim.set_faults(fail_next=2, error_status=500)
    devices = make_client(sim.url, retries=3).list_devices()
    assert len(devices) == 40
    assert sim.stats()["requests"] == 3


@pytest.mark.parametrize("status", [502, 503, 504])
def test_gateway_errors_are_retried(sim: LibreNMSSimulator, status: int) -> None:
    sim.set_faults(fail_next=1, error_status=status)
    assert make_client(sim.url, retries=1).system()["local_ver"] == "26.6.0"
    assert sim.stats()["requests"] == 2


def test_retries_give_up_after_the_configured_count(sim: LibreNMSSimulator) -> None:
    sim.set_faults(fail_next=5, error_status=500)
    with pytest.raises(LibreNMSServerError):
        make_client(sim.url, retries=2).system()
    assert sim.stats()["requests"] == 3


@pytest.mark.parametrize("status", [400, 403, 404, 422])
def test_client_errors_are_not_retried(sim: LibreNMSSimulator, status: int) -> None:
    sim.set_faults(fail_next=1, error_status=status)
    with pytest.raises(LibreNMSError):
        make_client(sim.url, retries=3).system()
    assert sim.stats()["requests"] == 1


def test_bad_token_is_not_retried(sim: LibreNMSSimulator) -> None:
    with pytest.raises(LibreNMSAuthError):
        make_client(sim.url, token="bad", retries=3).system()
    assert sim.stats()["requests"] == 1


def test_truncated_json_raises_bad_response(sim: LibreNMSSimulator) -> None:
    sim.set_faults(truncate_next=1)
    with pytest.raises(LibreNMSBadResponse):
        make_client(sim.url, retries=3).list_devices()
    assert sim.stats()["requests"] == 1


def test_slow_answer_raises_timeout(sim: LibreNMSSimulator) -> None:
    sim.set_faults(delay=1.0)
    with pytest.raises(LibreNMSTimeout, match=re.escape("did not answer within 0.3 s")):
        make_client(sim.url, timeout=0.3).system()


def test_closed_port_raises_unreachable() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(LibreNMSUnreachable) as info:
        make_client(url, token="secret-token-unreachable").system()
    assert url in str(info.value)
    assert "secret-token-unreachable" not in str(info.value)


def test_dropped_connections_are_retried() -> None:
    accepted = 0
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()

    def hang_up() -> None:
        nonlocal accepted
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            accepted += 1
            conn.recv(65536)
            conn.close()  # no answer at all

    threading.Thread(target=hang_up, daemon=True).start()
    try:
        with pytest.raises(LibreNMSUnreachable):
            make_client(f"http://127.0.0.1:{listener.getsockname()[1]}", retries=2).system()
    finally:
        listener.close()
    assert accepted == 3


def test_error_envelope_with_http_200_raises_bad_response(canned: ThreadingHTTPServer) -> None:
    body = {"status": "error", "message": "Something odd"}
    canned.answer = (200, {"Content-Type": "application/json"}, json.dumps(body).encode())
    with pytest.raises(LibreNMSBadResponse, match="Something odd"):
        make_client(canned_url(canned)).list_devices()


def test_body_without_the_payload_key_raises_bad_response(canned: ThreadingHTTPServer) -> None:
    canned.answer = (200, {"Content-Type": "application/json"}, b'{"status": "ok", "count": 0}')
    with pytest.raises(LibreNMSBadResponse, match="'devices'"):
        make_client(canned_url(canned)).list_devices()


def test_html_page_raises_bad_response_pointing_at_the_url_setting(canned: ThreadingHTTPServer) -> None:
    canned.answer = (200, {"Content-Type": "text/html; charset=utf-8"}, b"<html>Login</html>")
    with pytest.raises(LibreNMSBadResponse, match="LIBRENMS_URL"):
        make_client(canned_url(canned)).system()


def test_redirect_is_not_followed_so_the_token_stays_home(canned: ThreadingHTTPServer) -> None:
    canned.answer = (302, {"Location": "https://elsewhere.example/api/v0/system?x=1"}, b"")
    with pytest.raises(LibreNMSError, match=re.escape("https://elsewhere.example")) as info:
        make_client(canned_url(canned)).system()
    assert "x=1" not in str(info.value)
    assert len(canned.seen) == 1


def test_client_sends_token_header_and_accepts_json(canned: ThreadingHTTPServer) -> None:
    canned.answer = (
        200,
        {"Content-Type": "application/json"},
        b'{"status": "ok", "system": [{}], "count": 1}',
    )
    make_client(canned_url(canned)).system()
    headers = {k.lower(): v for k, v in canned.seen[0]["headers"].items()}
    assert headers["x-auth-token"] == TOKEN
    assert headers["accept"] == "application/json"


def test_base_url_with_api_prefix_is_normalised(sim: LibreNMSSimulator) -> None:
    assert make_client(sim.url + "/api/v0/").system()["local_ver"] == "26.6.0"


# --------------------------------------------------------------------------------------- credentials and logs


def test_returned_devices_hold_no_snmp_credentials(client: LibreNMSClient) -> None:
    devices = client.list_devices()
    dumped = repr(devices).encode() + pickle.dumps(devices)
    assert CREDENTIALS  # the fixture does contain some
    for secret in CREDENTIALS:
        assert secret.encode() not in dumped


def test_single_device_holds_no_snmp_credentials(client: LibreNMSClient) -> None:
    device = client.get_device(12)  # v3: authpass and cryptopass in the raw object
    dumped = repr(device).encode() + pickle.dumps(device)
    for secret in ("Xq7-fake-auth-pass", "Xq7-fake-priv-pass", "lnms-ro"):
        assert secret.encode() not in dumped
    assert not any(hasattr(device, key) for key in SNMP_CREDENTIAL_KEYS)


def test_logs_hold_neither_token_nor_credentials(
    client: LibreNMSClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client.list_devices(DeviceFilter(hostname="example"))
    client.get_device(12)
    client.inventories(stack_devices(client, {12, 13}))
    for secret in [TOKEN, *CREDENTIALS]:
        assert secret not in caplog.text


def test_requests_are_logged_with_method_path_and_status(
    client: LibreNMSClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="core.librenms")
    client.list_devices(DeviceFilter(hostname="core"))
    messages = [r.getMessage() for r in caplog.records if r.name == "core.librenms.http"]
    assert len(messages) == 1
    assert messages[0].startswith("GET /api/v0/devices -> 200 in ")


# --------------------------------------------------------------------------------------- variants


@pytest.mark.parametrize("variant", [{"legacy": True}, {"location_object": True}])
def test_variant_device_lists_parse_to_the_same_values(client: LibreNMSClient, variant: dict) -> None:
    with LibreNMSSimulator(port=0, **variant) as other:
        assert make_client(other.url).list_devices() == client.list_devices()


@pytest.mark.parametrize("variant", [{"legacy": True}, {"location_object": True}])
def test_variant_single_device_parses_to_the_same_value(client: LibreNMSClient, variant: dict) -> None:
    with LibreNMSSimulator(port=0, **variant) as other:
        other_client = make_client(other.url)
        for device_id in (12, 303, 201, 306):  # v3, disabled and down, VM with parent_id, no location
            assert other_client.get_device(device_id) == client.get_device(device_id)


def test_legacy_bool_status_parses_as_up_flag() -> None:
    with LibreNMSSimulator(port=0, legacy=True) as sim:
        client = make_client(sim.url)
        assert client.get_device(303).up is False
        assert client.get_device(12).up is True


def test_location_object_variant_keeps_the_location_name_and_id() -> None:
    with LibreNMSSimulator(port=0, location_object=True) as sim:
        device = make_client(sim.url).get_device(12)
    assert device.location == RAW_BY_ID[12]["location"]
    assert device.location_id == RAW_BY_ID[12]["location_id"]


# --------------------------------------------------------------------------------------- inventory


def test_inventory_returns_every_row_of_a_device(client: LibreNMSClient) -> None:
    rows = client.inventory(12)
    assert len(rows) == 65
    assert all(row["device_id"] == 12 for row in rows)


def stack_devices(client: LibreNMSClient, ids=STACK_HOSTS) -> list[LibreDevice]:
    return [d for d in client.list_devices() if d.device_id in ids]


def test_inventories_fetch_each_device_once_and_keep_only_the_rows_stack_detection_reads(
    sim: LibreNMSSimulator, client: LibreNMSClient
) -> None:
    devices = stack_devices(client)
    sim.reset_stats()
    batch = client.inventories(devices, pool=4)
    assert sim.stats()["by_path"] == {f"/api/v0/inventory/{i}/all": 1 for i in STACK_HOSTS}
    assert (batch.read, batch.reused) == (len(STACK_HOSTS), 0)
    for device_id, rows in batch.rows.items():
        assert rows == stack_rows(client.inventory(device_id))
        assert {r["entPhysicalClass"] for r in rows} <= {"stack", "chassis"}
    assert len(batch.rows[12]) < 65  # core-sw01's 65 rows: only its stack and chassis rows are kept


def test_inventories_of_the_same_discovery_are_reused_without_a_request(
    sim: LibreNMSSimulator, client: LibreNMSClient
) -> None:
    devices = stack_devices(client)
    first = client.inventories(devices)
    sim.reset_stats()
    again = client.inventories(devices)
    assert sim.stats()["requests"] == 0
    assert again.rows == first.rows and (again.read, again.reused) == (0, len(STACK_HOSTS))


def test_a_rediscovered_device_is_read_again_and_an_unchanged_one_is_not(
    sim: LibreNMSSimulator, client: LibreNMSClient
) -> None:
    devices = stack_devices(client)
    client.inventories(devices)
    rediscovered = [
        dataclasses.replace(d, last_discovered="2026-12-01 04:00:00") if d.device_id == 13 else d
        for d in devices
    ]
    sim.reset_stats()
    batch = client.inventories(rediscovered)
    assert sim.stats()["by_path"] == {"/api/v0/inventory/13/all": 1}
    assert (batch.read, batch.reused) == (1, len(STACK_HOSTS) - 1)


def test_refresh_reads_every_inventory_again(sim: LibreNMSSimulator, client: LibreNMSClient) -> None:
    devices = stack_devices(client)
    client.inventories(devices)
    sim.reset_stats()
    client.inventories(devices, refresh=True)
    assert sim.stats()["by_path"] == {f"/api/v0/inventory/{i}/all": 1 for i in STACK_HOSTS}


def test_an_inventory_kept_for_one_server_is_never_read_for_another(sim: LibreNMSSimulator) -> None:
    """Two servers, one store, the same device ids and discovery times: each server's are its own."""
    store = MemoryInventories()
    with LibreNMSSimulator(port=0) as other:
        first = make_client(sim.url, inventories=store)
        second = make_client(other.url, inventories=store)
        first.inventories(stack_devices(first))
        devices = stack_devices(second)
        other.reset_stats()
        batch = second.inventories(devices)
        assert other.stats()["by_path"] == {f"/api/v0/inventory/{i}/all": 1 for i in STACK_HOSTS}
    assert batch.reused == 0
    renamed = LibreNMSClient(LibreNMSServer(key="dc2", url=sim.url, token=Secret(TOKEN)), inventories=store)
    assert renamed.inventories(stack_devices(renamed)).reused == 0  # another key on the same URL, too


def test_inventories_a_broken_device_maps_to_empty_and_records_the_error(odd_sim: LibreNMSSimulator) -> None:
    client = make_client(odd_sim.url)
    result = client.inventories(stack_devices(client, {12, 5, 13}))
    assert result.rows[5] == []
    assert result.rows[12] and result.rows[13]
    assert set(result.errors) == {5}
    assert "inventory" in result.errors[5]


def test_inventories_a_transient_failure_does_not_fail_the_batch(
    sim: LibreNMSSimulator, client: LibreNMSClient
) -> None:
    devices = stack_devices(client)
    sim.set_faults(fail_next=1, error_status=500)
    result = client.inventories(devices)
    assert set(result.rows) == set(STACK_HOSTS)
    assert len(result.errors) == 1
    (failed,) = result.errors
    assert result.rows[failed] == []
    assert sum(1 for rows in result.rows.values() if rows) == 4


def test_inventories_retry_failed_devices_on_the_next_call(
    sim: LibreNMSSimulator, client: LibreNMSClient
) -> None:
    devices = stack_devices(client)
    sim.set_faults(fail_next=1, error_status=500)
    (failed,) = client.inventories(devices).errors
    sim.reset_stats()
    result = client.inventories(devices)
    assert sim.stats()["by_path"] == {f"/api/v0/inventory/{failed}/all": 1}
    assert result.rows[failed] and not result.errors


# --------------------------------------------------------------------------------------- management address


def test_management_address_comes_from_the_ip_and_ports_lists(client: LibreNMSClient) -> None:
    device = client.get_device(12)
    address = client.management_address(device)
    assert address == ManagementAddress("10.10.0.2", 24, "Vlan1", FROM_ADDRESS_LIST)
    assert (address.address, address.prefixlen, address.interface) == ("10.10.0.2", 24, "Vlan1")
    assert address.cidr == "10.10.0.2/24" and address.source == "LibreNMS' address list"


def test_management_address_for_an_ipv6_device(client: LibreNMSClient) -> None:
    device = client.get_device(301)
    assert client.management_address(device) == ManagementAddress(
        "2001:db8:40::10", 64, "Vlan1", FROM_ADDRESS_LIST
    )


def test_management_address_falls_back_to_a_host_address_when_the_list_lacks_it(
    client: LibreNMSClient,
) -> None:
    device = client.get_device(53)  # polled via overwrite_ip 10.20.255.1, which no port carries
    address = client.management_address(device)
    assert address == ManagementAddress("10.20.255.1", 32, "", FROM_POLLING_ADDRESS_UNLISTED)
    assert (
        address.source.startswith("LibreNMS' polling address") and "not in its address list" in address.source
    )


def test_management_address_falls_back_when_stored_addresses_lack_it(odd_sim: LibreNMSSimulator) -> None:
    client = make_client(odd_sim.url)
    assert client.management_address(client.get_device(101)) == ManagementAddress(
        "10.10.20.11", 32, "", FROM_POLLING_ADDRESS_UNLISTED
    )


def test_management_address_is_the_polling_address_when_librenms_lists_no_addresses(
    odd_sim: LibreNMSSimulator,
) -> None:
    """/devices/:id/ip answers 404 "does not have any IP addresses": LibreNMS still polls the device at its
    ip (or overwrite_ip), so that is the address, as a host address, and it says where it came from."""
    client = make_client(odd_sim.url)
    address = client.management_address(client.get_device(12))
    assert address == ManagementAddress("10.10.0.2", 32, "", FROM_POLLING_ADDRESS_NO_LIST)
    assert address.source == "LibreNMS' polling address: it lists no addresses"


def test_management_address_is_none_for_a_device_without_ip(
    sim: LibreNMSSimulator, client: LibreNMSClient
) -> None:
    device = client.get_device(305)
    sim.reset_stats()
    assert client.management_address(device) is None
    assert sim.stats()["requests"] == 0


def test_device_list_is_cached_for_cache_seconds_until_cleared(sim: LibreNMSSimulator) -> None:
    client = make_client(sim.url, cache_seconds=60)
    sim.reset_stats()
    first = client.list_devices(DeviceFilter())
    second = client.list_devices(
        DeviceFilter(show_disabled=True)
    )  # same server-side query, other local filter
    assert sim.stats()["by_path"].get("/api/v0/devices") == 1
    assert 303 in ids(second) and 303 not in ids(first)
    client.clear_cache()
    client.list_devices(DeviceFilter())
    assert sim.stats()["by_path"].get("/api/v0/devices") == 2


def test_device_list_is_fetched_every_time_without_a_cache(sim: LibreNMSSimulator) -> None:
    client = make_client(sim.url)
    sim.reset_stats()
    client.list_devices()
    client.list_devices()
    assert sim.stats()["by_path"].get("/api/v0/devices") == 2
