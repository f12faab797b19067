"""Undo of a run: what it created is deleted and what it changed is put back, from NetBox's own changelog
(core.runs.changelog: every change names its run, also those whose answer was lost).

Objects go in groups: a device or VM with its interfaces and IPs, a stack with its chassis and members. A
group one of whose objects was changed in NetBox after the run (by anyone but this run, its resumes and
its undos) is left whole, and the undo lists it with who changed what, and when; so an undo never leaves a
device without its interface or a stack without a member. The product's tag and custom field are shared by
every run and stay.

Order (what refers to something goes first): primary IPs unset → changed objects put back (a reused IP
returns to where it was) → IPs → interfaces → chassis masters unset → stack members → chassis → devices
and VMs. An undo is itself a run: its changes carry a message naming it and the run it undoes, so undoing
again after an interruption does only what is left.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import pynetbox

from core import defaults, netbox
from core.errors import NetBoxError
from core.runs.changelog import Change, changes_since, names_run, run_changes, signed, user_of
from core.runs.objects import DELETE_ORDER, LABELS, SHARED, endpoint, object_url
from core.runs.recorder import Recorder, Sink, recording
from core.settings import Settings

log = logging.getLogger(__name__)

Key = tuple[str, int]  # (object type, id)
_IGNORED_FIELDS = frozenset({"last_updated", "created", "id", "custom_field_data", "_name", "_path"})


@dataclass(slots=True)
class UndoLine:
    """What the undo did with one object: deleted, restored, kept (and why) or failed (and why)."""

    type: str
    object_id: int
    name: str
    outcome: str  # "deleted", "restored", "kept", "failed"
    message: str = ""
    url: str = ""

    def as_dict(self) -> dict[str, Any]:
        """As a job's result line (the same keys as an import's RowResult)."""
        out = asdict(self)
        return {
            "server_key": "",
            "librenms_id": 0,
            "name": out["name"],
            "outcome": out["outcome"],
            "kind": LABELS.get(self.type, self.type),
            "message": out["message"],
            "netbox_id": self.object_id,
            "url": out["url"],
            "extra": [],
        }


@dataclass(slots=True)
class UndoReport:
    run_id: str  # this undo's own run id
    undone: str  # the run it undoes
    lines: list[UndoLine] = field(default_factory=list)
    error: str = ""
    by: str = ""  # the NetBox user its changes are under

    def counts(self) -> dict[str, int]:
        counts = {"deleted": 0, "restored": 0, "kept": 0, "failed": 0}
        for line in self.lines:
            counts[line.outcome] = counts.get(line.outcome, 0) + 1
        return counts


@dataclass(slots=True)
class _Object:
    key: Key
    name: str
    created: bool  # else changed
    before: dict[str, Any]  # its data before the run's first change of it
    after: dict[str, Any]  # after the run's last change
    last_change: Change


def undo_run(
    settings: Settings,
    run_id: str,
    *,
    undo_id: str = "",
    nb_api: pynetbox.api | None = None,
    record: Sink | None = None,
    progress: Callable[[list[dict[str, Any]]], None] | None = None,
) -> UndoReport:
    """Undo the run `run_id`. Raises NetBoxError (an ImporterError) when NetBox's changelog cannot be read;
    a failing step costs only its objects (their lines say why). `record` receives what the undo deletes
    and changes as NetBox confirms it, like an import's record."""
    api = nb_api or netbox.connect(settings)
    report = UndoReport(undo_id or uuid.uuid4().hex, run_id)
    session = api.http_session
    previous = getattr(session, "changelog_message", "")
    session.changelog_message = signed(
        defaults.UNDO_MESSAGE.format(undone=run_id, run_id=report.run_id), settings.analyst
    )
    recorder = Recorder(record)
    try:
        with recording(api, recorder):
            _undo(api, report, progress or (lambda _lines: None))
    finally:
        session.changelog_message = previous
    first = next((o for o in recorder.objects if o.request_id), None)
    report.by = user_of(api, first.request_id) if first else ""
    return report


