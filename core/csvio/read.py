"""The one CSV parser: bytes or text → a header and records with their line numbers.

Accepted: UTF-8 with or without BOM (bytes that are not UTF-8 are read as Windows-1252, what Excel's plain
"CSV" format writes); comma, semicolon or tab separated (detected from the header line; an Excel `sep=;`
first line is honoured). Headers are matched case-insensitively, spaces and dashes read as underscores
("LibreNMS ID" is `librenms_id`). Cells are stripped and formula-unescaped (core.csvio.cells.unescape_cell).
The whole file is read before anything is returned: a file that breaks half-way raises CsvError.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass

from core.csvio.cells import unescape_cell
from core.errors import CsvError

BOM = "\ufeff"
DELIMITERS = (",", ";", "\t")
ID_COLUMN = "librenms_id"


@dataclass(frozen=True, slots=True)
class CsvRecord:
    """One non-blank line of the file: where it starts (line 1 is the first line of the file, a quoted
    cell may span lines) and its cells by normalised column name ("" for a missing cell)."""

    line: int
    cells: dict[str, str]

    @property
    def device_id(self) -> int | None:
        """The line's librenms_id as a number; None when it is not one."""
        try:
            return int(self.cells.get(ID_COLUMN, ""))
        except ValueError:
            return None


@dataclass(frozen=True, slots=True)
class CsvTable:
    header: tuple[str, ...]  # as written
    columns: tuple[str, ...]  # normalised, in file order
    delimiter: str
    records: tuple[CsvRecord, ...]

    def device_ids(self) -> set[int]:
        """The librenms_id of every record that has a numeric one."""
        return {i for i in (record.device_id for record in self.records) if i is not None}


def decode(data: str | bytes) -> str:
    """CSV bytes or text → text without a BOM. UTF-8 first; bytes that are not UTF-8 as Windows-1252."""
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = data.decode("cp1252", errors="replace")
    else:
        text = data
    return text.removeprefix(BOM)


def normalise_header(name: str) -> str:
    """A header as the code names its column: "LibreNMS ID" → "librenms_id", "Device-Type" → "device_type"."""
    return name.strip().removeprefix(BOM).strip().casefold().replace(" ", "_").replace("-", "_")


def sniff_delimiter(header_line: str) -> str:
    """The separator the header line uses most (comma, semicolon or tab); comma when it has none."""
    counts = {d: header_line.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def split_sep_line(text: str) -> tuple[str | None, str, int]:
    """Excel's optional first line `sep=;`: (its delimiter or None, the rest of the text, lines skipped)."""
    first, _, rest = text.partition("\n")
    stripped = first.rstrip("\r\n").strip('"')
    if stripped.casefold().startswith("sep=") and len(stripped) == 5:
        return stripped[4], rest, 1
    return None, text, 0


def read_table(data: str | bytes | CsvTable, *, required: Iterable[str] = (ID_COLUMN,)) -> CsvTable:
    """Read a whole CSV file. Raises CsvError when it is empty, has no readable header, lacks a required
    column, or breaks on some line (which is named)."""
    if isinstance(data, CsvTable):
        return data
    text = decode(data)
    sep, body, skipped = split_sep_line(text)
    if not body.strip():
        raise CsvError("The CSV file is empty.", hint="Export the review first and edit that file.")
    delimiter = sep or sniff_delimiter(body.partition("\n")[0])
    reader = csv.reader(io.StringIO(body, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
    except (StopIteration, csv.Error) as exc:
        raise CsvError(f"The CSV file has no readable header line ({exc}).") from None
    columns = [normalise_header(h) for h in header]
    for name in required:
        if name not in columns:
            raise CsvError(
                f"The CSV file has no '{name}' column, so its lines cannot be matched to devices.",
                hint=f"Keep the header line of the export (found: {', '.join(h for h in header if h) or 'nothing'}).",
            )
    position = {name: columns.index(name) for name in dict.fromkeys(columns) if name}

    records: list[CsvRecord] = []
    line_end = skipped + reader.line_num
    while True:
        line = line_end + 1  # where the record starts (a quoted cell may span lines)
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise CsvError(f"Line {line} of the CSV file cannot be read: {exc}.") from None
        line_end = skipped + reader.line_num
        if any(cell.strip() for cell in record):  # Excel leaves blank lines at the end
            cells = {
                name: unescape_cell(record[i].strip()) if i < len(record) else ""
                for name, i in position.items()
            }
            records.append(CsvRecord(line, cells))
    return CsvTable(tuple(header), tuple(columns), delimiter, tuple(records))
