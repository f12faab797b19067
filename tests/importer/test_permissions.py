"""The permission check before an import writes anything: what the import adds AND what it changes
afterwards (primary IPs, an IP it reuses, a chassis' master and members), asked of NetBox with the token's
own rights, on a real NetBox user holding real object permissions."""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Iterator

import pynetbox
import pytest

from core import netbox
from core.choices import Outcome
from core.importer import ImportItem, Plan, run_import
from core.librenms import DeviceFilter
from core.review import Review
from core.search import run_search
from core.settings import Settings
from tests.helpers import Lab, delete_lab_objects, running_lab, settings_from

RUN = secrets.token_hex(3)
READ = [
    "dcim.site", "dcim.location", "dcim.rack", "dcim.devicetype", "dcim.devicerole", "dcim.platform",
    "dcim.manufacturer", "virtualization.cluster", "extras.tag", "extras.customfield", "tenancy.tenant",
]  # fmt: skip
WRITTEN = [
    "dcim.device", "dcim.virtualchassis", "dcim.interface", "ipam.ipaddress",
    "virtualization.virtualmachine", "virtualization.vminterface",
]  # fmt: skip


@pytest.fixture(scope="module")
def lab(reference_data, nb: pynetbox.api, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    with running_lab(tmp_path_factory.mktemp("permissions"), nb=nb) as lab:
        yield lab


@pytest.fixture(scope="module")
def add_only_token(nb: pynetbox.api) -> Iterator[str]:
    """A NetBox user that may read what the import reads and add what it writes, but change nothing."""
    user = nb.users.users.create(username=f"lnbi-adder-{RUN}", password=secrets.token_urlsafe(16) + "Aa1")
    nb.users.permissions.create(name=f"lnbi-read-{RUN}", object_types=READ, actions=["view"], users=[user.id])
    nb.users.permissions.create(
        name=f"lnbi-add-{RUN}", object_types=WRITTEN, actions=["view", "add"], users=[user.id]
    )
    token = nb.users.tokens.create(user=user.id, write_enabled=True)
    yield f"nbt_{token.key}.{token.token}"
    for permission in nb.users.permissions.filter(name__isw="lnbi-"):
        if permission.name in (f"lnbi-read-{RUN}", f"lnbi-add-{RUN}"):
            permission.delete()
    user.delete()


@pytest.fixture(scope="module")
def review(lab: Lab, stack_env: dict[str, str]) -> Review:
    return run_search(settings_from({**stack_env, **lab.env()}, lab.tmp), DeviceFilter()).review


def test_a_plan_with_primary_ips_and_stacks_needs_the_changes_too() -> None:
    plan = Plan(devices=2, vms=1, stacks=1, stack_members=3, ips=4, not_ready=0)
    needed = plan.permissions(primary_ip=True)
    assert {
        "change devices",
        "change virtual machines",
        "change IP addresses",
        "change virtual chassis",
    } <= set(needed)
    assert "change devices" not in Plan(1, 0, 0, 0, 0, 0).permissions(primary_ip=True)


def test_netbox_tells_an_add_only_token_it_may_not_change(
    add_only_token: str, stack_env: dict[str, str], lab
):
    settings = settings_from({**stack_env, **lab.env(), "NETBOX_TOKEN": add_only_token}, lab.tmp)
    api = netbox.connect(settings)
    missing = netbox.missing_permissions(
        api, ["add devices", "change devices", "add IP addresses", "change IP addresses"]
    )
    assert missing == ["change devices", "change IP addresses"]


def test_a_token_that_may_add_but_not_change_imports_nothing_and_names_what_is_missing(
    add_only_token: str, stack_env: dict[str, str], lab: Lab, review: Review, nb: pynetbox.api
) -> None:
    row = review.rows[("default", lab.device_id("esx01"))]  # ready with the demo data, has a primary IP
    assert row.will_import and row.device.ip
    settings: Settings = settings_from({**stack_env, **lab.env(), "NETBOX_TOKEN": add_only_token}, lab.tmp)
    try:
        report = run_import(dataclasses.replace(settings, create_primary_ip=True), [ImportItem.from_row(row)])
        assert "change devices" in report.error and "change IP addresses" in report.error
        assert [r.outcome for r in report.results] == [Outcome.SKIPPED]
        assert "not attempted" in report.results[0].message
        assert not list(nb.dcim.devices.filter(cf_librenms_id=row.device.device_id))
    finally:
        delete_lab_objects(nb, lab)
