"""An import with a signed-in analyst's own NetBox rights: NetBox's object permissions, constraints
included, decide what they may write, and NetBox's changelog names them for every change."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pynetbox
import pytest

from core import defaults
from core.auth import Analyst, sign_in, sign_out
from core.choices import Outcome
from core.importer import ImportItem, Plan, missing_permissions, run_import
from core.librenms import DeviceFilter
from core.search import run_search
from core.settings import Settings
from tests.helpers import Lab, delete_lab_objects, password_of, running_lab, settings_from

READ = [
    "dcim.site", "dcim.location", "dcim.rack", "dcim.devicetype", "dcim.devicerole", "dcim.platform",
    "dcim.manufacturer", "virtualization.cluster", "extras.customfield", "tenancy.tenant",
    "dcim.virtualchassis", "virtualization.virtualmachine",
]  # fmt: skip


@pytest.fixture(scope="module")
def lab(reference_data, nb: pynetbox.api, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    with running_lab(tmp_path_factory.mktemp("analyst-rights"), nb=nb) as lab:
        yield lab


@pytest.fixture(scope="module")
def service(lab: Lab, stack_env: dict[str, str]) -> Settings:
    return settings_from({**stack_env, **lab.env()}, lab.tmp)


def signed_in(service: Settings, username: str) -> Iterator[Analyst]:
    analyst = sign_in(service, username, password_of(username))
    yield analyst
    sign_out(service, analyst)


@pytest.fixture
def analyst(service: Settings) -> Iterator[Analyst]:
    """May write devices only in the site hq (devtools/stack.sh)."""
    yield from signed_in(service, "analyst")


@pytest.fixture
def viewer(service: Settings) -> Iterator[Analyst]:
    yield from signed_in(service, "viewer")


def test_rows_netbox_refuses_under_a_site_constraint_fail_with_its_reason_and_the_others_are_imported(
    lab: Lab, service: Settings, analyst: Analyst, nb: pynetbox.api
) -> None:
    settings = analyst.settings(service)
    names = {"fw-hq01": "hq", "esx01": "dc2-fra"}  # both ready with the demo data, each with a primary IP
    review = run_search(settings, DeviceFilter()).review
    rows = {name: review.rows[("default", lab.device_id(name))] for name in names}
    assert all(row.will_import and row.site.slug == names[name] for name, row in rows.items())
    try:
        report = run_import(
            settings, [ImportItem.from_row(row) for row in rows.values()], run_id="lnbi-rights-1"
        )
        outcome = {r.librenms_id: r for r in report.results}
        allowed, refused = outcome[lab.device_id("fw-hq01")], outcome[lab.device_id("esx01")]
        assert allowed.outcome is Outcome.CREATED, allowed.message
        assert refused.outcome is Outcome.FAILED
        assert "permission" in refused.message.lower(), refused.message
        assert not report.error, report.error  # one refused row does not stop the run
        device = nb.dcim.devices.get(allowed.netbox_id)
        assert device.site.slug == "hq" and device.primary_ip4 is not None
        assert not list(nb.dcim.devices.filter(cf_librenms_id=lab.device_id("esx01")))
        changes = list(
            nb.core.object_changes.filter(changed_object_type="dcim.device", changed_object_id=device.id)
        )
        assert changes and {c.user_name for c in changes} == {"analyst"}
        message = defaults.CHANGELOG_MESSAGE.format(run_id="lnbi-rights-1") + ", by analyst"
        assert {c.message for c in changes} == {message}
        assert report.by == "analyst"
    finally:
        delete_lab_objects(nb, lab)


def test_the_pre_check_tells_a_viewer_what_netbox_will_not_let_them_write(
    service: Settings, viewer: Analyst
) -> None:
    plan = Plan(devices=1, vms=1, stacks=0, stack_members=0, ips=2, not_ready=0)
    missing = missing_permissions(viewer.settings(service), plan)
    assert {"add devices", "add virtual machines", "add IP addresses"} <= set(missing)


def test_the_pre_check_passes_an_analyst_whose_permissions_are_constrained(
    service: Settings, analyst: Analyst
) -> None:
    """NetBox lists an action on a type for a user who holds it for some objects of the type: the rows
    themselves are then NetBox's to refuse, one by one."""
    plan = Plan(devices=1, vms=1, stacks=1, stack_members=2, ips=2, not_ready=0)
    assert missing_permissions(analyst.settings(service), plan) == []


@pytest.fixture
def change_only_in_hq(nb: pynetbox.api, service: Settings) -> Iterator[Analyst]:
    """A user of this test's own who may add what the import adds anywhere, but change devices only in hq:
    the primary IP of a device elsewhere is refused by NetBox in the bulk PATCH, with a 403 per object."""
    run = secrets.token_hex(3)
    password = secrets.token_urlsafe(16) + "Aa1"
    user = nb.users.users.create(username=f"lnbi-hq-changer-{run}", password=password)
    added = ["dcim.device", "dcim.interface", "ipam.ipaddress", "extras.tag"]
    permissions = [
        nb.users.permissions.create(
            name=f"lnbi-view-{run}", object_types=READ + added, actions=["view"], users=[user.id]
        ),
        nb.users.permissions.create(
            name=f"lnbi-add-{run}", object_types=added, actions=["add"], users=[user.id]
        ),
        nb.users.permissions.create(
            name=f"lnbi-change-ip-{run}", object_types=["ipam.ipaddress"], actions=["change"], users=[user.id]
        ),
        nb.users.permissions.create(
            name=f"lnbi-change-hq-{run}",
            object_types=["dcim.device"],
            actions=["change"],
            constraints={"site__slug": "hq"},
            users=[user.id],
        ),
    ]
    analyst = sign_in(service, user.username, password)
    yield analyst
    sign_out(service, analyst)
    for permission in permissions:
        permission.delete()
    user.delete()


def test_a_403_for_some_objects_of_a_bulk_patch_costs_only_their_rows(
    lab: Lab, service: Settings, change_only_in_hq: Analyst, nb: pynetbox.api
) -> None:
    """Before: NetBox refused the bulk PATCH of primary IPs for the device outside hq (it answers as if the
    object did not exist, or 403 per object), and the allowed device lost its primary IP with it."""
    settings = change_only_in_hq.settings(service)
    review = run_search(settings, DeviceFilter()).review
    rows = [review.rows[("default", lab.device_id(name))] for name in ("fw-hq01", "esx01")]
    try:
        report = run_import(settings, [ImportItem.from_row(row) for row in rows])
        assert not report.error, report.error
        outcome = {r.librenms_id: r for r in report.results}
        allowed, refused = outcome[lab.device_id("fw-hq01")], outcome[lab.device_id("esx01")]
        assert allowed.outcome is Outcome.CREATED, allowed.extra
        assert nb.dcim.devices.get(allowed.netbox_id).primary_ip4 is not None
        assert refused.outcome is Outcome.PARTIAL  # created; its primary IP is what NetBox refused
        assert any("not set" in line and "permission" in line.lower() for line in refused.extra), (
            refused.extra
        )
        assert nb.dcim.devices.get(refused.netbox_id).primary_ip4 is None
    finally:
        delete_lab_objects(nb, lab)
