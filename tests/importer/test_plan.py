"""The plan of an import, before anything is written: per ticked row the objects it creates with the
values NetBox will show, or why it is skipped or left out (pure: the in-memory demo index)."""

from __future__ import annotations

import csv
import io

import pytest

from core.choices import Kind, PlanAction
from core.csvio import PLAN_COLUMNS, plan_to_csv
from core.importer import plan_rows
from core.importer.payloads import payload
from core.mapping import load_mappings
from core.review import Review, build_review
from tests.conftest import DEMO_MAPPINGS
from tests.helpers import demo_index, existing, fixture_devices, fixture_stack

DEVICES = fixture_devices()
ESX01, AD_DC01, BACKUP01, CORE_SW01 = (("default", i) for i in (111, 203, 102, 12))


@pytest.fixture
def review() -> Review:
    stacks = {CORE_SW01: fixture_stack("core-sw01.hq.example.net", DEVICES[12].serial)}
    index = demo_index(existing=[existing(id=7, name="web01", librenms_ids={"default": 201})])
    made = build_review(DEVICES.values(), index, load_mappings(DEMO_MAPPINGS), stacks=stacks)
    made.apply_role([CORE_SW01], "core-switch")
    return made


def plan_of(review: Review, key, **options):
    return next(p for p in plan_rows(review, **options) if p.key == key)


def test_a_ready_device_plans_the_device_its_interface_and_its_primary_ip(review: Review) -> None:
    plan = plan_of(review, ESX01)
    assert plan.action is PlanAction.CREATE
    device, iface, ip = plan.objects
    assert (device.what, device.name) == ("device", "esx01")
    assert dict(device.fields) == {
        "name": "esx01",
        "status": "active",
        "role": "Hypervisor",
        "platform": "VMware ESXi",
        "site": "DC2 Frankfurt",
        "device_type": "PowerEdge R750",
        "serial": "9QF8K83",
        "librenms_id": "111",
    }
    assert iface.what == "interface" and dict(iface.fields) == {"on": "esx01"}
    assert (ip.what, ip.name) == ("IP address", DEVICES[111].ip) and "reused" in ip.note


def test_the_planned_fields_are_what_the_run_sends(review: Review) -> None:
    row = review.rows[ESX01]
    sent = payload(row, field_type=review.index.field_type, tag_id=1)
    (device, *_) = plan_of(review, ESX01).objects
    shown = dict(device.fields)
    by_id = {ref.id: ref.name for ref in (row.site, row.role, row.platform, row.device_type)}
    for field, value in sent.items():
        if field in ("custom_fields", "tags", "comments"):
            continue
        assert shown[field] == by_id.get(value, str(value)), field
    assert shown["librenms_id"] == str(sent["custom_fields"]["librenms_id"])


def test_a_vm_plans_a_vm_interface(review: Review) -> None:
    vm, iface, _ip = plan_of(review, AD_DC01).objects
    assert (vm.what, dict(vm.fields)["cluster"]) == ("virtual machine", "esx-dc2")
    assert iface.what == "VM interface"
    assert plan_of(review, AD_DC01).kind is Kind.VM


def test_a_stack_plans_its_chassis_and_every_member_with_its_position(review: Review) -> None:
    chassis, *members, _iface, _ip = plan_of(review, CORE_SW01).objects
    assert (chassis.what, chassis.name, dict(chassis.fields)) == (
        "virtual chassis",
        "core-sw01",
        {"master": "core-sw01"},
    )
    assert [(m.name, dict(m.fields)["vc_position"]) for m in members] == [
        ("core-sw01", "1"),
        ("core-sw01-2", "2"),
        ("core-sw01-3", "3"),
    ]
    assert [dict(m.fields).get("librenms_id") for m in members] == ["12", None, None]
    assert dict(members[2].fields)["device_type"] == "C9300-48U"  # the member's own model
    assert all("serial" in m.note for m in members)


def test_rows_that_exist_or_are_not_ready_say_why_and_plan_nothing(review: Review) -> None:
    web01 = plan_of(review, ("default", 201))
    assert (web01.action, web01.objects) == (PlanAction.SKIP, ())
    assert "already in NetBox" in web01.reason and web01.url.endswith("/dcim/devices/7/")
    backup01 = plan_of(review, BACKUP01)
    assert backup01.action is PlanAction.LEAVE_OUT and "device_type" in backup01.reason


def test_unticked_rows_are_not_in_the_plan_and_no_primary_ip_plans_no_address(review: Review) -> None:
    review.select([ESX01], False)
    assert ESX01 not in {p.key for p in plan_rows(review)}
    assert [o.what for o in plan_of(review, AD_DC01, primary_ip=False).objects] == ["virtual machine"]


def test_the_plan_csv_has_one_line_per_object_and_is_spreadsheet_safe(review: Review) -> None:
    plans = [plan_of(review, ESX01), plan_of(review, BACKUP01)]
    lines = list(csv.DictReader(io.StringIO(plan_to_csv(plans))))
    assert tuple(lines[0]) == PLAN_COLUMNS
    assert [(line["row"], line["object"]) for line in lines] == [
        ("esx01", "device"),
        ("esx01", "interface"),
        ("esx01", "IP address"),
        ("backup01", ""),
    ]
    assert "role=Hypervisor" in lines[0]["fields"] and lines[3]["action"] == "leave out"
