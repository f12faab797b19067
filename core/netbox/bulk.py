"""Bulk creation that one bad item cannot sink: a bulk POST is all-or-nothing in NetBox, so the items it
names are set aside with NetBox's words (or, when it names none, the batch is halved) and the rest is sent
again."""

from __future__ import annotations

from typing import Any

import pynetbox

from core.errors import NetBoxAuthError
from core.netbox.failures import bulk_item_errors, describe_error_body, translate
from core.netbox.gateway import base_url


def bulk_create(
    api: pynetbox.api, endpoint: Any, payloads: list[dict], what: str
) -> tuple[dict[int, Any], dict[int, str]]:
    """Bulk POST `payloads`. Returns (created record by payload index, error text by payload index).
    A 403 that names no item raises: no item of this kind can be created with this token."""
    created: dict[int, Any] = {}
    errors: dict[int, str] = {}
    queue = [list(range(len(payloads)))]
    while queue:
        chunk = queue.pop()
        try:
            records = endpoint.create([payloads[i] for i in chunk])
        except pynetbox.RequestError as exc:
            bad = bulk_item_errors(exc.error, len(chunk))
            if exc.req.status_code == 403 and not bad:
                raise NetBoxAuthError(
                    f"NetBox refused to create {what} (403): {describe_error_body(exc.error)}"
                ) from None
            if len(chunk) == 1:
                errors[chunk[0]] = bad.get(0) or describe_error_body(exc.error)
            elif bad:
                errors.update({chunk[i]: text for i, text in bad.items()})
                rest = [index for i, index in enumerate(chunk) if i not in bad]
                if rest:
                    queue.append(rest)
            else:
                middle = len(chunk) // 2
                queue += [chunk[:middle], chunk[middle:]]
            continue
        except Exception as exc:  # any other failure is reported per item, never raised
            error = str(translate(exc, base_url(api), f"create {what}"))
            errors.update(dict.fromkeys(chunk, error))
            continue
        created.update(zip(chunk, records, strict=True))
    return created, errors
