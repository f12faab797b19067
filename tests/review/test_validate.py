"""Validation rules on the LibreNMS fixture devices.

Most tests use `reference_index`: the demo reference data in memory (tests/helpers.demo_index), no NetBox.
The tests about existing objects create their own in the real test NetBox (uuid names, random ids) and load
a fresh index from it, so matching is checked against what NetBox really returns.
"""

from __future__ import annotations

import ipaddress
import json
import random
import uuid
from collections.abc import Iterator
from dataclasses import replace

import pynetbox
import pytest

from core import netbox
from core.choices import Kind, MatchBy, RowStatus, Severity, Source
from core.librenms import LibreDevice, Stack, StackMember, detect_stack
from core.mapping import Mappings, load_mappings
from core.review import (
    Issue,
    Options,
    Overrides,
    Review,
    Row,
    build_review,
    detect_kind,
    device_name,
    validate_device,
)
from core.settings import load_settings
from devtools.librenms_sim import synthesize_devices
from tests.conftest import DEMO_MAPPINGS, FIXTURES
from tests.helpers import demo_index

RAW_DEVICES = json.loads((FIXTURES / "devices.json").read_text(encoding="utf-8"))["devices"]
DEVICES = {d.device_id: d for d in map(LibreDevice.from_api, RAW_DEVICES)}


def key(device_id: int) -> tuple[str, int]:
    return ("default", device_id)


def issues_on(row: Row, field: str, severity: Severity | None = None) -> list[Issue]:
    return [i for i in row.issues if i.field == field and (severity is None or i.severity is severity)]


# ------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def nb_api(stack_env: dict[str, str], reference_data: pynetbox.api, tmp_path_factory) -> pynetbox.api:
    settings = load_settings(
        {"NETBOX_URL": stack_env["NETBOX_URL"], "NETBOX_TOKEN": stack_env["NETBOX_TOKEN"]},
        secrets_file=tmp_path_factory.mktemp("settings") / "none.toml",
    )
    return netbox.connect(settings)


@pytest.fixture(scope="module")
def reference_index() -> netbox.NetBoxIndex:
    """The demo reference data in memory (what the test NetBox holds), without existing objects."""
    return demo_index()


@pytest.fixture(scope="module")
def mappings() -> Mappings:
    return load_mappings(DEMO_MAPPINGS)


@pytest.fixture(scope="module")
def validate(reference_index: netbox.NetBoxIndex, mappings: Mappings):
    def run(device: LibreDevice | int, **kwargs) -> Row:
        if isinstance(device, int):
            device = DEVICES[device]
        return validate_device(device, reference_index, mappings, **kwargs)

    return run


@pytest.fixture
def review(reference_index: netbox.NetBoxIndex, mappings: Mappings) -> Review:
    return build_review(DEVICES.values(), reference_index, mappings)


def stack_of(hostname: str, serial: str) -> Stack:
    rows = json.loads((FIXTURES / "inventory" / f"{hostname}.json").read_text())["inventory"]
    stack = detect_stack(rows, serial)
    assert stack is not None
    return stack


# ------------------------------------------------------------------ names


def test_name_comes_from_sysname_by_default() -> None:
    name, _ = device_name(DEVICES[208], Options())
    assert name == "ip-172-16-41-23"


def test_name_comes_from_hostname_when_set() -> None:
    name, _ = device_name(DEVICES[208], Options(name_source="hostname"))
    assert name == "k8s-worker-03"


def test_domain_is_stripped_from_the_name() -> None:
    name, _ = device_name(DEVICES[101], Options())  # sysName db01.hq.example.net
    assert name == "db01"


def test_domain_is_kept_when_stripping_is_off() -> None:
    name, _ = device_name(DEVICES[101], Options(strip_domain=False))
    assert name == "db01.hq.example.net"


@pytest.mark.parametrize(("device_id", "expected"), [(47, "10.40.2.11"), (301, "2001:db8:40::10")])
def test_ip_hostname_is_never_stripped(device_id: int, expected: str) -> None:
    name, _ = device_name(DEVICES[device_id], Options(name_source="hostname"))
    assert name == expected


def test_factory_default_sysname_falls_back_to_hostname_with_a_warning() -> None:
    name, issues = device_name(DEVICES[304], Options())  # sysName "Switch"
    assert name == "lab-sw-test01"
    assert [(i.field, i.severity, i.value) for i in issues] == [("name", Severity.WARNING, "Switch")]