def _undo(api: pynetbox.api, report: UndoReport, progress: Callable[[list[dict[str, Any]]], None]) -> None:
    changes = run_changes(api, report.undone)
    if not changes:
        report.error = f"NetBox's changelog has no change made by run {report.undone}: nothing to undo."
        return
    objects = _net_effect(changes)
    if not objects:
        report.error = "Everything this run made has been undone already."
        return
    later = [
        c for c in changes_since(api, objects, changes[0].time) if not names_run(c.message, report.undone)
    ]
    kept = _kept_groups(objects, later)
    base = netbox.base_url(api)
    for key, why in kept.items():
        obj = objects[key]
        report.lines.append(UndoLine(*key, obj.name, "kept", why, _url(base, key)))
    todo = {key: obj for key, obj in objects.items() if key not in kept}
    progress([line.as_dict() for line in report.lines])
    step = _Steps(api, report, todo, base)
    for run_step in (
        step.unset_primary_ips,
        step.restore,
        step.delete_addresses_and_interfaces,
        step.unset_masters,
        step.delete_devices_and_chassis,
    ):
        before = len(report.lines)
        run_step()
        progress([line.as_dict() for line in report.lines[before:]])
    if not report.lines:
        report.error = "Everything this run made has been undone already."


def _net_effect(changes: list[Change]) -> dict[Key, _Object]:
    """Per object the run touched: created or changed, its data before and after; objects it created and
    deleted again (a stack it rolled back, an earlier undo) and shared ones are left out."""
    first: dict[Key, Change] = {}
    last: dict[Key, Change] = {}
    for change in changes:
        key = (change.type, change.object_id)
        first.setdefault(key, change)
        last[key] = change
    out = {}
    for key, change in first.items():
        if key[0] in SHARED or key[0] not in LABELS or last[key].action == "delete":
            continue
        out[key] = _Object(
            key, change.name, change.action == "create", change.before, last[key].after, last[key]
        )
    return out


def _links(obj: _Object) -> list[Key]:
    """The objects this one hangs on (its device, its interface, its chassis), from its data."""
    data = obj.after
    out: list[Key] = []
    if data.get("device"):
        out.append(("dcim.device", int(data["device"])))
    if data.get("virtual_machine"):
        out.append(("virtualization.virtualmachine", int(data["virtual_machine"])))
    if data.get("virtual_chassis"):
        out.append(("dcim.virtualchassis", int(data["virtual_chassis"])))
    if data.get("assigned_object_id") and obj.key[0] == "ipam.ipaddress":
        for kind in ("dcim.interface", "virtualization.vminterface"):
            out.append((kind, int(data["assigned_object_id"])))
    return out


def _kept_groups(objects: dict[Key, _Object], later: list[Change]) -> dict[Key, str]:
    """The objects left alone, with why: each changed since the run, and everything in its group."""
    parent = {key: key for key in objects}

    def root(key: Key) -> Key:
        while parent[key] != key:
            parent[key] = parent[parent[key]]
            key = parent[key]
        return key

    for key, obj in objects.items():
        for other in _links(obj):
            if other in objects:
                parent[root(key)] = root(other)
    touched: dict[Key, Change] = {}
    for change in later:
        key = (change.type, change.object_id)
        if key in objects and change.time >= objects[key].last_change.time:
            touched.setdefault(key, change)
    why_root: dict[Key, str] = {}
    for key, change in touched.items():
        who = change.user or "someone"
        what = "deleted" if change.action == "delete" else "changed"
        why_root.setdefault(
            root(key),
            f"{LABELS[key[0]]} '{objects[key].name}' was {what} in NetBox after the run, by {who} at "
            f"{change.time:%Y-%m-%d %H:%M} UTC" + (f" ({change.message})" if change.message else ""),
        )
    kept = {}
    for key in objects:
        reason = why_root.get(root(key))
        if reason:
            kept[key] = "left as it is: " + reason
    return kept


def _url(base: str, key: Key) -> str:
    return object_url(base, *key)


