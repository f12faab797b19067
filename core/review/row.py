"""A review row: one LibreNMS device, validated against NetBox: what would be created, or why not; and the
analyst's choices for it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from core.choices import Kind, RowStatus, Severity, Source
from core.librenms import LibreDevice, RowKey, Stack
from core.netbox import ExistingMatch


@dataclass(frozen=True, slots=True)
class Ref:
    """A NetBox object a row points at, and how it was found."""

    id: int
    name: str
    slug: str = ""
    source: Source = Source.EXACT
    site_id: int | None = None  # racks and clusters: the site they belong to


@dataclass(frozen=True, slots=True)
class Issue:
    field: str
    severity: Severity
    message: str
    value: str = ""
    fix: str = ""

    def __str__(self) -> str:
        text = f"{self.field}: {self.message}"
        if self.fix:
            text += f" — {self.fix}"
        return text


@dataclass(frozen=True, slots=True)
class Overrides:
    """What the user chose for a row. None means 'not chosen': validation decides."""

    kind: Kind | None = None
    name: str | None = None
    site: str | None = None
    device_type: str | None = None
    platform: str | None = None
    role: str | None = None
    rack: str | None = None
    cluster: str | None = None

    def with_(self, **changes: Any) -> Overrides:
        """A copy with these fields changed; an empty value clears the choice."""
        if changes.get("kind"):
            changes["kind"] = Kind(changes["kind"])
        return replace(self, **{name: value or None for name, value in changes.items()})

    def as_dict(self) -> dict[str, str]:
        """The choices made, as text (what jobs, stored searches and CSV carry)."""
        return {name: str(value) for name, value in asdict(self).items() if value is not None}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Overrides:
        """The inverse of `as_dict`; unknown names are refused (ValueError), empty values ignored."""
        unknown = set(data) - set(cls.__dataclass_fields__)
        if unknown:
            raise ValueError(f"unknown choices: {', '.join(sorted(unknown))}")
        return cls().with_(**{name: str(value) for name, value in data.items() if value not in (None, "")})


@dataclass(frozen=True, slots=True)
class Choice:
    """The analyst's choices for one row: the overrides and whether it is ticked for import."""

    overrides: Overrides = field(default_factory=Overrides)
    selected: bool = True


@dataclass(frozen=True, slots=True)
class Row:
    """One LibreNMS device, validated against NetBox: what would be created, or why not."""

    device: LibreDevice
    name: str
    kind: Kind
    kind_reason: str
    status: RowStatus
    issues: tuple[Issue, ...] = ()
    site: Ref | None = None
    location: Ref | None = None  # a NetBox location of the site, when the LibreNMS location names one
    device_type: Ref | None = None
    platform: Ref | None = None
    role: Ref | None = None
    rack: Ref | None = None
    cluster: Ref | None = None
    existing: ExistingMatch | None = None
    stack: Stack | None = None
    member_types: tuple[Ref | None, ...] = ()  # device type of each stack member, in member order
    overrides: Overrides = field(default_factory=Overrides)
    selected: bool = True  # the analyst's choice; only ready rows are imported

    @property
    def key(self) -> RowKey:
        return self.device.key

    @property
    def choice(self) -> Choice:
        return Choice(self.overrides, self.selected)

    @property
    def blocking(self) -> tuple[Issue, ...]:
        return tuple(i for i in self.issues if i.severity is Severity.BLOCKING)

    @property
    def will_import(self) -> bool:
        return self.selected and self.status is RowStatus.READY

    def issues_text(self) -> str:
        """Every issue in words, what blocks the row first."""
        ordered = sorted(self.issues, key=lambda i: i.severity is not Severity.BLOCKING)
        return "; ".join(str(i) for i in ordered)