def test_sysname_shared_within_a_search_falls_back_to_hostname_with_a_warning(review: Review) -> None:
    # fw-hq01/fw-hq02 are an HA pair that both answer sysName FW-HQ01
    first, second = review.rows[key(71)], review.rows[key(72)]
    assert (first.name, second.name) == ("fw-hq01", "fw-hq02")
    assert issues_on(first, "name", Severity.WARNING)
    assert issues_on(second, "name", Severity.WARNING)


def test_name_over_64_characters_blocks(validate) -> None:
    row = validate(307)
    assert len(row.name) > 64
    assert issues_on(row, "name", Severity.BLOCKING)


def test_name_override_replaces_the_derived_name_and_its_length_issue(validate) -> None:
    row = validate(307, overrides=Overrides(name="dist-sw-7e3"))
    assert row.name == "dist-sw-7e3"
    assert not issues_on(row, "name")


def test_name_override_longer_than_64_characters_blocks(validate) -> None:
    row = validate(12, overrides=Overrides(name="x" * 65))
    assert issues_on(row, "name", Severity.BLOCKING)


# ------------------------------------------------------------------ device or VM


@pytest.mark.parametrize(
    ("device", "kind", "reason"),
    [
        (DEVICES[203], Kind.VM, "hypervisor device 111"),  # parent_id
        (DEVICES[204], Kind.VM, "QEMU"),
        (replace(DEVICES[201], parent_id=None), Kind.VM, "VMware Virtual Platform"),  # hardware alone
        (DEVICES[207], Kind.VM, "Microsoft Corporation Virtual Machine"),  # Hyper-V
        (DEVICES[209], Kind.VM, "OpenStack"),
        (DEVICES[208], Kind.VM, "Amazon EC2"),
        (DEVICES[73], Kind.VM, "FGVM64"),  # virtual FortiGate appliance
        (replace(DEVICES[121], serial="VMware-42 1d 6f 3a 9b 2c e4 57-0a 11"), Kind.VM, "serial"),
        (DEVICES[111], Kind.DEVICE, "ESXi"),  # the hypervisor host is physical
        (DEVICES[206], Kind.DEVICE, "no virtualisation signal"),
        (DEVICES[121], Kind.DEVICE, "no virtualisation signal"),  # Windows on "Intel x64"
    ],
    ids=[
        "parent_id",
        "qemu",
        "vmware-hw",
        "hyper-v",
        "openstack",
        "ec2",
        "fgvm",
        "vmware-serial",
        "esxi",
        "generic-x86",
        "windows",
    ],
)
def test_kind_is_detected_from_each_signal(device: LibreDevice, kind: Kind, reason: str) -> None:
    detected, why = detect_kind(device)
    assert detected is kind
    assert reason in why


def test_user_kind_overrides_detection(validate) -> None:
    row = validate(206, overrides=Overrides(kind=Kind.VM))
    assert (row.kind, row.kind_reason) == (Kind.VM, "set by user")


# ------------------------------------------------------------------ site


def test_site_found_by_exact_name(validate) -> None:
    site = validate(304).site  # location "Lab"
    assert (site.slug, site.source) == ("lab", Source.EXACT)


def test_site_found_by_slug_case_insensitively(validate) -> None:
    site = validate(replace(DEVICES[12], location="DC2-FRA")).site
    assert (site.slug, site.source) == ("dc2-fra", Source.SLUG)


def test_site_found_through_the_mapping_table(validate) -> None:
    site = validate(82).site  # 東京オフィス 3F サーバー室 → tokyo
    assert (site.slug, site.source) == ("tokyo", Source.MAPPING)


def test_unknown_location_blocks_the_row(validate) -> None:
    row = validate(replace(DEVICES[71], location="Sitting on the Dock of the Bay"))
    assert row.status is RowStatus.BLOCKED
    assert [i.value for i in issues_on(row, "site", Severity.BLOCKING)] == ["Sitting on the Dock of the Bay"]


def test_device_without_location_blocks_with_its_own_reason(validate) -> None:
    (issue,) = issues_on(validate(replace(DEVICES[71], location="")), "site", Severity.BLOCKING)
    assert "no location" in issue.message


@pytest.mark.parametrize(("device_id", "location"), [(21, "IDF-3B"), (12, "Row A"), (111, None)])
def test_netbox_location_named_in_the_librenms_location_is_used(validate, device_id: int, location) -> None:
    row = validate(device_id)
    assert (row.location.name if row.location else None) == location
    if location:
        assert row.location.source is Source.IN_LOCATION


