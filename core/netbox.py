"""NetBox gateway: connection, setup checks, and the index that answers every lookup validation needs.

The index is loaded in a handful of batched, paginated requests (`fields=` keeps payloads small); validating
N devices never makes N requests. Every request goes through one session whose counter the benchmarks read.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pynetbox
import requests

from core import defaults
from core.errors import NetBoxAuthError, NetBoxError, NetBoxSetupError, NetBoxUnreachable
from core.models import ExistingMatch, Kind, MatchBy
from core.settings import Settings

log = logging.getLogger(__name__)

OBJECT_TYPES = ["dcim.device", "virtualization.virtualmachine"]


class CountingSession(requests.Session):
    """A requests session that counts what it sends (benchmarks and tests read `count`)."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        self.count += 1
        kwargs.setdefault("timeout", self.timeout)
        response = super().send(request, **kwargs)
        log.debug(
            "NetBox %s %s -> %s", request.method, (request.path_url or "").split("?")[0], response.status_code
        )
        return response

    timeout: float = defaults.NETBOX_TIMEOUT


def connect(settings: Settings) -> pynetbox.api:
    """A pynetbox API object on a counting session, with TLS and timeout from settings."""
    if not settings.netbox_url:
        raise NetBoxSetupError("No NetBox URL is configured.", hint="Set NETBOX_URL and NETBOX_TOKEN.")
    session = CountingSession()
    session.verify = settings.netbox_verify_tls
    session.timeout = settings.netbox_timeout
    api = pynetbox.api(settings.netbox_url, token=settings.netbox_token.get() or None)
    api.http_session = session
    return api


def request_count(api: pynetbox.api) -> int:
    session = api.http_session
    return session.count if isinstance(session, CountingSession) else 0


def translate(exc: Exception, url: str, action: str) -> NetBoxError:
    """Turn a pynetbox/requests failure into our error, in words, without the token."""
    if isinstance(exc, NetBoxError):
        return exc
    if isinstance(exc, pynetbox.RequestError):
        status = exc.req.status_code
        detail = describe_error_body(exc.error)
        if status == 403:
            return NetBoxAuthError(
                f"NetBox at {url} refused to {action} (403): {detail}",
                hint="Check NETBOX_TOKEN and the permissions of its user.",
            )
        return NetBoxError(f"NetBox at {url} could not {action} ({status}): {detail}")
    if isinstance(exc, requests.Timeout):
        return NetBoxUnreachable(f"NetBox at {url} did not answer in time while trying to {action}.")
    if isinstance(exc, requests.ConnectionError):
        return NetBoxUnreachable(
            f"NetBox at {url} cannot be reached.", hint="Check NETBOX_URL and that NetBox is running."
        )
    if isinstance(exc, (pynetbox.ContentError, ValueError)):
        return NetBoxError(
            f"NetBox at {url} answered with something that is not JSON while trying to {action}."
        )
    return NetBoxError(f"NetBox at {url}: could not {action}: {exc.__class__.__name__}")


def describe_error_body(body: Any) -> str:
    """NetBox error bodies in plain words: `{"name": ["…"]}` → `name: …`; bulk errors by index."""
    if isinstance(body, (str, bytes)):
        try:
            body = json.loads(body)
        except ValueError:
            text = body.decode(errors="replace") if isinstance(body, bytes) else body
            return text.strip()[:300] or "no details"
    if isinstance(body, Mapping):
        if "detail" in body and len(body) == 1:
            return str(body["detail"])
        parts = []
        for key, value in body.items():
            if key == "errors" and isinstance(value, list):
                parts.extend(_describe_bulk_item(item) for item in value)
                continue
            text = "; ".join(map(str, value)) if isinstance(value, list) else describe_error_body(value)
            parts.append(text if key in {"__all__", "non_field_errors", "detail"} else f"{key}: {text}")
        return "; ".join(parts)
    if isinstance(body, list):
        return "; ".join(describe_error_body(item) for item in body if item)
    return str(body)


def _describe_bulk_item(item: Any) -> str:
    """One entry of a bulk POST's `errors`: `{"index": 1, "errors": {...}}` → `index 1: field: …`."""
    if not isinstance(item, Mapping):
        return describe_error_body(item)
    text = describe_error_body(item.get("errors", item))
    return f"index {item['index']}: {text}" if "index" in item else text


def call(api: pynetbox.api, action: str, fn: Callable[[], Any]) -> Any:
    try:
        return fn()
    except Exception as exc:
        raise translate(exc, api.base_url.removesuffix("/api"), action) from None


# ------------------------------------------------------------------ setup checks


