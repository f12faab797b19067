"""What an import would do, before it does anything: per row, the objects it creates with their field
values (or why the row is skipped or left out), the counts for the confirmation dialog, and the NetBox
permissions that takes. The run writes what `payloads` gives, so the plan and the run share one rule.

What only NetBox or LibreNMS can tell at write time is said as such: whether NetBox has the IP unassigned
(it is then reused) or a stack member's serial (the device is then attached), and the management port's
name and prefix length (read from LibreNMS when the row is written).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from core import defaults
from core.choices import Kind, PlanAction, RowStatus, SyncField
from core.importer.payloads import chassis_name, member_name, object_fields
from core.librenms import RowKey
from core.review import Ref, Row


@dataclass(frozen=True, slots=True)
class PlannedObject:
    """One NetBox object the import creates for a row (or may reuse, as `note` says)."""

    what: str  # "device", "virtual machine", "virtual chassis", "stack member", "interface", "IP address"
    name: str
    fields: tuple[tuple[str, str], ...] = ()  # (field, value as NetBox shows it)
    note: str = ""


@dataclass(frozen=True, slots=True)
class RowPlan:
    key: RowKey
    name: str
    kind: Kind
    action: PlanAction
    reason: str = ""  # why it is skipped or left out
    objects: tuple[PlannedObject, ...] = ()
    url: str = ""  # the NetBox object a skipped row already is


def plan_rows(rows: Iterable[Row], *, primary_ip: bool = True, ticked_only: bool = True) -> list[RowPlan]:
    """The plan of every ticked row (every row: `ticked_only=False`), in order: what is created, what is
    skipped, what is left out and why."""
    return [_plan(row, primary_ip) for row in rows if row.selected or not ticked_only]


def plan_lines(plans: Iterable[RowPlan]) -> list[dict[str, str]]:
    """The plan as JSON-ready lines, one per object a row creates (a skipped or left-out row: one line
    with why): what a run's record keeps and the Runs page shows."""
    lines = []
    for plan in plans:
        head = {
            "server": plan.key[0],
            "librenms_id": str(plan.key[1]),
            "name": plan.name,
            "action": plan.action.value,
            "reason": plan.reason,
            "url": plan.url,
        }
        if not plan.objects:
            lines.append({**head, "object": "", "object_name": "", "fields": "", "note": ""})
        for obj in plan.objects:
            fields = "; ".join(f"{name}={value}" for name, value in obj.fields)
            lines.append(
                {**head, "object": obj.what, "object_name": obj.name, "fields": fields, "note": obj.note}
            )
    return lines


def _plan(row: Row, primary_ip: bool) -> RowPlan:
    head = {"key": row.key, "name": row.name, "kind": row.kind}
    if row.will_update and row.existing is not None:
        hit = row.existing
        link = row.updates == (SyncField.LIBRENMS_ID,)
        changes = tuple(
            (d.field.value, f"{d.netbox} → {d.librenms}") for d in row.differences if d.field in row.updates
        )
        what = "device" if hit.kind is Kind.DEVICE else "virtual machine"
        note = "refused if it changed in NetBox since the review"
        if SyncField.PRIMARY_IP in row.updates:
            note += "; the address on its management interface, reused when NetBox has it unassigned"
        return RowPlan(
            **head,
            action=PlanAction.LINK if link else PlanAction.UPDATE,
            reason=f"already in NetBox as {hit.kind.value} '{hit.name}' (matched by {hit.by.value})",
            objects=(PlannedObject(what, hit.name, changes, note),),
            url=hit.url,
        )
    if row.status is RowStatus.EXISTS and row.existing is not None:
        hit = row.existing
        why = f"already in NetBox as {hit.kind.value} '{hit.name}' (matched by {hit.by.value})"
        return RowPlan(**head, action=PlanAction.SKIP, reason=why, url=hit.url)
    if row.status is not RowStatus.READY:
        return RowPlan(**head, action=PlanAction.LEAVE_OUT, reason=f"{row.status.value}: {row.issues_text()}")
    objects = _objects(row)
    if primary_ip:
        objects += _addresses(row)
    return RowPlan(**head, action=PlanAction.CREATE, objects=tuple(objects))


def _shown(fields: dict[str, Ref | str | int]) -> tuple[tuple[str, str], ...]:
    return tuple(
        (name, value.name if isinstance(value, Ref) else str(value)) for name, value in fields.items()
    )


