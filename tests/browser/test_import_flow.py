"""A user's path in a real browser: search → grid → set a role on several rows → import → done → in NetBox
→ the run on the Runs page, with the objects it made → undo, confirmed → gone from NetBox.

The app reads the browser tests' own LibreNMS (`app_lab`), so the devices imported here are no other test
module's; the cleanup deletes what was made for the lab's devices, and nothing else.
"""

from __future__ import annotations

import re
from pathlib import Path

import pynetbox
import pytest

from tests.browser.conftest import grid_rows, settle, shot, sign_in
from tests.helpers import Lab, delete_lab_objects

ACCESS_SWITCHES = ("acc-sw-f3-01", "acc-sw-wh-01")  # the 'acc-sw' view: the role is set on both
LEFT_OUT = "ipv6-only-sw"  # an access switch too, not in that view: no role, so not ready, not imported


def metric(page, label: str) -> int:
    """The value of the Import page's summary metric with this label ('🔵 in sync', '🟢 ready')."""
    box = page.locator("[data-testid='stMetric']").filter(has_text=label)
    return int(box.locator("[data-testid='stMetricValue']").inner_text())


def shown_statuses(page) -> dict[str, str]:
    """name → status of every row the Import page's grid shows (its first table: the row details and the
    import results come after it)."""
    grid = page.locator("[data-testid='stDataFrame']").first
    return {row["name"]: row["status"] for row in grid_rows(page, grid)}


@pytest.fixture
def cleanup(nb: pynetbox.api, app_lab: Lab):
    """Delete what the walk imported: the objects made for the lab's devices (every ready row of the lab is
    imported, not only the two switches), and no one else's. Tags, sites and the like are left alone."""
    yield
    delete_lab_objects(nb, app_lab)


def test_analyst_sets_a_role_on_several_rows_imports_them_and_undoes_the_run(
    page, app_url: str, app_lab: Lab, nb: pynetbox.api, cleanup, tmp_path: Path
) -> None:
    names = {template: app_lab.name(template) for template in ACCESS_SWITCHES}
    page.goto(app_url)
    sign_in(page, "lead")  # an admin by group membership, importing with their own NetBox permissions
    page.get_by_role("button", name="Search").click()
    page.get_by_text(re.compile(r"Found \d+ devices")).wait_for(timeout=60_000)
    settle(page)
    page.locator("[data-testid='data-grid-canvas']").first.wait_for()  # the grid drawn, for the screenshot
    shot(page, "1-search-results")
    in_sync_before = metric(page, "🔵 in sync")

    # narrow the grid to the access switches, then set their role in one bulk edit
    page.get_by_placeholder("name, hostname, site, hardware, os…").fill("acc-sw")
    page.keyboard.press("Enter")
    settle(page)
    assert shown_statuses(page) == {name: "🟡 needs input" for name in names.values()}
    page.get_by_text("Bulk edit").click()
    page.get_by_text("All rows shown by the filter above").click()
    settle(page)
    value = page.get_by_role("combobox", name="Value")
    value.click()
    value.fill("Access switch")
    page.keyboard.press("Enter")
    settle(page)
    page.get_by_role("button", name="Apply to 2 rows").click()
    settle(page)
    shot(page, "2-role-set")
    assert shown_statuses(page) == {name: "🟢 ready" for name in names.values()}
    ready = metric(page, "🟢 ready")  # the two, and the rows the demo data makes ready on their own

    # import: confirm in the dialog, follow the job until it is done
    page.get_by_role("button", name=re.compile(f"Import {ready} ready rows")).click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_text("primary IPs").wait_for()
    settle(page)
    shot(page, "3-confirm")
    dialog.get_by_role("button", name="Import", exact=True).click()
    page.get_by_text("Import finished").wait_for(timeout=120_000)
    settle(page)
    shot(page, "4-import-done")
    body = page.inner_text("body")
    assert "No worker is listening" in body  # the browser tests' app has no worker: it ran in-process
    assert f"Import finished: created {ready}, skipped 0, failed 0" in body
    for template, name in names.items():
        (device,) = nb.dcim.devices.filter(cf_librenms_id=app_lab.device_id(template))
        assert device.name == name and device.role.slug == "access-switch"
        assert device.primary_ip is not None
    # not in the 'acc-sw' view: no role, not ready, not imported
    assert not list(nb.dcim.devices.filter(cf_librenms_id=app_lab.device_id(LEFT_OUT)))
    # "HQ Building 2, Floor 3, IDF-3B" names the NetBox location IDF-3B of site HQ
    assert nb.dcim.devices.get(name=names["acc-sw-f3-01"]).location.name == "IDF-3B"

    # the page now shows NetBox as it is: the imported rows are in sync, in the grid and in the summary
    assert shown_statuses(page) == {name: "🔵 in sync" for name in names.values()}
    assert metric(page, "🔵 in sync") == in_sync_before + ready
    assert metric(page, "🟢 ready") == 0

    # the run, from the link under the results: its objects, then its undo, confirmed
    page.get_by_role("link", name=re.compile(r"on the Runs page")).click()
    page.get_by_text("NetBox objects", exact=True).wait_for()
    settle(page)
    run_id = page.get_by_text(re.compile(r"^Run [0-9a-f]{32} by ")).inner_text().split()[1]
    assert f"?run={run_id}" in page.url  # the page's address opens this run
    made = grid_rows(page, page.locator("[data-testid='stDataFrame']").last)  # the run's NetBox objects
    devices = {row["name"] for row in made if row["object"] == "device" and row["action"] == "create"}
    assert set(names.values()) <= devices
    page.screenshot(path=str(tmp_path / "run.png"), full_page=True)
    shot(page, "5-run")
    page.get_by_role("button", name="Undo", exact=True).click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_text(re.compile("deletes what this run created")).wait_for()  # said before it is done
    dialog.get_by_role("button", name="Undo this run").click()
    page.get_by_text(re.compile(rf"^undo of {run_id[:8]} · finished")).wait_for(timeout=120_000)
    settle(page)
    shot(page, "6-undone")
    for name in devices:
        assert not list(nb.dcim.devices.filter(name=name)), f"{name} is still in NetBox"
    lines = grid_rows(page, page.locator("[data-testid='stDataFrame']").nth(1))  # the undo's result lines
    assert {line["outcome"] for line in lines} == {"deleted"}
    assert devices <= {line["name"] for line in lines}
    listed = grid_rows(page, page.locator("[data-testid='stDataFrame']").first)
    undos = [row for row in listed if row["kind"] == f"undo of {run_id[:8]}"]
    assert len(undos) == 1 and undos[0]["state"] == "finished", undos
    (original,) = [row for row in listed if row["run"] == run_id]
    assert original["state"] == f"finished, undone by {undos[0]['run'][:8]}"

    # the run's address, opened afresh (a link shared with a colleague), shows the run, now undone
    page.goto(f"{app_url}/runs?run={run_id}")
    sign_in(page, "viewer")  # a new session signs in first; the link's run opens after
    page.get_by_text(re.compile(rf"^import · finished, undone by {undos[0]['run'][:8]}")).wait_for()
    assert not page.get_by_role("button", name="Undo", exact=True).count()
    assert f"Run {run_id} by lead" in page.inner_text("body")
