"""run_search end to end: the LibreNMS simulator with the fixture devices, the real test NetBox, the demo mappings.

The NetBox is shared with other test runs, which may hold devices of their own: assertions are about the
rows this test controls, or hold whatever else NetBox contains.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import pynetbox
import pytest

from core.choices import RowStatus
from core.librenms import DeviceFilter
from core.mapping import load_mappings
from core.review import build_review
from core.search import SearchResult, revalidate, run_search
from core.settings import Settings
from tests.conftest import FIXTURES
from tests.helpers import demo_index

RAW_DEVICES = json.loads((FIXTURES / "devices.json").read_text(encoding="utf-8"))["devices"]
ENABLED_IDS = {d["device_id"] for d in RAW_DEVICES if not d["disabled"]}


def key(device_id: int) -> tuple[str, int]:
    return ("default", device_id)


@pytest.fixture
def search(settings: Settings, reference_data: pynetbox.api):
    def run(**filters) -> SearchResult:
        return run_search(settings, DeviceFilter(**filters))

    return run


@pytest.fixture
def backup01_in_netbox(nb: pynetbox.api, reference_data: pynetbox.api) -> Iterator[object]:
    """A NetBox device linked to fixture device 102 (backup01) by librenms_id."""
    device = nb.dcim.devices.create(
        name=f"backup01-{uuid.uuid4().hex[:8]}",
        site=nb.dcim.sites.get(slug="lab").id,
        device_type=nb.dcim.device_types.get(slug="poweredge-r650").id,
        role=nb.dcim.device_roles.get(slug="server").id,
        custom_fields={"librenms_id": 102},
    )
    yield device
    device.delete()


def test_search_returns_one_row_per_enabled_fixture_device(search) -> None:
    result = search()
    assert result.found == len(ENABLED_IDS)
    assert {k[1] for k in result.review.rows} == ENABLED_IDS


def test_rows_on_the_real_netbox_get_the_statuses_of_the_in_memory_demo_index(search, settings) -> None:
    """The factory index (tests/helpers.demo_index) stands for the real one: same rows, same statuses,
    except where NetBox holds objects of other tests (exists / conflict)."""
    result = search()
    offline = build_review(
        result.review.devices.values(),
        demo_index(),
        load_mappings(settings.mapping_file),
        result.review.options,
    )
    compared = [row for row in result.review if row.status not in (RowStatus.EXISTS, RowStatus.CONFLICT)]
    assert len(compared) >= len(ENABLED_IDS) - 5
    for row in compared:
        twin = offline.rows[row.key]
        assert (row.status, row.issues_text()) == (twin.status, twin.issues_text()), row.name


def test_device_linked_in_netbox_is_an_existing_row(search, backup01_in_netbox) -> None:
    row = search().review.rows[key(102)]
    assert row.status is RowStatus.EXISTS
    assert row.existing.id == backup01_in_netbox.id


def test_exclude_existing_removes_rows_that_exist(search, backup01_in_netbox) -> None:
    result = search(exclude_existing=True)
    assert key(102) not in result.review.rows
    assert result.excluded_existing >= 1
    assert len(result.review) + result.excluded_existing == result.found
    assert result.review.counts()[RowStatus.EXISTS] == 0


def test_detect_stacks_attaches_stacks_to_stacked_switches_only(search) -> None:
    rows = search(detect_stacks=True).review.rows
    assert len(rows[key(12)].stack.members) == 3  # core-sw01
    assert rows[key(13)].stack is not None  # dist-sw-b2
    assert rows[key(21)].stack is None  # acc-sw-f3-01: a single Cat9k


def test_without_detect_stacks_no_row_has_a_stack(search) -> None:
    rows = list(search().review)
    assert rows
    assert all(row.stack is None for row in rows)


def test_search_makes_few_netbox_requests(search) -> None:
    result = search(detect_stacks=True)
    assert 0 < result.netbox_requests < 20


def test_os_filter_passes_through(search) -> None:
    expected = {d["device_id"] for d in RAW_DEVICES if d["os"] == "iosxe" and not d["disabled"]}
    rows = search(os="iosxe").review.rows
    assert {k[1] for k in rows} == expected


def test_show_disabled_includes_disabled_devices(search) -> None:
    rows = search(show_disabled=True).review.rows
    assert key(303) in rows  # old-rtr-lab is disabled in LibreNMS


def test_revalidate_sees_new_netbox_objects_and_keeps_the_analysts_choices(
    settings: Settings, search, nb: pynetbox.api
) -> None:
    result: SearchResult = search()
    review = result.review
    review.apply_role([key(13)], "distribution-switch")
    review.select([key(44)], False)
    assert review.rows[key(102)].status is not RowStatus.EXISTS
    before = result.review.rows[key(102)]
    created = nb.dcim.devices.create(
        name=f"reval-{uuid.uuid4().hex[:8]}",
        site=nb.dcim.sites.get(slug="lab").id,
        device_type=nb.dcim.device_types.get(slug="c9300-48p").id,
        role=nb.dcim.device_roles.get(slug="leaf").id,
        custom_fields={"librenms_id": 102},
    )
    try:
        fresh = revalidate(settings, result)
    finally:
        created.delete()
    assert fresh.review.rows[key(102)].status is RowStatus.EXISTS
    assert fresh.review.rows[key(102)].existing.id == created.id
    assert fresh.review.rows[key(13)].role.slug == "distribution-switch"
    assert fresh.review.rows[key(44)].selected is False
    assert result.review.rows[key(102)] is before  # the old result is left as it was