def _objects(row: Row) -> list[PlannedObject]:
    fields = object_fields(row)
    fields["librenms_id"] = row.device.device_id
    if row.kind is Kind.VM:
        return [PlannedObject("virtual machine", row.name, _shown(fields))]
    if row.stack is None:
        return [PlannedObject("device", row.name, _shown(fields))]
    objects = [PlannedObject("virtual chassis", chassis_name(row), (("master", row.name),))]
    for member, member_type in zip(row.stack.members, row.member_types, strict=True):
        is_master = member is row.stack.master
        member_fields = {
            **object_fields(row),
            "name": member_name(row, member),
            "serial": member.serial[: defaults.SERIAL_MAX_LENGTH],
            "virtual_chassis": chassis_name(row),
            "vc_position": member.position,
        }
        if member_type is not None:
            member_fields["device_type"] = member_type
        if is_master:  # the LibreNMS id belongs to the stack's master only
            member_fields["librenms_id"] = row.device.device_id
        objects.append(
            PlannedObject(
                "stack member",
                member_name(row, member),
                _shown({name: value for name, value in member_fields.items() if value != ""}),
                "attached instead when NetBox has a device with this serial" if member.serial else "",
            )
        )
    return objects


def _addresses(row: Row) -> list[PlannedObject]:
    if not row.device.ip:
        return []
    owner = "VM interface" if row.kind is Kind.VM else "interface"
    return [
        PlannedObject(
            owner,
            "management (LibreNMS port name, else " + defaults.MANAGEMENT_INTERFACE + ")",
            (("on", row.name),),
        ),
        PlannedObject(
            "IP address",
            row.device.ip,
            (("primary of", row.name), ("prefix length", "as LibreNMS has it, else a host address")),
            "reused when NetBox has it unassigned; never taken from another object",
        ),
    ]


@dataclass(frozen=True, slots=True)
class Plan:
    devices: int
    vms: int
    stacks: int
    stack_members: int
    ips: int
    not_ready: int
    updates: int = 0  # existing devices and VMs brought up to date (links included)
    links: int = 0  # of which only linked (librenms_id)
    updated_vms: int = 0
    moved_ips: int = 0  # primary IPs an update moves

    @classmethod
    def of(cls, rows: Iterable[Row], *, primary_ip: bool = True) -> Plan:
        rows = list(rows)
        ready = [r for r in rows if r.will_create]
        updating = [r for r in rows if r.will_update and r.existing is not None]
        stacks = [r for r in ready if r.stack is not None and r.kind is Kind.DEVICE]
        return cls(
            devices=sum(1 for r in ready if r.kind is Kind.DEVICE and r.stack is None),
            vms=sum(1 for r in ready if r.kind is Kind.VM),
            stacks=len(stacks),
            stack_members=sum(len(r.stack.members) for r in stacks if r.stack),
            ips=sum(1 for r in ready if primary_ip and r.device.ip),
            not_ready=sum(1 for r in rows if r.selected and not r.will_import),
            updates=len(updating),
            links=sum(1 for r in updating if r.updates == (SyncField.LIBRENMS_ID,)),
            updated_vms=sum(1 for r in updating if r.existing.kind is Kind.VM),  # type: ignore[union-attr]
            moved_ips=sum(1 for r in updating if SyncField.PRIMARY_IP in r.updates),
        )

    def permissions(self, *, primary_ip: bool) -> list[str]:
        """What the token must be allowed, in core.netbox.permissions' words: what the import adds, and
        what it changes afterwards (primary IPs on devices and VMs, an IP it reuses, a chassis' master and
        the members it attaches)."""
        needed = []
        if self.devices or self.stacks:
            needed.append("add devices")
        if self.vms:
            needed.append("add virtual machines")
        if self.stacks:
            needed += ["add virtual chassis", "change virtual chassis", "change devices"]
        if primary_ip and self.ips:
            needed += ["add IP addresses", "change IP addresses"]
            if self.devices or self.stacks:
                needed += ["add interfaces", "change devices"]
            if self.vms:
                needed += ["add VM interfaces", "change virtual machines"]
        if self.updates > self.updated_vms:
            needed.append("change devices")
        if self.updated_vms:
            needed.append("change virtual machines")
        if self.moved_ips:
            needed += ["add IP addresses", "change IP addresses", "add interfaces"]
            if self.updated_vms:
                needed.append("add VM interfaces")
        return list(dict.fromkeys(needed))
