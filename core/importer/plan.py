"""What an import would create, for the confirmation dialog, and the NetBox permissions that takes."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from core.choices import Kind
from core.review import Row


@dataclass(frozen=True, slots=True)
class Plan:
    devices: int
    vms: int
    stacks: int
    stack_members: int
    ips: int
    not_ready: int

    @classmethod
    def of(cls, rows: Iterable[Row], *, primary_ip: bool = True) -> Plan:
        rows = list(rows)
        ready = [r for r in rows if r.will_import]
        stacks = [r for r in ready if r.stack is not None and r.kind is Kind.DEVICE]
        return cls(
            devices=sum(1 for r in ready if r.kind is Kind.DEVICE and r.stack is None),
            vms=sum(1 for r in ready if r.kind is Kind.VM),
            stacks=len(stacks),
            stack_members=sum(len(r.stack.members) for r in stacks if r.stack),
            ips=sum(1 for r in ready if primary_ip and r.device.ip),
            not_ready=sum(1 for r in rows if r.selected and not r.will_import),
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
        return list(dict.fromkeys(needed))
