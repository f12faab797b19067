"""Differences of existing rows, pure: the fixture device fw-hq01 (id 71) against an existing NetBox object
built in memory from the demo reference data. The same rules against the real NetBox are in
tests/importer/test_updates.py."""

from __future__ import annotations

import pytest

from core.choices import ExistingAction, FieldType, Kind, Owner, RowStatus, Severity, Sync, SyncField
from core.errors import ConfigError
from core.mapping import Mappings, load_mappings, mappings_from_dict
from core.netbox import NetBoxIndex
from core.review import Overrides, Row, validate_device
from tests.conftest import DEMO_MAPPINGS
from tests.helpers import demo_index, existing, fixture_devices, fixture_stack

DEVICE = fixture_devices()[71]  # fw-hq01: HQ Portsmouth, FortiGate 100F, FortiOS, up, 10.10.255.254
BASE = validate_device(DEVICE, demo_index(), load_mappings(DEMO_MAPPINGS))  # the row as if new
NAME = BASE.name


def _index(field_type: FieldType = FieldType.INTEGER, **changes: object) -> NetBoxIndex:
    """The demo index with fw-hq01 in NetBox exactly as LibreNMS says it, but for `changes`."""
    index = demo_index(field_type=field_type)
    fields: dict[str, object] = {
        "name": NAME,
        "site_id": index.sites.find("HQ Portsmouth").id,
        "serial": DEVICE.serial,
        "librenms_ids": {"default": 71},
        "primary_ips": ("10.10.255.254",),
        "device_type_id": index.device_types.find("FortiGate 100F").id,
        "platform_id": index.platforms.find("Fortinet FortiOS").id,
        "status": "active",
        "location_id": BASE.location.id if BASE.location else None,
        "librenms_value": {"default": 71} if field_type is FieldType.JSON else 71,
        "last_updated": "2026-12-01T10:00:00Z",
    }
    fields.update(changes)
    if "serial" in changes and "librenms_ids" not in changes:
        fields["librenms_ids"] = {"default": 71}
    index.add_existing(existing(Kind.DEVICE, id=500, **fields))  # type: ignore[arg-type]
    return index


def _row(index: NetBoxIndex, mappings: Mappings | None = None, **overrides: str) -> Row:
    return validate_device(
        DEVICE, index, mappings or load_mappings(DEMO_MAPPINGS), overrides=Overrides().with_(**overrides)
    )


def test_an_existing_object_equal_to_librenms_is_in_sync_with_no_differences():
    row = _row(_index())
    assert row.status is RowStatus.EXISTS
    assert row.differences == ()
    assert row.sync is Sync.IN_SYNC


@pytest.mark.parametrize(
    ("changes", "field", "netbox", "librenms"),
    [
        ({"serial": "OLD-SERIAL"}, SyncField.SERIAL, "OLD-SERIAL", "FG100FTK22012345"),
        ({"platform_id": None}, SyncField.PLATFORM, "—", "Fortinet FortiOS"),
        ({"status": "offline"}, SyncField.STATUS, "offline", "active"),
        ({"primary_ips": ("10.10.255.1",)}, SyncField.PRIMARY_IP, "10.10.255.1", "10.10.255.254"),
        ({"librenms_value": None, "librenms_ids": {}}, SyncField.LIBRENMS_ID, "—", "71"),
    ],
)
def test_each_field_librenms_owns_that_differs_is_the_one_difference_and_the_row_differs(
    changes, field, netbox, librenms
):
    row = _row(_index(**changes))  # without its librenms_id, it is matched by serial
    assert [(d.field, d.netbox, d.librenms) for d in row.differences] == [(field, netbox, librenms)]
    assert row.differences[0].owner is Owner.LIBRENMS
    assert row.sync is Sync.DIFFERS


