"""core.csvio.read, the one CSV parser: encodings, `sep=` line, delimiters, headers, line numbers; and the
file shapes a spreadsheet writes, applied to a real review."""

from __future__ import annotations

import pytest

from core.choices import Kind
from core.csvio import COLUMNS, CsvError, apply_csv, normalise_header, read_table, rows_to_csv
from core.review import Review
from tests.csvio.conftest import by_id, fresh_review_like, needs_only, parse, pick, snapshot, to_text

# ------------------------------------------------------------------ the parser on its own (no NetBox)


@pytest.mark.parametrize(
    ("header", "column"),
    [
        ("LibreNMS ID", "librenms_id"),
        ("\ufefflibrenms_id", "librenms_id"),
        ("  Device-Type ", "device_type"),
        ("IMPORT", "import"),
        ("netbox url", "netbox_url"),
    ],
)
def test_headers_are_normalised_to_the_column_names(header: str, column: str) -> None:
    assert normalise_header(header) == column


def test_librenms_id_header_as_a_spreadsheet_writes_it_is_read() -> None:
    table = read_table("LibreNMS ID,Role,Import\r\n21,Leaf,yes\r\n")
    assert table.columns == ("librenms_id", "role", "import")
    assert [(r.line, r.cells) for r in table.records] == [
        (2, {"librenms_id": "21", "role": "Leaf", "import": "yes"})
    ]
    assert table.device_ids() == {21}


def test_records_carry_the_line_they_start_on_across_quoted_newlines_and_a_sep_line() -> None:
    text = 'sep=;\r\nlibrenms_id;name\r\n1;"two\r\nlines"\r\n\r\n3;\'=x\r\n'
    table = read_table(text.encode("utf-8-sig"))
    assert table.delimiter == ";"
    assert [(r.line, r.cells["name"]) for r in table.records] == [(3, "two\r\nlines"), (6, "=x")]


def test_non_utf8_bytes_are_read_as_windows_1252_and_tabs_are_sniffed() -> None:
    table = read_table("librenms_id\tsite\r\n7\tZürich Office\r\n".encode("cp1252"))
    assert table.delimiter == "\t"
    assert table.records[0].cells == {"librenms_id": "7", "site": "Zürich Office"}


def test_ids_that_are_not_numbers_are_left_out_of_the_device_ids() -> None:
    table = read_table("librenms_id\r\n5\r\nabc\r\n\r\n 6 \r\n")
    assert [r.device_id for r in table.records] == [5, None, 6]
    assert table.device_ids() == {5, 6}


@pytest.mark.parametrize(
    "text",
    ["", "\ufeff\r\n", "server,hostname,role\r\ndefault,x,Leaf\r\n"],
    ids=["empty", "bom only", "no librenms_id column"],
)
def test_unreadable_files_raise_one_csv_error(text: str) -> None:
    with pytest.raises(CsvError) as caught:
        read_table(text)
    assert "CSV" in str(caught.value)


def test_a_line_that_breaks_refuses_the_whole_file_and_names_the_line() -> None:
    with pytest.raises(CsvError, match="Line 3 of the CSV file cannot be read"):
        read_table('librenms_id\r\n1\r\n"' + "x" * 200_000 + '"\r\n')


# ------------------------------------------------------------------ file shapes, applied to a review


def excel_semicolon_bytes(lines: list[dict[str, str]], columns=COLUMNS, encoding="utf-8-sig") -> bytes:
    return to_text(lines, delimiter=";", columns=columns).encode(encoding)


def test_semicolon_csv_from_excel_with_bom(review: Review) -> None:
    row = pick(review, lambda r: r.kind is Kind.DEVICE and needs_only(r, "role"), 1)[0]
    lines = by_id(parse(rows_to_csv(review)))
    lines[row.device.device_id]["role"] = "Leaf"
    data = excel_semicolon_bytes(list(lines.values()))
    assert data.startswith(b"\xef\xbb\xbf") and data.count(b";") > data.count(b"\n")

    report = apply_csv(review, data)
    assert report.rejected == [] and dict(report.changed) == {row.key: {"role": ("", "Leaf")}}
    # the same as text with the BOM still in it
    assert apply_csv(fresh_review_like(review), data.decode("utf-8")).changed == report.changed


def test_excel_ansi_csv_sep_line_and_renamed_headers(review: Review) -> None:
    """Excel's plain "CSV" is Windows-1252; `sep=;` first line; headers in another case, columns reordered."""
    row = pick(review, lambda r: needs_only(r, "role") and r.site and any(c in r.site.name for c in "üã"), 1)[
        0
    ]
    columns = ("Role", "LibreNMS ID", "Site", "Name")
    text = "sep=;\r\n" + to_text(
        [
            {
                "Role": "Access switch" if line["librenms_id"] == str(row.device.device_id) else line["role"],
                "LibreNMS ID": line["librenms_id"],
                "Site": line["site"],
                "Name": line["name"],
            }
            for line in parse(rows_to_csv(review))
            if all(ord(c) < 256 for c in line["site"] + line["name"] + line["role"])
        ],
        delimiter=";",
        columns=columns,
    )
    report = apply_csv(review, text.encode("cp1252"))
    assert report.rejected == []
    assert dict(report.changed) == {row.key: {"role": ("", "Access switch")}}


@pytest.mark.parametrize(
    "text",
    ["", "\ufeff\r\n", "server,hostname,role\r\ndefault,x,Leaf\r\n"],
    ids=["empty", "bom only", "no librenms_id column"],
)
def test_unreadable_csv_raises_one_clear_error(review: Review, text: str) -> None:
    before = snapshot(review)
    with pytest.raises(CsvError) as caught:
        apply_csv(review, text)
    assert "CSV" in str(caught.value)
    assert snapshot(review) == before


def test_blank_lines_and_short_lines_are_tolerated(review: Review) -> None:
    row = pick(review, lambda r: r.kind is Kind.DEVICE and needs_only(r, "role"), 1)[0]
    text = f"librenms_id,role,import\r\n\r\n{row.device.device_id},Leaf\r\n,,\r\n"
    report = apply_csv(review, text)
    assert report.rejected == [] and dict(report.changed) == {row.key: {"role": ("", "Leaf")}}