def test_location_of_another_site_is_not_used(validate) -> None:
    row = validate(21, overrides=Overrides(site="br-lyon"))  # "…IDF-3B" names a location of HQ only
    assert row.site.slug == "br-lyon" and row.location is None


@pytest.mark.parametrize(("rack", "location"), [("HQ-A01", "Row A"), ("IDF-3B", "IDF-3B")])
def test_a_racked_device_stands_in_its_racks_location(validate, rack: str, location: str) -> None:
    row = validate(21, overrides=Overrides(rack=rack))  # LibreNMS says IDF-3B; the rack decides
    assert row.location.name == location and row.location.source is Source.RACK


def test_user_site_override_wins_over_the_location(validate) -> None:
    site = validate(12, overrides=Overrides(site="br-lyon")).site
    assert (site.slug, site.source) == ("br-lyon", Source.USER)


# ------------------------------------------------------------------ device type and platform


@pytest.mark.parametrize(
    ("hardware", "slug", "source"),
    [
        ("J9773A 2530-24G-PoEP", "aruba-2530-24g-poep", Source.MAPPING),
        ("j9773a 2530-24g-poep", "aruba-2530-24g-poep", Source.MAPPING),
        ("ISR4331/K9", "isr4331", Source.PART_NUMBER),
        ("isr4331/k9", "isr4331", Source.PART_NUMBER),
        ("PowerEdge R650", "poweredge-r650", Source.MODEL),  # no part number in NetBox
        ("POWEREDGE R650", "poweredge-r650", Source.MODEL),
        ("C9300-48P", "c9300-48p", Source.PART_NUMBER),  # model and part number are the same text
    ],
)
def test_device_type_resolution(validate, hardware: str, slug: str, source: Source) -> None:
    device_type = validate(replace(DEVICES[12], hardware=hardware)).device_type
    assert (device_type.slug, device_type.source) == (slug, source)


def test_unknown_device_type_blocks_the_row(validate) -> None:
    row = validate(102)  # HPE ProLiant DL380 Gen10: no such type, no mapping
    assert row.status is RowStatus.BLOCKED
    assert [i.value for i in issues_on(row, "device_type", Severity.BLOCKING)] == ["HPE ProLiant DL380 Gen10"]


def test_vm_needs_no_device_type(validate) -> None:
    row = validate(201)
    assert row.device_type is None
    assert row.status is RowStatus.READY


def test_platform_found_by_slug(validate) -> None:
    platform = validate(111).platform  # os vmware-esxi, platform "VMware ESXi"
    assert (platform.slug, platform.source) == ("vmware-esxi", Source.SLUG)


def test_junos_platform_is_found_without_a_mapping(validate) -> None:
    assert validate(53).platform.slug == "junos"


def test_platform_found_through_the_mapping_table(validate) -> None:
    platform = validate(12).platform  # iosxe → cisco-ios-xe
    assert (platform.slug, platform.source) == ("cisco-ios-xe", Source.MAPPING)


def test_unknown_platform_is_only_a_warning(validate) -> None:
    row = validate(replace(DEVICES[71], os="some-unknown-os"))
    assert row.platform is None
    assert [i.severity for i in issues_on(row, "platform")] == [Severity.WARNING]
    assert row.status is RowStatus.READY


# ------------------------------------------------------------------ role


def test_role_is_never_guessed_without_a_rule(validate) -> None:
    row = validate(12)
    assert row.role is None
    assert issues_on(row, "role", Severity.BLOCKING)
    assert row.status is RowStatus.NEEDS_INPUT


def test_default_role_rule_applies_and_says_so(validate) -> None:
    role = validate(71).role  # type firewall → firewall
    assert (role.slug, role.source) == ("firewall", Source.RULE)


def test_user_role_is_used(validate) -> None:
    row = validate(12, overrides=Overrides(role="core-switch"))
    assert (row.role.slug, row.role.source) == ("core-switch", Source.USER)
    assert row.status is RowStatus.READY


def test_unknown_user_role_blocks_the_role(validate) -> None:
    row = validate(12, overrides=Overrides(role="no-such-role"))
    assert [i.value for i in issues_on(row, "role", Severity.BLOCKING)] == ["no-such-role"]


