"""The Import page through AppTest: filters, grid edits, bulk edit, CSV out and in, import with polling,
cancel, and the error states — against the real test NetBox and the LibreNMS simulator."""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import Callable

import pytest
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.testing.v1 import AppTest, app_test

from core import cli, defaults
from core.grid import key_of as grid_key
from core.librenms import LibreDevice
from tests.conftest import FIXTURES, SIM_TOKEN
from tests.helpers import Lab, delete_lab_objects, signed_in_app
from ui.review import STATE

TIMEOUT = 90
DEVICES = [LibreDevice.from_api(d) for d in json.loads((FIXTURES / "devices.json").read_text())["devices"]]
ENABLED = [d for d in DEVICES if not d.disabled]


def first_run() -> AppTest:
    """The app as a new browser session sees it, run once through app.py's navigation frame."""
    at = signed_in_app(TIMEOUT)
    at.run()
    assert not at.exception, at.exception
    return at


@pytest.fixture
def open_page(env: dict) -> Callable[[], AppTest]:
    return first_run


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
        "edited_rows": {0: {"role": "Access switch"}},  # the grid offers role names
        "added_rows": [],
        "deleted_rows": [],
    }
    at.run()
    assert not at.exception
    row = page_state(at).search.review.rows[("default", 21)]
    assert row.role.slug == "access-switch" and row.status.value == "ready"
    at.run()  # another rerun: the edit is kept and the grid shows it
    assert grid(at).value["status"].iloc[0].endswith("ready")
    assert grid(at).value["role"].iloc[0] == "Access switch"


def test_bulk_edit_sets_the_role_on_every_row_shown(open_page) -> None:
    at = search(open_page())
    next(t for t in at.text_input if t.label == "Find").input("acc-sw").run()
    at.radio[0].set_value("shown").run()
    next(s for s in at.selectbox if s.label == "Value").set_value("Access switch").run()
    button(at, "Apply to 2 rows").click().run()
    assert not at.exception
    review = page_state(at).search.review
    assert {review.rows[("default", i)].role.slug for i in (21, 47)} == {"access-switch"}
    assert review.rows[("default", 301)].role is None  # not shown by the filter: untouched


