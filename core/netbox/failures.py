"""NetBox's failures in words: pynetbox/requests exceptions to our NetBoxError family, error bodies
(`{"name": ["…"]}`, bulk `{"errors": [{"index": i, …}]}`) to text, and which items of a bulk write failed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pynetbox
import requests

from core.errors import NetBoxAuthError, NetBoxError, NetBoxUnreachable


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


def _json(body: Any) -> Any:
    if isinstance(body, (str, bytes)):
        try:
            return json.loads(body)
        except ValueError:
            return body
    return body


def bulk_item_errors(body: Any, size: int) -> dict[int, str]:
    """The items a rejected bulk write names, with NetBox's words for each: `{"errors": [{"index": i,
    "errors": {...}}]}` (NetBox 4.7, for 400 and for 403 under constrained permissions) or a list with one
    entry per item (older releases). Empty when the body names no item."""
    data = _json(body)
    found: dict[int, str] = {}
    if isinstance(data, Mapping) and isinstance(data.get("errors"), list):
        for item in data["errors"]:
            index = item.get("index") if isinstance(item, Mapping) else None
            if isinstance(index, int) and not isinstance(index, bool) and 0 <= index < size:
                found[index] = describe_error_body(item.get("errors", item))
    elif isinstance(data, list) and len(data) == size:
        found = {i: describe_error_body(item) for i, item in enumerate(data) if item}
    return found


def bulk_update_errors(body: Any) -> dict[int, str]:
    """The objects a rejected bulk PATCH names, by id, with NetBox's words for each: `{"errors": [{"id": i,
    "errors": {...}}]}` (NetBox 4.7: 400 for invalid values or an object it cannot find, 403 for an object
    a constrained permission does not cover). Empty when the body names no object."""
    data = _json(body)
    found: dict[int, str] = {}
    if isinstance(data, Mapping) and isinstance(data.get("errors"), list):
        for item in data["errors"]:
            object_id = item.get("id") if isinstance(item, Mapping) else None
            if isinstance(object_id, int) and not isinstance(object_id, bool):
                found[object_id] = describe_error_body(item.get("errors", item))
    return found
