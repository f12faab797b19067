"""An analyst brings devices NetBox already has up to date, in a real browser: two leaf switches imported
earlier were replaced under RMA and run another OS in NetBox's eyes (serial and platform changed there);
filter 'differs' → the two rows → update serial and platform in one bulk edit → import → NetBox has
LibreNMS's values → the rows show 'in sync'."""

from __future__ import annotations

import re

import pynetbox
import pytest

from core.importer import run_import
from core.librenms import DeviceFilter
from core.search import run_search
from tests.browser.conftest import settle, shot, sign_in
from tests.browser.test_import_flow import metric, shown_statuses
from tests.helpers import Lab, delete_lab_objects, prepared, settings_from

LEAVES = ("nx-leaf01", "nx-leaf02")


def choose(page, label: str, *values: str) -> None:
    """Pick values in the select box (or multiselect) with this label, as a user types them."""
    box = page.get_by_role("combobox", name=label)
    for value in values:
        box.click()
        box.fill(value)
        page.keyboard.press("Enter")
        settle(page)
    page.keyboard.press("Escape")


@pytest.fixture
def replaced(nb: pynetbox.api, stack_env: dict[str, str], app_lab: Lab, tmp_path):
    """The two leaves imported, then changed in NetBox as after an RMA: another serial and platform."""
    settings = settings_from({**stack_env, **app_lab.env()}, tmp_path)
    review = run_search(settings, DeviceFilter()).review
    app_lab.review = review
    report = run_import(settings, [prepared(app_lab, review, app_lab.row(t, 0)) for t in LEAVES])
    assert {r.outcome.value for r in report.results} == {"created"}, report.results
    ios = nb.dcim.platforms.get(slug="cisco-ios")
    devices = {}
    for result in report.results:
        device = nb.dcim.devices.get(result.netbox_id)
        device.update({"serial": f"RMA-{device.id}", "platform": ios.id})
        devices[device.name] = device.id
    yield devices
    delete_lab_objects(nb, app_lab)


def test_analyst_filters_differs_updates_serial_and_platform_and_the_rows_are_in_sync(
    page, app_url: str, app_lab: Lab, nb: pynetbox.api, replaced: dict[str, int]
) -> None:
    names = {template: app_lab.name(template) for template in LEAVES}
    page.goto(app_url)
    sign_in(page, "lead")
    page.get_by_role("button", name="Search").click()
    page.get_by_text(re.compile(r"Found \d+ devices")).wait_for(timeout=60_000)
    settle(page)
    differing = metric(page, "🟣 differs")
    assert differing >= 2

    choose(page, "Show", "differs")
    page.get_by_placeholder("name, hostname, site, hardware, os…").fill("nx-leaf")
    page.keyboard.press("Enter")
    settle(page)
    assert shown_statuses(page) == {name: "🟣 differs (2)" for name in names.values()}
    shot(page, "existing-1-differs")

    page.get_by_text("Bulk edit").click()
    page.get_by_text("All rows shown by the filter above").click()
    settle(page)
    choose(page, "Field", "action")
    choose(page, "Value", "update")
    page.get_by_role("button", name="Apply to 2 rows").click()
    settle(page)
    choose(page, "Field", "fields to update")
    choose(page, "Fields", "serial", "platform")
    page.get_by_role("button", name="Apply to 2 rows").click()
    settle(page)
    shot(page, "existing-2-update-chosen")

    page.get_by_role("button", name=re.compile(r"^Write \d+ rows: create \d+, update 2, link 0")).click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_text("devices and VMs it has already").wait_for()
    settle(page)
    shot(page, "existing-3-confirm")
    dialog.get_by_role("button", name="Import", exact=True).click()
    page.get_by_text("Import finished").wait_for(timeout=120_000)
    settle(page)
    assert "updated 2" in page.inner_text("body")
    for template, name in names.items():
        device = nb.dcim.devices.get(replaced[name])
        row = app_lab.row(template, 0)
        assert device.serial == row.device.serial and device.platform.slug == "cisco-nx-os"

    # the statuses are refreshed: the two are in sync now (the Show filter cleared, Find still 'nx-leaf')
    page.get_by_role("combobox", name="Show").click()
    page.keyboard.press("Backspace")
    page.keyboard.press("Escape")
    settle(page)
    shot(page, "existing-4-in-sync")
    assert shown_statuses(page) == {name: "🔵 in sync" for name in names.values()}
    assert metric(page, "🟣 differs") == differing - 2
