"""A user's path in a real browser: search → grid → set a role on several rows → import → done → in NetBox."""

from __future__ import annotations

import contextlib
import re

import pynetbox
import pytest

from tests.e2e.conftest import settle, shot

pytestmark = pytest.mark.e2e

ACCESS_SWITCHES = {21: "acc-sw-f3-01", 47: "acc-sw-wh-01", 301: "ipv6-only-sw"}


ENDPOINTS = ("ipam.ip_addresses", "dcim.virtual_chassis", "dcim.devices", "virtualization.virtual_machines")


def _tagged(nb: pynetbox.api) -> dict[str, set[int]]:
    out = {}
    for name in ENDPOINTS:
        app, endpoint = name.split(".")
        out[name] = {obj.id for obj in getattr(getattr(nb, app), endpoint).filter(tag="librenms-import")}
    return out


@pytest.fixture
def cleanup(nb: pynetbox.api):
    """Delete what the walk imported (and only that), so later tests find the fixture devices new again.
    Virtual chassis go before devices: a chassis protects its master device."""
    before = _tagged(nb)
    yield
    after = _tagged(nb)
    for name in ENDPOINTS:
        app, endpoint = name.split(".")
        for object_id in sorted(after[name] - before[name]):
            with contextlib.suppress(pynetbox.RequestError):  # already gone with its device
                getattr(getattr(nb, app), endpoint).delete([object_id])


def test_analyst_sets_a_role_on_several_rows_and_imports_them(
    page, app_url: str, nb: pynetbox.api, cleanup
) -> None:
    page.goto(app_url)
    page.get_by_role("button", name="Search").click()
    page.get_by_text(re.compile(r"Found \d+ devices")).wait_for(timeout=60_000)
    settle(page)
    shot(page, "1-search-results")

    # narrow the grid to the access switches, then set their role in one bulk edit
    page.get_by_placeholder("name, hostname, site, hardware, os…").fill("acc-sw")
    page.keyboard.press("Enter")
    settle(page)
    page.get_by_text("Bulk edit").click()
    page.get_by_text("All rows shown by the filter above").click()
    settle(page)
    value = page.get_by_role("combobox", name="Value")
    value.click()
    value.fill("access-switch")
    page.keyboard.press("Enter")
    settle(page)
    page.get_by_role("button", name="Apply to 2 rows").click()
    settle(page)
    shot(page, "2-role-set")

    # import: confirm in the dialog, follow the job until it is done
    page.get_by_role("button", name="Import", exact=False).filter(has_text="ready rows").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_text("primary IPs").wait_for()
    settle(page)
    shot(page, "3-confirm")
    dialog.get_by_role("button", name="Import", exact=True).click()
    page.get_by_text("Import finished").wait_for(timeout=120_000)
    settle(page)
    shot(page, "4-import-done")
    body = page.inner_text("body")
    assert "No worker is listening" in body  # the e2e app has no worker: it says it ran in-process
    for device_id, name in ACCESS_SWITCHES.items():
        device = nb.dcim.devices.get(name=name)
        if device_id == 301:
            assert device is None  # not in the 'acc-sw' view: no role, not ready, not imported
            continue
        assert device is not None and device.custom_fields["librenms_id"] == device_id
        assert device.role.slug == "access-switch"
        assert device.primary_ip is not None
    # "HQ Building 2, Floor 3, IDF-3B" names the NetBox location IDF-3B of site HQ
    assert nb.dcim.devices.get(name="acc-sw-f3-01").location.name == "IDF-3B"
    # the grid now shows NetBox as it is: the imported rows exist
    assert "🔵 exists" in page.inner_text("[data-testid='stDataFrame'], [data-testid='stDataEditor'], body")
