"""The NetBox gateway against the real local NetBox: the index load_index builds, how few requests it makes,
the librenms_id field in each shape, and NetBox errors in plain words.

The NetBox is shared with other test runs: every object made here has a uuid suffix and is deleted at
teardown; the reference data (devtools/demo_data.py) is only read.
"""

from __future__ import annotations

import ipaddress
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pynetbox
import pytest

from core import defaults, netbox
from core.choices import FieldType, Kind, MatchBy
from core.errors import NetBoxAuthError, NetBoxError, NetBoxSetupError
from core.settings import Settings, load_settings

DEFAULT = defaults.DEFAULT_SERVER_KEY


def unique_id() -> int:
    """A LibreNMS device id no fixture and (in practice) no other test run uses."""
    return random.randint(100_000_000, 2_000_000_000)


def unique_ipv4() -> str:
    return str(ipaddress.IPv4Address(int(ipaddress.IPv4Address("100.64.0.0")) + random.randint(1, 2**22 - 2)))


def unique_ipv6() -> str:
    return str(ipaddress.IPv6Address(int(ipaddress.IPv6Address("2001:db8:ffff::")) + random.getrandbits(64)))


def nb_settings(stack_env: dict[str, str], tmp: Path, token_key: str = "NETBOX_TOKEN") -> Settings:
    return load_settings(
        {"NETBOX_URL": stack_env["NETBOX_URL"], "NETBOX_TOKEN": stack_env[token_key]},
        secrets_file=tmp / "none.toml",
    )


class Scratch:
    """Objects made by one test or module, deleted newest first at teardown."""

    def __init__(self) -> None:
        self.objects: list = []

    def keep(self, obj):
        if isinstance(obj, list):
            self.objects.extend(obj)
        else:
            self.objects.append(obj)
        return obj

    def cleanup(self) -> None:
        for obj in reversed(self.objects):
            try:
                obj.delete()
            except pynetbox.RequestError as exc:  # already gone (e.g. deleted with its device)
                if exc.req.status_code != 404:
                    raise
        self.objects.clear()


@pytest.fixture
def scratch() -> Iterator[Scratch]:
    made = Scratch()
    yield made
    made.cleanup()


@pytest.fixture(scope="module")
def module_scratch() -> Iterator[Scratch]:
    made = Scratch()
    yield made
    made.cleanup()


@pytest.fixture(scope="module")
def api(stack_env: dict[str, str], reference_data: pynetbox.api, tmp_path_factory) -> pynetbox.api:
    """Our gateway's API object (counting session) on the test NetBox, reference data loaded."""
    return netbox.connect(nb_settings(stack_env, tmp_path_factory.mktemp("settings")))


@pytest.fixture(scope="module")
def ref(reference_data: pynetbox.api) -> dict:
    nb = reference_data
    return {
        "site": nb.dcim.sites.get(slug="lab"),
        "device_type": nb.dcim.device_types.get(slug="c9300-48p"),
        "role": nb.dcim.device_roles.get(slug="leaf"),
        "vm_role": nb.dcim.device_roles.get(slug="server"),
        "cluster": nb.virtualization.clusters.get(name="kvm-hq"),
    }


def device_body(ref: dict, name: str, **extra) -> dict:
    return {
        "name": name,
        "site": ref["site"].id,
        "device_type": ref["device_type"].id,
        "role": ref["role"].id,
        **extra,
    }


@pytest.fixture(scope="module")
def index(api: pynetbox.api) -> netbox.NetBoxIndex:
    return netbox.load_index(api)


# ------------------------------------------------------------------ reference data


@pytest.mark.parametrize(
    ("catalog", "key"),
    [
        ("sites", "dc2-fra"),
        ("sites", "Zürich Office"),
        ("racks", "FRA-C14-R07"),
        ("device_types", "c9300-48u"),
        ("platforms", "junos"),
        ("roles", "server"),
        ("clusters", "esx-dc2"),
    ],
)
def test_load_index_finds_reference_object_by_slug_or_name(
    index: netbox.NetBoxIndex, catalog: str, key: str
) -> None:
    assert getattr(index, catalog).find(key) is not None


def test_rack_is_indexed_with_its_site(index: netbox.NetBoxIndex) -> None:
    rack = index.racks.find("FRA-C14-R07")
    assert rack is not None
    assert rack.site_id == index.sites.find("dc2-fra").id


