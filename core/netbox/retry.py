"""When a failed NetBox request may be sent again: the one rule, applied to every request by the gateway's
session (core.netbox.gateway.CountingSession), and asked by the callers that handle what it leaves to them.

- Transient failures: a 5xx answer, a connection error, a timeout. Anything else (4xx) is final.
- A request that **cannot change anything twice** is simply tried again, up to NETBOX_ATTEMPTS tries with
  NETBOX_BACKOFF seconds before the second, doubled after each: GET, HEAD, OPTIONS (lookups), and PATCH,
  PUT, DELETE (they set fields to given values or remove an object: repeating one that NetBox did already
  changes nothing more; a repeated DELETE answers 404).
- A **POST** creates: after a 5xx, a read timeout or a dropped connection NetBox may have committed it
  although the answer was lost, so the session never sends it again. It is repeated only when it surely
  never reached NetBox (the connection could not be made). Otherwise the caller must look up whether the
  object exists before trying again (`may_have_committed`; core.netbox.bulk does, for every bulk create).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pynetbox
import requests
import urllib3

from core import defaults

REPEATABLE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PATCH", "PUT", "DELETE"})


def attempts() -> int:
    """How many tries a transient failure gets in all (read at call time: tests may change the default)."""
    return max(1, int(defaults.NETBOX_ATTEMPTS))


def pause(tried: int) -> float:
    """Seconds to wait after the `tried`-th failed try: NETBOX_BACKOFF, doubled after each."""
    return max(0.0, float(defaults.NETBOX_BACKOFF)) * 2 ** max(0, tried - 1)


def transient_status(status: int) -> bool:
    """500, 502, 503, 504 …: NetBox (or what stands in front of it) may answer otherwise a moment later."""
    return status >= 500


def transient(exc: BaseException) -> bool:
    """A failure that may pass: a 5xx answer, a connection error, a timeout."""
    if isinstance(exc, pynetbox.RequestError):
        return transient_status(exc.req.status_code)
    return isinstance(exc, (requests.ConnectionError, requests.Timeout))


def never_sent(exc: BaseException) -> bool:
    """The request surely did not reach NetBox: the connection itself could not be made (refused, no route,
    DNS, connect timeout). A dropped connection or a read timeout may come after NetBox did the work."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    if not isinstance(exc, requests.ConnectionError) or isinstance(exc, requests.ReadTimeout):
        return False
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        if isinstance(cause, urllib3.exceptions.NewConnectionError | urllib3.exceptions.NameResolutionError):
            return True
        if isinstance(cause, urllib3.exceptions.MaxRetryError) and cause.reason is not None:
            cause = cause.reason
            continue
        nested = cause.args[0] if cause.args and isinstance(cause.args[0], BaseException) else None
        cause = nested or cause.__cause__ or cause.__context__
    return False


def may_repeat(method: str, *, status: int | None = None, exc: BaseException | None = None) -> bool:
    """Whether a request that got this answer (`status`) or this failure (`exc`) may be sent again as is."""
    if exc is not None:
        if not transient(exc):
            return False
        return method.upper() in REPEATABLE_METHODS or never_sent(exc)
    if status is not None and transient_status(status):
        return method.upper() in REPEATABLE_METHODS
    return False


def may_have_committed(method: str, exc: BaseException) -> bool:
    """A write failed in a way that leaves open whether NetBox did it: look before writing it again."""
    return method.upper() == "POST" and transient(exc) and not never_sent(exc)


def send_with_retries(
    method: str,
    send: Callable[[], requests.Response],
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> requests.Response:
    """Send one request by this rule; returns the last answer (a 5xx after the last try, for the caller to
    raise) or raises the last failure."""
    tries = attempts()
    for tried in range(1, tries + 1):
        try:
            response = send()
        except Exception as exc:
            if tried < tries and may_repeat(method, exc=exc):
                sleep(pause(tried))
                continue
            raise
        if tried < tries and may_repeat(method, status=response.status_code):
            response.close()
            sleep(pause(tried))
            continue
        return response
    raise AssertionError("unreachable")  # pragma: no cover
