"""The review grid as data: Review rows → a pandas DataFrame for `st.data_editor`, and the editor's edits →
Review edits. Pure (no Streamlit), so the page stays a drawing and the translation is tested on its own.
A grid line shows the same cells as the review CSV (core.csvio.cells.row_cells): reference names, never
slugs, and the same sanitised LibreNMS link.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from core import defaults
from core.choices import ExistingAction, Kind, RowStatus, Sync
from core.csvio.cells import LinkBase, row_cells
from core.mapping import DEFAULT_OWNERSHIP
from core.review import Review, Row

STATUS_ICONS = {
    RowStatus.READY: "🟢",
    RowStatus.NEEDS_INPUT: "🟡",
    RowStatus.EXISTS: "🔵",
    Sync.IN_SYNC: "🔵",
    Sync.DIFFERS: "🟣",
    RowStatus.CONFLICT: "🟠",
    RowStatus.BLOCKED: "🔴",
}
# What the grid tells rows apart by: a row NetBox has is "in sync" or "differs" (core.review.Row.sync).
ViewStatus = RowStatus | Sync
VIEW_STATUSES: tuple[ViewStatus, ...] = (
    RowStatus.READY,
    RowStatus.NEEDS_INPUT,
    Sync.IN_SYNC,
    Sync.DIFFERS,
    RowStatus.CONFLICT,
    RowStatus.BLOCKED,
)
# The fields an update may be asked to write (the grid's "update" choices): those a team may give LibreNMS.
UPDATE_CHOICES = tuple(f.value for f in DEFAULT_OWNERSHIP)
ACTIONS = tuple(a.value for a in ExistingAction)
# Columns the analyst edits in the grid; every other column is locked.
EDITABLE = ("import", "pick", "kind", "role", "rack", "cluster", "action", "update")
COLUMNS = (
    "pick",
    "import",
    "status",
    "action",
    "update",
    "differences",
    "name",
    "kind",
    "site",
    "device_type",
    "platform",
    "role",
    "rack",
    "cluster",
    "stack",
    "issues",
    "netbox",
    "librenms",
    "hostname",
    "librenms_id",
    "server",
)
# Grid columns that show a CSV cell (core.csvio.cells.row_cells) as it is: names, never slugs.
SHARED = ("name", "kind", "site", "device_type", "platform", "issues", "hostname", "server")
# Selectbox columns: the CSV cell, or None for an empty cell.
CHOICES = ("role", "rack", "cluster")
# Link columns: the CSV cell of that name, or None without a link.
LINKS = {"netbox": "netbox_url", "librenms": "librenms_url"}


def status_label(status: ViewStatus) -> str:
    return f"{STATUS_ICONS[status]} {status.value}"


def view_status(row: Row) -> ViewStatus:
    """The row's status as the grid tells them apart: a row NetBox has is in sync, or differs."""
    return row.sync or row.status


def row_status_label(row: Row) -> str:
    """ "🟣 differs (2)": how many fields an update would bring up to date."""
    if row.sync is Sync.DIFFERS:
        return f"{status_label(Sync.DIFFERS)} ({len(row.updatable)})"
    return status_label(view_status(row))


def view_counts(review: Review) -> dict[ViewStatus, int]:
    found = Counter(view_status(row) for row in review)
    return {status: found.get(status, 0) for status in VIEW_STATUSES}


def _name(ref: Any) -> str:
    return ref.name if ref is not None else ""


def row_record(row: Row, librenms_url: LinkBase = "", picked: bool = False) -> dict[str, Any]:
    """One grid line: the row's CSV cells for every column the grid shares with the CSV, typed for the
    editor (a checkbox for import, None for an empty choice or link, the device id as a number)."""
    cells = row_cells(row, librenms_url=librenms_url)
    return {
        "pick": picked,
        "import": row.will_import,
        "status": row_status_label(row),
        "action": cells["action"] or (ExistingAction.LEAVE.value if row.existing else None),
        "update": [f.value for f in row.overrides.update_fields] or None,
        "differences": cells["differences"],
        **{column: cells[column] for column in SHARED},
        **{column: cells[column] or None for column in CHOICES},
        "stack": f"{len(row.stack.members)} members" if row.stack else "",
        **{column: cells[cell] or None for column, cell in LINKS.items()},
        "librenms_id": row.device.device_id,
    }


def rows_frame(
    rows: Iterable[Row], librenms_url: LinkBase = "", picked: Iterable[tuple[str, int]] = ()
) -> pd.DataFrame:
    """One line per row, in the grid's column order; the index is 'server:id' so edits map back to rows."""
    chosen = set(picked)
    records = [row_record(row, librenms_url, row.key in chosen) for row in rows]
    frame = pd.DataFrame.from_records(records, columns=list(COLUMNS))
    frame.index = pd.Index([f"{r['server']}:{r['librenms_id']}" for r in records], name="row")
    return frame


def key_of(label: str) -> tuple[str, int]:
    server, _, device_id = str(label).rpartition(":")
    return server, int(device_id)