def test_role_usable_for_vms_is_marked_and_others_are_not(index: netbox.NetBoxIndex) -> None:
    assert index.roles.find("server").vm_role
    assert not index.roles.find("core-switch").vm_role


def test_cluster_site_comes_from_its_site_scope(index: netbox.NetBoxIndex) -> None:
    assert index.clusters.find("esx-dc2").site_id == index.sites.find("dc2-fra").id


def test_device_type_is_found_by_part_number(index: netbox.NetBoxIndex) -> None:
    assert index.device_types.by_extra["isr4331/k9"].slug == "isr4331"


def test_index_records_the_integer_librenms_field(index: netbox.NetBoxIndex) -> None:
    assert index.field_type == "integer"


def test_index_urls_point_at_the_netbox_ui(index: netbox.NetBoxIndex, stack_env: dict[str, str]) -> None:
    assert index.url(Kind.VM, 7) == f"{stack_env['NETBOX_URL']}/virtualization/virtual-machines/7/"


# ------------------------------------------------------------------ request counts


def _requests_for_load_index(api: pynetbox.api) -> tuple[int, netbox.NetBoxIndex]:
    before = netbox.request_count(api)
    index = netbox.load_index(api)
    return netbox.request_count(api) - before, index


def test_load_index_makes_a_handful_of_requests(api: pynetbox.api) -> None:
    # one for the custom field, seven reference endpoints, devices, VMs: one page each below 1,000 objects
    count, _ = _requests_for_load_index(api)
    assert 0 < count <= 10


def test_load_index_request_count_does_not_grow_with_devices(
    api: pynetbox.api, nb: pynetbox.api, ref: dict, scratch: Scratch
) -> None:
    before, _ = _requests_for_load_index(api)
    suffix = uuid.uuid4().hex[:8]
    created = scratch.keep(
        nb.dcim.devices.create([device_body(ref, f"bulk-{suffix}-{i:02d}") for i in range(30)])
    )
    after, index = _requests_for_load_index(api)
    assert after == before
    assert all(index.by_name.get(d.name.casefold()) for d in created)


# ------------------------------------------------------------------ existing devices and VMs


@dataclass
class Made:
    device: object
    device_librenms_id: int
    device_serial: str
    device_ip: str
    vm: object
    vm_librenms_id: int
    vm_ip: str


@pytest.fixture(scope="module")
def made(nb: pynetbox.api, ref: dict, module_scratch: Scratch) -> Made:
    """One device (librenms_id, serial, mixed-case name, primary IPv4) and one VM (librenms_id, primary IPv6)."""
    suffix = uuid.uuid4().hex[:8]
    device_id, vm_id = unique_id(), unique_id()
    serial, ip4, ip6 = f"SER-{suffix}".upper(), unique_ipv4(), unique_ipv6()
    device = module_scratch.keep(
        nb.dcim.devices.create(
            device_body(ref, f"Idx-Dev-{suffix}", serial=serial, custom_fields={"librenms_id": device_id})
        )
    )
    iface = module_scratch.keep(nb.dcim.interfaces.create(device=device.id, name="mgmt0", type="1000base-t"))
    addr = module_scratch.keep(
        nb.ipam.ip_addresses.create(
            address=f"{ip4}/32", assigned_object_type="dcim.interface", assigned_object_id=iface.id
        )
    )
    device.update({"primary_ip4": addr.id})
    vm = module_scratch.keep(
        nb.virtualization.virtual_machines.create(
            name=f"idx-vm-{suffix}",
            cluster=ref["cluster"].id,
            role=ref["vm_role"].id,
            custom_fields={"librenms_id": vm_id},
        )
    )
    vm_iface = module_scratch.keep(nb.virtualization.interfaces.create(virtual_machine=vm.id, name="eth0"))
    vm_addr = module_scratch.keep(
        nb.ipam.ip_addresses.create(
            address=f"{ip6}/128",
            assigned_object_type="virtualization.vminterface",
            assigned_object_id=vm_iface.id,
        )
    )
    vm.update({"primary_ip6": vm_addr.id})
    return Made(device, device_id, serial, ip4, vm, vm_id, ip6)


@pytest.fixture(scope="module")
def live_index(api: pynetbox.api, made: Made) -> netbox.NetBoxIndex:
    return netbox.load_index(api)


def _ids(items: list[netbox.Existing]) -> set[tuple[Kind, int]]:
    return {(e.kind, e.id) for e in items}


