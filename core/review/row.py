"""A review row: one LibreNMS device, validated against NetBox: what would be created, or why not; and the
analyst's choices for it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from core.choices import ExistingAction, Kind, Owner, RowStatus, Severity, Source, Sync, SyncField
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
    action: ExistingAction | None = None  # rows NetBox already has: link, update or leave (None: leave)
    update: str | None = None  # the fields an update writes, "serial,platform" (None: all LibreNMS owns)

    def with_(self, **changes: Any) -> Overrides:
        """A copy with these fields changed; an empty value clears the choice. ValueError for an action or
        an update field that does not exist."""
        if changes.get("kind"):
            changes["kind"] = Kind(changes["kind"])
        if changes.get("action"):
            changes["action"] = ExistingAction(changes["action"])
        if changes.get("update"):
            changes["update"] = update_text(parse_update(changes["update"]))
        return replace(self, **{name: value or None for name, value in changes.items()})

    @property
    def update_fields(self) -> tuple[SyncField, ...]:
        return parse_update(self.update or "")

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


def parse_update(text: str | Any) -> tuple[SyncField, ...]:
    """ "serial, platform" (or a list of names) → the fields, in SyncField order; ValueError for a name
    that is not a field."""
    names = (
        text if isinstance(text, list | tuple | set | frozenset) else str(text).replace(";", ",").split(",")
    )
    wanted = {
        SyncField(str(name).strip().casefold().replace(" ", "_")) for name in names if str(name).strip()
    }
    return tuple(f for f in SyncField if f in wanted)


def update_text(fields: tuple[SyncField, ...]) -> str:
    return ",".join(f.value for f in fields)


@dataclass(frozen=True, slots=True)
class Difference:
    """One field in which an existing NetBox object differs from what LibreNMS (through the mappings) says,
    both sides as a person reads them, with where each value came from."""

    field: SyncField
    netbox: str  # "—" when NetBox has no value
    librenms: str
    netbox_from: str  # e.g. "device 'core-sw01', field serial"
    librenms_from: str  # e.g. "LibreNMS serial", "LibreNMS os 'iosxe' → mapping table"
    owner: Owner

    @property
    def updatable(self) -> bool:
        """An update may write it: LibreNMS owns the field (a stack's membership is shown, not written)."""
        return self.owner is Owner.LIBRENMS and self.field is not SyncField.STACK

    def __str__(self) -> str:
        return f"{self.field.value}: {self.netbox} → {self.librenms}"


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
    differences: tuple[Difference, ...] = ()  # an existing row: how NetBox differs from LibreNMS
    updates: tuple[SyncField, ...] = ()  # an existing row: what its action (link, update) would write

    @property
    def key(self) -> RowKey:
        return self.device.key

    @property
    def sync(self) -> Sync | None:
        """An existing row: in sync, or differs (something LibreNMS owns differs); None for other rows."""
        if self.status is not RowStatus.EXISTS:
            return None
        return Sync.DIFFERS if self.updatable else Sync.IN_SYNC

    @property
    def updatable(self) -> tuple[Difference, ...]:
        """The differences an update may write (the fields LibreNMS owns)."""
        return tuple(d for d in self.differences if d.updatable)

    @property
    def action(self) -> ExistingAction:
        return self.overrides.action or ExistingAction.LEAVE

    @property
    def will_create(self) -> bool:
        return self.selected and self.status is RowStatus.READY

    @property
    def will_update(self) -> bool:
        """An existing row whose action writes something (link, update) and that is ticked."""
        return self.selected and self.status is RowStatus.EXISTS and bool(self.updates)

    @property
    def choice(self) -> Choice:
        return Choice(self.overrides, self.selected)

    @property
    def blocking(self) -> tuple[Issue, ...]:
        return tuple(i for i in self.issues if i.severity is Severity.BLOCKING)

    @property
    def will_import(self) -> bool:
        """Written to NetBox by an import: created (ready), or updated (existing, with an action)."""
        return self.will_create or self.will_update

    def issues_text(self) -> str:
        """Every issue in words, what blocks the row first."""
        ordered = sorted(self.issues, key=lambda i: i.severity is not Severity.BLOCKING)
        return "; ".join(str(i) for i in ordered)
