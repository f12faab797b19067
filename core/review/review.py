"""A review: the rows of one search, keyed by (server key, device id), with the analyst's edits
re-validated in memory. Built by `core.review.builder.build_review`, the one way a review is made.

Cross-row conflicts: two rows claiming one NetBox object, or the same name in the same scope (claims.py).
A row's own validation is kept; an edit re-validates that row, then re-applies conflicts to the rows that
share a claim with it (before or after the edit).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import replace

from core.choices import Kind, RowStatus, Severity
from core.librenms import LibreDevice, RowKey, Stack
from core.mapping import Mappings
from core.netbox import NetBoxIndex
from core.review.claims import Claim, claims_of
from core.review.names import Options
from core.review.row import Choice, Issue, Overrides, Row
from core.review.validate import validate_device


class Review:
    """The rows of one search and the edits that re-validate them."""

    def __init__(
        self,
        devices: Iterable[LibreDevice],
        index: NetBoxIndex,
        mappings: Mappings,
        options: Options,
        stacks: Mapping[RowKey, Stack],
        choices: Mapping[RowKey, Choice],
        shared_sysnames: frozenset[str],
        stack_errors: Mapping[RowKey, str] | None = None,
    ) -> None:
        self.index, self.mappings, self.options = index, mappings, options
        self.devices = {d.key: d for d in devices}
        self.stacks = dict(stacks)
        # devices whose stack detection failed (inventory unreadable) → why: not known to be one chassis
        self.stack_errors = dict(stack_errors or {})
        self.shared_sysnames = shared_sysnames
        self.base: dict[RowKey, Row] = {}
        self.rows: dict[RowKey, Row] = {}
        self._claims: dict[Claim, set[RowKey]] = {}
        for key in self.devices:
            choice = choices.get(key) or Choice()
            self._set_base(key, self.preview(key, choice.overrides, choice.selected))
        for key in self.devices:
            self._refresh(key)

    def preview(self, key: RowKey, overrides: Overrides, selected: bool = True) -> Row:
        """The row as these choices would make it, on its own (without cross-row conflicts), applying nothing."""
        return validate_device(
            self.devices[key],
            self.index,
            self.mappings,
            self.options,
            overrides,
            self.stacks.get(key),
            selected=selected,
            shared_sysnames=self.shared_sysnames,
            stack_error=self.stack_errors.get(key),
        )

    # -- internals
    def _set_base(self, key: RowKey, row: Row) -> set[RowKey]:
        touched = {key}
        old = self.base.get(key)
        if old is not None:
            for claim in claims_of(old):
                holders = self._claims.get(claim, set())
                holders.discard(key)
                touched |= holders
        self.base[key] = row
        for claim in claims_of(row):
            holders = self._claims.setdefault(claim, set())
            holders.add(key)
            touched |= holders
        return touched

    def _refresh(self, key: RowKey) -> None:
        row = self.base[key]
        others: set[RowKey] = set()
        for claim in claims_of(row):
            others |= self._claims.get(claim, set()) - {key}
        if not others:
            self.rows[key] = row
            return
        names = ", ".join(sorted(self.devices[k].hostname for k in others))
        what = (
            "the same NetBox object"
            if row.existing is not None
            else f"the name '{row.name}' in the same site"
        )
        issue = Issue(
            "existing" if row.existing else "name",
            Severity.BLOCKING,
            f"another row claims {what}: {names}",
            "",
            "deselect one of them or rename it",
        )
        self.rows[key] = replace(row, status=RowStatus.CONFLICT, issues=(issue, *row.issues))

    def _edit(self, keys: Iterable[RowKey], **changes: object) -> list[RowKey]:
        touched: set[RowKey] = set()
        for key in keys:
            if key not in self.devices:
                raise KeyError(f"no row for LibreNMS device {key[1]} on server '{key[0]}'")
            current = self.base[key]
            row = self.preview(key, current.overrides.with_(**changes), current.selected)
            touched |= self._set_base(key, row)
        for key in touched:
            self._refresh(key)
        return sorted(touched)

    # -- public edits: each re-validates the rows it touches and returns their keys
    def apply_role(self, keys: Iterable[RowKey], role: str | None) -> list[RowKey]:
        return self._edit(keys, role=role)

    def apply_rack(self, keys: Iterable[RowKey], rack: str | None) -> list[RowKey]:
        return self._edit(keys, rack=rack)

    def apply_cluster(self, keys: Iterable[RowKey], cluster: str | None) -> list[RowKey]:
        return self._edit(keys, cluster=cluster)

    def apply_kind(self, keys: Iterable[RowKey], kind: Kind | str | None) -> list[RowKey]:
        return self._edit(keys, kind=kind)

    def apply_override(self, keys: Iterable[RowKey], **overrides: object) -> list[RowKey]:
        """Any of name, site, device_type, platform (and the four above); an empty value clears it."""
        return self._edit(keys, **overrides)

    def select(self, keys: Iterable[RowKey], selected: bool = True) -> list[RowKey]:
        """Mark rows for import (or not). Only ready rows are imported, whatever their mark.

        A deselected row gives up its claims, so the rows it was in conflict with are refreshed too.
        """
        touched: set[RowKey] = set()
        for key in keys:
            touched |= self._set_base(key, replace(self.base[key], selected=selected))
        for key in touched:
            self._refresh(key)
        return sorted(touched)

    def drop(self, predicate: Callable[[Row], bool]) -> int:
        """Remove the rows for which predicate(row) is true (e.g. 'exclude existing'); returns how many."""
        gone = [key for key, row in self.rows.items() if predicate(row)]
        touched: set[RowKey] = set()
        for key in gone:
            for claim in claims_of(self.base[key]):
                holders = self._claims.get(claim, set())
                holders.discard(key)
                touched |= holders
            del self.rows[key], self.base[key], self.devices[key]
        for key in touched - set(gone):  # rows dropped together may have shared a claim
            self._refresh(key)
        return len(gone)

    # -- views
    def __iter__(self) -> Iterator[Row]:
        return iter(self.rows.values())

    def __len__(self) -> int:
        return len(self.rows)

    def counts(self) -> dict[RowStatus, int]:
        found = Counter(row.status for row in self.rows.values())
        return {status: found.get(status, 0) for status in RowStatus}

    def importable_rows(self) -> list[Row]:
        return [row for row in self.rows.values() if row.will_import]

    def choices(self) -> dict[RowKey, Choice]:
        """The analyst's choices of every row that has any (what a rebuilt review replays)."""
        return {key: row.choice for key, row in self.base.items() if row.choice != Choice()}
