"""What an import job carries for one row, and its JSON form: the device's identity and the analyst's
choices, and for an update the version of the NetBox object the analyst reviewed; nothing else (never a
token, never a LibreNMS value: the job reads those fresh)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from core.librenms import RowKey
from core.review import Choice, Overrides, Row


@dataclass(frozen=True, slots=True)
class ImportItem:
    server_key: str
    librenms_id: int
    overrides: dict[str, str] = field(default_factory=dict)
    seen: str = ""  # an update: the NetBox object's version (last_updated) the analyst reviewed

    @property
    def key(self) -> RowKey:
        return (self.server_key, self.librenms_id)

    @classmethod
    def from_row(cls, row: Row) -> ImportItem:
        """The row's choices, and always its name: the name a row gets can depend on the other devices of
        the review (a sysName several devices share is no name), so the job creates the name shown."""
        seen = row.existing.version if row.will_update and row.existing is not None else ""
        return cls(
            row.device.server_key, row.device.device_id, {"name": row.name, **row.overrides.as_dict()}, seen
        )

    def choice(self) -> Choice:
        """The row's choices as the review replays them (a row sent to import is ticked)."""
        return Choice(Overrides.from_dict(self.overrides), selected=True)

    def to_data(self) -> dict[str, Any]:
        return {
            "server_key": self.server_key,
            "librenms_id": self.librenms_id,
            "overrides": dict(self.overrides),
            **({"seen": self.seen} if self.seen else {}),
        }

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> ImportItem:
        """The inverse of `to_data`; ValueError for anything that is not an item."""
        overrides = {str(k): str(v) for k, v in (data.get("overrides") or {}).items() if v not in (None, "")}
        Overrides.from_dict(overrides)  # refuses unknown choices now, not in the middle of the import
        return cls(str(data["server_key"]), int(data["librenms_id"]), overrides, str(data.get("seen") or ""))