def test_existing_device_is_indexed_by_librenms_id(live_index: netbox.NetBoxIndex, made: Made) -> None:
    found = live_index.by_librenms.get((DEFAULT, made.device_librenms_id), [])
    assert _ids(found) == {(Kind.DEVICE, made.device.id)}


def test_existing_device_is_indexed_by_serial_case_insensitively(
    live_index: netbox.NetBoxIndex, made: Made
) -> None:
    found = live_index.by_serial.get(made.device_serial.casefold(), [])
    assert _ids(found) == {(Kind.DEVICE, made.device.id)}


def test_existing_device_is_indexed_by_case_insensitive_name(
    live_index: netbox.NetBoxIndex, made: Made
) -> None:
    found = live_index.by_name.get(made.device.name.upper().casefold(), [])
    assert _ids(found) == {(Kind.DEVICE, made.device.id)}


def test_existing_device_is_indexed_by_primary_ipv4_without_prefix_length(
    live_index: netbox.NetBoxIndex, made: Made
) -> None:
    assert _ids(live_index.by_ip.get(made.device_ip, [])) == {(Kind.DEVICE, made.device.id)}


def test_existing_device_keeps_its_site(live_index: netbox.NetBoxIndex, made: Made, ref: dict) -> None:
    (item,) = live_index.by_librenms[(DEFAULT, made.device_librenms_id)]
    assert item.site_id == ref["site"].id


def test_existing_vm_is_indexed_as_a_vm_by_librenms_id(live_index: netbox.NetBoxIndex, made: Made) -> None:
    found = live_index.by_librenms.get((DEFAULT, made.vm_librenms_id), [])
    assert _ids(found) == {(Kind.VM, made.vm.id)}


def test_existing_vm_is_indexed_by_primary_ipv6(live_index: netbox.NetBoxIndex, made: Made) -> None:
    assert _ids(live_index.by_ip.get(made.vm_ip, [])) == {(Kind.VM, made.vm.id)}


def test_match_of_an_existing_vm_links_to_the_vm_page(live_index: netbox.NetBoxIndex, made: Made) -> None:
    (item,) = live_index.by_librenms[(DEFAULT, made.vm_librenms_id)]
    match = live_index.match(item, MatchBy.LIBRENMS_ID)
    assert match.url.endswith(f"/virtualization/virtual-machines/{made.vm.id}/")


# ------------------------------------------------------------------ librenms_id shapes (pure)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (5, {DEFAULT: 5}),
        ("17", {DEFAULT: 17}),
        (" 17 ", {DEFAULT: 17}),
        ('{"default": 5}', {DEFAULT: 5}),
        ({"default": 5}, {DEFAULT: 5}),
        ({"dc1": {"id": 7, "oob": "10.0.0.7"}}, {"dc1": 7}),
        ({"dc1": {"id": "7"}, "dc2": 9}, {"dc1": 7, "dc2": 9}),
    ],
)
def test_parse_librenms_ids_reads_every_shape(value: object, expected: dict[str, int]) -> None:
    assert netbox.parse_librenms_ids(value, DEFAULT) == expected


@pytest.mark.parametrize(
    "value",
    [None, "", "abc", "²", "{not json", "[1, 2]", True, 3.5, [1, 2], {"dc1": {"oob": "x"}}, {"dc1": "x"}],
    ids=repr,
)
def test_parse_librenms_ids_turns_garbage_into_no_ids(value: object) -> None:
    assert netbox.parse_librenms_ids(value, DEFAULT) == {}


def test_parse_librenms_ids_ignores_a_json_boolean_as_device_id() -> None:
    assert netbox.parse_librenms_ids({"dc1": True, "dc2": 4}, DEFAULT) == {"dc2": 4}


@pytest.mark.parametrize(
    ("field_type", "expected"),
    [(FieldType.INTEGER, 42), (FieldType.TEXT, "42"), (FieldType.JSON, {"dc2": 42})],
)
def test_librenms_field_value_has_the_shape_of_the_field_type(
    field_type: FieldType, expected: object
) -> None:
    assert netbox.librenms_field_value(field_type, "dc2", 42) == expected


def test_json_field_value_reads_back_under_its_server_key() -> None:
    value = netbox.librenms_field_value("json", "dc2", 42)
    assert netbox.parse_librenms_ids(value, DEFAULT) == {"dc2": 42}


