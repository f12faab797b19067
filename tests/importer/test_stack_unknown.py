"""A stack whose inventory LibreNMS cannot serve (500 on /inventory/..., the device list still works) is not
imported as a standalone device: the search row is blocked on "stack" (unknown, search again), no role
choice makes it ready, and an import of it — even one the page sent as ready from a search without stack
detection — re-checks, fails the row with the reason and creates nothing. Once LibreNMS answers again, a
fresh search shows the stack.

Real services: this module's own LibreNMS simulator (the fixture devices renamed for this run) and the test
NetBox; only what was made for this lab's devices is deleted at the end.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pynetbox
import pytest

from core.choices import Outcome, RowStatus
from core.importer import ImportItem, run_import
from core.librenms import DeviceFilter, LibreDevice
from core.review import Issue, Row
from core.search import SearchResult, revalidate, run_search
from core.settings import Settings
from tests.helpers import Lab, running_lab, settings_from

RUN = secrets.token_hex(3)
STACK = "core-sw01"  # a 3-member stack in the fixtures
ROLE = "core-switch"
UNKNOWN = "whether it is a stack is unknown"


@pytest.fixture(scope="module")
def lab(reference_data, nb: pynetbox.api, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    with running_lab(tmp_path_factory.mktemp("stack-unknown-lab"), RUN, nb=nb) as lab:
        yield lab


@pytest.fixture(scope="module")
def lab_settings(stack_env: dict[str, str], lab: Lab) -> Settings:
    return settings_from({**stack_env, **lab.env()}, lab.tmp)


@pytest.fixture(scope="module")
def device(lab: Lab) -> LibreDevice:
    return LibreDevice.from_api(lab.device(STACK))


@pytest.fixture
def inventory_down(lab: Lab) -> Iterator[None]:
    """LibreNMS answers 500 on every /inventory request (retries included); the rest works."""
    lab.sim.set_faults(error_rate=1.0, error_status=500, path_prefix="/api/v0/inventory")
    try:
        yield
    finally:
        lab.sim.clear_faults()


def search(settings: Settings, device: LibreDevice, *, stacks: bool = True) -> SearchResult:
    return run_search(settings, DeviceFilter(hostname=device.hostname, detect_stacks=stacks))


def stack_issues(row: Row) -> list[Issue]:
    return [i for i in row.issues if i.field == "stack"]


def made_for_lab(nb: pynetbox.api, lab: Lab) -> list:
    """Every NetBox device or virtual chassis made for this lab's devices."""
    found = [*nb.dcim.devices.filter(q=lab.run), *nb.dcim.virtual_chassis.filter(q=lab.run)]
    for serial in (m for m in (lab.device(STACK).get("serial"),) if m):
        found += list(nb.dcim.devices.filter(serial=serial))
    return [obj for obj in found if lab.owns(obj)]


def test_the_search_row_is_blocked_on_stack_and_no_role_makes_it_ready(
    inventory_down, lab_settings: Settings, device: LibreDevice
) -> None:
    result = search(lab_settings, device)
    row = result.review.rows[device.key]

    assert row.stack is None
    (issue,) = stack_issues(row)
    assert issue.message.startswith("could not be read from LibreNMS: ") and issue.message.endswith(UNKNOWN)
    assert "500" in issue.message and "Refresh" in issue.fix
    assert row.status is RowStatus.BLOCKED
    assert any(str(device.device_id) in w for w in result.warnings)  # the warning line stays

    result.review.apply_role([device.key], ROLE)
    row = result.review.rows[device.key]
    assert row.role is not None and row.role.slug == ROLE
    assert row.status is RowStatus.BLOCKED and stack_issues(row) and not result.review.importable_rows()

    again = revalidate(lab_settings, result).review  # after an import elsewhere: no LibreNMS request
    assert again.rows[device.key].status is RowStatus.BLOCKED and stack_issues(again.rows[device.key])


def test_an_import_sent_as_ready_re_checks_fails_the_row_and_creates_nothing(
    lab: Lab, lab_settings: Settings, device: LibreDevice, nb: pynetbox.api
) -> None:
    # the page searched without stack detection, the analyst chose a role: a ready plain device
    page = search(lab_settings, device, stacks=False).review
    page.apply_role([device.key], ROLE)
    row = page.rows[device.key]
    assert row.status is RowStatus.READY and row.stack is None

    lab.sim.set_faults(error_rate=1.0, error_status=500, path_prefix="/api/v0/inventory")
    try:
        report = run_import(lab_settings, [ImportItem.from_row(row)])
    finally:
        lab.sim.clear_faults()

    (result,) = report.results
    assert result.outcome is Outcome.FAILED, result
    assert (
        "not ready (blocked)" in result.message and "stack: could not be read from LibreNMS" in result.message
    )
    assert UNKNOWN in result.message
    assert report.counts()[Outcome.CREATED.value] == 0 and not report.error
    assert made_for_lab(nb, lab) == []


def test_once_librenms_answers_a_fresh_search_shows_the_stack(
    lab_settings: Settings, device: LibreDevice
) -> None:
    review = search(lab_settings, device).review
    review.apply_role([device.key], ROLE)
    row = review.rows[device.key]

    assert row.stack is not None and len(row.stack.members) == 3
    assert not stack_issues(row) or all(UNKNOWN not in i.message for i in stack_issues(row))
    assert row.status is RowStatus.READY
