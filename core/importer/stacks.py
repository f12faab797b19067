"""Stacks: a virtual chassis with every member as a device; members already in NetBox (by serial) are
attached, not duplicated.

A stack is whole or not there: when its members cannot be created (or attached), what was made for it —
the chassis, the members created, the attachments — is undone, whatever the failure (a refusal, a 5xx, a
timeout); the row then fails saying why, and names what could not be undone, if anything. A chassis or
members POST whose answer was lost is looked up before it is sent again (core.netbox.bulk), so neither is
ever created twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from core import defaults, netbox
from core.choices import Kind, Outcome
from core.errors import ImporterError, NetBoxAuthError, NetBoxError
from core.importer.context import RunContext
from core.importer.payloads import chassis_name, member_name
from core.importer.payloads import payload as payload_of
from core.importer.results import RowResult
from core.librenms import RowKey
from core.netbox.bulk import Finder, endpoint_of, finder
from core.netbox.gateway import failure
from core.review import Row


def devices_by_serial(ctx: RunContext, serials: list[str]) -> dict[str, Any]:
    """NetBox devices with these serials (case-insensitive key), in one request per chunk of serials, so
    stack members already in NetBox are linked, not duplicated. Raises NetBoxError."""
    found: dict[str, Any] = {}
    for start in range(0, len(serials), defaults.TARGETED_FILTER_CHUNK):
        chunk = serials[start : start + defaults.TARGETED_FILTER_CHUNK]
        for device in netbox.call(
            ctx.api, "look up stack members", lambda c=chunk: list(ctx.api.dcim.devices.filter(serial=c))
        ):
            found[(device.serial or "").casefold()] = device
    return found


def existing_members(ctx: RunContext, stacks: list[Row]) -> tuple[dict[str, Any], dict[RowKey, str]]:
    """The NetBox devices with the serials of these stacks' members: one lookup for the whole batch; when
    it fails, one per stack, so a lookup that keeps failing costs only its own stack. Returns (the devices
    by serial, why the lookup failed by row key). Raises NetBoxAuthError only."""

    def serials(rows: list[Row]) -> list[str]:
        return [m.serial for row in rows if row.stack for m in row.stack.members if m.serial]

    try:
        return devices_by_serial(ctx, serials(stacks)), {}
    except NetBoxAuthError:
        raise
    except NetBoxError as exc:
        if len(stacks) <= 1:
            return {}, {row.key: str(exc) for row in stacks}
    found: dict[str, Any] = {}
    failed: dict[RowKey, str] = {}
    for row in stacks:
        try:
            found.update(devices_by_serial(ctx, serials([row])))
        except NetBoxAuthError:
            raise
        except NetBoxError as exc:
            failed[row.key] = str(exc)
    return found, failed


def leftover_chassis(ctx: RunContext, stacks: list[Row]) -> dict[str, Any]:
    """Empty chassis an earlier run of these stacks made and was stopped before it made their members (a
    killed worker): by name, to be used instead of a second one. One request for the batch. Raises
    NetBoxError (without the answer a second chassis could be made)."""
    find = _empty_chassis(ctx.api)
    items = [_chassis_payload(ctx, row) for row in stacks]
    found = netbox.call(ctx.api, "look for chassis an interrupted import left", lambda: find(items))
    return {items[i]["name"]: vc for i, vc in found.items()}


def _chassis_payload(ctx: RunContext, row: Row) -> dict[str, Any]:
    return {
        "name": chassis_name(row),
        "tags": [ctx.tag_id],
        "comments": f"Stack from LibreNMS device {row.device.device_id}",
    }


def create_stacks(
    ctx: RunContext, rows: list[Row], existing: dict[str, Any], leftover: dict[str, Any] | None = None
) -> list[tuple[Row, RowResult]]:
    """The batch's stacks, each step one bulk request for all of them: the virtual chassis, the members
    NetBox has already (by serial, looked up for the whole batch in `existing`) attached, the new members,
    the masters. An empty chassis an interrupted run left (`leftover`, by name) is used instead of a new
    one. A stack whose step fails has nothing kept: its row is finished as failed, saying why; the others go
    on. Returns the stacks made with their (not yet finished) result lines. A 403 that refuses a whole kind
    of object is raised, after every stack not finished is undone."""
    stacks = [_Stack(ctx, row) for row in rows]
    live = list(stacks)
    try:
        live = _chassis(ctx, live, leftover or {})
        for stack in live:
            stack.plan(existing)
        live = _attach(ctx, live)
        live = _members(ctx, live)
        _masters(ctx, live)
    except NetBoxAuthError:
        for stack in live:
            stack.undo()
        raise
    return [(stack.row, stack.result()) for stack in live]


def _failing(ctx: RunContext, stacks: list[_Stack], action: str, exc: Exception) -> list[_Stack]:
    """A step of these stacks failed as a whole (a 5xx, a timeout, a dropped connection): each fails."""
    if isinstance(exc, NetBoxAuthError):
        raise exc
    why = str(exc) if isinstance(exc, ImporterError) else str(failure(ctx.api, action, exc))
    for stack in stacks:
        stack.fail(why)
    return []


def _chassis(ctx: RunContext, stacks: list[_Stack], leftover: dict[str, Any]) -> list[_Stack]:
    """A virtual chassis for each stack (one bulk POST), or the empty one an interrupted run left."""
    api = ctx.api
    for stack in stacks:
        if stack.name in leftover:
            stack.vc_id = leftover[stack.name].id
            stack.notes.append(
                f"used the empty virtual chassis '{stack.name}' an interrupted import had left"
            )
    todo = [stack for stack in stacks if stack.vc_id is None]
    try:
        made, errors = netbox.bulk_create(
            api,
            api.dcim.virtual_chassis,
            [_chassis_payload(ctx, stack.row) for stack in todo],
            "virtual chassis",
            find=_empty_chassis(api),
        )
    except Exception as exc:
        _failing(ctx, todo, "create the virtual chassis", exc)
        return [stack for stack in stacks if stack.vc_id is not None]
    for i, error in errors.items():
        todo[i].fail(f"virtual chassis '{todo[i].name}': {error}")
    for i, record in made.items():
        todo[i].vc_id = record.id
    return [stack for stack in stacks if stack.vc_id is not None and not stack.failed]


def _attach(ctx: RunContext, stacks: list[_Stack]) -> list[_Stack]:
    """The members NetBox has already, moved into their stacks' chassis (one bulk PATCH)."""
    api = ctx.api
    owner = {link["id"]: stack for stack in stacks for link in stack.links}
    if not owner:
        return stacks
    try:
        refused = netbox.bulk_update(
            api,
            api.dcim.devices,
            [link for stack in stacks for link in stack.links],
            "attach the existing members to the stack",
        )
    except Exception as exc:
        return [s for s in stacks if not s.links] + _failing(
            ctx, [s for s in stacks if s.links], "attach the existing members to the stack", exc
        )
    for device_id, text in refused.items():
        stack = owner[device_id]
        if not stack.failed:
            stack.fail(f"an existing member could not be attached to the stack: {text}")
    return [stack for stack in stacks if not stack.failed]