def _clean(value: Any) -> str | None:
    """The editor gives None, NaN (pandas 3) or text for an emptied cell."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    text = str(value).strip()
    return text or None


def apply_grid_edits(
    review: Review, frame_index: list[str], edited_rows: Mapping[int | str, Mapping[str, Any]]
) -> tuple[list[tuple[str, int]], dict[tuple[str, int], bool]]:
    """Apply st.data_editor's `edited_rows` ({position: {column: new value}}) to the review.

    Returns (rows re-validated, pick changes). Locked columns are ignored whatever the editor sent.
    """
    touched: set[tuple[str, int]] = set()
    picks: dict[tuple[str, int], bool] = {}
    for position, changes in edited_rows.items():
        key = key_of(frame_index[int(position)])
        if key not in review.rows:
            continue
        for column, value in changes.items():
            if column == "pick":
                picks[key] = bool(value)
            elif column == "import":
                row = review.rows[key]
                if value and row.status is RowStatus.EXISTS and row.action is ExistingAction.LEAVE:
                    touched.update(review.apply_override([key], action=ExistingAction.UPDATE))  # the wish
                review.select([key], bool(value))
                touched.add(key)
            elif column == "action":
                touched.update(review.apply_override([key], action=_clean(value)))
            elif column == "update":
                chosen = [str(v) for v in value or [] if str(v) in UPDATE_CHOICES]
                touched.update(review.apply_override([key], update=",".join(chosen) or None))
            elif column == "kind":
                kind = _clean(value)
                touched.update(
                    review.apply_kind([key], Kind(kind) if kind in {k.value for k in Kind} else None)
                )
            elif column == "role":
                touched.update(review.apply_role([key], _clean(value)))
            elif column == "rack":
                touched.update(review.apply_rack([key], _clean(value)))
            elif column == "cluster":
                touched.update(review.apply_cluster([key], _clean(value)))
    return sorted(touched), picks


def matching_keys(
    review: Review, *, statuses: Iterable[ViewStatus] = (), text: str = "", kind: Kind | None = None
) -> list[tuple[str, int]]:
    """Rows matching a view filter: any of the statuses (none = all; "exists" is both in sync and differs),
    text in name/hostname/site/type/os."""
    wanted = set(statuses)
    needle = text.strip().casefold()
    out = []
    for row in review:
        if wanted and row.status not in wanted and view_status(row) not in wanted:
            continue
        if kind is not None and row.kind is not kind:
            continue
        if needle:
            hay = " ".join(
                (
                    row.name,
                    row.device.hostname,
                    _name(row.site),
                    row.device.hardware,
                    row.device.os,
                    row.device.location,
                )
            ).casefold()
            if needle not in hay:
                continue
        out.append(row.key)
    return out


@dataclass(frozen=True)
class GridPage:
    """The rows the grid draws now: one page of those a view filter shows."""

    keys: list[tuple[str, int]]
    number: int  # from 0
    pages: int
    size: int  # rows per page
    total: int  # rows shown by the filter, on every page

    def label(self, number: int | None = None) -> str:
        """ "Rows 2,001–4,000 of 20,000" for this page, or for page `number` of the same view."""
        first = (self.number if number is None else number) * self.size
        return f"Rows {first + 1:,}–{min(first + self.size, self.total):,} of {self.total:,}"


def page_of(keys: Sequence[tuple[str, int]], number: int, size: int | None = None) -> GridPage:
    """Page `number` (kept within the pages there are: a filter that shows fewer rows than before lands on
    its last page) of `size` rows (defaults.GRID_PAGE_ROWS). After one edit a grid of 20,000 rows reruns in
    1.2 s, a page of 5,000 of them in 0.5 s (bench/ui_grid.py). Bulk edits still apply to every
    row shown, on every page."""
    size = size or defaults.GRID_PAGE_ROWS
    pages = max(1, math.ceil(len(keys) / size))
    number = min(max(number, 0), pages - 1)
    start = number * size
    return GridPage(list(keys[start : start + size]), number, pages, size, len(keys))


def summary_frames(review: Review) -> dict[str, pd.DataFrame]:
    """Counts for the summary charts (the statuses have their own figures): the top sites and OSes."""
    rows = list(review)
    sites = Counter(_name(r.site) or "(no site)" for r in rows)
    oses = Counter(r.device.os or "(none)" for r in rows)
    return {
        "site": pd.DataFrame(sites.most_common(10), columns=["site", "devices"]),
        "os": pd.DataFrame(oses.most_common(10), columns=["os", "devices"]),
    }


def inventory_summary(counts: dict[str, int]) -> str:
    """What stack detection read, in words: "Stack detection: 12 inventories read from LibreNMS, 40 reused
    (not rediscovered since), 300 devices skipped (cannot be stacks)"."""
    return (
        f"Stack detection: {counts.get('read', 0)} inventories read from LibreNMS, "
        f"{counts.get('reused', 0)} reused (not rediscovered since), "
        f"{counts.get('skipped', 0)} devices skipped (cannot be stacks)."
    )
