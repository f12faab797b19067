"""The NetBox objects a run makes or changes: their types (as NetBox's changelog names them), the API
endpoint of each, and the order an undo removes them in (what refers to something goes before it)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

# NetBox object type → (API app, endpoint name): every type an import writes.
ENDPOINTS: dict[str, tuple[str, str]] = {
    "dcim.device": ("dcim", "devices"),
    "virtualization.virtualmachine": ("virtualization", "virtual_machines"),
    "dcim.virtualchassis": ("dcim", "virtual_chassis"),
    "dcim.interface": ("dcim", "interfaces"),
    "virtualization.vminterface": ("virtualization", "interfaces"),
    "ipam.ipaddress": ("ipam", "ip_addresses"),
    "extras.tag": ("extras", "tags"),
    "extras.customfield": ("extras", "custom_fields"),
}
_BY_PATH = {f"/{app}/{name.replace('_', '-')}/": kind for kind, (app, name) in ENDPOINTS.items()}

# What an undo deletes, first to last: IPs, then interfaces, then devices (stack members before their
# chassis, standalone devices and VMs after), never the product's own tag or custom field (shared by
# every run: see undo).
DELETE_ORDER = (
    "ipam.ipaddress",
    "dcim.interface",
    "virtualization.vminterface",
    "dcim.device",
    "dcim.virtualchassis",
    "virtualization.virtualmachine",
)
SHARED = frozenset({"extras.tag", "extras.customfield"})

LABELS = {
    "dcim.device": "device",
    "virtualization.virtualmachine": "virtual machine",
    "dcim.virtualchassis": "virtual chassis",
    "dcim.interface": "interface",
    "virtualization.vminterface": "VM interface",
    "ipam.ipaddress": "IP address",
    "extras.tag": "tag",
    "extras.customfield": "custom field",
}


def type_of_path(path: str) -> str:
    """The object type an API path writes ('/api/dcim/devices/' or '/api/dcim/devices/7/' → 'dcim.device');
    '' for a path no run writes."""
    rest = path.partition("/api")[2]
    for prefix, kind in _BY_PATH.items():
        if rest.startswith(prefix):
            return kind
    return ""


def object_url(base: str, object_type: str, object_id: int) -> str:
    """The object's page in NetBox's web UI ('https://nb', 'dcim.device', 7 → 'https://nb/dcim/devices/7/');
    '' for a type no run writes."""
    if object_type not in ENDPOINTS:
        return ""
    app, name = ENDPOINTS[object_type]
    return f"{base.rstrip('/')}/{app}/{name.replace('_', '-')}/{object_id}/"


def endpoint(api: Any, object_type: str) -> Any:
    """The pynetbox endpoint of an object type."""
    app, name = ENDPOINTS[object_type]
    return getattr(getattr(api, app), name)


@dataclass(slots=True)
class RunObject:
    """One object a run made, changed or deleted, as recorded when NetBox confirmed it."""

    type: str  # NetBox object type, e.g. "dcim.device"
    id: int
    name: str
    action: str  # "create", "update" or "delete", as NetBox's changelog says
    request_id: str = ""  # NetBox's X-Request-ID of the write ("" when found after a lost answer)
    at: float = 0.0  # epoch seconds

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunObject:
        return cls(**{k: data[k] for k in cls.__slots__ if k in data})  # type: ignore[attr-defined]

    @property
    def label(self) -> str:
        return LABELS.get(self.type, self.type)
