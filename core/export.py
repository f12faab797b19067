"""CSV out and CSV in: the review table as a spreadsheet, and the analyst's edits brought back.

Out (`rows_to_csv`, `csv_bytes`, `write_csv`): one line per row, the columns of `COLUMNS`, comma-separated,
CRLF line ends. Files and downloads are UTF-8 *with* a BOM (`utf-8-sig`), because Excel only reads a CSV
as UTF-8 when the BOM is there (site names like "Zürich Office" or "東京オフィス" would break otherwise);
`rows_to_csv` returns the text without it. Only Row fields are written: never a token, never an SNMP
credential (those never reach a Row; see core.models.SNMP_CREDENTIAL_KEYS).

Formula injection: LibreNMS values (hostname, sysName, hardware…) come from devices and may start with
`=`, `+`, `-`, `@`, a tab or a carriage return, which a spreadsheet would run as a formula. Such a cell is
written with a leading single quote; a value that already starts with a quote followed by such a value
gets one more quote. `unescape_cell` undoes exactly that, so export → import is lossless.

In (`apply_csv`): the edited file, UTF-8 with or without BOM (bytes that are not UTF-8 are read as
Windows-1252, what Excel's plain "CSV" format writes), comma, semicolon or tab separated (detected from
the header line; an Excel `sep=;` first line is honoured). Rows are matched by (`server`, `librenms_id`);
without a `server` column (or with an empty cell) the review's first server key is used. Each CSV line is
checked as a whole before anything of it is applied: an invalid line is rejected with its reasons and
none of its edits are applied. See `apply_csv` for the meaning of each column.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from core import defaults
from core.errors import ImporterError
from core.models import Kind, Ref, Row, RowStatus
from core.netbox import Catalog
from core.validation import Review, validate_device

__all__ = [
    "COLUMNS",
    "EDITABLE_COLUMNS",
    "CsvError",
    "CsvReport",
    "apply_csv",
    "csv_bytes",
    "escape_cell",
    "rows_to_csv",
    "unescape_cell",
    "write_csv",
]

RowKey = tuple[str, int]

COLUMNS: tuple[str, ...] = (
    "server",
    "librenms_id",
    "hostname",
    "location",
    "hardware",
    "os",
    "name",
    "kind",
    "site",
    "device_type",
    "platform",
    "role",
    "rack",
    "cluster",
    "status",
    "issues",
    "import",
    "netbox_url",
    "librenms_url",
    "stack_members",
)
# The columns apply_csv reads back; every other column is information only and ignored on import.
EDITABLE_COLUMNS: tuple[str, ...] = (
    "name",
    "kind",
    "site",
    "device_type",
    "platform",
    "role",
    "rack",
    "cluster",
    "import",
)
REFERENCE_FIELDS: tuple[str, ...] = ("site", "device_type", "platform", "role", "rack", "cluster")
ENCODING = "utf-8-sig"  # files and downloads: UTF-8 with a BOM, so Excel reads them as UTF-8
BOM = "\ufeff"

FORMULA_TRIGGERS = frozenset("=+-@\t\r")
TRUE_WORDS = frozenset({"yes", "y", "true", "1", "x"})
FALSE_WORDS = frozenset({"no", "n", "false", "0"})
KIND_WORDS = {
    "device": Kind.DEVICE,
    "vm": Kind.VM,
    "virtual machine": Kind.VM,
    "virtual_machine": Kind.VM,
    "virtual-machine": Kind.VM,
}
DELIMITERS = (",", ";", "\t")


class CsvError(ImporterError):
    """The CSV cannot be read as a whole (no header, no librenms_id column, not text)."""


# ------------------------------------------------------------------ formula injection


def _needs_quote(value: str) -> bool:
    """True for values a spreadsheet would read as a formula, and for values that look already escaped."""
    if not value:
        return False
    if value[0] in FORMULA_TRIGGERS:
        return True
    return value[0] == "'" and _needs_quote(value[1:])


def escape_cell(value: str) -> str:
    """The value as it is safe to put in a spreadsheet cell: formula-like values get a leading quote."""
    return "'" + value if _needs_quote(value) else value


def unescape_cell(value: str) -> str:
    """Undo `escape_cell` exactly (and nothing else: "'abc" stays "'abc")."""
    if value.startswith("'") and _needs_quote(value[1:]):
        return value[1:]
    return value


# ------------------------------------------------------------------ CSV out


def _ref_cell(row: Row, name: str) -> str:
    """The object's name; when none was resolved, the user's choice as typed (so it round-trips)."""
    ref: Ref | None = getattr(row, name)
    if ref is not None:
        return ref.name
    return getattr(row.overrides, name) or ""


def _public_url(url: str) -> str:
    """A base URL without credentials, query or fragment, and without a trailing slash or /api/v0."""
    parts = urlsplit(url.strip())
    if not parts.scheme or not parts.hostname:
        return ""
    netloc = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    if parts.port:
        netloc += f":{parts.port}"
    path = parts.path.rstrip("/").removesuffix("/api/v0")
    return urlunsplit((parts.scheme, netloc, path, "", ""))


def _librenms_link(row: Row, librenms_url: str | Mapping[str, str]) -> str:
    base = librenms_url.get(row.device.server_key, "") if isinstance(librenms_url, Mapping) else librenms_url
    base = _public_url(base) if base else ""
    return f"{base}/device/device={row.device.device_id}/" if base else ""


def stack_members_text(row: Row) -> str:
    """Stack members as "1:SERIAL:MODEL|2:SERIAL:MODEL"; empty when the row is not a stack."""
    if row.stack is None:
        return ""
    return "|".join(f"{m.position}:{m.serial}:{m.model}" for m in row.stack.members)


def row_cells(row: Row, *, librenms_url: str | Mapping[str, str] = "") -> dict[str, str]:
    """The row as CSV cells (unescaped), keyed by column."""
    device = row.device
    return {
        "server": device.server_key,
        "librenms_id": str(device.device_id),
        "hostname": device.hostname,
        "location": device.location,
        "hardware": device.hardware,
        "os": device.os,
        "name": row.name,
        "kind": row.kind.value,
        "site": _ref_cell(row, "site"),
        "device_type": _ref_cell(row, "device_type"),
        "platform": _ref_cell(row, "platform"),
        "role": _ref_cell(row, "role"),
        "rack": _ref_cell(row, "rack"),
        "cluster": _ref_cell(row, "cluster"),
        "status": row.status.value,
        "issues": row.issues_text(),
        "import": "yes" if row.will_import else "no",
        "netbox_url": row.existing.url if row.existing is not None else "",
        "librenms_url": _librenms_link(row, librenms_url),
        "stack_members": stack_members_text(row),
    }


def rows_to_csv(
    rows: Iterable[Row], *, librenms_url: str | Mapping[str, str] = "", delimiter: str = ","
) -> str:
    """The rows as CSV text (header first, CRLF line ends, no BOM), every cell formula-safe.

    `librenms_url`: the LibreNMS base URL (or {server key: URL}) for the `librenms_url` column; any
    credentials in it are dropped.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in rows:
        cells = row_cells(row, librenms_url=librenms_url)
        writer.writerow([escape_cell(cells[column]) for column in COLUMNS])
    return buffer.getvalue()


