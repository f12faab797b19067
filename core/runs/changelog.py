"""A run as NetBox's own changelog tells it: every change a run makes carries a changelog message naming
it (core.defaults.CHANGELOG_MESSAGE), so `/api/core/object-changes/?q=<run id>` lists them all — also the
writes whose answer never reached us, and after Redis lost the run's record. Undo reads it from here."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pynetbox

from core import defaults, netbox
from core.runs.objects import RunObject


@dataclass(frozen=True, slots=True)
class Change:
    """One entry of NetBox's changelog."""

    id: int
    time: datetime
    action: str  # create, update, delete
    type: str  # e.g. dcim.device
    object_id: int
    name: str
    request_id: str
    user: str
    message: str
    before: dict[str, Any] = field(default_factory=dict, compare=False)  # prechange_data
    after: dict[str, Any] = field(default_factory=dict, compare=False)  # postchange_data

    def as_object(self) -> RunObject:
        return RunObject(
            self.type, self.object_id, self.name, self.action, self.request_id, self.time.timestamp()
        )


def _change(record: Any) -> Change:
    action = record.action.value if hasattr(record.action, "value") else str(record.action)
    return Change(
        id=record.id,
        time=datetime.fromisoformat(str(record.time).replace("Z", "+00:00")),
        action=action,
        type=str(record.changed_object_type),
        object_id=int(record.changed_object_id),
        name=str(record.object_repr or ""),
        request_id=str(record.request_id or ""),
        user=str(record.user_name or ""),
        message=str(getattr(record, "message", "") or ""),
        before=dict(record.prechange_data or {}),
        after=dict(record.postchange_data or {}),
    )


def signed(message: str, analyst: str) -> str:
    """A run's changelog message, naming the analyst who started it (when someone signed in)."""
    return message + defaults.BY_ANALYST.format(analyst=analyst) if analyst else message


def names_run(message: str, run_id: str) -> bool:
    """Whether a changelog message is one of this run's (its own, a resume's or an undo's of it)."""
    return bool(run_id) and run_id in message and message.startswith(defaults.CHANGELOG_PREFIXES)


def run_changes(api: pynetbox.api, run_id: str) -> list[Change]:
    """Every change NetBox has from this run, oldest first (one paginated request). Raises NetBoxError."""
    records = netbox.call(
        api,
        "read its changelog",
        lambda: list(api.core.object_changes.filter(q=run_id, limit=defaults.CHANGELOG_PAGE)),
    )
    changes = [_change(r) for r in records]
    return sorted((c for c in changes if names_run(c.message, run_id)), key=lambda c: (c.time, c.id))


def user_of(api: pynetbox.api, request_id: str) -> str:
    """The NetBox user a request's changes are under, as NetBox's changelog names it ("" when it cannot
    be read: only a name on a run's record, the changelog itself still has it)."""
    if not request_id:
        return ""
    try:
        change = next(iter(api.core.object_changes.filter(request_id=request_id, limit=1)), None)
    except Exception:
        return ""
    return str(getattr(change, "user_name", "") or "")


def changes_since(api: pynetbox.api, objects: Iterable[tuple[str, int]], since: datetime) -> list[Change]:
    """The changes NetBox has of these objects (type, id) from `since` on: one request per object type and
    chunk of ids. Raises NetBoxError."""
    by_type: dict[str, list[int]] = {}
    for kind, object_id in objects:
        by_type.setdefault(kind, []).append(object_id)
    found: list[Change] = []
    for kind, ids in by_type.items():
        for start in range(0, len(ids), defaults.TARGETED_FILTER_CHUNK):
            chunk = sorted(ids)[start : start + defaults.TARGETED_FILTER_CHUNK]
            found += [
                _change(r)
                for r in netbox.call(
                    api,
                    "read its changelog",
                    lambda k=kind, c=chunk: list(
                        api.core.object_changes.filter(
                            changed_object_type=k,
                            changed_object_id=c,
                            time_after=since.isoformat(),
                            limit=defaults.CHANGELOG_PAGE,
                        )
                    ),
                )
            ]
    return sorted(found, key=lambda c: (c.time, c.id))


def objects_of(changes: Iterable[Change]) -> list[RunObject]:
    """The run's record rebuilt from its changes: each object once, with its first action (a run that
    created and then removed an object, like a stack it could not finish, shows it deleted)."""
    first: dict[tuple[str, int], Change] = {}
    last: dict[tuple[str, int], Change] = {}
    for change in changes:
        first.setdefault((change.type, change.object_id), change)
        last[(change.type, change.object_id)] = change
    out = []
    for key, change in first.items():
        obj = change.as_object()
        if last[key].action == "delete":
            obj.action = "delete"
        out.append(obj)
    return out
