"""The Import page through AppTest: filters, grid edits, bulk edit, CSV out and in, import with polling,
cancel, and the error states — against the real test NetBox and the LibreNMS simulator."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from core import export
from core.models import LibreDevice
from tests.conftest import FIXTURES, ROOT, SIM_TOKEN
from ui.review import STATE

TIMEOUT = 90
DEVICES = [LibreDevice.from_api(d) for d in json.loads((FIXTURES / "devices.json").read_text())["devices"]]
ENABLED = [d for d in DEVICES if not d.disabled]


@pytest.fixture
def open_page(env: dict) -> Callable[[], AppTest]:
    def run() -> AppTest:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
        at.run()
        assert not at.exception, at.exception
        return at

    return run


def button(at: AppTest, label: str):
    return next(b for b in at.button if b.label.startswith(label))


def search(at: AppTest, **fields: str) -> AppTest:
    for label, value in fields.items():
        next(t for t in at.text_input if t.label.startswith(label)).input(value)
    button(at, "Search").click().run()
    assert not at.exception, at.exception
    return at


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def grid(at: AppTest):
    (editor,) = [e for e in at.data_editor if e.key and e.key.startswith("grid-")]
    return editor


def page_state(at: AppTest):
    return at.session_state[STATE]


def test_before_a_search_the_page_asks_for_one(open_page) -> None:
    at = open_page()
    assert "press **Search**" in at.info[0].value
    assert not at.data_editor


def test_search_shows_counts_and_one_grid_line_per_device(open_page) -> None:
    at = search(open_page())
    assert metric(at, "Devices") == str(len(ENABLED))
    frame = grid(at).value
    assert len(frame) == len(ENABLED)
    assert {"status", "name", "role", "rack", "cluster", "issues"} <= set(frame.columns)


def test_os_filter_reaches_the_grid(open_page) -> None:
    at = search(open_page(), OS="iosxe")
    assert metric(at, "Devices") == str(sum(1 for d in ENABLED if d.os == "iosxe"))
    assert set(grid(at).value["name"]) >= {"acc-sw-f3-01", "core-sw01"}


def test_role_set_in_the_grid_revalidates_the_row_and_survives_reruns(open_page) -> None:
    at = search(open_page(), Hostname="acc-sw-f3-01")
    editor = grid(at)
    assert editor.value["status"].iloc[0].endswith("needs input")
    at.session_state[editor.key] = {
        "edited_rows": {0: {"role": "access-switch"}},
        "added_rows": [],
        "deleted_rows": [],
    }
    at.run()
    assert not at.exception
    row = page_state(at).search.review.rows[("default", 21)]
    assert row.role.slug == "access-switch" and row.status.value == "ready"
    at.run()  # another rerun: the edit is kept and the grid shows it
    assert grid(at).value["status"].iloc[0].endswith("ready")
    assert grid(at).value["role"].iloc[0] == "access-switch"


def test_bulk_edit_sets_the_role_on_every_row_shown(open_page) -> None:
    at = search(open_page())
    next(t for t in at.text_input if t.label == "Find").input("acc-sw").run()
    at.radio[0].set_value("shown").run()
    next(s for s in at.selectbox if s.label == "Value").set_value("access-switch").run()
    button(at, "Apply to 2 rows").click().run()
    assert not at.exception
    review = page_state(at).search.review
    assert {review.rows[("default", i)].role.slug for i in (21, 47)} == {"access-switch"}
    assert review.rows[("default", 301)].role is None  # not shown by the filter: untouched


def test_review_csv_of_the_pages_search_has_every_row_and_no_secret(open_page) -> None:
    at = search(open_page())
    review = page_state(at).search.review
    data = export.csv_bytes(review).decode("utf-8-sig")
    assert len(data.strip().splitlines()) == len(review) + 1
    assert SIM_TOKEN not in data and "nw-r0-c0mmunity" not in data


def test_csv_report_shows_applied_changes_and_rejected_lines(open_page) -> None:
    at = search(open_page())
    review = page_state(at).search.review
    frame = pd.read_csv(pd.io.common.StringIO(export.rows_to_csv(review)), dtype=str, keep_default_na=False)
    frame.loc[frame["librenms_id"] == "21", "role"] = "access-switch"
    frame.loc[frame["librenms_id"] == "44", "role"] = "no-such-role"
    report = export.apply_csv(review, frame.to_csv(index=False))
    page_state(at).csv_report = report
    at.run()
    assert not at.exception
    assert review.rows[("default", 21)].role.slug == "access-switch"
    assert "1 row(s) changed, 1 rejected" in at.markdown[-1].value or any(
        "1 rejected" in m.value for m in at.markdown
    )
    assert any("rejected" in e.value for e in at.error)


def _wait_for_job(at: AppTest, timeout: float = 120) -> AppTest:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        at.run()
        assert not at.exception, at.exception
        if any(s.label.startswith("Import ") and "Importing" not in s.label for s in at.status):
            return at
        time.sleep(0.5)
    raise AssertionError("the import did not end")


def test_import_runs_in_the_app_without_a_worker_and_polls_to_the_end(open_page, nb, stack_env) -> None:
    at = search(open_page(), Hostname="esx01")  # ready from the demo data (role rule: hypervisor)
    assert metric(at, "🟢 ready") == "1"
    button(at, "Import 1 ready rows").click().run()
    next(b for b in at.button if b.label == "Import").click().run()  # the dialog's button
    assert not at.exception
    at = _wait_for_job(at)
    assert any("No worker is listening" in i.value for i in at.info)
    done = [s for s in at.status if s.label.startswith("Import finished")]
    assert done and "created 1" in done[0].label
    created = nb.dcim.devices.get(name="esx01")
    try:
        assert created is not None and created.custom_fields["librenms_id"] == 111
        # the grid now shows NetBox as it is
        assert grid(at).value["status"].iloc[0].endswith("exists")
    finally:
        for ip in nb.ipam.ip_addresses.filter(device_id=created.id):
            ip.delete()
        created.delete()


def test_librenms_down_shows_an_error_not_a_traceback(open_page, env, monkeypatch) -> None:
    monkeypatch.setenv("LIBRENMS_URL", "http://127.0.0.1:9")  # discard port: nothing listens
    monkeypatch.setenv("LIBRENMS_TIMEOUT", "2")
    at = search(open_page())
    assert not at.exception
    assert at.error and "LibreNMS" in at.error[0].value
    assert SIM_TOKEN not in "".join(e.value for e in at.error)


def test_wrong_netbox_token_shows_what_to_check(open_page, env, monkeypatch) -> None:
    monkeypatch.setenv("NETBOX_TOKEN", "nbt_abcdefabcdef.0123456789012345678901234567890123456789")
    at = search(open_page())
    assert not at.exception
    assert at.error and "403" in at.error[0].value
    assert "0123456789012345678901234567890123456789" not in "".join(e.value for e in at.error)


def test_cancel_stops_a_running_import_and_the_page_says_so(open_page, sim, nb) -> None:
    at = search(open_page(), **{"Hostname contains": "esx01"})
    sim.set_faults(delay=4)  # the import's own LibreNMS read is slow: the job is still running when cancelled
    try:
        button(at, "Import 1 ready rows").click().run()
        next(b for b in at.button if b.label == "Import").click().run()
        assert any(s.label.startswith("Importing") for s in at.status)
        button(at, "Cancel import").click().run()
        assert not at.exception
    finally:
        sim.clear_faults()
    at = _wait_for_job(at)
    assert any(s.label.startswith("Import stopped") for s in at.status)
    assert nb.dcim.devices.get(name="esx01") is None  # stopped before anything was written