@dataclass(frozen=True, slots=True)
class FieldInfo:
    """The librenms_id custom field as this NetBox has it."""

    type: str  # "integer" or "json" (the netbox-librenms-plugin's shape) or "text"
    object_types: tuple[str, ...]


def librenms_field(api: pynetbox.api) -> FieldInfo | None:
    found = call(
        api,
        "read custom fields",
        lambda: list(api.extras.custom_fields.filter(name=defaults.LIBRENMS_ID_FIELD)),
    )
    if not found:
        return None
    cf = found[0]
    ftype = cf.type.value if hasattr(cf.type, "value") else str(cf.type)
    return FieldInfo(type=ftype, object_types=tuple(cf.object_types or ()))


MISSING_FIELD_HINT = (
    "In NetBox: Customization → Custom Fields → Add: name 'librenms_id', type Integer, object types "
    "'DCIM > Device' and 'Virtualization > Virtual machine'. Or let the app create it (needs a token that may "
    "add custom fields)."
)


def ensure_librenms_field(api: pynetbox.api, *, create: bool = True) -> FieldInfo:
    """Check that the librenms_id custom field exists on devices and VMs; create it when allowed."""
    info = librenms_field(api)
    if info is None:
        if not create:
            raise NetBoxSetupError("NetBox has no 'librenms_id' custom field.", hint=MISSING_FIELD_HINT)
        call(
            api,
            "create the librenms_id custom field",
            lambda: api.extras.custom_fields.create(
                {
                    "name": defaults.LIBRENMS_ID_FIELD,
                    "label": "LibreNMS ID",
                    "type": "integer",
                    "object_types": OBJECT_TYPES,
                    "description": "Device id in LibreNMS (set by the LibreNMS importer)",
                    "required": False,
                }
            ),
        )
        return FieldInfo(type="integer", object_types=tuple(OBJECT_TYPES))
    missing = [t for t in OBJECT_TYPES if t not in info.object_types]
    if missing:
        raise NetBoxSetupError(
            f"The 'librenms_id' custom field is not enabled for {', '.join(missing)}.",
            hint="Add those object types to the field in NetBox (Customization → Custom Fields).",
        )
    return info


def ensure_import_tag(api: pynetbox.api) -> int:
    tag = call(api, "read tags", lambda: api.extras.tags.get(slug=defaults.IMPORT_TAG_SLUG))
    if tag is None:
        tag = call(
            api,
            "create the import tag",
            lambda: api.extras.tags.create(
                {"name": defaults.IMPORT_TAG_NAME, "slug": defaults.IMPORT_TAG_SLUG, "color": "2196f3"}
            ),
        )
    return tag.id


# ------------------------------------------------------------------ librenms_id shapes


def parse_librenms_ids(value: Any, default_key: str) -> dict[str, int]:
    """Every shape of the librenms_id field → {server key: device id}.

    Integer field (ours, and the plugin's legacy shape): the id, for the default server. JSON field (the
    netbox-librenms-plugin): {"<server key>": id} or {"<server key>": {"id": id, "oob": …}}.
    """
    if value is None or value == "":
        return {}
    if isinstance(value, bool):
        return {}
    if isinstance(value, int):
        return {default_key: value}
    if isinstance(value, str):
        text = value.strip()
        if text.isdecimal():  # not isdigit(): '²' is a digit that int() refuses
            return {default_key: int(text)}
        try:
            return parse_librenms_ids(json.loads(text), default_key)
        except ValueError:
            return {}
    if isinstance(value, Mapping):
        out: dict[str, int] = {}
        for key, item in value.items():
            raw = item.get("id") if isinstance(item, Mapping) else item
            if isinstance(raw, bool):  # JSON true is not device 1
                continue
            try:
                out[str(key)] = int(raw)  # type: ignore[arg-type]
            except (TypeError, ValueError):
                continue
        return out
    return {}


def librenms_field_value(field_type: str, server_key: str, device_id: int) -> Any:
    """What to write into the librenms_id field, in the shape its type calls for."""
    if field_type == "json":
        return {server_key: device_id}
    if field_type == "text":
        return str(device_id)
    return device_id


# ------------------------------------------------------------------ the index


@dataclass(frozen=True, slots=True)
class Obj:
    """A NetBox reference object as the index keeps it."""

    id: int
    name: str
    slug: str = ""
    site_id: int | None = None
    extra: str = ""  # device types: part number; roles: "vm" when usable for VMs
    location_id: int | None = None  # racks: the NetBox location they stand in


