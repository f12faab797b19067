"""Stored searches: a search result kept (as JSON, core.codec) for RESULT_TTL_SECONDS under its id, at
the head of the recent searches (at most RECENT_SEARCHES_KEPT; older ones are dropped with their results),
whether a worker or the app ran it. A background search job's result is stored under the job's id.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import fields
from typing import Any

from core import codec
from core.errors import SearchExpired
from core.jobs.clock import now
from core.jobs.connection import Conn, redis_errors, resolve
from core.jobs.store import Store, store_for
from core.librenms import DeviceFilter
from core.search import SearchResult

log = logging.getLogger(__name__)


def summary(result: SearchResult, search_id: str, analyst: str = "") -> dict[str, Any]:
    """The recent-searches entry: {id, time, server_key, filters (those not at their default), counts,
    rows, found, analyst (who searched; others may reopen it and import as themselves)}."""
    default = DeviceFilter()
    filters = {
        f.name: getattr(result.filter, f.name)
        for f in fields(DeviceFilter)
        if getattr(result.filter, f.name) != getattr(default, f.name)
    }
    return {
        "id": search_id,
        "time": now(),
        "server_key": result.server_key,
        "filters": filters,
        "counts": {status.value: n for status, n in result.review.counts().items()},
        "rows": len(result.review),
        "found": result.found,
        "analyst": analyst,
    }


def store_search(
    store: Store, result: SearchResult, search_id: str | None = None, *, analyst: str = ""
) -> dict[str, Any]:
    """Store a search in `store`; returns its recent-searches entry."""
    entry = summary(result, search_id or uuid.uuid4().hex, analyst)
    text = codec.dumps_search(result)
    with redis_errors():
        store.put_search(entry["id"], text, entry)
    return entry


def save_search(conn: Conn, result: SearchResult, *, search_id: str | None = None, analyst: str = "") -> str:
    """Store a search result (JSON, RESULT_TTL_SECONDS) at the head of the recent searches (at most
    RECENT_SEARCHES_KEPT; older ones are dropped with their results); returns its id."""
    return store_search(store_for(resolve(conn)), result, search_id, analyst=analyst)["id"]


def load_search(conn: Conn, search_id: str) -> SearchResult:
    """A stored search, as it was saved (whether a worker or the app ran it). Raises SearchExpired."""
    store = store_for(resolve(conn))
    with redis_errors():
        text = store.get_search(search_id)
    if text is None:
        raise SearchExpired(
            "This search result is no longer stored (it expired or was dropped from the recent searches).",
            hint="Run the search again.",
        )
    try:
        return codec.loads_search(text)
    except ValueError as exc:
        log.warning("stored search %s cannot be read: %s", search_id, exc)
        raise SearchExpired(
            "This search result cannot be read (it was stored by another release, or is damaged).",
            hint="Run the search again.",
        ) from None


def recent_searches(conn: Conn) -> list[dict[str, Any]]:
    """Stored searches, newest first: {id, time, server_key, filters, counts, rows, found}."""
    store = store_for(resolve(conn))
    with redis_errors():
        return store.searches()
