"""core.csvio.cells: the row → cells mapping, the LibreNMS link, the formula-injection escape."""

from __future__ import annotations

import pytest

from core.csvio import COLUMNS, apply_csv, escape_cell, librenms_link, row_cells, rows_to_csv, unescape_cell
from core.review import Review
from core.search import SearchResult
from tests.csvio.conftest import EVIL, TRIGGERS, by_id, fresh_review, parse, snapshot, to_text

# ------------------------------------------------------------------ the cells


def test_export_lists_stack_members(review: Review) -> None:
    lines = by_id(parse(rows_to_csv(review)))
    stacked = [row for row in review if row.stack is not None]
    assert stacked, "the fixture has stacks (core-sw01, dist-sw-b2)"
    for row in stacked:
        members = lines[row.device.device_id]["stack_members"].split("|")
        assert members == [f"{m.position}:{m.serial}:{m.model}" for m in row.stack.members]
        assert members[0].startswith("1:")
    assert all(lines[row.device.device_id]["stack_members"] == "" for row in review if row.stack is None)


def test_row_cells_have_every_column_and_name_references_by_name(review: Review) -> None:
    for row in review:
        cells = row_cells(row)
        assert tuple(cells) == COLUMNS
        for field in ("site", "device_type", "platform", "role", "rack", "cluster"):
            ref = getattr(row, field)
            assert cells[field] == (ref.name if ref else getattr(row.overrides, field) or "")


def test_an_unresolved_choice_is_shown_as_typed_so_it_round_trips(review: Review) -> None:
    row = next(r for r in review if r.kind.value == "vm" and r.cluster is None)
    review.apply_cluster([row.key], "no-such-cluster")
    assert review.rows[row.key].cluster is None
    assert row_cells(review.rows[row.key])["cluster"] == "no-such-cluster"


@pytest.mark.parametrize(
    ("base", "link"),
    [
        ("http://user:pw@librenms.example/api/v0/?x=1#f", "http://librenms.example/device/device=12/"),
        ("https://nms.example:8443/librenms/", "https://nms.example:8443/librenms/device/device=12/"),
        ("http://[2001:db8::1]/api/v0", "http://[2001:db8::1]/device/device=12/"),
        ("", ""),
        ("not a url", ""),
    ],
)
def test_librenms_link_drops_credentials_query_and_api_path(review: Review, base: str, link: str) -> None:
    row = review.rows[("default", 12)]
    assert librenms_link(row, base) == link
    assert row_cells(row, librenms_url=base)["librenms_url"] == link


def test_librenms_link_per_server_key(review: Review) -> None:
    row = review.rows[("default", 12)]
    assert librenms_link(row, {"default": "http://a.example"}) == "http://a.example/device/device=12/"
    assert librenms_link(row, {"dc2": "http://b.example"}) == ""


# ------------------------------------------------------------------ formula injection


@pytest.mark.parametrize(
    "value",
    ["", "abc", "'abc", "'", "''", "=1+1", "'=1+1", "''=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx", "a=b"],
)
def test_escaping_is_lossless(value: str) -> None:
    escaped = escape_cell(value)
    assert unescape_cell(escaped) == value
    assert not escaped.startswith(TRIGGERS)


def test_formula_like_values_are_neutralised_and_restored(searched: SearchResult) -> None:
    review = fresh_review(searched, EVIL)
    text = rows_to_csv(review)
    lines = by_id(parse(text))

    for line in lines.values():
        for column, cell in line.items():
            assert not cell.startswith(TRIGGERS), f"{column} cell {cell!r} would run as a formula"
    evil = lines[990001]
    assert evil["hostname"] == "'=cmd|' /C calc'!A0"
    assert evil["name"] == "'@SUM(1+1)*cmd|' /C calc'!A0"
    assert evil["hardware"] == '\'+HYPERLINK("http://evil.example")'
    assert evil["location"] == "'-2+3"
    assert lines[990002]["hostname"] == "'\tTAB"
    assert lines[990002]["name"] == "''=already quoted"  # a value that looks escaped gets one more quote
    assert unescape_cell(evil["hostname"]) == EVIL[0].hostname
    assert unescape_cell(lines[990002]["name"]) == "'=already quoted"

    # re-import: nothing changes, because the restored values equal the rows' values
    before = snapshot(review)
    report = apply_csv(review, text)
    assert report.rejected == [] and report.changed == []
    assert report.unchanged == len(review)
    assert snapshot(review) == before

    # a name typed as a formula (escaped by our export, or raw by a user) arrives as the literal text
    evil["name"] = escape_cell('=HYPERLINK("x")')
    lines[990002]["name"] = "-raw typed"
    report = apply_csv(review, to_text(list(lines.values())))
    assert report.rejected == []
    assert review.rows[("default", 990001)].name == '=HYPERLINK("x")'
    assert review.rows[("default", 990002)].name == "-raw typed"
    again = by_id(parse(rows_to_csv(review)))
    assert again[990001]["name"] == '\'=HYPERLINK("x")'
