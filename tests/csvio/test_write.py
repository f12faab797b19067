"""core.csvio.write: the review CSV (columns, links, encoding, no secret) and the import results CSV."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from core.csvio import (
    BOM,
    COLUMNS,
    RESULT_COLUMNS,
    csv_bytes,
    results_to_csv,
    rows_to_csv,
    write_csv,
    write_results,
)
from core.review import Review
from core.settings import Settings
from tests.conftest import SIM_TOKEN
from tests.csvio.conftest import SNMP_COMMUNITY, TRIGGERS, parse

# ------------------------------------------------------------------ the review


def test_export_has_the_columns_and_one_line_per_row(review: Review) -> None:
    text = rows_to_csv(review, librenms_url="http://user:pw@librenms.example/api/v0/?x=1")
    lines = parse(text)

    assert tuple(csv.reader(io.StringIO(text)).__next__()) == COLUMNS
    assert len(lines) == len(review) == 39  # the 40 fixture devices, one disabled
    assert {int(line["librenms_id"]) for line in lines} == {key[1] for key in review.rows}
    for line in lines:
        row = review.rows[(line["server"], int(line["librenms_id"]))]
        assert line["hostname"] == row.device.hostname
        assert line["name"] == row.name
        assert line["kind"] == row.kind.value
        assert line["status"] == row.status.value
        assert line["issues"] == row.issues_text()
        assert line["import"] == ("yes" if row.will_import else "no")
        assert line["netbox_url"] == (row.existing.url if row.existing else "")
        # the link to LibreNMS, without the credentials or the API path of the configured URL
        assert line["librenms_url"] == f"http://librenms.example/device/device={row.device.device_id}/"
    assert sum(line["import"] == "yes" for line in lines) == len(review.importable_rows()) > 0


def test_export_carries_no_token_and_no_snmp_credential(
    review: Review, module_settings: Settings, tmp_path: Path
) -> None:
    path = tmp_path / "review.csv"
    write_csv(path, review, librenms_url=module_settings.librenms.url)
    text = path.read_bytes().decode("utf-8-sig")
    assert (
        SNMP_COMMUNITY
        in (Path(__file__).parent.parent.parent / "devtools/librenms-data/devices.json").read_text()
    )
    for secret in (SIM_TOKEN, module_settings.netbox_token.get(), SNMP_COMMUNITY):
        assert secret not in text
    assert "community" not in text.casefold()


def test_csv_files_are_utf8_with_bom_and_crlf(review: Review, tmp_path: Path) -> None:
    path = tmp_path / "review.csv"
    assert write_csv(path, review) == len(review)
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    assert data == csv_bytes(review)
    text = data.decode("utf-8-sig")
    assert "Zürich Office" in text and "Warehouse São Paulo" in text
    assert text.count("\r\n") == len(review) + 1
    assert not rows_to_csv(review).startswith(BOM)


def test_semicolon_export_keeps_the_columns(review: Review) -> None:
    text = rows_to_csv(review, delimiter=";")
    assert text.partition("\r\n")[0] == ";".join(COLUMNS)
    assert len(list(csv.DictReader(io.StringIO(text), delimiter=";"))) == len(review)


# ------------------------------------------------------------------ import results


def test_results_csv_has_one_formula_safe_line_per_result_with_a_bom(tmp_path: Path) -> None:
    results = [
        {
            "server_key": "default",
            "librenms_id": 1,
            "name": "=HYPERLINK(1)",
            "kind": "device",
            "outcome": "failed",
            "message": "+1",
            "netbox_id": None,
            "url": "",
            "extra": ["-x", "@y"],
        },
        {"server_key": "default", "librenms_id": 2, "name": "b", "outcome": "created", "netbox_id": 7},
    ]
    path = tmp_path / "results.csv"
    assert write_results(path, results) == 2
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8-sig")
    assert text == results_to_csv(results)
    assert tuple(next(csv.reader(io.StringIO(text)))) == RESULT_COLUMNS
    first, second = csv.DictReader(io.StringIO(text))
    assert first["server"] == "default" and first["netbox_id"] == ""
    assert first["name"] == "'=HYPERLINK(1)" and first["message"] == "'+1" and first["details"] == "'-x; @y"
    assert second["netbox_id"] == "7" and second["details"] == "" and second["kind"] == ""
    assert not any(cell.startswith(TRIGGERS) for line in (first, second) for cell in line.values())
