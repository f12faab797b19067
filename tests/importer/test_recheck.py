"""The importer's re-check under its locks (core.importer.recheck): an object NetBox gained after the review
was built — matching the row by any rule the review itself matches on — is reported, never created again.

The twin appears while the run is already going: the progress callback, called once before the first batch,
creates it, so only the re-check under the lock can see it.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator

import pynetbox
import pytest

from core.choices import Outcome, RowStatus
from core.importer import ImportItem, Progress, RowResult, run_import
from core.librenms import DeviceFilter
from core.review import Row
from core.search import run_search
from core.settings import Settings
from tests.helpers import Lab, delete_lab_objects, running_lab, settings_from

TEMPLATE = "esx01"  # ready with the demo data (role rule: hypervisor)


@pytest.fixture(scope="module")
def lab(reference_data, nb: pynetbox.api, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    with running_lab(tmp_path_factory.mktemp("recheck"), nb=nb) as lab:
        yield lab


@pytest.fixture(scope="module")
def lab_settings(lab: Lab, stack_env: dict[str, str]) -> Settings:
    return settings_from({**stack_env, **lab.env()}, lab.tmp)


@pytest.fixture
def made(nb: pynetbox.api, lab: Lab) -> Iterator[list]:
    """The twins a test makes; they, their IPs and anything made for the lab's devices go afterwards."""
    objects: list = []
    yield objects
    for twin in objects:
        for ip in nb.ipam.ip_addresses.filter(device_id=twin.id):
            ip.delete()
        twin.delete()
    delete_lab_objects(nb, lab)


@pytest.fixture
def row(lab: Lab, lab_settings: Settings) -> Row:
    """The lab's esx01 as the review shows it: ready."""
    review = run_search(lab_settings, DeviceFilter(hostname=lab.device(TEMPLATE)["hostname"])).review
    (found,) = review.rows.values()
    assert found.status is RowStatus.READY, found.issues_text()
    return found


def twin_maker(
    nb: pynetbox.api, row: Row, rule: str, run: str
) -> Callable[[], pynetbox.core.response.Record]:
    """Creates, when called, a NetBox device that is `row` by `rule` and by nothing else."""
    fields = {"site": row.site.id, "device_type": row.device_type.id, "role": row.role.id}

    def make():
        name = f"twin-{run}-{secrets.token_hex(2)}"
        if rule == "serial":
            return nb.dcim.devices.create(name=name, serial=row.device.serial, **fields)
        if rule == "name":
            return nb.dcim.devices.create(name=row.name, **fields)
        if rule == "librenms_id":
            return nb.dcim.devices.create(
                name=name, custom_fields={"librenms_id": row.device.device_id}, **fields
            )
        twin = nb.dcim.devices.create(name=name, **fields)  # primary IP
        iface = nb.dcim.interfaces.create(device=twin.id, name="mgmt0", type="virtual")
        ip = nb.ipam.ip_addresses.create(
            address=f"{row.device.ip}/32", assigned_object_type="dcim.interface", assigned_object_id=iface.id
        )
        twin.update({"primary_ip4": ip.id})
        return twin

    return make


@pytest.mark.parametrize("rule", ["serial", "primary IP", "name", "librenms_id"])
def test_a_device_netbox_gained_during_the_run_is_skipped_not_created_twice(
    rule: str, row: Row, lab: Lab, lab_settings: Settings, nb: pynetbox.api, made: list
) -> None:
    make_twin = twin_maker(nb, row, rule, lab.run)

    def progress(_progress: Progress, _finished: list[RowResult]) -> None:
        if not made:
            made.append(make_twin())

    report = run_import(lab_settings, [ImportItem.from_row(row)], progress=progress)

    assert made, "the twin was not made during the run"
    (result,) = report.results
    assert result.outcome is Outcome.SKIPPED, result.message
    assert result.netbox_id == made[0].id
    assert result.message.startswith("already in NetBox as device")
    assert not [d for d in nb.dcim.devices.filter(cf_librenms_id=row.device.device_id) if d.id != made[0].id]
    if rule != "name":
        assert nb.dcim.devices.get(name=row.name) is None