def test_fields_netbox_owns_are_shown_with_where_each_value_came_from_but_leave_the_row_in_sync():
    index = demo_index()
    other_site = index.sites.find("DC2 Frankfurt").id
    row = _row(_index(name="fw-hq01-old", site_id=other_site, device_type_id=None))
    shown = {d.field: d for d in row.differences}
    assert set(shown) == {SyncField.NAME, SyncField.SITE, SyncField.DEVICE_TYPE}
    assert shown[SyncField.SITE].netbox == "DC2 Frankfurt"
    assert shown[SyncField.SITE].librenms == "HQ Portsmouth"
    assert shown[SyncField.SITE].netbox_from == "NetBox device 'fw-hq01-old', field site"
    assert "LibreNMS location" in shown[SyncField.SITE].librenms_from
    assert all(d.owner is Owner.NETBOX and not d.updatable for d in row.differences)
    assert row.sync is Sync.IN_SYNC


def test_giving_a_field_to_librenms_in_the_mapping_file_makes_its_difference_updatable():
    mappings = load_mappings(DEMO_MAPPINGS).with_ownership({SyncField.SITE: Owner.LIBRENMS})
    row = _row(_index(site_id=demo_index().sites.find("DC2 Frankfurt").id), mappings)
    assert [d.field for d in row.updatable] == [SyncField.SITE]
    assert row.sync is Sync.DIFFERS


def test_a_status_people_set_in_netbox_is_not_compared():
    assert _row(_index(status="decommissioning")).differences == ()


def test_link_writes_only_librenms_id_and_update_the_chosen_fields_librenms_owns_with_the_link():
    index = _index(serial="OLD", status="offline", librenms_value=None, librenms_ids={})
    assert _row(index).updates == ()
    assert _row(index, action="link").updates == (SyncField.LIBRENMS_ID,)
    assert _row(index, action="update").updates == (SyncField.SERIAL, SyncField.STATUS, SyncField.LIBRENMS_ID)
    chosen = _row(index, action="update", update="serial")
    assert chosen.updates == (SyncField.SERIAL, SyncField.LIBRENMS_ID)
    assert chosen.will_update and chosen.will_import and not chosen.will_create


def test_an_update_asked_for_a_field_netbox_owns_never_writes_it_and_says_so():
    index = _index(site_id=demo_index().sites.find("DC2 Frankfurt").id, serial="OLD")
    row = _row(index, action="update", update="site,serial")
    assert row.updates == (SyncField.SERIAL,)
    notes = [i for i in row.issues if i.field == "update"]
    assert notes and notes[0].severity is Severity.WARNING and "NetBox owns site" in notes[0].message


def test_a_row_with_nothing_to_write_is_not_imported_whatever_its_action():
    row = _row(_index(), action=ExistingAction.UPDATE.value)
    assert row.updates == () and not row.will_import


@pytest.mark.parametrize(
    ("held", "differs"),
    [
        (71, True),  # the legacy bare id in a JSON field: another shape
        ({"default": 71}, False),
        ({"default": {"id": 71, "oob": "10.0.0.1"}}, False),  # the plugin's richer shape links as well
        ({"other": 9}, True),
    ],
)
def test_a_json_librenms_id_in_another_shape_differs_and_the_written_value_keeps_other_servers(held, differs):
    index = _index(FieldType.JSON, librenms_value=held, librenms_ids={})
    row = _row(index, action="link")
    assert (SyncField.LIBRENMS_ID in {d.field for d in row.differences}) is differs
    if held == {"other": 9}:
        assert row.differences[0].librenms == '{"default": 71, "other": 9}'


def test_the_mapping_file_refuses_ownership_of_unknown_or_netbox_only_fields():
    with pytest.raises(ConfigError, match="unknown field 'colour'"):
        mappings_from_dict({"ownership": {"colour": "librenms"}})
    with pytest.raises(ConfigError, match="NetBox always owns it"):
        mappings_from_dict({"ownership": {"role": "librenms"}})
    with pytest.raises(ConfigError, match="use librenms or netbox"):
        mappings_from_dict({"ownership": {"serial": "both"}})
    mappings = mappings_from_dict({"ownership": {"serial": "netbox", "platform": "librenms"}})
    assert mappings.owner(SyncField.SERIAL) is Owner.NETBOX
    assert mappings.as_dict()["ownership"] == {"serial": "netbox"}  # only what differs from the default
    assert mappings_from_dict(mappings.as_dict()) == mappings


