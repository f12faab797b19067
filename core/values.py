"""Small pure helpers for values that come from outside (LibreNMS, NetBox, CSV, settings): the one place
each coercion rule lives."""

from __future__ import annotations

import ipaddress
from typing import Any
from urllib.parse import urlsplit, urlunsplit


def fold(text: str | None) -> str:
    """The form every case-insensitive comparison uses: stripped and case-folded."""
    return (text or "").strip().casefold()


def text(value: Any) -> str:
    """A value as stripped text; None is empty."""
    return "" if value is None else str(value).strip()


def as_int(value: Any) -> int | None:
    """An integer from an int or a numeric string (LibreNMS before PHP 8.1 sends those); else None."""
    if value is None or isinstance(value, bool):
        return None
    try:
        return int(str(value).strip())
    except ValueError:
        return None


def flag(value: Any) -> bool:
    """A 0/1 flag sent as an int, a bool or (LibreNMS before PHP 8.1) a string."""
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes"}
    return bool(value)


def is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def public_url(url: str, *, drop_suffix: str = "") -> str:
    """A URL as it may be shown, logged or exported: no credentials, query or fragment, no trailing slash
    (and without `drop_suffix`, e.g. "/api/v0"). Empty when it has no scheme or host."""
    parts = urlsplit(url.strip())
    if not parts.scheme or not parts.hostname:
        return ""
    netloc = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    try:
        port = parts.port
    except ValueError:
        port = None
    if port:
        netloc += f":{port}"
    path = parts.path.rstrip("/")
    if drop_suffix:
        path = path.removesuffix(drop_suffix)
    return urlunsplit((parts.scheme, netloc, path, "", ""))
