"""The review grid as data: rows to a DataFrame (the CSV's cells) and the editor's edits back to the review."""

from __future__ import annotations

import pandas as pd
import pytest

from core import grid
from core.choices import Kind, RowStatus, Sync, SyncField
from core.csvio import row_cells
from core.librenms import DeviceFilter
from core.netbox import Existing
from core.review import build_review
from core.search import run_search


@pytest.fixture
def review(settings, reference_data):
    return run_search(settings, DeviceFilter(show_disabled=True, detect_stacks=True)).review


def _needs_only_role(review):
    return next(
        r for r in review if r.status is RowStatus.NEEDS_INPUT and {i.field for i in r.blocking} == {"role"}
    )


def test_frame_has_one_line_per_row_keyed_by_server_and_id(review) -> None:
    frame = grid.rows_frame(review)
    assert len(frame) == len(review)
    assert list(frame.columns) == list(grid.COLUMNS)
    row = review.rows[("default", 12)]
    line = frame.loc["default:12"]
    assert line["name"] == row.name
    assert line["stack"] == "3 members"
    assert bool(line["import"]) is row.will_import


def test_role_edit_in_the_grid_revalidates_that_row_to_ready(review) -> None:
    row = _needs_only_role(review)
    frame = grid.rows_frame(review)
    position = list(frame.index).index(f"{row.key[0]}:{row.key[1]}")
    touched, picks = grid.apply_grid_edits(review, list(frame.index), {position: {"role": "access-switch"}})
    assert row.key in touched and picks == {}
    assert review.rows[row.key].status is RowStatus.READY
    assert review.rows[row.key].role.slug == "access-switch"


def test_locked_columns_are_ignored_whatever_the_editor_sends(review) -> None:
    frame = grid.rows_frame(review)
    before = dict(review.rows)
    touched, _ = grid.apply_grid_edits(
        review, list(frame.index), {0: {"status": "ready", "name": "x", "site": "y"}}
    )
    assert touched == []
    assert review.rows == before


def test_emptied_role_cell_clears_the_choice(review) -> None:
    row = _needs_only_role(review)
    review.apply_role([row.key], "access-switch")
    frame = grid.rows_frame(review)
    position = list(frame.index).index(f"{row.key[0]}:{row.key[1]}")
    grid.apply_grid_edits(review, list(frame.index), {position: {"role": float("nan")}})
    assert review.rows[row.key].status is RowStatus.NEEDS_INPUT


def test_import_tick_changes_the_selection_and_pick_only_reports(review) -> None:
    ready = next(r for r in review if r.status is RowStatus.READY)
    frame = grid.rows_frame(review)
    position = list(frame.index).index(f"{ready.key[0]}:{ready.key[1]}")
    _, picks = grid.apply_grid_edits(review, list(frame.index), {position: {"import": False, "pick": True}})
    assert review.rows[ready.key].will_import is False
    assert picks == {ready.key: True}


def test_matching_keys_filters_by_status_and_text(review) -> None:
    blocked = grid.matching_keys(review, statuses=[RowStatus.BLOCKED])
    assert blocked and all(review.rows[k].status is RowStatus.BLOCKED for k in blocked)
    found = grid.matching_keys(review, text="CORE-SW01")
    assert ("default", 12) in found and len(found) < len(review)


def test_grid_shows_the_csv_cells_for_every_column_it_shares_with_the_csv(review) -> None:
    url = "http://user:secret@librenms.example/api/v0/"
    frame = grid.rows_frame(review, librenms_url=url)
    for row in review:
        line = frame.loc[f"{row.key[0]}:{row.key[1]}"]
        cells = row_cells(row, librenms_url=url)
        for column in grid.SHARED:
            assert line[column] == cells[column], column
        for column in grid.CHOICES:  # an empty choice is an empty cell for the selectbox
            assert (pd.isna(line[column]) and not cells[column]) or line[column] == cells[column], column
        for column, cell in grid.LINKS.items():  # no link: an empty cell
            assert (pd.isna(line[column]) and not cells[cell]) or line[column] == cells[cell], column
        assert line["librenms_id"] == row.device.device_id