@dataclass(frozen=True, slots=True)
class Existing:
    kind: Kind
    id: int
    name: str
    site_id: int | None
    serial: str
    librenms_ids: dict[str, int]
    primary_ips: tuple[str, ...]


def _lower(text: str | None) -> str:
    return (text or "").strip().casefold()


class Catalog:
    """Objects of one kind (sites, device types, …) looked up by id, slug or name, case-insensitively."""

    def __init__(self, objects: Iterable[Obj] = ()) -> None:
        self.by_id: dict[int, Obj] = {}
        self.by_slug: dict[str, Obj] = {}
        self.by_name: dict[str, Obj] = {}
        self.by_extra: dict[str, Obj] = {}
        for obj in objects:
            self.add(obj)

    def add(self, obj: Obj) -> None:
        self.by_id[obj.id] = obj
        if obj.slug:
            self.by_slug.setdefault(_lower(obj.slug), obj)
        self.by_name.setdefault(_lower(obj.name), obj)
        if obj.extra:
            self.by_extra.setdefault(_lower(obj.extra), obj)

    def find(self, text: str) -> Obj | None:
        """By slug, then name (both case-insensitive), then numeric id."""
        key = _lower(text)
        if not key:
            return None
        found = self.by_slug.get(key) or self.by_name.get(key)
        if found is None and key.isdigit():
            found = self.by_id.get(int(key))
        return found

    def __len__(self) -> int:
        return len(self.by_id)

    def __iter__(self) -> Iterator[Obj]:
        return iter(self.by_id.values())


@dataclass
class NetBoxIndex:
    """Everything validation looks up, in memory. Built by `load_index`; pure lookups afterwards."""

    base_url: str = ""
    default_server_key: str = defaults.DEFAULT_SERVER_KEY
    field_type: str = "integer"
    sites: Catalog = field(default_factory=Catalog)
    locations: Catalog = field(default_factory=Catalog)
    racks: Catalog = field(default_factory=Catalog)
    device_types: Catalog = field(default_factory=Catalog)
    platforms: Catalog = field(default_factory=Catalog)
    roles: Catalog = field(default_factory=Catalog)
    clusters: Catalog = field(default_factory=Catalog)
    targeted: bool = False  # existing objects were looked up for the search's candidates only
    existing: list[Existing] = field(default_factory=list)
    by_librenms: dict[tuple[str, int], list[Existing]] = field(default_factory=dict)
    by_serial: dict[str, list[Existing]] = field(default_factory=dict)
    by_name: dict[str, list[Existing]] = field(default_factory=dict)
    by_ip: dict[str, list[Existing]] = field(default_factory=dict)

    def add_existing(self, item: Existing) -> None:
        self.existing.append(item)
        for key, device_id in item.librenms_ids.items():
            self.by_librenms.setdefault((key, device_id), []).append(item)
        if item.serial:
            self.by_serial.setdefault(_lower(item.serial), []).append(item)
        if item.name:
            self.by_name.setdefault(_lower(item.name), []).append(item)
        for ip in item.primary_ips:
            self.by_ip.setdefault(ip, []).append(item)

    def racks_of_site(self, site_id: int) -> list[Obj]:
        return [r for r in self.racks if r.site_id == site_id]

    def find_rack(self, text: str, site_id: int | None) -> Obj | None:
        """A rack by name within the site (rack names repeat across sites), else by id."""
        key = _lower(text)
        candidates = [r for r in self.racks if _lower(r.name) == key]
        for rack in candidates:
            if rack.site_id == site_id:
                return rack
        if key.isdigit() and int(key) in self.racks.by_id:
            return self.racks.by_id[int(key)]
        return candidates[0] if candidates else None

    def url(self, kind: Kind, object_id: int) -> str:
        path = "dcim/devices" if kind is Kind.DEVICE else "virtualization/virtual-machines"
        return f"{self.base_url}/{path}/{object_id}/"

    def match(self, item: Existing, by: MatchBy) -> ExistingMatch:
        return ExistingMatch(
            kind=item.kind, id=item.id, name=item.name, url=self.url(item.kind, item.id), by=by
        )


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
) -> NetBoxIndex:
    """Load reference data and existing devices/VMs in a few batched requests.

    With `candidates` (what a search could match), and a NetBox holding many more devices and VMs than
    that, existing objects are looked up with targeted multi-value filters instead of loading them all.
    """
    info = ensure_librenms_field(api, create=False)
    index = NetBoxIndex(
        base_url=api.base_url.removesuffix("/api"),
        default_server_key=default_server_key,
        field_type=info.type,
    )

    def load(what: str, fn: Callable[[], list[dict]]) -> list[dict]:
        return call(api, f"read {what}", fn)

    for s in load("sites", lambda: _paged(api.dcim.sites, "id,name,slug")):
        index.sites.add(Obj(s["id"], s["name"], s["slug"]))
    for loc in load("locations", lambda: _paged(api.dcim.locations, "id,name,slug,site")):
        index.locations.add(Obj(loc["id"], loc["name"], loc["slug"], site_id=_id(loc.get("site"))))
    for r in load("racks", lambda: _paged(api.dcim.racks, "id,name,site,location")):
        index.racks.add(
            Obj(r["id"], r["name"], site_id=_id(r.get("site")), location_id=_id(r.get("location")))
        )
    for t in load("device types", lambda: _paged(api.dcim.device_types, "id,model,slug,part_number")):
        index.device_types.add(Obj(t["id"], t["model"], t["slug"], extra=t.get("part_number") or ""))
    for p in load("platforms", lambda: _paged(api.dcim.platforms, "id,name,slug")):
        index.platforms.add(Obj(p["id"], p["name"], p["slug"]))
    for r in load("roles", lambda: _paged(api.dcim.device_roles, "id,name,slug,vm_role")):
        index.roles.add(Obj(r["id"], r["name"], r["slug"], extra="vm" if r.get("vm_role") else ""))
    for c in load("clusters", lambda: _paged(api.virtualization.clusters, "id,name,scope_type,scope_id")):
        site_id = c.get("scope_id") if c.get("scope_type") == "dcim.site" else None
        index.clusters.add(Obj(c["id"], c["name"], site_id=site_id))

    targeted = candidates is not None and info.type == "integer" and _few(api, candidates)
    index.targeted = targeted
    for kind, endpoint in ((Kind.DEVICE, api.dcim.devices), (Kind.VM, api.virtualization.virtual_machines)):
        fields = EXISTING_FIELDS.replace("site,", "site,cluster,") if kind is Kind.VM else EXISTING_FIELDS
        if targeted:
            assert candidates is not None
            found = _targeted(api, endpoint, fields, candidates, kind)
        else:
            found = load(f"existing {kind.value}s", lambda e=endpoint, f=fields: _paged(e, f))
        for d in found:
            item = _existing(kind, d, default_server_key)
            if not targeted or candidates.wants(item, default_server_key):  # type: ignore[union-attr]
                index.add_existing(item)
    return index


