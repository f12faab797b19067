"""CSV out: the review (one line per row, the columns of core.csvio.cells.COLUMNS) and the command line's
import results (one line per row and its outcome).

Comma-separated unless told otherwise, CRLF line ends, every cell formula-safe. Files and downloads are UTF-8
*with* a BOM (`utf-8-sig`), because Excel only reads a CSV as UTF-8 when the BOM is there (site names like
"Zürich Office" or "東京オフィス" would break otherwise); `rows_to_csv` returns the text without it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from core.csvio.cells import COLUMNS, LinkBase, escape_cell, row_cells
from core.importer.plan import RowPlan
from core.review import Row

ENCODING = "utf-8-sig"  # files and downloads: UTF-8 with a BOM, so Excel reads them as UTF-8

RESULT_COLUMNS: tuple[str, ...] = (
    "server",
    "librenms_id",
    "name",
    "kind",
    "outcome",
    "message",
    "netbox_id",
    "url",
    "details",
)


def _table(header: Sequence[str], lines: Iterable[Sequence[str]], delimiter: str = ",") -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(header)
    for line in lines:
        writer.writerow([escape_cell(cell) for cell in line])
    return buffer.getvalue()


# ------------------------------------------------------------------ the review


def rows_to_csv(rows: Iterable[Row], *, librenms_url: LinkBase = "", delimiter: str = ",") -> str:
    """The rows as CSV text (header first, CRLF line ends, no BOM), every cell formula-safe.

    `librenms_url`: the LibreNMS base URL (or {server key: URL}) for the `librenms_url` column; any
    credentials in it are dropped.
    """
    cells = (row_cells(row, librenms_url=librenms_url) for row in rows)
    return _table(COLUMNS, ([line[column] for column in COLUMNS] for line in cells), delimiter)


def csv_bytes(rows: Iterable[Row], *, librenms_url: LinkBase = "", delimiter: str = ",") -> bytes:
    """The CSV as a file's bytes: UTF-8 with a BOM (what a download button serves)."""
    return rows_to_csv(rows, librenms_url=librenms_url, delimiter=delimiter).encode(ENCODING)


def write_csv(
    path: str | Path, rows: Iterable[Row], *, librenms_url: LinkBase = "", delimiter: str = ","
) -> int:
    """Write the CSV file (UTF-8 with a BOM); returns the number of rows written."""
    rows = list(rows)
    Path(path).write_bytes(csv_bytes(rows, librenms_url=librenms_url, delimiter=delimiter))
    return len(rows)


# ------------------------------------------------------------------ import results


def result_cells(result: Mapping[str, Any]) -> list[str]:
    """One result (RowResult.as_dict(), or a job's result line) as the cells of RESULT_COLUMNS."""
    cells = {
        "server": result.get("server_key", ""),
        "details": "; ".join(result.get("extra") or []),
        **{k: result.get(k) for k in RESULT_COLUMNS if k in result},
    }
    return ["" if cells.get(c) is None else str(cells[c]) for c in RESULT_COLUMNS]


def results_to_csv(results: Iterable[Mapping[str, Any]]) -> str:
    """The results as CSV text (no BOM), every cell formula-safe."""
    return _table(RESULT_COLUMNS, (result_cells(r) for r in results))


def write_results(path: str | Path, results: Iterable[Mapping[str, Any]]) -> int:
    """Write the results file (UTF-8 with a BOM); returns the number of results written."""
    results = list(results)
    Path(path).write_bytes(results_to_csv(results).encode(ENCODING))
    return len(results)


PLAN_COLUMNS = (
    "server",
    "librenms_id",
    "row",
    "action",
    "reason",
    "object",
    "name",
    "fields",
    "note",
    "netbox_url",
)


def plan_to_csv(plans: Iterable[RowPlan]) -> str:
    """An import's plan as CSV: one line per object a row creates (a skipped or left-out row: one line
    with why), fields as "field=value; …"."""
    lines = []
    for plan in plans:
        head = [plan.key[0], str(plan.key[1]), plan.name, plan.action.value, plan.reason]
        if not plan.objects:
            lines.append([*head, "", "", "", "", plan.url])
        for obj in plan.objects:
            fields = "; ".join(f"{name}={value}" for name, value in obj.fields)
            lines.append([*head, obj.what, obj.name, fields, obj.note, plan.url])
    return _table(PLAN_COLUMNS, lines)


def plan_csv_bytes(plans: Iterable[RowPlan]) -> bytes:
    """The plan CSV as a download's bytes (UTF-8 with a BOM)."""
    return plan_to_csv(plans).encode(ENCODING)