def test_vm_role_must_be_usable_for_vms(validate) -> None:
    row = validate(201, overrides=Overrides(role="core-switch"))
    assert issues_on(row, "role", Severity.BLOCKING)
    assert row.status is RowStatus.NEEDS_INPUT


def test_vm_role_marked_for_vms_is_accepted(validate) -> None:
    row = validate(201, overrides=Overrides(role="firewall"))
    assert not issues_on(row, "role")


# ------------------------------------------------------------------ cluster and rack


def test_vm_without_a_cluster_needs_input(validate) -> None:
    row = validate(204)  # HQ has two clusters: kvm-hq and openstack-hq
    assert row.cluster is None
    assert issues_on(row, "cluster", Severity.BLOCKING)
    assert row.status is RowStatus.NEEDS_INPUT


def test_only_cluster_of_the_site_is_proposed_as_a_rule(validate) -> None:
    cluster = validate(201).cluster  # DC2 Frankfurt has only esx-dc2
    assert (cluster.name, cluster.source) == ("esx-dc2", Source.RULE)


def test_vm_takes_the_site_of_its_cluster(validate) -> None:
    row = validate(204, overrides=Overrides(cluster="esx-dc2"))  # location says HQ
    assert (row.site.slug, row.site.source) == ("dc2-fra", Source.CLUSTER)
    assert issues_on(row, "site", Severity.WARNING)
    assert row.status is RowStatus.READY


def test_unknown_user_cluster_blocks_the_cluster(validate) -> None:
    row = validate(204, overrides=Overrides(cluster="no-such-cluster"))
    assert [i.value for i in issues_on(row, "cluster", Severity.BLOCKING)] == ["no-such-cluster"]


def test_rack_of_the_rows_site_is_accepted(validate) -> None:
    row = validate(61, overrides=Overrides(role="leaf", rack="FRA-C14-R07"))
    assert row.rack.name == "FRA-C14-R07"
    assert row.status is RowStatus.READY


def test_rack_of_another_site_blocks_the_rack(validate) -> None:
    row = validate(61, overrides=Overrides(role="leaf", rack="HQ-A01"))  # 61 is in DC2 Frankfurt
    assert [i.value for i in issues_on(row, "rack", Severity.BLOCKING)] == ["HQ-A01"]
    assert row.status is RowStatus.NEEDS_INPUT


def test_unknown_rack_blocks_the_rack(validate) -> None:
    row = validate(61, overrides=Overrides(rack="no-such-rack"))
    assert [i.value for i in issues_on(row, "rack", Severity.BLOCKING)] == ["no-such-rack"]


# ------------------------------------------------------------------ stacks


def test_stack_member_device_types_are_resolved_one_by_one(validate) -> None:
    row = validate(12, stack=stack_of("core-sw01.hq.example.net", "FOC2418L0AB"))
    assert [t.slug for t in row.member_types] == ["c9300-48p", "c9300-48p", "c9300-48u"]
    assert not issues_on(row, "stack")


def test_stack_member_with_unknown_model_blocks_the_row(validate) -> None:
    stack = Stack(
        members=(
            StackMember(1, "FOC2418L0AB", "C9300-48P", is_master=True),
            StackMember(2, "FOC9999ZZZZ", "C9999-96X"),
        ),
        shape="ios-xe",
    )
    row = validate(12, overrides=Overrides(role="core-switch"), stack=stack)
    assert row.member_types[1] is None
    assert [i.value for i in issues_on(row, "stack", Severity.BLOCKING)] == ["C9999-96X"]
    assert row.status is RowStatus.BLOCKED


# ------------------------------------------------------------------ existing objects in NetBox


def unique_device(template: LibreDevice, **changes) -> LibreDevice:
    """A copy of a fixture device that nothing else in the shared NetBox can match."""
    suffix = uuid.uuid4().hex[:8]
    values = {
        "device_id": random.randint(100_000_000, 2_000_000_000),
        "hostname": f"val-{suffix}.example.net",
        "sysname": f"val-{suffix}",
        "serial": f"VALSER{suffix}".upper(),
        "ip": "",
    }
    return replace(template, **{**values, **changes})