def test_an_existing_row_lists_no_issue_of_what_creating_it_would_need():
    device = fixture_devices()[21]  # acc-sw-f3-01: a new row needs a role
    mappings = load_mappings(DEMO_MAPPINGS)
    assert "role" in {i.field for i in validate_device(device, demo_index(), mappings).blocking}
    index = demo_index(existing=[existing(Kind.DEVICE, id=501, name="x", librenms_ids={"default": 21})])
    row = validate_device(device, index, mappings)
    assert row.status is RowStatus.EXISTS and row.blocking == ()


def test_a_stack_whose_netbox_members_differ_shows_the_membership_but_never_offers_to_write_it():
    device = fixture_devices()[12]  # core-sw01: a stack of 3 (FOC2418L0AB, FOC2418L1CD, FOC2422X0EF)
    stack = fixture_stack(device.hostname, device.serial)
    mappings = load_mappings(DEMO_MAPPINGS)
    master = dict(librenms_ids={"default": 12}, serial=device.serial, virtual_chassis_id=90, vc_position=1)
    members = [
        existing(Kind.DEVICE, id=601, name="core-sw01", **master),
        existing(
            Kind.DEVICE,
            id=602,
            name="core-sw01-2",
            serial="FOC2418L1CD",
            virtual_chassis_id=90,
            vc_position=2,
        ),
    ]
    row = validate_device(device, demo_index(existing=members), mappings, stack=stack)
    (stack_difference,) = [d for d in row.differences if d.field is SyncField.STACK]
    assert stack_difference.netbox == "1:FOC2418L0AB, 2:FOC2418L1CD"
    assert stack_difference.librenms == "1:FOC2418L0AB, 2:FOC2418L1CD, 3:FOC2422X0EF"  # a member gained
    assert not stack_difference.updatable
    three = [
        *members,
        existing(Kind.DEVICE, id=603, name="x-3", serial="FOC2422X0EF", virtual_chassis_id=90, vc_position=3),
    ]
    row = validate_device(device, demo_index(existing=three), mappings, stack=stack)
    assert SyncField.STACK not in {d.field for d in row.differences}


def test_a_rack_chosen_for_the_row_and_a_vms_cluster_are_compared_with_netboxs():
    index = _index()
    row = _row(index, rack="HQ-A01")
    assert [(d.field, d.netbox, d.librenms) for d in row.differences] == [(SyncField.RACK, "—", "HQ-A01")]
    vm_device = fixture_devices()[201]  # web01
    vm_index = demo_index()
    vm_index.add_existing(
        existing(
            Kind.VM,
            id=700,
            name="web01",
            librenms_ids={"default": 201},
            cluster_id=vm_index.clusters.find("kvm-hq").id,
        )
    )
    vm = validate_device(
        vm_device, vm_index, load_mappings(DEMO_MAPPINGS), overrides=Overrides(cluster="esx-dc2")
    )
    shown = {d.field: (d.netbox, d.librenms) for d in vm.differences}
    assert shown[SyncField.CLUSTER] == ("kvm-hq", "esx-dc2")


def test_an_ambiguous_match_stays_a_conflict_with_a_link_to_each_object_and_nothing_to_write():
    index = demo_index()
    index.add_existing(existing(Kind.DEVICE, id=801, name="other-name", serial=DEVICE.serial))
    index.add_existing(existing(Kind.DEVICE, id=802, name=NAME, serial="ELSE"))
    row = validate_device(DEVICE, index, load_mappings(DEMO_MAPPINGS), overrides=Overrides(action="update"))
    assert row.status is RowStatus.CONFLICT and row.differences == () and not row.will_import
    message = row.issues[0].message
    assert "/dcim/devices/801/" in message and "/dcim/devices/802/" in message