def csv_bytes(
    rows: Iterable[Row], *, librenms_url: str | Mapping[str, str] = "", delimiter: str = ","
) -> bytes:
    """The CSV as a file's bytes: UTF-8 with a BOM (what a download button serves)."""
    return rows_to_csv(rows, librenms_url=librenms_url, delimiter=delimiter).encode(ENCODING)


def write_csv(
    path: str | Path,
    rows: Iterable[Row],
    *,
    librenms_url: str | Mapping[str, str] = "",
    delimiter: str = ",",
) -> int:
    """Write the CSV file (UTF-8 with a BOM); returns the number of rows written."""
    rows = list(rows)
    Path(path).write_bytes(csv_bytes(rows, librenms_url=librenms_url, delimiter=delimiter))
    return len(rows)


# ------------------------------------------------------------------ CSV in


@dataclass
class CsvReport:
    """What `apply_csv` did.

    changed: (row key, {field: (old value, new value)}) for each CSV line that changed its row; "import"
        reports the row's selection ("yes"/"no"), the other fields the row's value before and after.
    rejected: (line number in the file, librenms_id as written, reasons) for lines applied not at all.
    unchanged: valid lines that changed nothing.
    status_changes: {row key: (status before, status after)} for every row whose status moved, including
        rows whose conflicts changed because of another row's edit.
    warnings: things worth knowing that did not stop a line (e.g. import=yes on a row that is blocked).
    not_in_csv: rows of the review that no CSV line mentioned (left as they were).
    """

    changed: list[tuple[RowKey, dict[str, tuple[str, str]]]] = field(default_factory=list)
    rejected: list[tuple[int, str, list[str]]] = field(default_factory=list)
    unchanged: int = 0
    status_changes: dict[RowKey, tuple[RowStatus, RowStatus]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    not_in_csv: int = 0

    @property
    def ok(self) -> bool:
        return not self.rejected

    def summary(self) -> str:
        return (
            f"{len(self.changed)} row(s) changed, {len(self.rejected)} rejected, {self.unchanged} unchanged"
        )


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


def _normalise_header(name: str) -> str:
    return name.strip().removeprefix(BOM).strip().casefold().replace(" ", "_").replace("-", "_")


def _sniff_delimiter(header_line: str) -> str:
    counts = {d: header_line.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def _split_sep_line(text: str) -> tuple[str | None, str, int]:
    """Excel's optional first line `sep=;`: (its delimiter or None, the rest of the text, lines skipped)."""
    first, _, rest = text.partition("\n")
    stripped = first.rstrip("\r\n").strip('"')
    if stripped.casefold().startswith("sep=") and len(stripped) == 5:
        return stripped[4], rest, 1
    return None, text, 0


def _same_value(cell: str, exported: str, ref: Ref | None = None) -> bool:
    """True when the cell says what the export says (for references: the object's name or slug, any case)."""
    folded = cell.casefold()
    if folded == exported.casefold():
        return True
    return ref is not None and (folded == ref.slug.casefold() or cell == str(ref.id))


_WHAT = {
    "site": "site",
    "device_type": "device type",
    "platform": "platform",
    "role": "device role",
    "cluster": "cluster",
    "rack": "rack",
}


def _parse_bool(text: str) -> bool:
    folded = text.strip().casefold()
    if folded in TRUE_WORDS:
        return True
    if folded in FALSE_WORDS:
        return False
    raise ValueError(text)


@dataclass
class _Plan:
    """The edits one CSV line asks for, checked, not yet applied."""

    overrides: dict[str, object] = field(default_factory=dict)  # Overrides field → new value (None: clear)
    select: bool | None = None
    reasons: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _exists(review: Review, name: str, text: str) -> bool:
    index = review.index
    if name == "rack":
        return index.find_rack(text, None) is not None
    catalog: Catalog = getattr(index, name + "s")
    if catalog.find(text) is not None:
        return True
    return name == "device_type" and text.strip().casefold() in catalog.by_extra


def _plan_line(review: Review, key: RowKey, cells: Mapping[str, str]) -> _Plan:
    """Compare the line with the row's exported cells; collect what differs and all that is wrong with it."""
    plan = _Plan()
    row = review.rows[key]
    current = row.overrides
    exported = row_cells(row)

    def differs(name: str) -> bool:
        if name not in cells:
            return False
        if name == "name":  # a name's case matters
            return cells[name] != exported[name]
        ref = getattr(row, name) if name in REFERENCE_FIELDS else None
        return not _same_value(cells[name], exported[name], ref)

    def cleared(name: str) -> None:
        """An empty cell where the export had a value: forget the user's earlier choice, if any."""
        if getattr(current, name) is not None:
            plan.overrides[name] = None
        else:
            plan.notes.append(
                f"{name}: an empty cell only clears a value set by the user; '{exported[name]}' stays"
            )

    if differs("name"):
        name = cells["name"]
        if not name:
            cleared("name")
        elif len(name) > defaults.NAME_MAX_LENGTH:
            plan.reasons.append(
                f"name: '{name}' is {len(name)} characters; NetBox allows {defaults.NAME_MAX_LENGTH}"
            )
        else:
            plan.overrides["name"] = name

    if differs("kind"):
        text = cells["kind"]
        kind = KIND_WORDS.get(text.casefold())
        if not text:
            cleared("kind")
        elif kind is None:
            plan.reasons.append(f"kind: '{text}' is neither 'device' nor 'vm'")
        elif kind is not row.kind:
            plan.overrides["kind"] = kind

    for name in REFERENCE_FIELDS:
        if not differs(name):
            continue
        text = cells[name]
        if not text:
            cleared(name)
        elif not _exists(review, name, text):
            plan.reasons.append(f"{name}: '{text}' is not a NetBox {_WHAT[name]}")
        else:
            plan.overrides[name] = text

    if cells.get("import"):
        try:
            wanted = _parse_bool(cells["import"])
        except ValueError:
            plan.reasons.append(
                f"import: '{cells['import']}' is not yes/no (also accepted: true/false, 1/0, x)"
            )
        else:
            if wanted != row.will_import:
                plan.select = wanted

    if plan.reasons or not plan.overrides:
        return plan

    # the line as a whole: validate the row as it would be, without applying anything
    preview = validate_device(
        review.devices[key],
        review.index,
        review.mappings,
        review.options,
        current.with_(**plan.overrides),
        review.stacks.get(key),
        selected=row.selected,
        shared_sysnames=review.shared_sysnames,
    )
    if plan.overrides.get("rack") and preview.kind is Kind.VM:
        plan.reasons.append(f"rack: '{cells['rack']}' was set, but a virtual machine has no rack")
    if plan.overrides.get("cluster") and preview.kind is Kind.DEVICE:
        plan.reasons.append(
            f"cluster: '{cells['cluster']}' was set, but only virtual machines have a cluster"
        )
    rack_checked = preview.kind is Kind.DEVICE and bool({"rack", "site", "kind"} & plan.overrides.keys())
    for issue in preview.blocking:
        if issue.field == "rack" and rack_checked:
            plan.reasons.append(f"rack: '{issue.value}' {issue.message}")
        elif issue.field == "role" and plan.overrides.get("role") and issue.value:
            plan.reasons.append(f"role: '{issue.value}' {issue.message}")
    return plan


def apply_csv(review: Review, text: str | bytes) -> CsvReport:
    """Apply an edited CSV to the review; returns what changed and which lines were rejected.

    Columns read (headers case-insensitive; the others are ignored):
      server, librenms_id — which row (server optional: the review's first server key).
      name, kind, site, device_type, platform, role, rack, cluster — applied as the user's choice when the
        cell differs from the row (references compared by name or slug, case-insensitively). An empty cell
        clears an earlier choice of the user (validation decides again), and does nothing otherwise.
      import — yes/no, true/false, 1/0, x (= yes); applied when it differs from what the row's "import"
        cell would say now; empty leaves the selection as it is.
    A line is rejected as a whole (nothing of it applied) for: an unknown or repeated librenms_id, a name,
    site, device type, platform, role, rack or cluster NetBox does not have, a rack of another site than the
    row's (resulting) site, a rack on a VM or a cluster on a device, a role not usable for VMs on a VM, a bad
    kind or import value, a name longer than NetBox allows.

    Raises CsvError when the text has no header or no librenms_id column.
    """
    text = decode(text)
    sep, body, skipped = _split_sep_line(text)
    if not body.strip():
        raise CsvError("The CSV file is empty.", hint="Export the review first and edit that file.")
    delimiter = sep or _sniff_delimiter(body.partition("\n")[0])
    reader = csv.reader(io.StringIO(body, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
    except (StopIteration, csv.Error) as exc:
        raise CsvError(f"The CSV file has no readable header line ({exc}).") from None
    columns = [_normalise_header(h) for h in header]
    if "librenms_id" not in columns:
        raise CsvError(
            "The CSV file has no 'librenms_id' column, so its lines cannot be matched to devices.",
            hint=f"Keep the header line of the export (found: {', '.join(h for h in header if h) or 'nothing'}).",
        )
    position = {name: columns.index(name) for name in dict.fromkeys(columns) if name}

    report = CsvReport()
    before = {key: row.status for key, row in review.rows.items()}
    server_keys = list(dict.fromkeys(key[0] for key in review.devices))
    default_server = server_keys[0] if server_keys else defaults.DEFAULT_SERVER_KEY
    # read every line first: a file that breaks half-way is refused before anything is applied
    records: list[tuple[int, dict[str, str]]] = []
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
            records.append((line, cells))

    seen: dict[RowKey, int] = {}
    for line, cells in records:
        raw_id = cells.get("librenms_id", "")
        try:
            device_id = int(raw_id)
        except ValueError:
            report.rejected.append((line, raw_id, [f"librenms_id: '{raw_id}' is not a device id"]))
            continue
        key = (cells.get("server") or default_server, device_id)
        if key not in review.rows:
            where = f" on server '{key[0]}'" if len(server_keys) > 1 or cells.get("server") else ""
            report.rejected.append(
                (line, raw_id, [f"librenms_id: no row for LibreNMS device {device_id}{where} in this review"])
            )
            continue
        if key in seen:
            report.rejected.append(
                (line, raw_id, [f"librenms_id: {device_id} appears again (first on line {seen[key]})"])
            )
            continue
        seen[key] = line

        plan = _plan_line(review, key, cells)
        if plan.reasons:
            report.rejected.append((line, raw_id, plan.reasons))
            continue
        old_row = review.rows[key]
        old = row_cells(old_row)
        if plan.overrides:
            review.apply_override([key], **plan.overrides)  # type: ignore[arg-type]
        if plan.select is not None and plan.select != review.rows[key].selected:
            review.select([key], plan.select)
        new_row = review.rows[key]
        new = row_cells(new_row)
        changes = {name: (old[name], new[name]) for name in plan.overrides if old[name] != new[name]}
        if old_row.selected != new_row.selected:
            changes["import"] = ("yes" if old_row.selected else "no", "yes" if new_row.selected else "no")
        report.warnings += [f"line {line}: {note}" for note in plan.notes]
        if plan.select and not new_row.will_import:
            report.warnings.append(
                f"line {line}: device {device_id} is marked import=yes but its status is "
                f"'{new_row.status.value}', so it will not be imported"
            )
        if changes:
            report.changed.append((key, changes))
        else:
            report.unchanged += 1

    report.not_in_csv = sum(1 for key in review.rows if key not in seen)
    for key, row in review.rows.items():
        if key in before and before[key] is not row.status:
            report.status_changes[key] = (before[key], row.status)
    return report
