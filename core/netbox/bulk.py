"""Bulk creation that one bad item cannot sink, and that never creates an object twice.

A bulk POST is all-or-nothing in NetBox: the items it names are set aside with NetBox's words (or, when it
names none, the batch is halved) and the rest is sent again. A POST whose answer was lost (5xx, read
timeout, dropped connection: NetBox may have committed) is not sent again blindly (core.netbox.retry): the
objects are looked up first (`find`), those found are taken as created, and only the others are sent again,
up to NETBOX_ATTEMPTS tries.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

import pynetbox

from core.errors import NetBoxAuthError
from core.netbox import retry
from core.netbox.failures import bulk_item_errors, bulk_update_errors, describe_error_body
from core.netbox.gateway import failure

# Looks up the objects these payloads would have created: {index in the list: the NetBox record}.
Finder = Callable[[list[dict]], dict[int, Any]]


def bulk_create(
    api: pynetbox.api,
    endpoint: Any,
    payloads: list[dict],
    what: str,
    *,
    find: Finder | None = None,
) -> tuple[dict[int, Any], dict[int, str]]:
    """Bulk POST `payloads`. Returns (created record by payload index, error text by payload index).
    A 403 that names no item raises: no item of this kind can be created with this token. `find` looks up
    what a POST whose answer was lost may have created (see `finder`); without it such items are failed
    with a warning to look in NetBox."""
    created: dict[int, Any] = {}
    errors: dict[int, str] = {}
    if not payloads:
        return created, errors
    queue: list[tuple[list[int], int]] = [(list(range(len(payloads))), 1)]  # (indexes, try)
    while queue:
        chunk, tried = queue.pop()
        try:
            records = endpoint.create([payloads[i] for i in chunk])
        except pynetbox.RequestError as exc:
            if retry.transient_status(exc.req.status_code):
                _lost(api, payloads, what, chunk, tried, exc, find, created, errors, queue)
                continue
            bad = bulk_item_errors(exc.error, len(chunk))
            if exc.req.status_code == 403 and not bad:
                raise NetBoxAuthError(
                    f"NetBox refused to create {what} (403): {describe_error_body(exc.error)}"
                ) from None
            if (
                tried > 1
                and find is not None
                and _found_after_all(api, payloads, chunk, tried, find, created, queue)
            ):
                continue  # a lost earlier try made some of them: the others are sent again without them
            if len(chunk) == 1:
                errors[chunk[0]] = bad.get(0) or describe_error_body(exc.error)
            elif bad:
                errors.update({chunk[i]: text for i, text in bad.items()})
                rest = [index for i, index in enumerate(chunk) if i not in bad]
                if rest:
                    queue.append((rest, tried))
            else:
                middle = len(chunk) // 2
                queue += [(chunk[:middle], tried), (chunk[middle:], tried)]
            continue
        except Exception as exc:  # a connection error or timeout: reported per item, never raised
            if retry.may_have_committed("POST", exc):
                _lost(api, payloads, what, chunk, tried, exc, find, created, errors, queue)
            else:
                errors.update(dict.fromkeys(chunk, _words(api, f"create {what}", exc)))
            continue
        created.update(zip(chunk, records, strict=True))
    return created, errors


def bulk_update(api: pynetbox.api, endpoint: Any, patches: list[dict], action: str) -> dict[int, str]:
    """Bulk PATCH `patches` (each with the object's `id`) to `action` ("set primary IPs"). NetBox applies all or none: the objects it names
    as refused (a value it rejects, or an object a constrained permission does not cover: 403 with
    per-object errors) fail with NetBox's words and the others are sent again. Returns the error text by
    object id (empty: all were changed). Raises NetBoxAuthError for a 403 that names no object (no change of
    this kind is allowed at all) and NetBoxError when NetBox fails otherwise (the session has already tried
    again where that is safe)."""
    errors: dict[int, str] = {}
    rest = list(patches)
    while rest:
        try:
            endpoint.update(rest)
        except pynetbox.RequestError as exc:
            bad = bulk_update_errors(exc.error)
            named = {p["id"] for p in rest} & set(bad)
            if not named:
                if exc.req.status_code == 403:
                    raise NetBoxAuthError(
                        f"NetBox refused to {action} (403): {describe_error_body(exc.error)}"
                    ) from None
                raise failure(api, action, exc) from None
            errors.update({i: _refusal(bad[i]) for i in named})
            rest = [p for p in rest if p["id"] not in named]
            continue
        except Exception as exc:
            raise failure(api, action, exc) from None
        break
    return errors


def _refusal(text: str) -> str:
    """NetBox's words for an object a bulk PATCH could not change, said plainly where they mislead: it
    answers "does not exist" for an object that exists but that the user's permissions do not cover."""
    if "does not exist" in text:
        return f"{text} (NetBox says so for an object your permissions do not let you change)"
    return text


def _lost(
    api: pynetbox.api,
    payloads: list[dict],
    what: str,
    chunk: list[int],
    tried: int,
    exc: Exception,
    find: Finder | None,
    created: dict[int, Any],
    errors: dict[int, str],
    queue: list[tuple[list[int], int]],
) -> None:
    """A POST whose answer was lost: NetBox may have created the objects. Look them up, take those found,
    and send the others again while tries are left; never send blindly."""
    text = _words(api, f"create {what}", exc)
    if find is None:
        for i in chunk:
            errors[i] = f"{text} NetBox may have created {_label(payloads[i])} anyway: look in NetBox first."
        return
    time.sleep(retry.pause(tried))  # a request NetBox is still working on gets the time to finish
    try:
        rest = _take_found(api, endpoint_of(find), payloads, chunk, find, created)
    except Exception as lookup:
        looked = _words(api, f"look up {what}", lookup)
        for i in chunk:
            errors[i] = (
                f"{text} Whether NetBox created {_label(payloads[i])} anyway could not be checked ({looked}): "
                "look in NetBox before importing it again."
            )
        return
    if rest and tried < retry.attempts():
        queue.append((rest, tried + 1))
    else:
        errors.update(dict.fromkeys(rest, text))


def _found_after_all(
    api: pynetbox.api,
    payloads: list[dict],
    chunk: list[int],
    tried: int,
    find: Finder,
    created: dict[int, Any],
    queue: list[tuple[list[int], int]],
) -> bool:
    """After a lost try, NetBox refused the next one (e.g. "name must be unique"): the lost one may have
    made them. Those found are taken as created and the others queued again; False when none is found."""
    try:
        rest = _take_found(api, endpoint_of(find), payloads, chunk, find, created)
    except Exception:
        return False
    if len(rest) == len(chunk):
        return False
    if rest:
        queue.append((rest, tried))
    return True


def _take_found(
    api: pynetbox.api,
    path: str,
    payloads: list[dict],
    chunk: list[int],
    find: Finder,
    created: dict[int, Any],
) -> list[int]:
    """Those of `chunk` NetBox has now are taken as created (and told to the session's write log, as a
    confirmed write would be); returns the others."""
    found = find([payloads[i] for i in chunk])
    for j, record in found.items():
        created[chunk[j]] = record
    write_log = getattr(api.http_session, "write_log", None)
    if found and path and write_log is not None:
        write_log.found(path, list(found.values()))
    return [index for j, index in enumerate(chunk) if j not in found]


def _words(api: pynetbox.api, action: str, exc: Exception) -> str:
    return str(failure(api, action, exc))


def _label(payload: Mapping[str, Any]) -> str:
    for key in ("name", "address"):
        if payload.get(key):
            return f"'{payload[key]}'"
    return "it"


def finder(endpoint: Any, filters: Mapping[str, str], match: Sequence[str]) -> Finder:
    """A Finder for `endpoint`: one GET with multi-value `filters` (NetBox filter name → payload key, e.g.
    {"name": "name", "site_id": "site"}), then each payload is matched to a record whose `match` fields
    (payload keys) equal the payload's; a key a payload lacks is not compared. A record matches one payload
    at most. NetBox ignores unknown filters (and then returns everything): the match decides, not the GET."""

    def find(items: list[dict]) -> dict[int, Any]:
        params = {
            name: sorted({str(p[key]) for p in items if p.get(key) not in (None, "")})
            for name, key in filters.items()
        }
        if not items or any(not values for values in params.values()):
            return {}
        records = list(endpoint.filter(**params))
        found: dict[int, Any] = {}
        taken: set[int] = set()
        for i, payload in enumerate(items):
            for record in records:
                if record.id in taken:
                    continue
                if all(_same(payload[key], getattr(record, key, None)) for key in match if key in payload):
                    found[i] = record
                    taken.add(record.id)
                    break
        return found

    find.endpoint_path = urlsplit(endpoint.url).path  # type: ignore[attr-defined]
    return find


def endpoint_of(find: Finder) -> str:
    """The API path of the endpoint a Finder looks in ("" when unknown)."""
    return getattr(find, "endpoint_path", "")


def _same(sent: Any, stored: Any) -> bool:
    """A payload value (an id, a string, a number) against the record's field (a nested record, a choice)."""
    if stored is not None and hasattr(stored, "id") and not isinstance(sent, Mapping):
        stored = stored.id
    elif isinstance(stored, Mapping):
        stored = stored.get("id", stored.get("value", stored))
    elif stored is not None and hasattr(stored, "value"):
        stored = stored.value
    if sent is None or stored is None:
        return sent is None and stored is None
    return str(sent) == str(stored)
