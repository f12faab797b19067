"""Primary IPs: a management interface, the IP on it (reusing an unassigned one, never taking one assigned
elsewhere) and primary_ip4/6, one bulk request per step for the whole batch.

The address is the device's polling IP as LibreNMS has it (core.librenms.LibreNMSClient.management_address:
with the prefix length and port of its address list, else as a host address), and each result line says
where it came from. A failed step costs only the primary IPs of the rows it concerns, never the rows
themselves: their lines say the primary IP was not set, and why.
"""

from __future__ import annotations

import ipaddress
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from core import defaults, netbox
from core.choices import Kind, Outcome
from core.errors import ImporterError, NetBoxAuthError, NetBoxError
from core.importer.context import RunContext
from core.importer.repair import completed
from core.importer.results import RowResult
from core.librenms import LibreDevice, ManagementAddress, RowKey
from core.librenms.client import FROM_POLLING_ADDRESS_UNREAD
from core.netbox.bulk import finder
from core.review import Row

NO_ADDRESS = "no primary IP: LibreNMS has no address for this device"


def management_addresses(ctx: RunContext, rows: list[Row]) -> dict[RowKey, ManagementAddress]:
    """The management address of each row that has one, read from LibreNMS with a small pool. When
    LibreNMS cannot be read, the polling IP as a host address."""

    def one(row: Row) -> tuple[RowKey, ManagementAddress | None]:
        try:
            return row.key, ctx.librenms.management_address(row.device)
        except ImporterError:
            return row.key, _fallback_address(row.device)

    with ThreadPoolExecutor(max_workers=defaults.INVENTORY_POOL_SIZE) as pool:
        return {key: addr for key, addr in pool.map(one, rows) if addr}


def _fallback_address(device: LibreDevice) -> ManagementAddress | None:
    for value in (device.ip, device.hostname):
        try:
            address = ipaddress.ip_address((value or "").strip())
        except ValueError:
            continue
        return ManagementAddress.host(str(address), FROM_POLLING_ADDRESS_UNREAD)
    return None


def unassignable(cidr: str) -> str:
    """Why NetBox refuses this address on an interface, in words ("" when it takes it): the network ID of
    its prefix, or the IPv4 broadcast address, except in /31, /32, /127 and /128 (NetBox's IPAddress.clean).
    A fact of the data, known before any request: the row is created without it, not left unfinished."""
    address = ipaddress.ip_interface(cidr)
    network = address.network
    if network.prefixlen >= network.max_prefixlen - 1:
        return ""
    if address.ip == network.network_address:
        what = "network ID"
    elif address.version == 4 and address.ip == network.broadcast_address:
        what = "broadcast address"
    else:
        return ""
    return (
        f"{address.ip} is the {what} of {network} (the prefix length LibreNMS lists for it), which NetBox "
        "does not assign to an interface"
    )


