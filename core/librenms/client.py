"""Reads from one LibreNMS server: system, devices, locations, inventories, management addresses.

The one place that talks to LibreNMS (through core.librenms.http). Raw device objects carry SNMP
credentials in clear text, so they never leave this package: callers get `LibreDevice` values. Results of a
read are returned, never kept on the client (it is shared by threads and sessions); what it keeps is its
caches (`cache_seconds` for device lists, inventories until `clear_cache`).
"""

from __future__ import annotations

import ipaddress
import threading
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Unpack
from urllib.parse import quote

from core import defaults
from core.errors import LibreNMSBadResponse, LibreNMSError, LibreNMSNotFound
from core.librenms.cache import MemoryCache
from core.librenms.device import LibreDevice, parse_devices
from core.librenms.filters import DeviceFilter
from core.librenms.http import HttpOptions, LibreNMSHttp
from core.librenms.inventories import (
    InventoryStore,
    MemoryInventories,
    entry_key,
    inventory_store,
    stack_rows,
)
from core.settings import LibreNMSServer, Settings
from core.values import as_int


@dataclass(frozen=True, slots=True)
class DeviceListing:
    """One read of the device list: the devices, and how many objects could not be parsed."""

    devices: list[LibreDevice]
    skipped: int = 0


@dataclass(frozen=True, slots=True)
class InventoryBatch:
    """Inventories of many devices: the rows stack detection reads by device id ([] where the fetch
    failed), why each failed, and how many were read from LibreNMS now or reused from the store."""

    rows: dict[int, list[dict]] = field(default_factory=dict)
    errors: dict[int, str] = field(default_factory=dict)
    read: int = 0
    reused: int = 0


# Where a management address came from, as a result line says it ("primary IP … (created), from …").
FROM_ADDRESS_LIST = "LibreNMS' address list"
FROM_POLLING_ADDRESS_UNLISTED = "LibreNMS' polling address (not in its address list)"
FROM_POLLING_ADDRESS_NO_LIST = "LibreNMS' polling address: it lists no addresses"
FROM_POLLING_ADDRESS_UNREAD = "LibreNMS' polling address: its address list could not be read"


class ManagementAddress(NamedTuple):
    """A device's polling IP as the management address: the prefix length and port name LibreNMS lists for
    it, else a host address (/32, /128) on no named port; and where that came from (FROM_…)."""

    address: str
    prefixlen: int
    interface: str = ""
    source: str = FROM_ADDRESS_LIST

    @property
    def cidr(self) -> str:
        return f"{self.address}/{self.prefixlen}"

    @classmethod
    def host(cls, address: str, source: str) -> ManagementAddress:
        """The address alone, as a host address (/32 or /128)."""
        return cls(address, 128 if ":" in address else 32, "", source)