def test_role_rack_and_cluster_are_names_not_slugs(review) -> None:
    row = _needs_only_role(review)
    review.apply_role([row.key], "access-switch")
    line = grid.rows_frame(review).loc[f"{row.key[0]}:{row.key[1]}"]
    assert line["role"] == "Access switch" == review.rows[row.key].role.name
    at_hq = next(r for r in review if r.site and r.site.slug == "hq" and r.kind.value == "device")
    review.apply_rack([at_hq.key], "hq-a01")
    racked = review.rows[at_hq.key]
    assert grid.rows_frame([racked]).iloc[0]["rack"] == racked.rack.name == "HQ-A01"
    clustered = next(r for r in review if r.cluster is not None)
    assert grid.rows_frame([clustered]).iloc[0]["cluster"] == clustered.cluster.name


def test_a_role_name_picked_in_the_grid_is_applied(review) -> None:
    row = _needs_only_role(review)
    frame = grid.rows_frame(review)
    position = list(frame.index).index(f"{row.key[0]}:{row.key[1]}")
    grid.apply_grid_edits(review, list(frame.index), {position: {"role": "Access switch"}})
    assert review.rows[row.key].status is RowStatus.READY
    assert grid.rows_frame(review).loc[f"{row.key[0]}:{row.key[1]}"]["role"] == "Access switch"


def test_librenms_link_has_no_credentials_and_is_the_csv_link(review) -> None:
    frame = grid.rows_frame(review, librenms_url="http://user:secret@librenms.example/api/v0?x=1")
    assert frame.loc["default:12"]["librenms"] == "http://librenms.example/device/device=12/"
    assert not frame["librenms"].str.contains("secret").any()
    assert pd.isna(grid.rows_frame(review).loc["default:12"]["librenms"])


def test_a_view_of_more_rows_than_a_page_is_drawn_page_by_page() -> None:
    shown = [("default", i) for i in range(1, 4502)]
    first = grid.page_of(shown, 0, size=2000)
    assert (first.pages, first.keys[0], first.keys[-1]) == (3, ("default", 1), ("default", 2000))
    last = grid.page_of(shown, 2, size=2000)
    assert last.keys == shown[4000:]
    assert [first.label(n) for n in range(3)] == [
        "Rows 1–2,000 of 4,501",
        "Rows 2,001–4,000 of 4,501",
        "Rows 4,001–4,501 of 4,501",
    ]


def test_a_page_beyond_a_narrower_view_falls_back_to_its_last_page() -> None:
    narrowed = [("default", i) for i in range(1, 31)]
    assert grid.page_of(narrowed, 7, size=20).keys == narrowed[20:]
    assert grid.page_of([], 3, size=20) == grid.GridPage([], 0, 1, 20, 0)


def _with_one_existing(review):
    """The review again with one ready device in NetBox (in memory) under an old serial."""
    ready = next(r for r in review if r.will_create and r.kind is Kind.DEVICE and r.device.serial)
    made = Existing(Kind.DEVICE, 990079, ready.name, ready.site.id, "OLD", {}, ())
    index = review.index.with_existing([*review.index.existing, made])
    return build_review(review.devices.values(), index, review.mappings, review.options), ready.key


def test_an_existing_row_shows_differs_with_its_count_and_the_show_filter_finds_it(review) -> None:
    review, key = _with_one_existing(review)
    line = grid.rows_frame(review).loc[f"{key[0]}:{key[1]}"]
    assert line["status"] == "🟣 differs (4)"  # serial, platform, primary IP, librenms_id
    assert line["action"] == "leave" and "serial: OLD → " in line["differences"]
    assert grid.matching_keys(review, statuses=[Sync.DIFFERS]) == [key]
    assert key in grid.matching_keys(review, statuses=[RowStatus.EXISTS])
    assert grid.view_counts(review)[Sync.DIFFERS] == 1


def test_action_and_update_fields_chosen_in_the_grid_decide_what_is_written(review) -> None:
    review, key = _with_one_existing(review)
    frame = grid.rows_frame(review)
    position = list(frame.index).index(f"{key[0]}:{key[1]}")
    grid.apply_grid_edits(review, list(frame.index), {position: {"action": "link"}})
    assert review.rows[key].updates == (SyncField.LIBRENMS_ID,) and review.rows[key].will_import
    grid.apply_grid_edits(review, list(frame.index), {position: {"action": "update", "update": ["serial"]}})
    assert review.rows[key].updates == (SyncField.SERIAL, SyncField.LIBRENMS_ID)
    grid.apply_grid_edits(review, list(frame.index), {position: {"action": None}})
    assert not review.rows[key].will_import
    grid.apply_grid_edits(review, list(frame.index), {position: {"import": True}})  # ticking it: update it
    assert review.rows[key].action.value == "update" and review.rows[key].will_import