def assign_primary_ips(
    ctx: RunContext,
    created: list[tuple[Row, RowResult]],
    kind: Kind,
    addresses: dict[RowKey, ManagementAddress],
    *,
    repair: bool = False,
) -> None:
    """Management interface + IP (reusing an unassigned one, never taking one assigned elsewhere) +
    primary_ip4/6: one bulk request per step for the whole batch; a failure costs only its own rows' IPs
    (and marks them partial: a repair completes them). A created row LibreNMS has no address for says so.
    `repair`: the objects are from an earlier, unfinished run: an interface or IP it made is used again."""
    todo = []
    for row, result in created:
        if not result.netbox_id:
            continue
        if row.key in addresses and (why := unassignable(addresses[row.key].cidr)):
            result.extra.append(f"primary IP {addresses[row.key].cidr} not set: {why}")
        elif row.key in addresses:
            todo.append((row, result))
        elif result.outcome is not Outcome.SKIPPED:  # a repair row without an address is only "exists"
            result.extra.append(NO_ADDRESS)
    if not todo:
        return
    batch = _Batch(ctx, kind, [result for _, result in todo], [addresses[row.key] for row, _ in todo], repair)
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
    repair: bool = False

    @property
    def is_device(self) -> bool:
        return self.kind is Kind.DEVICE

    def cidr(self, i: int) -> str:
        return self.addresses[i].cidr

    def not_set(self, i: int, why: str, *, fault: bool = True) -> None:
        """The object's primary IP is not set, and why. A `fault` (a NetBox call failed, not a fact of the
        data) leaves the row partial: a repair completes it."""
        result = self.results[i]
        result.extra.append(f"primary IP {self.cidr(i)} not set: {why}")
        finishing = (Outcome.CREATED, Outcome.COMPLETED, Outcome.UPDATED) + (
            (Outcome.SKIPPED,) if self.repair else ()
        )
        if fault and result.outcome in finishing:  # a repair that failed again leaves it unfinished too
            result.outcome = Outcome.PARTIAL

    def interfaces(self) -> dict[int, Any]:
        """The management interface of each object (its LibreNMS port name, else mgmt0)."""
        api = self.ctx.api
        owner = "device" if self.is_device else "virtual_machine"
        endpoint = api.dcim.interfaces if self.is_device else api.virtualization.interfaces
        payloads = [
            {
                owner: result.netbox_id,
                "name": address.interface or defaults.MANAGEMENT_INTERFACE,
                **({"type": "virtual"} if self.is_device else {}),
                "description": "Management (from LibreNMS)",
            }
            for result, address in zip(self.results, self.addresses, strict=True)
        ]
        find = finder(endpoint, {f"{owner}_id": owner, "name": "name"}, (owner, "name"))
        there: dict[int, Any] = {}
        if self.repair:  # the earlier run may have made them
            try:
                there = netbox.call(api, "look up management interfaces", lambda: find(payloads))
            except NetBoxAuthError:
                raise
            except NetBoxError as exc:
                for i in range(len(payloads)):
                    self.not_set(i, f"could not look up its interface: {exc}")
                return {}
        rest = [i for i in range(len(payloads)) if i not in there]
        made, errors = netbox.bulk_create(
            api, endpoint, [payloads[i] for i in rest], "management interfaces", find=find
        )
        for j, error in errors.items():
            self.not_set(rest[j], f"interface: {error}")
        return {**there, **{rest[j]: iface for j, iface in made.items()}}

    def place(self, ifaces: dict[int, Any]) -> dict[int, tuple[int, str]]:
        """The IP on each interface: an unassigned one NetBox has is reused, else one is created.
        Returns {index: (IP id, "reused" or "created")}."""
        api = self.ctx.api
        object_type = "dcim.interface" if self.is_device else "virtualization.vminterface"
        plain = [self.addresses[i].address for i in ifaces]
        if not plain:
            return {}
        try:
            listed = netbox.call(
                api,
                "look up IP addresses",
                lambda: list(
                    api.ipam.ip_addresses.filter(
                        address=plain, fields="id,address,assigned_object_type,assigned_object_id"
                    )
                ),
            )
        except NetBoxAuthError:
            raise
        except NetBoxError as exc:  # without it, an address NetBox has already could be made twice
            for i in ifaces:
                self.not_set(i, f"could not look up whether NetBox has the address already: {exc}")
            return {}
        known = {}
        for ip in listed:
            known.setdefault(str(ip.address).split("/")[0], ip)
        reuse: list[tuple[int, int]] = []  # (index, IP id)
        to_create: list[int] = []
        ip_of: dict[int, tuple[int, str]] = {}
        for i in sorted(ifaces):
            found = known.get(self.addresses[i].address)
            if found is not None and _on(found, object_type, ifaces[i].id):
                ip_of[i] = (found.id, "already on its interface")  # an earlier, unfinished run put it there
            elif found is not None and found.assigned_object_id:
                self.not_set(i, "NetBox has this address assigned to another object", fault=False)
            elif found is not None:
                reuse.append((i, found.id))
            else:
                to_create.append(i)
        if reuse:
            try:
                refused = netbox.bulk_update(
                    api,
                    api.ipam.ip_addresses,
                    [
                        {"id": ip_id, "assigned_object_type": object_type, "assigned_object_id": ifaces[i].id}
                        for i, ip_id in reuse
                    ],
                    "assign existing IP addresses",
                )
            except NetBoxAuthError:
                raise
            except NetBoxError as exc:
                for i, _ in reuse:
                    self.not_set(i, str(exc))
            else:
                for i, ip_id in reuse:
                    if ip_id in refused:
                        self.not_set(i, f"NetBox refused to assign the existing address: {refused[ip_id]}")
                    else:
                        ip_of[i] = (ip_id, "reused")
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
            find=finder(
                api.ipam.ip_addresses,
                {"address": "address"},
                ("address", "assigned_object_type", "assigned_object_id"),
            ),
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
            refused = netbox.bulk_update(api, endpoint, patch, "set primary IPs")
        except NetBoxAuthError:
            raise
        except NetBoxError as exc:
            for i in ip_of:
                self.not_set(i, str(exc))
            return
        for i in [i for i in ip_of if self.results[i].netbox_id in refused]:
            self.not_set(i, f"NetBox refused it: {refused[self.results[i].netbox_id]}")
            del ip_of[i]
        for i, (_, how) in sorted(ip_of.items()):
            self.results[i].extra.append(
                f"primary IP {self.cidr(i)} ({how}), from {self.addresses[i].source}"
            )
            completed(self.results[i], "primary IP")


def _on(ip: Any, object_type: str, interface_id: int) -> bool:
    """Whether the IP is assigned to this interface."""
    return ip.assigned_object_id == interface_id and str(ip.assigned_object_type or "") == object_type