# ------------------------------------------------------------------ the librenms_id field in NetBox


def test_librenms_field_is_an_integer_on_devices_and_vms(api: pynetbox.api) -> None:
    info = netbox.librenms_field(api)
    assert info is not None
    assert info.type == "integer"
    assert set(info.object_types) == set(netbox.OBJECT_TYPES)


@pytest.fixture
def field_name(monkeypatch: pytest.MonkeyPatch, nb: pynetbox.api) -> Iterator[str]:
    """Point the gateway at a custom field name of our own (the shared librenms_id field is never touched)."""
    name = f"librenms_id_{uuid.uuid4().hex[:8]}"
    monkeypatch.setattr(defaults, "LIBRENMS_ID_FIELD", name)
    yield name
    for cf in nb.extras.custom_fields.filter(name=name):
        cf.delete()


def test_ensure_librenms_field_without_create_explains_how_to_add_it(
    api: pynetbox.api, field_name: str
) -> None:
    with pytest.raises(NetBoxSetupError) as err:
        netbox.ensure_librenms_field(api, create=False)
    assert "Custom Fields" in err.value.hint


def test_ensure_librenms_field_creates_an_integer_field_on_devices_and_vms(
    api: pynetbox.api, nb: pynetbox.api, field_name: str
) -> None:
    netbox.ensure_librenms_field(api)
    (cf,) = nb.extras.custom_fields.filter(name=field_name)
    assert cf.type.value == "integer"
    assert set(cf.object_types) == set(netbox.OBJECT_TYPES)


def test_ensure_librenms_field_rejects_a_field_missing_vms(
    api: pynetbox.api, nb: pynetbox.api, field_name: str
) -> None:
    nb.extras.custom_fields.create(name=field_name, type="integer", object_types=["dcim.device"])
    with pytest.raises(NetBoxSetupError) as err:
        netbox.ensure_librenms_field(api, create=False)
    assert "virtualization.virtualmachine" in err.value.message


def test_json_typed_field_of_the_plugin_is_read_per_server_key(
    api: pynetbox.api, nb: pynetbox.api, ref: dict, field_name: str, scratch: Scratch
) -> None:
    # the netbox-librenms-plugin's shape: a JSON field holding {"<server key>": id or {"id": id, ...}}
    nb.extras.custom_fields.create(name=field_name, type="json", object_types=netbox.OBJECT_TYPES)
    dc1_id, dc2_id = unique_id(), unique_id()
    device = scratch.keep(
        nb.dcim.devices.create(
            device_body(
                ref,
                f"json-cf-{uuid.uuid4().hex[:8]}",
                custom_fields={field_name: {"dc1": dc1_id, "dc2": {"id": dc2_id, "oob": "10.9.9.9"}}},
            )
        )
    )
    index = netbox.load_index(api)
    assert index.field_type == "json"
    assert _ids(index.by_librenms.get(("dc1", dc1_id), [])) == {(Kind.DEVICE, device.id)}
    assert _ids(index.by_librenms.get(("dc2", dc2_id), [])) == {(Kind.DEVICE, device.id)}


def test_token_without_permission_is_an_auth_error_that_hides_the_token(
    stack_env: dict[str, str], reference_data: pynetbox.api, tmp_path: Path
) -> None:
    api = netbox.connect(nb_settings(stack_env, tmp_path, "NETBOX_TOKEN_NOPERM"))
    with pytest.raises(NetBoxAuthError) as err:
        netbox.load_index(api)
    token = stack_env["NETBOX_TOKEN_NOPERM"]
    shown = f"{err.value} {err.value.message} {err.value.hint}"
    assert "403" in shown
    assert token not in shown
    assert token.split(".")[-1] not in shown


# ------------------------------------------------------------------ NetBox errors in plain words


def test_bulk_create_error_names_the_failing_item_and_field(
    api: pynetbox.api, nb: pynetbox.api, ref: dict
) -> None:
    suffix = uuid.uuid4().hex[:8]
    body = [
        device_body(ref, f"bulk-ok-{suffix}"),
        device_body(ref, f"bulk-bad-{suffix}", device_type=999_999_999),
    ]
    try:
        with pytest.raises(NetBoxError) as err:
            netbox.call(api, "create devices", lambda: api.dcim.devices.create(body))
    finally:  # a bulk POST is all-or-nothing, but never leave a stray device behind
        for device in nb.dcim.devices.filter(name=[b["name"] for b in body]):
            device.delete()
    message = err.value.message
    assert "1 of 2 objects could not be created" in message
    assert "index 1" in message
    assert "device_type: Related object not found using the provided numeric ID: 999999999" in message