@pytest.fixture(scope="module")
def made(nb: pynetbox.api, nb_api: pynetbox.api, reference_data: pynetbox.api) -> Iterator[dict]:
    """NetBox devices for the 'exists' and 'conflict' cases, and an index loaded after making them."""
    suffix = uuid.uuid4().hex[:8]
    site = nb.dcim.sites.get(slug="lab")
    base = {
        "site": site.id,
        "device_type": nb.dcim.device_types.get(slug="c9300-48p").id,
        "role": nb.dcim.device_roles.get(slug="leaf").id,
    }
    linked = unique_device(DEVICES[12])
    by_serial, by_name = unique_device(DEVICES[12]), unique_device(DEVICES[12])
    claimed_serial, claimed_name = unique_device(DEVICES[5]), unique_device(DEVICES[5])
    by_ip = unique_device(
        DEVICES[5], ip=str(ipaddress.IPv4Address(0x64400000 + random.randint(1, 2**22 - 2)))
    )
    not_mine = unique_device(DEVICES[5])
    name_taken = unique_device(DEVICES[5])
    specs = {
        "linked": {"name": f"linked-{suffix}", "custom_fields": {"librenms_id": linked.device_id}},
        "serial": {"name": f"serial-{suffix}", "serial": by_serial.serial},
        "name": {"name": by_name.sysname.upper()},
        "claimed": {"name": claimed_name.sysname, "serial": claimed_serial.serial},
        "ip": {"name": f"ip-{suffix}"},
        # same serial, but linked to another LibreNMS device: that device, not this one
        "other": {
            "name": f"other-{suffix}",
            "serial": not_mine.serial,
            "custom_fields": {"librenms_id": not_mine.device_id + 1},
        },
        # same name in the same site, but another LibreNMS device's
        "taken": {"name": name_taken.sysname, "custom_fields": {"librenms_id": name_taken.device_id + 1}},
    }
    objects = dict(zip(specs, nb.dcim.devices.create([{**base, **s} for s in specs.values()]), strict=True))
    addresses = []
    try:
        iface = nb.dcim.interfaces.create(device=objects["ip"].id, name="mgmt0", type="1000base-t")
        addresses.append(
            nb.ipam.ip_addresses.create(
                address=f"{by_ip.ip}/32", assigned_object_type="dcim.interface", assigned_object_id=iface.id
            )
        )
        objects["ip"].update({"primary_ip4": addresses[0].id})
        yield {
            "index": netbox.load_index(nb_api),
            "objects": objects,
            "linked": linked,
            # serial matches one NetBox device, sysName another
            "split": replace(by_serial, sysname=by_name.sysname),
            "by_name": by_name,
            "claimed_serial": claimed_serial,
            "claimed_name": claimed_name,
            "by_ip": by_ip,
            "not_mine": not_mine,
            "name_taken": name_taken,
        }
    finally:
        for obj in [*addresses, *objects.values()]:
            obj.delete()


def test_device_linked_by_librenms_id_exists(made: dict, mappings: Mappings) -> None:
    row = validate_device(made["linked"], made["index"], mappings)
    assert row.status is RowStatus.EXISTS
    assert (row.existing.id, row.existing.by) == (made["objects"]["linked"].id, MatchBy.LIBRENMS_ID)
    assert row.existing.url.endswith(f"/dcim/devices/{made['objects']['linked'].id}/")


def test_device_matching_a_netbox_name_case_insensitively_exists(made: dict, mappings: Mappings) -> None:
    row = validate_device(made["by_name"], made["index"], mappings)
    assert row.status is RowStatus.EXISTS
    assert (row.existing.id, row.existing.by) == (made["objects"]["name"].id, MatchBy.NAME)


def test_device_whose_ip_is_a_netbox_primary_ip_exists(made: dict, mappings: Mappings) -> None:
    row = validate_device(made["by_ip"], made["index"], mappings)
    assert row.status is RowStatus.EXISTS
    assert (row.existing.id, row.existing.by) == (made["objects"]["ip"].id, MatchBy.PRIMARY_IP)


def test_serial_of_an_object_linked_to_another_librenms_device_is_no_match(
    made: dict, mappings: Mappings
) -> None:
    row = validate_device(made["not_mine"], made["index"], mappings)
    assert row.existing is None
    assert row.status is RowStatus.NEEDS_INPUT


def test_name_of_another_librenms_devices_object_in_the_same_site_needs_a_new_name(
    made: dict, mappings: Mappings
) -> None:
    row = validate_device(made["name_taken"], made["index"], mappings, overrides=Overrides(site="lab"))
    assert row.existing is None
    assert row.status is RowStatus.NEEDS_INPUT
    (issue,) = issues_on(row, "name", Severity.BLOCKING)
    assert "linked to another LibreNMS device" in issue.message


