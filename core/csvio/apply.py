"""CSV in: the analyst's edited review CSV applied to a review, and THE rule of which rows a CSV imports.

`import_csv` is what the Import page's upload and `python -m core import` both call; after it, the rows the
CSV imports are `review.importable_rows()`. The rule, line by line:

- a line is checked as a whole before anything of it is applied: an invalid line is rejected with its
  reasons and none of its edits are applied (see `apply_csv` for what is checked);
- the edits of a valid line are applied as the analyst's choices, and the row is validated again;
- then, after the edits of every line, a non-empty `import` cell is the analyst's explicit word:
  `yes` ticks the row (imported when it is ready; a warning says why not otherwise; a row already in NetBox
  is listed in `CsvReport.already_in_netbox` with its link and is never sent to an import),
  `no` means the row is not imported, even when the line's edits made it ready (a warning says so);
  an empty cell leaves the row's tick as it was;
- a row whose line was rejected is not imported (its tick is taken off if it was ready): the analyst's word
  about it could not be read;
- a row no line mentions is left as it is (`keep_unlisted=True`, the page), or not imported
  (`keep_unlisted=False`, the command line, which reviews only the CSV's devices anyway).

Rows are matched by (`server`, `librenms_id`); without a `server` column (or with an empty cell) the
review's first server key is used.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from core import defaults
from core.choices import ExistingAction, Kind, Owner, RowStatus, SyncField
from core.csvio.cells import KIND_WORDS, REFERENCE_FIELDS, flag_cell, parse_flag, row_cells
from core.csvio.read import CsvTable, read_table
from core.librenms import RowKey
from core.review import Ref, Review, name_too_long, parse_update, update_text

_WHAT = {
    "site": "site",
    "device_type": "device type",
    "platform": "platform",
    "role": "device role",
    "cluster": "cluster",
    "rack": "rack",
}


@dataclass
class CsvReport:
    """What a CSV did to a review.

    changed: (row key, {field: (old cell, new cell)}) for each CSV line that changed its row; "import" is
        reported when the line has an import cell and the row's import cell ("yes": ticked and ready) moved.
    rejected: (line number in the file, librenms_id as written, reasons) for lines applied not at all.
    unchanged: valid lines that changed nothing.
    status_changes: {row key: (status before, status after)} for every row whose status moved, including
        rows whose conflicts changed because of another row's edit.
    warnings: things worth knowing that did not stop a line (e.g. import=yes on a row that is blocked).
    not_in_csv: rows of the review that no CSV line mentioned.
    lines: {row key: its line number} for every line applied.
    already_in_netbox: (row key, link to the NetBox object) for rows marked import=yes that NetBox already
        has: they are not imported (not sent to an import job).
    held_back: rows that were ready and ticked whose line was rejected (import_csv): unticked, not imported.
    """

    changed: list[tuple[RowKey, dict[str, tuple[str, str]]]] = field(default_factory=list)
    rejected: list[tuple[int, str, list[str]]] = field(default_factory=list)
    unchanged: int = 0
    status_changes: dict[RowKey, tuple[RowStatus, RowStatus]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    not_in_csv: int = 0
    lines: dict[RowKey, int] = field(default_factory=dict)
    already_in_netbox: list[tuple[RowKey, str]] = field(default_factory=list)
    held_back: list[RowKey] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.rejected

    def summary(self) -> str:
        return (
            f"{len(self.changed)} row(s) changed, {len(self.rejected)} rejected, {self.unchanged} unchanged"
        )


# ------------------------------------------------------------------ one line, checked


@dataclass
class _Plan:
    """The edits one CSV line asks for, checked, not yet applied."""

    overrides: dict[str, object] = field(default_factory=dict)  # Overrides field → new value (None: clear)
    select: bool | None = None  # the import cell's word; None when the cell is empty
    reasons: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _same_value(cell: str, exported: str, ref: Ref | None = None) -> bool:
    """True when the cell says what the export says (for references: the object's name or slug, any case)."""
    folded = cell.casefold()
    if folded == exported.casefold():
        return True
    return ref is not None and (folded == ref.slug.casefold() or cell == str(ref.id))


def _exists(review: Review, name: str, text: str) -> bool:
    index = review.index
    if name == "rack":
        return index.find_rack(text, None) is not None
    catalog = getattr(index, name + "s")
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
        if name == "update":  # the same fields, however they are written
            try:
                return parse_update(cells[name]) != parse_update(exported[name])
            except ValueError:
                return True
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
        too_long = name_too_long(name)
        if not name:
            cleared("name")
        elif too_long is not None:
            plan.reasons.append(f"name: '{name}' {too_long.message}")
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

    if differs("action"):
        text = cells["action"].strip().casefold()
        if not text:
            cleared("action")
        elif text not in {a.value for a in ExistingAction}:
            plan.reasons.append(f"action: '{cells['action']}' is none of link, update, leave")
        elif row.status is not RowStatus.EXISTS and text != ExistingAction.LEAVE.value:
            plan.reasons.append(
                f"action: '{text}' is for a row NetBox already has; this one is {row.status.value}"
            )
        else:
            plan.overrides["action"] = text

    if differs("update"):
        text = cells["update"]
        try:
            fields = parse_update(text)
        except ValueError:
            plan.reasons.append(
                f"update: '{text}' names a field that is none of {', '.join(f.value for f in SyncField)}"
            )
        else:
            owned = [f.value for f in fields if review.mappings.owner(f) is Owner.NETBOX]
            if owned:
                plan.reasons.append(
                    f"update: NetBox owns {', '.join(owned)}: an update never changes it (the Mappings "
                    "page's ownership says which fields LibreNMS may overwrite)"
                )
            elif not fields:
                cleared("update")
            else:
                plan.overrides["update"] = update_text(fields)

    if cells.get("import"):
        try:
            plan.select = parse_flag(cells["import"])
        except ValueError:
            plan.reasons.append(
                f"import: '{cells['import']}' is not yes/no (also accepted: true/false, 1/0, x)"
            )

    if plan.reasons or not plan.overrides:
        return plan

    # the line as a whole: validate the row as it would be, without applying anything
    preview = review.preview(key, current.with_(**plan.overrides), row.selected)
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


# ------------------------------------------------------------------ the file


@dataclass
class _Applied:
    """A line that was applied: where, which row, its cells before, its plan."""

    line: int
    key: RowKey
    before: dict[str, str]
    plan: _Plan


def _apply(
    review: Review, data: str | bytes | CsvTable, *, hold_back: bool, keep_unlisted: bool
) -> CsvReport:
    table = read_table(data)
    report = CsvReport()
    status_before = {key: row.status for key, row in review.rows.items()}
    server_keys = list(dict.fromkeys(key[0] for key in review.devices))
    default_server = server_keys[0] if server_keys else defaults.DEFAULT_SERVER_KEY

    # 1. every line: checked as a whole, then its edits applied
    applied: list[_Applied] = []
    seen: dict[RowKey, int] = {}  # the first line of each row, applied or not
    rejected_keys: set[RowKey] = set()
    for record in table.records:
        line, cells = record.line, record.cells
        raw_id = cells.get("librenms_id", "")
        device_id = record.device_id
        if device_id is None:
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
            rejected_keys.add(key)
            continue
        seen[key] = line
        plan = _plan_line(review, key, cells)
        if plan.reasons:
            report.rejected.append((line, raw_id, plan.reasons))
            rejected_keys.add(key)
            continue
        report.lines[key] = line
        before = row_cells(review.rows[key])
        if plan.overrides:
            review.apply_override([key], **plan.overrides)  # type: ignore[arg-type]
        applied.append(_Applied(line, key, before, plan))

    # 2. the import cells, after the edits of every line: yes ticks, no (and rejected, and unlisted) unticks.
    # Unticking gives up a row's claims, which may make another row ready: repeat until nothing moves.
    wishes = {entry.key: entry.plan.select for entry in applied if entry.plan.select is not None}
    review.select([k for k, wish in wishes.items() if wish and not review.rows[k].selected], True)
    never = {k for k, wish in wishes.items() if not wish}
    if hold_back:
        never |= rejected_keys
    if not keep_unlisted:
        never |= {k for k in review.rows if k not in seen}
    unticked: set[RowKey] = set()
    while moving := [k for k in never if review.rows[k].will_import]:
        review.select(moving, False)
        unticked.update(moving)
    report.held_back = sorted(k for k in unticked if k in rejected_keys)

    # 3. the report, line by line
    for entry in applied:
        line, key, plan = entry.line, entry.key, entry.plan
        row = review.rows[key]
        after = row_cells(row)
        changes = {name: (entry.before[name], after[name]) for name in plan.overrides}
        changes = {name: change for name, change in changes.items() if change[0] != change[1]}
        if plan.select is not None and entry.before["import"] != after["import"]:
            changes["import"] = (entry.before["import"], after["import"])
        report.warnings += [f"line {line}: {note}" for note in plan.notes]
        device_id = key[1]
        if key in rejected_keys:  # a later line repeated the device: the rejection says why
            pass
        elif plan.select and not row.will_import:
            if row.status is RowStatus.EXISTS and row.existing is not None:
                report.already_in_netbox.append((key, row.existing.url))
                what = (
                    "nothing its action would write differs"
                    if row.action is not ExistingAction.LEAVE
                    else "set action=link or update to bring it up to date"
                )
                report.warnings.append(
                    f"line {line}: device {device_id} ({row.name}) is marked import=yes but is already in "
                    f"NetBox ({row.existing.url}): it will not be imported; {what}"
                )
            else:
                report.warnings.append(
                    f"line {line}: device {device_id} is marked import=yes but its status is "
                    f"'{row.status.value}', so it will not be imported"
                )
        elif plan.select is False and row.status is RowStatus.EXISTS and row.updates:
            report.warnings.append(
                f"line {line}: device {device_id} ({row.name}) has action {row.action.value} but its import "
                f"cell says {flag_cell(False)}: NetBox is not changed (say yes to write it)"
            )
        elif (
            plan.select is False
            and row.status is RowStatus.READY
            and status_before[key] is not RowStatus.READY
        ):
            report.warnings.append(
                f"line {line}: device {device_id} ({row.name}) is ready now but its import cell says "
                f"{flag_cell(False)}: it will not be imported"
            )
        if changes:
            report.changed.append((key, changes))
        else:
            report.unchanged += 1

    report.not_in_csv = sum(1 for key in review.rows if key not in seen)
    for key, row in review.rows.items():
        if key in status_before and status_before[key] is not row.status:
            report.status_changes[key] = (status_before[key], row.status)
    return report


def apply_csv(review: Review, data: str | bytes | CsvTable) -> CsvReport:
    """Apply an edited CSV to the review: the edits and the import cells of its valid lines (see the module
    docstring for the import rule); returns what changed and which lines were rejected. Rows of rejected
    lines and rows no line mentions are left exactly as they were (`import_csv` decides about those).

    Columns read (headers case-insensitive; the others are ignored):
      server, librenms_id — which row (server optional: the review's first server key).
      name, kind, site, device_type, platform, role, rack, cluster — applied as the user's choice when the
        cell differs from the row (references compared by name or slug, case-insensitively). An empty cell
        clears an earlier choice of the user (validation decides again), and does nothing otherwise.
      import — yes/no, true/false, 1/0, x (= yes); empty leaves the row's tick as it is.
      action — a row NetBox already has: link (write librenms_id only), update, or leave (empty: leave).
      update — the fields an update writes ("serial, platform"; empty: every field LibreNMS owns that
        differs); a field NetBox owns (core.mapping ownership) rejects the line: it is never written.
    A line is rejected as a whole (nothing of it applied) for: an unknown or repeated librenms_id, a name,
    site, device type, platform, role, rack or cluster NetBox does not have, a rack of another site than the
    row's (resulting) site, a rack on a VM or a cluster on a device, a role not usable for VMs on a VM, a bad
    kind or import value, a name longer than NetBox allows, an action on a row NetBox does not have, an
    update of a field that does not exist or that NetBox owns.

    Raises CsvError when the text has no header or no librenms_id column.
    """
    return _apply(review, data, hold_back=False, keep_unlisted=True)


def import_csv(review: Review, data: str | bytes | CsvTable, *, keep_unlisted: bool = True) -> CsvReport:
    """THE rule of which rows a CSV imports (module docstring): `apply_csv`, and a row whose line was
    rejected is not imported; with `keep_unlisted=False` neither is a row no line mentions. Afterwards the
    rows the CSV imports are `review.importable_rows()`; `report.already_in_netbox` lists the rows it marks
    import=yes that NetBox already has (with their links), which are not imported.

    The Import page and `python -m core import` both call this. Raises CsvError like `apply_csv`.
    """
    return _apply(review, data, hold_back=True, keep_unlisted=keep_unlisted)