def test_duplicate_name_error_reads_as_a_sentence(
    api: pynetbox.api, nb: pynetbox.api, ref: dict, scratch: Scratch
) -> None:
    name = f"dup-{uuid.uuid4().hex[:8]}"
    scratch.keep(nb.dcim.devices.create(device_body(ref, name)))
    with pytest.raises(pynetbox.RequestError) as err:
        nb.dcim.devices.create(device_body(ref, name))
    assert netbox.describe_error_body(err.value.error) == "Device name must be unique per site and tenant."


def test_field_errors_are_prefixed_with_the_field_name() -> None:
    body = '{"name": ["This field is required."], "site": ["Invalid pk."]}'
    assert netbox.describe_error_body(body) == "name: This field is required.; site: Invalid pk."


def test_error_body_that_is_not_json_is_shown_as_text() -> None:
    assert netbox.describe_error_body(b"<html>Bad Gateway</html>\n") == "<html>Bad Gateway</html>"


# ------------------------------------------------------------------ targeted lookups for small searches


def _candidates(**values) -> netbox.Candidates:
    return netbox.Candidates(**{k: frozenset(v) for k, v in values.items()})


@pytest.mark.parametrize(
    ("what", "candidates"),
    [
        ("librenms_id", lambda m: _candidates(librenms_ids=[m.device_librenms_id])),
        ("serial", lambda m: _candidates(serials=[m.device_serial.casefold()])),
        ("name", lambda m: _candidates(names=[m.device.name.casefold()])),
        ("primary IP", lambda m: _candidates(ips=[m.device_ip])),
    ],
)
def test_targeted_lookup_finds_an_existing_device_by_each_key(
    api: pynetbox.api, made: Made, monkeypatch: pytest.MonkeyPatch, what: str, candidates
) -> None:
    monkeypatch.setattr(defaults, "TARGETED_LOOKUP_RATIO", 0)  # any NetBox counts as large
    index = netbox.load_index(api, candidates=candidates(made))
    assert index.targeted
    assert _ids(index.existing) == {(Kind.DEVICE, made.device.id)}, what


def test_targeted_lookup_finds_a_vm_by_primary_ipv6(
    api: pynetbox.api, made: Made, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(defaults, "TARGETED_LOOKUP_RATIO", 0)
    index = netbox.load_index(api, candidates=_candidates(ips=[made.vm_ip]))
    assert _ids(index.existing) == {(Kind.VM, made.vm.id)}


def test_targeted_lookup_request_count_depends_on_candidates_not_on_netbox_size(
    api: pynetbox.api, made: Made, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(defaults, "TARGETED_LOOKUP_RATIO", 0)
    before = netbox.request_count(api)
    netbox.load_index(api, candidates=_candidates(librenms_ids=[made.device_librenms_id], names=["x"]))
    # field check + 7 reference loads, 2 counts, then per kind (device, VM) one request per key given
    assert netbox.request_count(api) - before == 8 + 2 + 2 * 2


@pytest.mark.parametrize("family", [4, 6])
def test_a_primary_ip_is_looked_up_only_in_the_family_of_its_address(
    api: pynetbox.api, made: Made, monkeypatch: pytest.MonkeyPatch, family: int
) -> None:
    monkeypatch.setattr(defaults, "TARGETED_LOOKUP_RATIO", 0)
    ip, expected = (
        (made.device_ip, (Kind.DEVICE, made.device.id))
        if family == 4
        else (made.vm_ip, (Kind.VM, made.vm.id))
    )
    before = netbox.request_count(api)
    index = netbox.load_index(api, candidates=_candidates(ips=[ip]))
    assert _ids(index.existing) == {expected}
    # field check + 7 reference loads, 2 counts, the address, then primary_ip{family}_id for devices and VMs
    assert netbox.request_count(api) - before == 8 + 2 + 1 + 2


def test_full_load_when_the_search_is_large_next_to_netbox(api: pynetbox.api, made: Made) -> None:
    many = _candidates(librenms_ids=range(1_000_000, 1_000_000 + 10_000))
    index = netbox.load_index(api, candidates=many)
    assert not index.targeted
    assert (Kind.DEVICE, made.device.id) in _ids(index.existing)