def test_name_of_another_librenms_devices_object_in_another_site_is_free(
    made: dict, mappings: Mappings
) -> None:
    row = validate_device(made["name_taken"], made["index"], mappings, overrides=Overrides(site="hq"))
    assert not issues_on(row, "name", Severity.BLOCKING)
    assert row.existing is None


def test_serial_matching_one_object_and_name_another_is_a_conflict(made: dict, mappings: Mappings) -> None:
    row = validate_device(made["split"], made["index"], mappings)
    assert row.status is RowStatus.CONFLICT
    (issue,) = issues_on(row, "existing", Severity.BLOCKING)
    assert made["objects"]["serial"].name in issue.message
    assert made["objects"]["name"].name in issue.message


def test_two_rows_claiming_one_netbox_object_are_both_conflicts(made: dict, mappings: Mappings) -> None:
    review = build_review([made["claimed_serial"], made["claimed_name"]], made["index"], mappings)
    rows = [review.rows[made["claimed_serial"].key], review.rows[made["claimed_name"].key]]
    assert [r.existing.id for r in rows] == [made["objects"]["claimed"].id] * 2
    assert [r.status for r in rows] == [RowStatus.CONFLICT, RowStatus.CONFLICT]


def test_vms_of_one_name_conflict_only_within_one_cluster(reference_index, mappings: Mappings) -> None:
    first, second = unique_device(DEVICES[204]), unique_device(DEVICES[205])
    second = replace(second, sysname=first.sysname, hostname=first.hostname)
    review = build_review([first, second], reference_index, mappings)
    review.apply_cluster([first.key], "kvm-hq")
    review.apply_cluster([second.key], "openstack-hq")
    assert {review.rows[k].status for k in (first.key, second.key)} == {RowStatus.READY}
    review.apply_cluster([second.key], "kvm-hq")
    assert {review.rows[k].status for k in (first.key, second.key)} == {RowStatus.CONFLICT}


# ------------------------------------------------------------------ Review edits


def _others_unchanged(review: Review, before: dict, touched: list) -> bool:
    return all(review.rows[k] is row for k, row in before.items() if k not in touched)


@pytest.mark.parametrize(
    ("device_id", "edit", "args", "check"),
    [
        (12, "apply_role", ("core-switch",), lambda r: r.role.slug == "core-switch"),
        (61, "apply_rack", ("FRA-C14-R07",), lambda r: r.rack.name == "FRA-C14-R07"),
        (204, "apply_cluster", ("kvm-hq",), lambda r: r.cluster.name == "kvm-hq"),
        (206, "apply_kind", (Kind.VM,), lambda r: r.kind is Kind.VM),
    ],
)
def test_edit_revalidates_only_the_edited_row(review: Review, device_id: int, edit: str, args, check) -> None:
    before = dict(review.rows)
    touched = getattr(review, edit)([key(device_id)], *args)
    assert touched == [key(device_id)]
    assert check(review.rows[key(device_id)])
    assert _others_unchanged(review, before, touched)


def test_override_revalidates_only_the_edited_row(review: Review) -> None:
    before = dict(review.rows)
    touched = review.apply_override([key(102)], device_type="poweredge-r650")
    assert touched == [key(102)]
    assert review.rows[key(102)].device_type.slug == "poweredge-r650"
    assert _others_unchanged(review, before, touched)


def test_edits_accumulate_on_a_row(review: Review) -> None:
    review.apply_cluster([key(204)], "kvm-hq")
    review.apply_role([key(204)], "firewall")
    row = review.rows[key(204)]
    assert (row.cluster.name, row.role.slug) == ("kvm-hq", "firewall")


def test_clearing_an_edit_restores_the_detected_value(review: Review) -> None:
    review.apply_kind([key(206)], Kind.VM)
    assert review.rows[key(206)].kind is Kind.VM
    review.apply_kind([key(206)], None)
    assert review.rows[key(206)].kind is Kind.DEVICE


def test_same_name_in_the_same_site_makes_both_rows_conflicts(review: Review) -> None:
    touched = review.apply_override([key(12)], name="RTR-WAN01")  # rtr-wan01 is in HQ too
    assert set(touched) == {key(12), key(5)}
    assert review.rows[key(12)].status is RowStatus.CONFLICT
    assert review.rows[key(5)].status is RowStatus.CONFLICT


