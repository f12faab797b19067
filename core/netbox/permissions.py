"""What the token's user may write, asked of NetBox itself: OPTIONS on a list endpoint lists POST (add) in
`actions` only where the user holds that permission."""

from __future__ import annotations

import pynetbox

from core.errors import NetBoxAuthError
from core.netbox.failures import describe_error_body, translate
from core.netbox.gateway import auth_header, base_url

# What each kind of object needs, as the NetBox endpoints checked with OPTIONS.
ENDPOINTS = {
    "add devices": ("dcim", "devices"),
    "add virtual machines": ("virtualization", "virtual-machines"),
    "add virtual chassis": ("dcim", "virtual-chassis"),
    "add interfaces": ("dcim", "interfaces"),
    "add VM interfaces": ("virtualization", "interfaces"),
    "add IP addresses": ("ipam", "ip-addresses"),
}


def missing_permissions(api: pynetbox.api, needed: list[str]) -> list[str]:
    """Those of `needed` (keys of ENDPOINTS) that the token's user lacks. Raises NetBoxAuthError when NetBox
    rejects the token itself."""
    missing = []
    headers = {"Accept": "application/json", **auth_header(api)}
    for what in needed:
        app, name = ENDPOINTS[what]
        url = f"{api.base_url}/{app}/{name}/"
        try:
            response = api.http_session.options(url, headers=headers)
        except Exception as exc:
            raise translate(exc, base_url(api), "check permissions") from None
        if response.status_code == 403 and "token" in response.text.lower():
            raise NetBoxAuthError(f"NetBox rejected the API token: {describe_error_body(response.text)}")
        actions = response.json().get("actions", {}) if response.ok else {}
        if "POST" not in actions:
            missing.append(what)
    return missing
