"""Primary IPs: a management interface, the IP on it (reusing an unassigned one, never taking one assigned
elsewhere) and primary_ip4/6, one bulk request per step for the whole batch."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from core import defaults, netbox
from core.choices import Kind
from core.errors import ImporterError, NetBoxAuthError, NetBoxError
from core.importer.context import RunContext
from core.importer.results import RowResult
from core.librenms import LibreDevice, ManagementAddress, RowKey
from core.review import Row
from core.values import is_ip


def management_addresses(ctx: RunContext, rows: list[Row]) -> dict[RowKey, ManagementAddress]:
    """(ip, prefix length, interface name) per row, read from LibreNMS with a small pool."""
    wanted = [r for r in rows if r.device.ip and is_ip(r.device.ip)]

    def one(row: Row) -> tuple[RowKey, ManagementAddress | None]:
        try:
            return row.key, ctx.librenms.management_address(row.device)
        except ImporterError:
            return row.key, _fallback_address(row.device)

    with ThreadPoolExecutor(max_workers=defaults.INVENTORY_POOL_SIZE) as pool:
        return {key: addr for key, addr in pool.map(one, wanted) if addr}


def _fallback_address(device: LibreDevice) -> ManagementAddress:
    return device.ip, 128 if ":" in device.ip else 32, ""


def assign_primary_ips(
    ctx: RunContext,
    created: list[tuple[Row, RowResult]],
    kind: Kind,
    addresses: dict[RowKey, ManagementAddress],
) -> None:
    """Management interface + IP (reusing an unassigned one, never taking one assigned elsewhere) +
    primary_ip4/6: one bulk request per step for the whole batch; a failure costs only its own row's IP."""
    todo = [(row, result) for row, result in created if row.key in addresses and result.netbox_id]
    if not todo:
        return
    batch = _Batch(ctx, kind, [result for _, result in todo], [addresses[row.key] for row, _ in todo])
    ifaces = batch.interfaces()
    ip_of = batch.place(ifaces)
    if ip_of:
        batch.make_primary(ip_of)


@dataclass
class _Batch:
    """The addresses of one batch's created objects, step by step; index i is the i-th object throughout."""

    ctx: RunContext
    kind: Kind
    results: list[RowResult]
    addresses: list[ManagementAddress]

    @property
    def is_device(self) -> bool:
        return self.kind is Kind.DEVICE

    def cidr(self, i: int) -> str:
        return f"{self.addresses[i][0]}/{self.addresses[i][1]}"

    def not_set(self, i: int, why: str) -> None:
        self.results[i].extra.append(f"primary IP {self.cidr(i)} not set: {why}")

    def interfaces(self) -> dict[int, Any]:
        """The management interface of each object (its LibreNMS port name, else mgmt0)."""
        api = self.ctx.api
        owner = "device" if self.is_device else "virtual_machine"
        ifaces, errors = netbox.bulk_create(
            api,
            api.dcim.interfaces if self.is_device else api.virtualization.interfaces,
            [
                {
                    owner: result.netbox_id,
                    "name": address[2] or defaults.MANAGEMENT_INTERFACE,
                    **({"type": "virtual"} if self.is_device else {}),
                    "description": "Management (from LibreNMS)",
                }
                for result, address in zip(self.results, self.addresses, strict=True)
            ],
            "management interfaces",
        )
        for i, error in errors.items():
            self.not_set(i, f"interface: {error}")
        return ifaces

    def place(self, ifaces: dict[int, Any]) -> dict[int, tuple[int, str]]:
        """The IP on each interface: an unassigned one NetBox has is reused, else one is created.
        Returns {index: (IP id, "reused" or "created")}."""
        api = self.ctx.api
        object_type = "dcim.interface" if self.is_device else "virtualization.vminterface"
        plain = [self.addresses[i][0] for i in ifaces]
        known = {}
        for ip in netbox.call(
            api,
            "look up IP addresses",
            lambda: list(api.ipam.ip_addresses.filter(address=plain, fields="id,address,assigned_object_id")),
        ):
            known.setdefault(str(ip.address).split("/")[0], ip)
        reuse: list[tuple[int, int]] = []  # (index, IP id)
        to_create: list[int] = []
        for i in sorted(ifaces):
            found = known.get(self.addresses[i][0])
            if found is not None and found.assigned_object_id:
                self.not_set(i, "NetBox has this address assigned to another object")
            elif found is not None:
                reuse.append((i, found.id))
            else:
                to_create.append(i)
        ip_of: dict[int, tuple[int, str]] = {}
        if reuse:
            netbox.call(
                api,
                "assign existing IP addresses",
                lambda: api.ipam.ip_addresses.update(
                    [
                        {"id": ip_id, "assigned_object_type": object_type, "assigned_object_id": ifaces[i].id}
                        for i, ip_id in reuse
                    ]
                ),
            )
            ip_of.update({i: (ip_id, "reused") for i, ip_id in reuse})
        records, errors = netbox.bulk_create(
            api,
            api.ipam.ip_addresses,
            [
                {
                    "address": self.cidr(i),
                    "assigned_object_type": object_type,
                    "assigned_object_id": ifaces[i].id,
                    "status": "active",
                    "tags": [self.ctx.tag_id],
                }
                for i in to_create
            ],
            "IP addresses",
        )
        for j, error in errors.items():
            self.not_set(to_create[j], error)
        ip_of.update({to_create[j]: (record.id, "created") for j, record in records.items()})
        return ip_of

    def make_primary(self, ip_of: dict[int, tuple[int, str]]) -> None:
        """primary_ip4 or primary_ip6 of each object, in one bulk PATCH."""
        api = self.ctx.api
        endpoint = api.dcim.devices if self.is_device else api.virtualization.virtual_machines
        patch = [
            {
                "id": self.results[i].netbox_id,
                ("primary_ip6" if ":" in self.cidr(i) else "primary_ip4"): ip_id,
            }
            for i, (ip_id, _) in sorted(ip_of.items())
        ]
        try:
            netbox.call(api, "set primary IPs", lambda: endpoint.update(patch))
        except NetBoxAuthError:
            raise
        except NetBoxError as exc:
            for i in ip_of:
                self.not_set(i, str(exc))
            return
        for i, (_, how) in sorted(ip_of.items()):
            self.results[i].extra.append(f"primary IP {self.cidr(i)} ({how})")