def test_renaming_away_clears_the_conflict_on_both_rows(review: Review) -> None:
    review.apply_override([key(12)], name="rtr-wan01")
    touched = review.apply_override([key(12)], name="core-sw01-new")
    assert set(touched) == {key(12), key(5)}
    assert review.rows[key(12)].status is RowStatus.NEEDS_INPUT
    assert review.rows[key(5)].status is RowStatus.NEEDS_INPUT


def test_deselecting_one_of_two_rows_with_the_same_name_clears_the_conflict(review: Review) -> None:
    # the conflict issue tells the analyst to "deselect one of them"
    review.apply_override([key(12)], name="rtr-wan01")
    review.select([key(12)], False)
    assert review.rows[key(5)].status is RowStatus.NEEDS_INPUT
    assert review.rows[key(12)].selected is False


def test_selecting_the_row_again_brings_the_conflict_back(review: Review) -> None:
    review.apply_override([key(12)], name="rtr-wan01")
    review.select([key(12)], False)
    review.select([key(12)], True)
    assert review.rows[key(5)].status is RowStatus.CONFLICT


def test_same_name_in_different_sites_is_no_conflict(review: Review) -> None:
    review.apply_override([key(308)], name="core-sw01")  # zrh-core-01 is in Zürich, core-sw01 in HQ
    assert review.rows[key(308)].name == "core-sw01"
    assert review.rows[key(308)].status is RowStatus.NEEDS_INPUT
    assert review.rows[key(12)].status is RowStatus.NEEDS_INPUT


def test_edit_of_an_unknown_row_raises_key_error(review: Review) -> None:
    with pytest.raises(KeyError):
        review.apply_role([key(999_999)], "core-switch")


def test_drop_removes_matching_rows_and_counts_them(review: Review) -> None:
    blocked = {k for k, r in review.rows.items() if r.status is RowStatus.BLOCKED}
    dropped = review.drop(lambda row: row.status is RowStatus.BLOCKED)
    assert dropped == len(blocked) > 0
    assert not blocked & set(review.rows)
    assert len(review) == len(DEVICES) - dropped


def test_drop_of_one_conflicting_row_clears_the_other(review: Review) -> None:
    review.apply_override([key(12)], name="rtr-wan01")
    review.drop(lambda row: row.key == key(12))
    assert review.rows[key(5)].status is RowStatus.NEEDS_INPUT


def test_drop_of_rows_that_conflict_with_each_other(review: Review) -> None:
    review.apply_override([key(12)], name="rtr-wan01")
    dropped = review.drop(lambda row: row.status is RowStatus.CONFLICT)
    assert dropped == 2
    assert key(12) not in review.rows and key(5) not in review.rows


def test_each_fixture_device_gets_the_status_the_demo_data_gives_it(review: Review) -> None:
    by_status = {
        status: {row.device.device_id for row in review if row.status is status} for status in RowStatus
    }
    assert by_status == {
        # a role from the demo rules, everything else resolved
        RowStatus.READY: {71, 72, 73, 111, 201, 202, 203, 208},
        # no role rule matches (switches, routers, ...), or a VM without a cluster
        RowStatus.NEEDS_INPUT: {
            5,
            12,
            13,
            21,
            31,
            32,
            44,
            47,
            53,
            61,
            81,
            82,
            83,
            101,
            204,
            205,
            207,
            209,
            210,
            301,
            304,
            308,
        },
        RowStatus.EXISTS: set(),
        RowStatus.CONFLICT: set(),
        # no site for the location, or no device type for the hardware (left out of the demo data on purpose)
        RowStatus.BLOCKED: {52, 102, 112, 121, 206, 302, 303, 305, 306, 307},
    }
    assert review.counts() == {status: len(ids) for status, ids in by_status.items()}


def test_one_edit_in_a_review_of_5000_devices_revalidates_one_row(
    reference_index: netbox.NetBoxIndex, mappings: Mappings
) -> None:
    devices = [LibreDevice.from_api(d) for d in synthesize_devices(RAW_DEVICES, 5000)]
    review = build_review(devices, reference_index, mappings)
    target = next(d.key for d in devices if d.hostname.startswith("core-sw01-"))
    before = dict(review.rows)
    touched = review.apply_role([target], "core-switch")
    assert touched == [target]
    assert review.rows[target].role.slug == "core-switch"
    assert sum(review.rows[k] is not row for k, row in before.items()) == 1