@dataclass
class _Steps:
    api: pynetbox.api
    report: UndoReport
    todo: dict[Key, _Object]
    base: str
    failed: set[Key] = field(default_factory=set)
    types: dict[int, str] = field(default_factory=dict)  # content type id → 'app.model'

    def _of(self, kind: str, created: bool) -> list[_Object]:
        return [o for o in self.todo.values() if o.key[0] == kind and o.created is created]

    def _line(self, obj: _Object, outcome: str, message: str) -> None:
        url = "" if outcome == "deleted" else _url(self.base, obj.key)  # no link to what is gone
        self.report.lines.append(UndoLine(obj.key[0], obj.key[1], obj.name, outcome, message, url))

    def _fail(self, objs: list[_Object], exc: Exception) -> None:
        for obj in objs:
            self.failed.add(obj.key)
            self._line(obj, "failed", f"not undone: {exc}")

    def _existing(self, kind: str, ids: list[int]) -> set[int]:
        found: set[int] = set()
        for start in range(0, len(ids), defaults.TARGETED_FILTER_CHUNK):
            chunk = ids[start : start + defaults.TARGETED_FILTER_CHUNK]
            ep = endpoint(self.api, kind)
            found |= {
                o.id
                for o in netbox.call(
                    self.api, "look up objects", lambda e=ep, c=chunk: list(e.filter(id=c, fields="id"))
                )
            }
        return found

    def unset_primary_ips(self) -> None:
        for kind in ("dcim.device", "virtualization.virtualmachine"):
            objs = [
                o for o in self._of(kind, True) if o.after.get("primary_ip4") or o.after.get("primary_ip6")
            ]
            if not objs:
                continue
            patch = [{"id": o.key[1], "primary_ip4": None, "primary_ip6": None} for o in objs]
            try:
                netbox.call(
                    self.api, "unset primary IPs", lambda k=kind, p=patch: endpoint(self.api, k).update(p)
                )
            except NetBoxError as exc:
                self._fail(objs, exc)

    def restore(self) -> None:
        """What the run changed on objects it did not create goes back to what it was: one bulk PATCH per
        object type, each item with its own fields."""
        for kind in LABELS:
            try:
                todo = [
                    (o, self._before_values(o)) for o in self._of(kind, False) if o.key not in self.failed
                ]
            except NetBoxError as exc:
                self._fail([o for o in self._of(kind, False) if o.key not in self.failed], exc)
                continue
            todo = [(obj, fields) for obj, fields in todo if fields]
            if not todo:
                continue
            patch = [{"id": obj.key[1], **fields} for obj, fields in todo]
            try:
                netbox.call(
                    self.api,
                    f"put {LABELS[kind]}s back",
                    lambda k=kind, p=patch: endpoint(self.api, k).update(p),
                )
            except NetBoxError as exc:
                self._fail([obj for obj, _ in todo], exc)
                continue
            for obj, fields in todo:
                self._line(obj, "restored", "put back: " + ", ".join(sorted(fields)))

    def _before_values(self, obj: _Object) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, value in obj.before.items():
            if name in _IGNORED_FIELDS or obj.after.get(name) == value:
                continue
            if name == "custom_fields" and isinstance(value, dict):
                after = obj.after.get(name) or {}
                changed = {k: v for k, v in value.items() if after.get(k) != v}
                if changed:
                    out[name] = changed
                continue
            if name.endswith("_type") and isinstance(value, int):
                value = self._object_type(value)
            out[name] = value
        return out

    def _object_type(self, type_id: int) -> str:
        """'app.model' of a content type id (as changelog data holds them), looked up once per id."""
        if type_id not in self.types:
            found = netbox.call(
                self.api, "look up an object type", lambda: self.api.core.object_types.get(type_id)
            )
            self.types[type_id] = f"{found.app_label}.{found.model}"
        return self.types[type_id]

    def _delete(self, kind: str, objs: list[_Object]) -> None:
        objs = [o for o in objs if o.key not in self.failed]
        if not objs:
            return
        try:
            there = self._existing(kind, [o.key[1] for o in objs])
            gone = [o for o in objs if o.key[1] not in there]
            objs = [o for o in objs if o.key[1] in there]
            if objs:
                netbox.call(
                    self.api,
                    f"delete {LABELS[kind]}s",
                    lambda: endpoint(self.api, kind).delete([o.key[1] for o in objs]),
                )
        except NetBoxError as exc:
            self._fail(objs, exc)
            return
        for obj in objs:
            self._line(obj, "deleted", f"deleted {LABELS[kind]}")
        for obj in gone:
            self._line(obj, "deleted", f"already gone from NetBox ({LABELS[kind]})")

    def delete_addresses_and_interfaces(self) -> None:
        for kind in ("ipam.ipaddress", "dcim.interface", "virtualization.vminterface"):
            self._delete(kind, self._of(kind, True))

    def unset_masters(self) -> None:
        objs = [o for o in self._of("dcim.virtualchassis", True) if o.after.get("master")]
        if not objs:
            return
        try:
            netbox.call(
                self.api,
                "unset stack masters",
                lambda: self.api.dcim.virtual_chassis.update(
                    [{"id": o.key[1], "master": None} for o in objs]
                ),
            )
        except NetBoxError as exc:
            self._fail(objs, exc)

    def delete_devices_and_chassis(self) -> None:
        devices = self._of("dcim.device", True)
        members = [d for d in devices if d.after.get("virtual_chassis")]
        self._delete("dcim.device", members)
        for kind in DELETE_ORDER[DELETE_ORDER.index("dcim.virtualchassis") :]:
            self._delete(kind, self._of(kind, True))
        self._delete("dcim.device", [d for d in devices if not d.after.get("virtual_chassis")])
