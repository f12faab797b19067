"""Loading the NetBox index in a handful of batched, paginated requests (`fields=` keeps payloads small):
validating N devices never makes N requests. With the search's candidates, and a NetBox holding many more
objects than that, existing devices and VMs are looked up with targeted multi-value filters instead.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pynetbox

from core import defaults
from core.choices import FieldType, Kind
from core.netbox.gateway import base_url, call
from core.netbox.index import Existing, NetBoxIndex, Obj
from core.netbox.librenms_ids import parse_librenms_ids
from core.netbox.setup import ensure_librenms_field
from core.values import fold


def _paged(endpoint: Any, fields: str, **filters: Any) -> list[dict]:
    """All objects of an endpoint as plain dicts, in pages of NETBOX_PAGE_SIZE, with only `fields`."""
    records = endpoint.filter(fields=fields, limit=defaults.NETBOX_PAGE_SIZE, **filters)
    return [dict(record) for record in records]


def _id(value: Any) -> int | None:
    if isinstance(value, Mapping):
        return value.get("id")
    return value if isinstance(value, int) else None


def _ip(value: Any) -> str:
    if isinstance(value, Mapping) and value.get("address"):
        return str(value["address"]).split("/")[0]
    return ""


def load_index(
    api: pynetbox.api,
    *,
    default_server_key: str = defaults.DEFAULT_SERVER_KEY,
    candidates: Candidates | None = None,
    existing: bool = True,
) -> NetBoxIndex:
    """Load reference data and (unless `existing` is false) existing devices/VMs in a few batched requests.

    With `candidates` (what a search could match), and a NetBox holding many more devices and VMs than
    that, existing objects are looked up with targeted multi-value filters instead of loading them all.
    """

    def load(what: str, fn: Callable[[], list[dict]]) -> list[dict]:
        return call(api, f"read {what}", fn)

    reads: dict[str, Callable[[], list[dict]]] = {
        "sites": lambda: _paged(api.dcim.sites, "id,name,slug"),
        "locations": lambda: _paged(api.dcim.locations, "id,name,slug,site"),
        "racks": lambda: _paged(api.dcim.racks, "id,name,site,location"),
        "device types": lambda: _paged(api.dcim.device_types, "id,model,slug,part_number"),
        "platforms": lambda: _paged(api.dcim.platforms, "id,name,slug"),
        "roles": lambda: _paged(api.dcim.device_roles, "id,name,slug,vm_role"),
        "clusters": lambda: _paged(api.virtualization.clusters, "id,name,scope_type,scope_id"),
    }
    with ThreadPoolExecutor(max_workers=defaults.NETBOX_READ_POOL_SIZE) as pool:
        field = pool.submit(ensure_librenms_field, api, create=False)
        loaded = {what: pool.submit(load, what, fn) for what, fn in reads.items()}
        info = field.result()
        data = {what: future.result() for what, future in loaded.items()}
    index = NetBoxIndex(
        base_url=base_url(api),
        default_server_key=default_server_key,
        field_type=info.type,
    )
    for s in data["sites"]:
        index.sites.add(Obj(s["id"], s["name"], s["slug"]))
    for loc in data["locations"]:
        index.locations.add(Obj(loc["id"], loc["name"], loc["slug"], site_id=_id(loc.get("site"))))
    for r in data["racks"]:
        index.racks.add(
            Obj(r["id"], r["name"], site_id=_id(r.get("site")), location_id=_id(r.get("location")))
        )
    for t in data["device types"]:
        index.device_types.add(Obj(t["id"], t["model"], t["slug"], extra=t.get("part_number") or ""))
    for p in data["platforms"]:
        index.platforms.add(Obj(p["id"], p["name"], p["slug"]))
    for r in data["roles"]:
        index.roles.add(Obj(r["id"], r["name"], r["slug"], vm_role=bool(r.get("vm_role"))))
    for c in data["clusters"]:
        site_id = c.get("scope_id") if c.get("scope_type") == "dcim.site" else None
        index.clusters.add(Obj(c["id"], c["name"], site_id=site_id))

    if not existing:
        return index
    targeted = candidates is not None and info.type is FieldType.INTEGER and _few(api, candidates)
    index.targeted = targeted
    if targeted:
        assert candidates is not None
        found = load_existing(api, candidates, default_server_key=default_server_key, field_type=info.type)
        found += chassis_members(api, found, default_server_key=default_server_key)
    else:
        found = [
            _existing(kind, d, default_server_key)
            for kind, endpoint in _endpoints(api)
            for d in load(f"existing {kind.value}s", lambda e=endpoint, k=kind: _paged(e, _fields(k)))
        ]
    for item in found:
        index.add_existing(item)
    return index


def load_existing(
    api: pynetbox.api, candidates: Candidates, *, default_server_key: str, field_type: FieldType
) -> list[Existing]:
    """The existing devices and VMs that could be these candidates, by targeted filters only: librenms_id
    (when the field is an integer: NetBox has no filter for a JSON field, and ignores unknown filters),
    serial, name (case-insensitive), primary IP."""
    with ThreadPoolExecutor(max_workers=defaults.NETBOX_READ_POOL_SIZE) as pool:
        addresses = pool.map(
            lambda c: call(
                api, "look up IP addresses", lambda: _paged(api.ipam.ip_addresses, "id,address", address=c)
            ),
            list(_chunks(candidates.ips)),
        )
        found_ips = [a for chunk in addresses for a in chunk]
        ip_ids = {v: [a["id"] for a in found_ips if (":" in a["address"]) == (v == 6)] for v in (4, 6)}
        filters = _filters(candidates, ip_ids, by_id=field_type is FieldType.INTEGER)
        lookups = [
            (kind, pool.submit(_fetch, api, endpoint, kind, flt))
            for kind, endpoint in _endpoints(api)
            for flt in filters
        ]
        seen: dict[tuple[Kind, int], Existing] = {}
        for kind, lookup in lookups:
            for d in lookup.result():
                item = _existing(kind, d, default_server_key)
                if candidates.wants(item, default_server_key):  # a filter NetBox ignored returns everything
                    seen[(kind, item.id)] = item
        found = list(seen.values())
    return found


def chassis_members(api: pynetbox.api, found: list[Existing], *, default_server_key: str) -> list[Existing]:
    """The other members of the virtual chassis the found devices belong to (a stack's differences compare
    every member), in one multi-value lookup per chunk of chassis."""
    chassis = {item.virtual_chassis_id for item in found if item.virtual_chassis_id is not None}
    known = {item.id for item in found if item.kind is Kind.DEVICE}
    members = []
    for chunk in _chunks(chassis):
        for d in _fetch(api, api.dcim.devices, Kind.DEVICE, {"virtual_chassis_id": chunk}):
            if d["id"] not in known and _id(d.get("virtual_chassis")) in chassis:
                members.append(_existing(Kind.DEVICE, d, default_server_key))
    return members


def _endpoints(api: pynetbox.api) -> tuple[tuple[Kind, Any], ...]:
    return ((Kind.DEVICE, api.dcim.devices), (Kind.VM, api.virtualization.virtual_machines))


def _fields(kind: Kind) -> str:
    return VM_FIELDS if kind is Kind.VM else DEVICE_FIELDS


# what matching and the differences with LibreNMS need (core.review.differences), nothing more
_COMMON_FIELDS = "id,name,serial,site,platform,status,primary_ip4,primary_ip6,custom_fields,last_updated"
DEVICE_FIELDS = _COMMON_FIELDS + ",location,rack,device_type,virtual_chassis,vc_position"
VM_FIELDS = _COMMON_FIELDS + ",cluster"


@dataclass(frozen=True, slots=True)
class Candidates:
    """What a search could match in NetBox: LibreNMS ids (of the default server), serials, names, IPs."""

    librenms_ids: frozenset[int] = frozenset()
    serials: frozenset[str] = frozenset()
    names: frozenset[str] = frozenset()
    ips: frozenset[str] = frozenset()

    def __len__(self) -> int:
        return max(len(self.librenms_ids), len(self.names), 1)

    def wants(self, item: Existing, default_server_key: str) -> bool:
        """Whether a returned object matches what was asked (a filter NetBox ignored returns everything)."""
        return (
            item.librenms_ids.get(default_server_key) in self.librenms_ids
            or fold(item.serial) in self.serials
            or fold(item.name) in self.names
            or any(ip in self.ips for ip in item.primary_ips)
        )


def _few(api: pynetbox.api, candidates: Candidates) -> bool:
    """Targeted filters beat loading everything when NetBox holds many objects per candidate."""
    held = call(api, "count devices", lambda: api.dcim.devices.count())
    held += call(api, "count virtual machines", lambda: api.virtualization.virtual_machines.count())
    return held > defaults.TARGETED_LOOKUP_RATIO * len(candidates)


def _chunks(values: Iterable[Any]) -> Iterator[list[Any]]:
    values = sorted(values, key=str)
    for start in range(0, len(values), defaults.TARGETED_FILTER_CHUNK):
        yield values[start : start + defaults.TARGETED_FILTER_CHUNK]


def _filters(candidates: Candidates, ip_ids: dict[int, list[int]], *, by_id: bool) -> list[dict[str, Any]]:
    """The targeted multi-value filters (`name__ie=a&name__ie=b…`) that find the candidates, in chunks; a
    primary IP by the family of its address (`ip_ids`: IPv4 and IPv6 address ids)."""
    return [
        *({f"cf_{defaults.LIBRENMS_ID_FIELD}": c} for c in _chunks(candidates.librenms_ids if by_id else ())),
        *({"serial": c} for c in _chunks(candidates.serials)),
        *({"name__ie": c} for c in _chunks(candidates.names)),
        *({f"primary_ip{v}_id": c} for v, ids in ip_ids.items() for c in _chunks(ids)),
    ]


def _fetch(api: pynetbox.api, endpoint: Any, kind: Kind, flt: dict[str, Any]) -> list[dict]:
    return call(api, f"look up existing {kind.value}s", lambda: _paged(endpoint, _fields(kind), **flt))


def _existing(kind: Kind, d: Mapping[str, Any], default_server_key: str) -> Existing:
    cf = d.get("custom_fields") or {}
    status = d.get("status")
    return Existing(
        kind=kind,
        id=d["id"],
        name=d.get("name") or "",
        site_id=_id(d.get("site")),
        serial=d.get("serial") or "",
        librenms_ids=parse_librenms_ids(cf.get(defaults.LIBRENMS_ID_FIELD), default_server_key),
        primary_ips=tuple(ip for ip in (_ip(d.get("primary_ip4")), _ip(d.get("primary_ip6"))) if ip),
        location_id=_id(d.get("location")),
        rack_id=_id(d.get("rack")),
        device_type_id=_id(d.get("device_type")),
        platform_id=_id(d.get("platform")),
        cluster_id=_id(d.get("cluster")),
        status=str(status.get("value") if isinstance(status, Mapping) else status or ""),
        virtual_chassis_id=_id(d.get("virtual_chassis")),
        vc_position=d.get("vc_position"),
        librenms_value=cf.get(defaults.LIBRENMS_ID_FIELD),
        last_updated=str(d.get("last_updated") or ""),
    )
