"""Stacks: a virtual chassis with every member as a device; members already in NetBox (by serial) are
attached, not duplicated."""

from __future__ import annotations

import contextlib
from typing import Any

import pynetbox

from core import defaults, netbox
from core.choices import Kind, Outcome
from core.errors import NetBoxAuthError, NetBoxError
from core.importer.context import RunContext
from core.importer.payloads import payload as payload_of
from core.importer.results import RowResult
from core.review import Row


def devices_by_serial(ctx: RunContext, serials: list[str]) -> dict[str, Any]:
    """NetBox devices with these serials (case-insensitive key), in one request per chunk of serials for
    the whole batch, so stack members already in NetBox are linked, not duplicated."""
    found: dict[str, Any] = {}
    for start in range(0, len(serials), defaults.TARGETED_FILTER_CHUNK):
        chunk = serials[start : start + defaults.TARGETED_FILTER_CHUNK]
        for device in netbox.call(
            ctx.api, "look up stack members", lambda c=chunk: list(ctx.api.dcim.devices.filter(serial=c))
        ):
            found[(device.serial or "").casefold()] = device
    return found


def create_stack(ctx: RunContext, row: Row, existing: dict[str, Any]) -> tuple[Row, RowResult] | None:
    """A virtual chassis with every member as a device; members already in NetBox (by serial, looked up
    for the whole batch in `existing`) are linked."""
    stack = row.stack
    assert stack is not None
    api = ctx.api
    vc = None
    try:
        vc_name = defaults.STACK_NAME_PATTERN.format(name=row.name)
        vc = api.dcim.virtual_chassis.create(
            {
                "name": vc_name,
                "tags": [ctx.tag_id],
                "comments": f"Stack from LibreNMS device {row.device.device_id}",
            }
        )
        master_id = None
        notes = []
        new_members = []
        for member, mtype in zip(stack.members, row.member_types, strict=True):
            is_master = member is stack.master
            found = existing.get(member.serial.casefold()) if member.serial else None
            if found is not None:
                found.update({"virtual_chassis": vc.id, "vc_position": member.position})
                notes.append(f"member {member.position} linked to existing device '{found.name}'")
                if is_master:
                    master_id = found.id
                continue
            payload = payload_of(row, field_type=ctx.review.index.field_type, tag_id=ctx.tag_id)
            payload.update(
                name=row.name
                if is_master
                else defaults.STACK_MEMBER_PATTERN.format(name=row.name, position=member.position),
                device_type=mtype.id if mtype else payload.get("device_type"),
                serial=member.serial[: defaults.SERIAL_MAX_LENGTH],
                virtual_chassis=vc.id,
                vc_position=member.position,
            )
            if not is_master:
                payload.pop("custom_fields", None)  # the LibreNMS id belongs to the stack's master only
            new_members.append((member, is_master, payload))
        records = api.dcim.devices.create([p for _, _, p in new_members]) if new_members else []
        for (_member, is_master, _), record in zip(new_members, records, strict=True):
            if is_master:
                master_id = record.id
        if master_id is not None:
            vc.update({"master": master_id})
        notes.insert(0, f"virtual chassis '{vc_name}' with {len(stack.members)} members")
    except pynetbox.RequestError as exc:
        if exc.req.status_code == 403:
            raise NetBoxAuthError(
                f"NetBox refused to create the stack (403): {netbox.describe_error_body(exc.error)}"
            ) from None
        if vc is not None:
            with contextlib.suppress(Exception):
                vc.delete()  # leave no empty virtual chassis behind (its members were not created: all-or-nothing)
        ctx.finish(RowResult.of(row, Outcome.FAILED, f"stack: {netbox.describe_error_body(exc.error)}"))
        return None
    except NetBoxError as exc:
        ctx.finish(RowResult.of(row, Outcome.FAILED, f"stack: {exc}"))
        return None
    result = RowResult.of(
        row,
        Outcome.CREATED,
        kind="stack",
        message="created stack",
        netbox_id=master_id,
        url=ctx.review.index.url(Kind.DEVICE, master_id) if master_id else "",
        extra=notes,
    )
    return (row, result)