class LibreNMSClient:
    """Reads from one LibreNMS server. Thread-safe for the reads it offers."""

    def __init__(
        self,
        server: LibreNMSServer,
        *,
        cache_seconds: float = 0,
        inventories: InventoryStore | None = None,
        **http: Unpack[HttpOptions],
    ) -> None:
        """`cache_seconds`: how long a device list is kept; `inventories`: where inventories are kept per
        discovery (core.librenms.inventories; default: this client's memory); `http`: timeouts, retries,
        backoff, session."""
        self.server = server
        self.http = LibreNMSHttp(server, **http)
        self.base_url = self.http.base_url
        self._lists: MemoryCache[tuple[tuple[str, str], ...], list[Any]] = MemoryCache(cache_seconds)
        self.store: InventoryStore = inventories if inventories is not None else MemoryInventories()

    def __repr__(self) -> str:
        return f"LibreNMSClient({self.base_url!r}, key={self.server.key!r})"

    def system(self) -> dict:
        """Version and schema info (`/system`, first element). Any valid token may call it."""
        rows = self.http.get_list("/system", "system")
        if not rows or not isinstance(rows[0], Mapping):
            raise LibreNMSBadResponse(
                f"LibreNMS at {self.base_url} answered /system without the system information."
            )
        return dict(rows[0])

    def read_devices(self, flt: DeviceFilter | None = None) -> DeviceListing:
        """Devices, in the server's order. With a filter: one pair server-side, then all of it locally.
        Objects that cannot be parsed (no device_id) are left out and counted."""
        params: dict[str, str] = {}
        pair = flt.server_side() if flt is not None else None
        if pair is not None:
            params = {"type": pair[0], "query": pair[1]}
        key = tuple(sorted(params.items()))
        raw = self._lists.get(key)
        if raw is None:
            raw = self.http.get_list("/devices", "devices", params=params)
            self._lists.put(key, raw)
        devices, skipped = parse_devices(raw, self.server.key)
        if flt is not None:
            devices = [d for d in devices if flt.matches(d)]
        return DeviceListing(devices, skipped)

    def list_devices(self, flt: DeviceFilter | None = None) -> list[LibreDevice]:
        """`read_devices(flt).devices`."""
        return self.read_devices(flt).devices

    def get_device(self, hostname_or_id: str | int) -> LibreDevice:
        """One device by hostname (case-insensitive) or numeric id."""
        ident = str(hostname_or_id).strip()
        if not ident:
            raise LibreNMSNotFound("No LibreNMS device was named (empty hostname).")
        raw = self.http.get_list(f"/devices/{quote(ident, safe=':')}", "devices")
        devices, _ = parse_devices(raw, self.server.key)
        if not devices:
            raise LibreNMSNotFound(f"LibreNMS at {self.base_url} has no device '{ident}'.")
        return devices[0]

    def locations(self) -> list[str]:
        """Location names, sorted case-insensitively. No locations at all (404) is an empty list."""
        try:
            rows = self.http.get_list("/resources/locations", "locations")
        except LibreNMSNotFound as exc:
            if "locations do not exist" in exc.message.casefold():
                return []
            raise
        names = {
            str(row["location"]).strip()
            for row in rows
            if isinstance(row, Mapping) and isinstance(row.get("location"), str) and row["location"].strip()
        }
        return sorted(names, key=lambda n: (n.casefold(), n))

    def inventory(self, device_id: int) -> list[dict]:
        """Every ENTITY-MIB row of one device (`/inventory/:id/all`), read now."""
        rows = self.http.get_list(f"/inventory/{int(device_id)}/all", "inventory")
        return [dict(row) for row in rows if isinstance(row, Mapping)]

    def inventories(
        self,
        devices: Iterable[LibreDevice],
        *,
        refresh: bool = False,
        pool: int = defaults.INVENTORY_POOL_SIZE,
    ) -> InventoryBatch:
        """The stack rows of many devices' inventories (core.librenms.inventories.stack_rows): those the
        store has for the device's last discovery are reused, the others read concurrently and kept
        (`refresh`: all read again). A device whose read fails maps to [] with its error in `errors`; it is
        not kept, so a later call tries it again. The batch itself never fails."""
        wanted = {d.device_id: d for d in devices}
        keyed = {device_id: entry_key(self.server, d) for device_id, d in wanted.items()}
        kept = {} if refresh else self.store.get_many(list(keyed.values()))
        rows = {i: kept[key] for i, key in keyed.items() if key in kept}
        missing = [i for i in wanted if i not in rows]
        errors: dict[int, str] = {}
        fresh: dict[str, list[dict]] = {}
        lock = threading.Lock()

        def fetch(device_id: int) -> None:
            try:
                found = stack_rows(self.inventory(device_id))
            except LibreNMSError as exc:
                with lock:
                    errors[device_id] = str(exc)
                return
            with lock:
                rows[device_id] = found
                fresh[keyed[device_id]] = found

        if missing:
            with ThreadPoolExecutor(max_workers=max(1, min(pool, len(missing)))) as executor:
                list(executor.map(fetch, missing))
        self.store.put_many(fresh)
        return InventoryBatch(
            {i: rows.get(i, []) for i in wanted}, errors, read=len(missing), reused=len(wanted) - len(missing)
        )

    def clear_cache(self) -> None:
        """Forget cached device lists (the page's Refresh; inventories are read again with `refresh`)."""
        self._lists.clear()

    def management_address(self, device: LibreDevice) -> ManagementAddress | None:
        """The device's polling IP (`ip`, which is `overwrite_ip` when set) as its management address.

        From `/devices/:id/ip` and `/devices/:id/ports`: the prefix length and port LibreNMS lists for it.
        When the list lacks the polling IP, or LibreNMS lists no addresses at all (404 "does not have any IP
        addresses") — LibreNMS still polls the device at that address — it is a host address (/32, /128),
        and `source` says so. None only when the device has no polling IP.
        """
        target = _parse_ip(device.ip) or _parse_ip(device.hostname)
        if target is None:
            return None
        try:
            rows = self.http.get_list(f"/devices/{device.device_id}/ip", "addresses")
        except LibreNMSNotFound:
            return ManagementAddress.host(str(target), FROM_POLLING_ADDRESS_NO_LIST)
        family = "ipv4" if target.version == 4 else "ipv6"
        for row in rows:
            if not isinstance(row, Mapping):
                continue
            found = _parse_ip(row.get(f"{family}_address")) or _parse_ip(row.get(f"{family}_compressed"))
            if found != target:
                continue
            prefixlen = as_int(row.get(f"{family}_prefixlen"))
            if prefixlen is None or not 0 <= prefixlen <= target.max_prefixlen:
                prefixlen = target.max_prefixlen
            port = self._port_name(device.device_id, as_int(row.get("port_id")))
            return ManagementAddress(str(target), prefixlen, port, FROM_ADDRESS_LIST)
        return ManagementAddress.host(str(target), FROM_POLLING_ADDRESS_UNLISTED)

    def _port_name(self, device_id: int, port_id: int | None) -> str:
        if port_id is None:
            return ""
        try:
            ports = self.http.get_list(
                f"/devices/{device_id}/ports", "ports", params={"columns": "port_id,ifName"}
            )
        except LibreNMSNotFound:  # current releases: 404 "No ports found"
            return ""
        for port in ports:
            if isinstance(port, Mapping) and as_int(port.get("port_id")) == port_id:
                return str(port.get("ifName") or "").strip()
        return ""


def _parse_ip(value: Any) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return ipaddress.ip_address(value.strip())
    except ValueError:
        return None


def client_for(
    settings: Settings, server: LibreNMSServer | None = None, *, cache_seconds: float = 0
) -> LibreNMSClient:
    """The client the product reads `server` (default: the first) with: the settings' timeout, and the
    inventories every process shares (core.librenms.inventories: Redis at settings.redis_url)."""
    return LibreNMSClient(
        server or settings.librenms,
        timeout=settings.librenms_timeout,
        cache_seconds=cache_seconds,
        inventories=inventory_store(settings.redis_url),
    )