def test_more_rows_than_a_page_are_paged_and_a_bulk_edit_of_those_shown_reaches_every_page(
    open_page, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(defaults, "GRID_PAGE_ROWS", 10)
    at = search(open_page())
    first = grid(at).value
    assert len(first) == 10
    pager = next(s for s in at.selectbox if s.label == "Rows")
    pages = -(-len(ENABLED) // 10)
    assert pager.options == [
        f"Rows {n * 10 + 1}–{min(n * 10 + 10, len(ENABLED))} of {len(ENABLED)}" for n in range(pages)
    ]
    pager.set_value(pages - 1).run()
    last = grid(at).value
    assert len(last) == len(ENABLED) - 10 * (pages - 1) and not set(last.index) & set(first.index)

    at.radio[0].set_value("shown").run()
    next(s for s in at.selectbox if s.label == "Value").set_value("Access switch").run()
    button(at, f"Apply to {len(ENABLED)} rows").click().run()
    assert not at.exception, at.exception
    review = page_state(at).search.review
    edited = [grid_key(label) for label in (first.index[0], last.index[-1])]
    assert [review.rows[key].overrides.role for key in edited] == ["Access switch"] * 2
    assert list(grid(at).value.index) == list(last.index)  # the edit keeps the page it was made on

    next(t for t in at.text_input if t.label == "Find").input("acc-sw").run()  # narrowed to one page
    assert not at.exception, at.exception
    assert len(grid(at).value) == 2 and not [s for s in at.selectbox if s.label == "Rows"]

    next(t for t in at.text_input if t.label == "Find").input("").run()
    pager = next(s for s in at.selectbox if s.label == "Rows")
    pager.set_value(pages - 1).run()
    button(at, "Search").click().run()  # a new search starts on its first page
    assert list(grid(at).value.index) == list(first.index)


# ------------------------------------------------------------------ CSV: the page's download and upload


@pytest.fixture
def download(monkeypatch: pytest.MonkeyPatch) -> Callable[[AppTest, str], bytes]:
    """The bytes a download button serves, as the browser would get them on a click.

    AppTest gives every run a fresh media file manager and drops it afterwards: record them, then run the
    button's deferred callable (the page builds the CSV on click) or read its stored file."""
    managers: list[MediaFileManager] = []

    class Recording(MediaFileManager):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            managers.append(self)

    monkeypatch.setattr(app_test, "MediaFileManager", Recording)

    def read(at: AppTest, label: str) -> bytes:
        proto = next(b for b in at.download_button if b.label.startswith(label)).proto
        manager = managers[-1]
        url = (
            manager.execute_deferred(proto.deferred_file_id)
            if proto.HasField("deferred_file_id")
            else proto.url
        )
        stored = manager.read_file(url.rsplit("/", 1)[-1])
        assert stored is not None, f"no file behind {label!r}"
        return stored.content

    return read


def upload(at: AppTest, data: bytes, name: str = "review.csv") -> AppTest:
    at.file_uploader[0].set_value((name, data, "text/csv")).run()
    assert not at.exception, at.exception
    return at


def csv_lines(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def csv_data(
    lines: list[dict[str, str]], *, columns=None, delimiter: str = ",", prefix: str = "", encoding="utf-8-sig"
) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(
        buffer, fieldnames=list(columns or lines[0]), delimiter=delimiter, lineterminator="\r\n"
    )
    writer.writeheader()
    writer.writerows(lines)
    return (prefix + buffer.getvalue()).encode(encoding)


def edit(data: bytes, changes: dict[int, dict[str, str]]) -> list[dict[str, str]]:
    lines = csv_lines(data)
    for line in lines:
        line.update(changes.get(int(line["librenms_id"]), {}))
    return lines


def test_the_review_csv_the_page_serves_has_every_row_and_no_secret(open_page, download) -> None:
    at = search(open_page())
    review = page_state(at).search.review
    data = download(at, "Download the review as CSV")
    assert data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8-sig")
    assert len(text.strip().splitlines()) == len(review) + 1
    assert SIM_TOKEN not in text and "nw-r0-c0mmunity" not in text
    assert {int(line["librenms_id"]) for line in csv_lines(data)} == {key[1] for key in review.rows}


def test_an_uploaded_csv_is_applied_and_the_report_shows_changes_and_rejected_lines(
    open_page, download
) -> None:
    at = search(open_page())
    data = download(at, "Download the review as CSV")
    edited = csv_data(edit(data, {21: {"role": "access-switch"}, 44: {"role": "no-such-role"}}))
    at = upload(at, edited)
    review = page_state(at).search.review
    assert review.rows[("default", 21)].role.slug == "access-switch"
    assert "1 row(s) changed, 1 rejected" in at.markdown[-1].value or any(
        "1 rejected" in m.value for m in at.markdown
    )
    assert any("rejected" in e.value for e in at.error)
    # the grid shows the uploaded choice, by name, as the CSV does
    frame = grid(at).value
    assert frame.loc[frame["librenms_id"] == 21, "role"].iloc[0] == "Access switch"


def test_an_unreadable_csv_upload_shows_an_error_and_changes_nothing(open_page) -> None:
    at = search(open_page())
    before = {key: row.choice for key, row in page_state(at).search.review.rows.items()}
    at = upload(at, b"hostname,role\r\nx,Leaf\r\n")
    assert any("librenms_id" in e.value for e in at.error)
    assert {key: row.choice for key, row in page_state(at).search.review.rows.items()} == before


# Every CSV here mentions every row of the page's review, so the rows the page leaves as they are (not in
# the CSV) and the rows the command line leaves out (not in the CSV) are the same: none.
CSV_SHAPES: dict[str, Callable[[bytes], bytes]] = {
    "plain export": lambda data: data,
    "LibreNMS ID header": lambda data: csv_data(
        [
            {"LibreNMS ID": line["librenms_id"], "Role": line["role"], "Import": line["import"]}
            for line in edit(data, {21: {"role": "Access switch", "import": "yes"}})
        ]
    ),
    "import=no on a row its edit makes ready": lambda data: csv_data(
        edit(data, {21: {"role": "Access switch"}, 47: {"role": "Access switch", "import": "yes"}})
    ),
    "semicolons, a sep= line and a BOM": lambda data: csv_data(
        edit(data, {47: {"role": "Leaf", "import": "yes"}, 202: {"import": "no"}}),
        delimiter=";",
        prefix="sep=;\r\n",
    ),
    "a rejected line of a ready row": lambda data: csv_data(edit(data, {202: {"role": "Access switch"}})),
}
CSV_EXPECTED = {  # (imported, not imported) by both
    "plain export": ({202}, {21, 47}),
    "LibreNMS ID header": ({21, 202}, {47}),
    "import=no on a row its edit makes ready": ({47, 202}, {21}),
    "semicolons, a sep= line and a BOM": ({47}, {21, 202}),
    "a rejected line of a ready row": (set(), {202}),
}


@pytest.mark.parametrize("shape", list(CSV_SHAPES))
def test_the_page_and_the_command_line_import_the_same_rows_from_a_csv(
    open_page, download, tmp_path, capsys, shape: str
) -> None:
    at = search(open_page())
    data = CSV_SHAPES[shape](download(at, "Download the review as CSV"))

    at = upload(at, data)
    page_rows = {key for key in (row.key for row in page_state(at).search.review.importable_rows())}

    path = tmp_path / "edited.csv"
    path.write_bytes(data)
    capsys.readouterr()
    assert cli.main(["import", "--csv", str(path), "--dry-run"]) == 0
    printed = capsys.readouterr().out
    cli_rows = {
        ("default", int(cells[0]))
        for cells in (line.split("\t") for line in printed.splitlines())
        if len(cells) == 4 and cells[0].isdigit()
    }

    assert page_rows == cli_rows
    imported, left_out = CSV_EXPECTED[shape]
    ids = {key[1] for key in page_rows}
    assert imported <= ids and not (left_out & ids), ids


def _wait_for_job(at: AppTest, timeout: float = 120) -> AppTest:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        at.run()
        assert not at.exception, at.exception
        if any(s.label.startswith("Import ") and "Importing" not in s.label for s in at.status):
            return at
        time.sleep(0.5)
    raise AssertionError("the import did not end")


@pytest.fixture
def lab_page(lab_env: dict) -> Callable[[], AppTest]:
    """The page on this module's own LibreNMS lab: the tests that import own the devices they import."""
    return first_run


def test_import_runs_in_the_app_without_a_worker_and_polls_to_the_end(lab_page, lab: Lab, nb) -> None:
    at = search(lab_page(), Hostname="esx01")  # ready from the demo data (role rule: hypervisor)
    assert metric(at, "🟢 ready") == "1"
    try:
        button(at, "Import 1 ready rows").click().run()
        next(b for b in at.button if b.label == "Import").click().run()  # the dialog's button
        assert not at.exception
        at = _wait_for_job(at)
        assert any("No worker is listening" in i.value for i in at.info)
        done = [s for s in at.status if s.label.startswith("Import finished")]
        assert done and "created 1" in done[0].label
        (created,) = nb.dcim.devices.filter(cf_librenms_id=lab.device_id("esx01"))
        assert created.name == lab.name("esx01")
        # the grid now shows NetBox as it is: what the import wrote is what LibreNMS says
        assert grid(at).value["status"].iloc[0] == "🔵 in sync"
    finally:
        delete_lab_objects(nb, lab)


def test_the_confirm_dialog_shows_what_each_row_creates_and_serves_the_plan_as_csv(
    open_page, download
) -> None:
    at = search(open_page(), Hostname="esx01")
    button(at, "Import 1 ready rows").click().run()
    plan = next(frame.value for frame in at.dataframe if "object" in frame.value.columns)
    assert list(plan["object"]) == ["device", "interface", "IP address"]
    assert "role=Hypervisor" in plan["fields"].iloc[0] and "librenms_id=111" in plan["fields"].iloc[0]
    lines = list(csv.DictReader(io.StringIO(download(at, "Download the plan as CSV").decode("utf-8-sig"))))
    assert [(line["row"], line["object"]) for line in lines] == [
        ("esx01", "device"),
        ("esx01", "interface"),
        ("esx01", "IP address"),
    ]
    next(b for b in at.button if b.label == "Cancel").click().run()  # nothing is imported
    assert not at.exception


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


def test_cancel_stops_a_running_import_and_the_page_says_so(lab_page, lab: Lab, nb) -> None:
    at = search(lab_page(), **{"Hostname contains": "esx01"})
    lab.sim.set_faults(
        delay=4
    )  # the import's own LibreNMS read is slow: the job is still running when cancelled
    try:
        button(at, "Import 1 ready rows").click().run()
        next(b for b in at.button if b.label == "Import").click().run()
        assert any(s.label.startswith("Importing") for s in at.status)
        button(at, "Cancel import").click().run()
        assert not at.exception
    finally:
        lab.sim.clear_faults()
    try:
        at = _wait_for_job(at)
        assert any(s.label.startswith("Import stopped") for s in at.status)
        # stopped before anything was written
        assert not list(nb.dcim.devices.filter(cf_librenms_id=lab.device_id("esx01")))
    finally:
        delete_lab_objects(nb, lab)