def _members(ctx: RunContext, stacks: list[_Stack]) -> list[_Stack]:
    """Every new member device of these stacks, in one bulk POST; a stack with a member NetBox refuses
    fails whole."""
    api = ctx.api
    whose = [(stack, j) for stack in stacks for j in range(len(stack.new_members))]
    records, errors = netbox.bulk_create(
        api,
        api.dcim.devices,
        [stack.new_members[j][1] for stack, j in whose],
        "stack members",
        find=finder(
            api.dcim.devices,
            {"name": "name", "site_id": "site"},
            ("name", "site", "serial", "virtual_chassis", "vc_position"),
        ),
    )
    for i, record in records.items():
        stack, j = whose[i]
        stack.made.add(record.id)
        if stack.new_members[j][0]:
            stack.master_id = record.id
    refused: dict[_Stack, dict[int, str]] = {}
    for i, text in errors.items():
        stack, j = whose[i]
        refused.setdefault(stack, {})[j] = text
    for stack, texts in refused.items():
        stack.fail(_members_failed(stack.new_members, texts))
    return [stack for stack in stacks if not stack.failed]


def _masters(ctx: RunContext, stacks: list[_Stack]) -> None:
    """Each stack's master (one bulk PATCH). A master NetBox does not set leaves its stack whole and
    partial: a repair sets it."""
    todo = [stack for stack in stacks if stack.master_id is not None]
    if not todo:
        return
    api = ctx.api
    try:
        refused = netbox.bulk_update(
            api,
            api.dcim.virtual_chassis,
            [{"id": stack.vc_id, "master": stack.master_id} for stack in todo],
            "set the stack's master",
        )
    except NetBoxAuthError:
        raise
    except NetBoxError as exc:
        refused = {stack.vc_id: str(exc) for stack in todo}
    for stack in todo:
        if stack.vc_id in refused:
            stack.notes.append(f"master not set: {refused[stack.vc_id]}")
            stack.partial = True


