"""What the token's user may write, asked of NetBox itself: OPTIONS on a list endpoint lists POST (add) and
PUT (change) in `actions` only where the user holds that permission (for some object of the type)."""

from __future__ import annotations

from collections.abc import Iterable

import pynetbox

from core.errors import NetBoxAuthError
from core.netbox.failures import describe_error_body, translate
from core.netbox.gateway import auth_header, base_url

# The objects the import writes, as the NetBox endpoints checked with OPTIONS.
ENDPOINTS = {
    "devices": ("dcim", "devices"),
    "virtual machines": ("virtualization", "virtual-machines"),
    "virtual chassis": ("dcim", "virtual-chassis"),
    "interfaces": ("dcim", "interfaces"),
    "VM interfaces": ("virtualization", "interfaces"),
    "IP addresses": ("ipam", "ip-addresses"),
}
# The action a permission names, as the HTTP method OPTIONS lists for it.
METHODS = {"add": "POST", "change": "PUT"}


def missing_permissions(api: pynetbox.api, needed: Iterable[str]) -> list[str]:
    """Those of `needed` ("add devices", "change IP addresses", …: an action of METHODS and an object of
    ENDPOINTS) that the token's user lacks. One OPTIONS request per object type. Raises NetBoxAuthError
    when NetBox rejects the token itself."""
    wanted = list(dict.fromkeys(needed))
    allowed: dict[str, set[str]] = {}
    for what in dict.fromkeys(permission.split(" ", 1)[1] for permission in wanted):
        allowed[what] = _allowed_methods(api, what)
    return [p for p in wanted if METHODS[p.split(" ", 1)[0]] not in allowed[p.split(" ", 1)[1]]]


def _allowed_methods(api: pynetbox.api, what: str) -> set[str]:
    app, name = ENDPOINTS[what]
    url = f"{api.base_url}/{app}/{name}/"
    headers = {"Accept": "application/json", **auth_header(api)}
    try:
        response = api.http_session.options(url, headers=headers)
    except Exception as exc:
        raise translate(exc, base_url(api), "check permissions") from None
    if response.status_code == 403 and "token" in response.text.lower():
        raise NetBoxAuthError(f"NetBox rejected the API token: {describe_error_body(response.text)}")
    return set(response.json().get("actions", {})) if response.ok else set()
