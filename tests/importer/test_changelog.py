"""Every change an import makes carries a changelog message naming its run, so NetBox's own changelog tells
which run created, changed or cleaned up each object."""

from __future__ import annotations

from collections.abc import Iterator

import pynetbox
import pytest

from core import defaults
from core.choices import Outcome
from core.importer import ImportItem, run_import
from core.librenms import DeviceFilter
from core.search import run_search
from tests.helpers import Lab, delete_lab_objects, running_lab, settings_from


@pytest.fixture(scope="module")
def lab(reference_data, nb: pynetbox.api, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    with running_lab(tmp_path_factory.mktemp("changelog"), nb=nb) as lab:
        yield lab


def test_each_change_of_an_import_names_its_run_in_netboxs_changelog(
    lab: Lab, stack_env: dict[str, str], nb: pynetbox.api
) -> None:
    settings = settings_from({**stack_env, **lab.env()}, lab.tmp)
    review = run_search(settings, DeviceFilter(hostname=lab.device("esx01")["hostname"])).review
    (row,) = review.rows.values()
    try:
        report = run_import(settings, [ImportItem.from_row(row)], run_id="lnbi-test-run-0001")
        (result,) = report.results
        assert result.outcome is Outcome.CREATED, result.message
        device = nb.dcim.devices.get(result.netbox_id)
        ip = nb.ipam.ip_addresses.get(device.primary_ip4.id)
        message = defaults.CHANGELOG_MESSAGE.format(run_id="lnbi-test-run-0001")
        changes = [
            *nb.core.object_changes.filter(changed_object_type="dcim.device", changed_object_id=device.id),
            *nb.core.object_changes.filter(changed_object_type="ipam.ipaddress", changed_object_id=ip.id),
        ]
        assert {(c.changed_object_type, c.action.value) for c in changes} >= {
            ("dcim.device", "create"),
            ("dcim.device", "update"),  # its primary IP
            ("ipam.ipaddress", "create"),
        }
        assert {c.message for c in changes} == {message}
        assert report.run_id == "lnbi-test-run-0001"
    finally:
        delete_lab_objects(nb, lab)