EXISTING_FIELDS = "id,name,serial,site,primary_ip4,primary_ip6,custom_fields"


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
            or _lower(item.serial) in self.serials
            or _lower(item.name) in self.names
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


def _targeted(
    api: pynetbox.api, endpoint: Any, fields: str, candidates: Candidates, kind: Kind
) -> list[dict]:
    """Existing objects by multi-value filters (`name__ie=a&name__ie=b…`), in chunks, instead of all of them."""
    seen: dict[int, dict] = {}

    def fetch(**flt: Any) -> None:
        for d in call(api, f"look up existing {kind.value}s", lambda: _paged(endpoint, fields, **flt)):
            seen[d["id"]] = d

    for chunk in _chunks(candidates.librenms_ids):
        fetch(**{f"cf_{defaults.LIBRENMS_ID_FIELD}": chunk})
    for chunk in _chunks(candidates.serials):
        fetch(serial=chunk)
    for chunk in _chunks(candidates.names):
        fetch(name__ie=chunk)
    for chunk in _chunks(candidates.ips):
        addresses = call(
            api,
            "look up IP addresses",
            lambda c=chunk: _paged(api.ipam.ip_addresses, "id,address", address=c),
        )
        ids = [a["id"] for a in addresses]
        if ids:
            fetch(primary_ip4_id=ids)
            fetch(primary_ip6_id=ids)
    return list(seen.values())


def _existing(kind: Kind, d: Mapping[str, Any], default_server_key: str) -> Existing:
    cf = d.get("custom_fields") or {}
    return Existing(
        kind=kind,
        id=d["id"],
        name=d.get("name") or "",
        site_id=_id(d.get("site")),
        serial=d.get("serial") or "",
        librenms_ids=parse_librenms_ids(cf.get(defaults.LIBRENMS_ID_FIELD), default_server_key),
        primary_ips=tuple(ip for ip in (_ip(d.get("primary_ip4")), _ip(d.get("primary_ip6"))) if ip),
    )


def status(api: pynetbox.api) -> dict[str, Any]:
    """NetBox's /api/status/ (needs a token): version and more, for the Connections page and `check`."""
    return call(api, "read its status", api.status)