@dataclass(eq=False)
class _Stack:
    """One stack's creation, step by step, and what it made so far (to undo it)."""

    ctx: RunContext
    row: Row
    vc_id: int | None = None
    made: set[int] = field(default_factory=set)  # ids of the member devices created
    new: set[tuple[str, str]] = field(default_factory=set)  # (name, serial) of the members to create
    linked: list[tuple[int, int | None, int | None]] = field(default_factory=list)  # (id, old VC, old pos)
    links: list[dict[str, Any]] = field(default_factory=list)  # PATCHes attaching existing members
    new_members: list[tuple[bool, dict[str, Any]]] = field(default_factory=list)  # (is master, payload)
    master_id: int | None = None
    notes: list[str] = field(default_factory=list)
    partial: bool = False
    failed: bool = False

    @property
    def name(self) -> str:
        return chassis_name(self.row)

    def plan(self, existing: dict[str, Any]) -> None:
        """What the stack's members need, its chassis made: attaching those NetBox has, creating the others."""
        ctx, row = self.ctx, self.row
        stack = row.stack
        assert stack is not None and self.vc_id is not None
        for member, mtype in zip(stack.members, row.member_types, strict=True):
            is_master = member is stack.master
            found = existing.get(member.serial.casefold()) if member.serial else None
            if found is not None:
                old_vc = getattr(found, "virtual_chassis", None)
                self.linked.append(
                    (found.id, getattr(old_vc, "id", old_vc), getattr(found, "vc_position", None))
                )
                self.links.append(
                    {"id": found.id, "virtual_chassis": self.vc_id, "vc_position": member.position}
                )
                self.notes.append(f"member {member.position} linked to existing device '{found.name}'")
                if is_master:
                    self.master_id = found.id
                continue
            payload = payload_of(row, field_type=ctx.review.index.field_type, tag_id=ctx.tag_id)
            payload.update(
                name=member_name(row, member),
                serial=member.serial[: defaults.SERIAL_MAX_LENGTH],
                virtual_chassis=self.vc_id,
                vc_position=member.position,
            )
            if mtype is not None:
                payload["device_type"] = mtype.id
            if not payload["serial"]:
                payload.pop("serial")
            if not is_master:
                payload.pop("custom_fields", None)  # the LibreNMS id belongs to the stack's master only
            self.new.add((payload["name"], payload.get("serial", "")))
            self.new_members.append((is_master, payload))

    def fail(self, why: str) -> None:
        """Nothing of the stack is kept; its row fails saying why (and what could not be undone)."""
        self.failed = True
        self.ctx.finish(RowResult.of(self.row, Outcome.FAILED, f"stack not created: {why}{self.undo()}"))

    def result(self) -> RowResult:
        """The line of the stack made."""
        ctx, row = self.ctx, self.row
        assert row.stack is not None
        notes = [f"virtual chassis '{self.name}' with {len(row.stack.members)} members", *self.notes]
        return RowResult.of(
            row,
            Outcome.PARTIAL if self.partial else Outcome.CREATED,
            kind="stack",
            message="created stack",
            netbox_id=self.master_id,
            url=ctx.review.index.url(Kind.DEVICE, self.master_id) if self.master_id else "",
            extra=notes,
        )

    def undo(self) -> str:
        """Remove what was made for the stack: its new members, its chassis, and put the devices it
        attached back where they were. Returns "" when nothing is left, else a sentence naming what is."""
        if self.vc_id is None:
            return ""
        api, vc_id = self.ctx.api, self.vc_id
        linked = {device_id for device_id, _, _ in self.linked}
        try:
            inside = netbox.call(
                api,
                "look up the stack's members",
                lambda: list(api.dcim.devices.filter(virtual_chassis_id=vc_id)),
            )
            mine = [
                d.id
                for d in inside
                if d.id not in linked and (d.id in self.made or (d.name, d.serial or "") in self.new)
            ]
            _delete(self.ctx, api.dcim.devices, mine, "delete the stack's new members")
            if self.linked:
                back = [{"id": i, "virtual_chassis": vc, "vc_position": pos} for i, vc, pos in self.linked]
                netbox.call(api, "detach the existing members again", lambda: api.dcim.devices.update(back))
            others = [d for d in inside if d.id not in linked and d.id not in mine]
            if others:
                listed = ", ".join(f"'{d.name}'" for d in others)
                return f"; its virtual chassis '{self.name}' was kept: it also holds {listed}"
            _delete(self.ctx, api.dcim.virtual_chassis, [vc_id], "delete the stack's virtual chassis")
        except NetBoxError as exc:
            return (
                f"; what was made of it could not be removed ({exc}): delete the virtual chassis '{self.name}' "
                f"(id {vc_id}) and its new members in NetBox"
            )
        self.vc_id = None
        return ""


def _empty_chassis(api: Any) -> Finder:
    """A chassis this stack's lost POST made: its name and comments, and no member yet."""
    find = finder(api.dcim.virtual_chassis, {"name": "name"}, ("name", "comments"))

    def empty(items: list[dict]) -> dict[int, Any]:
        return {i: vc for i, vc in find(items).items() if not getattr(vc, "member_count", 0)}

    empty.endpoint_path = endpoint_of(find)  # type: ignore[attr-defined]
    return empty


def _members_failed(new_members: list[tuple[bool, dict[str, Any]]], errors: dict[int, str]) -> str:
    texts = set(errors.values())
    if len(texts) == 1 and len(errors) == len(new_members):
        return f"its {len(new_members)} member devices could not be created: {texts.pop()}"
    return "; ".join(
        f"member {new_members[i][1]['vc_position']} '{new_members[i][1]['name']}' could not be created: {text}"
        for i, text in sorted(errors.items())
    )


def _delete(ctx: RunContext, endpoint: Any, ids: list[int], action: str) -> None:
    """Delete these objects. A DELETE is repeated on transient failures (core.netbox.retry); when a repeat
    finds them gone (404: the lost try did it), that is success."""
    if not ids:
        return
    try:
        netbox.call(ctx.api, action, lambda: endpoint.delete(ids))
    except NetBoxAuthError:
        raise
    except NetBoxError:
        left = netbox.call(ctx.api, action, lambda: [o.id for o in endpoint.filter(id=ids)])
        if left:
            raise
