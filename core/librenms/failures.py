"""The LibreNMS error table: every way a request can fail, as one `core.errors.LibreNMS*` error whose
message says what happened and what to do, and whether repeating the request may help.

Messages name the server by its public URL (no credentials) and never quote the token.
See docs/librenms-api.md#1-authentication-envelope-and-errors for the answers LibreNMS gives.
"""

from __future__ import annotations

from dataclasses import dataclass

import requests
import urllib3

from core.errors import (
    LibreNMSAuthError,
    LibreNMSBadResponse,
    LibreNMSError,
    LibreNMSForbidden,
    LibreNMSNotFound,
    LibreNMSServerError,
    LibreNMSTimeout,
    LibreNMSUnreachable,
)
from core.values import public_url

API_PREFIX = "/api/v0"
RETRY_STATUSES = frozenset({500, 502, 503, 504})


@dataclass(frozen=True, slots=True)
class Where:
    """What the messages say about the server: its public URL, the token's setting name, the timeouts."""

    base_url: str
    token_env: str
    connect_timeout: float
    read_timeout: float


@dataclass(frozen=True, slots=True)
class Failure:
    """A failed attempt, described without keeping the requests exception or response (they hold the token)."""

    error: LibreNMSError
    retryable: bool


def bad_body(url: str, status: int, size: int, content_type: str, *, cut_off: bool) -> Failure:
    """A 2xx answer that is not a JSON object."""
    what = "was cut off or is not JSON" if cut_off else "is not a JSON object"
    hint = "Retry; if it persists, check the LibreNMS web server log."
    if content_type == "text/html":
        hint = "It sent HTML: check that LIBRENMS_URL points at the LibreNMS root, not a login page or proxy."
    return Failure(
        LibreNMSBadResponse(
            f"LibreNMS at {url} sent an answer that {what} ({size} bytes, HTTP {status}).", hint=hint
        ),
        retryable=False,
    )


def transport_failure(exc: requests.exceptions.RequestException, url: str, where: Where) -> Failure:
    """A request that got no HTTP answer, as the error to raise and whether a retry may help."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return Failure(
            LibreNMSUnreachable(
                f"LibreNMS at {where.base_url} did not accept a connection within {where.connect_timeout:g} s.",
                hint="Check LIBRENMS_URL, the network path and any firewall in between.",
            ),
            retryable=True,
        )
    if isinstance(exc, requests.exceptions.ReadTimeout) or _is_read_timeout(exc):
        return Failure(
            LibreNMSTimeout(
                f"LibreNMS at {url} did not answer within {where.read_timeout:g} s.",
                hint="Raise LIBRENMS_TIMEOUT or narrow the filter: a large device list can take tens of seconds.",
            ),
            retryable=True,
        )
    if isinstance(exc, requests.exceptions.SSLError):
        return Failure(
            LibreNMSUnreachable(
                f"The TLS connection to LibreNMS at {where.base_url} failed (certificate not trusted?).",
                hint="Install the CA that signed its certificate, or set LIBRENMS_VERIFY_TLS=false.",
            ),
            retryable=False,
        )
    if isinstance(exc, requests.exceptions.ChunkedEncodingError | requests.exceptions.ContentDecodingError):
        return Failure(
            LibreNMSBadResponse(
                f"LibreNMS at {url} broke off its answer before it was complete.",
                hint="Retry; if it persists, check the LibreNMS web server log (PHP memory_limit?).",
            ),
            retryable=False,
        )
    if isinstance(exc, requests.exceptions.ConnectionError):
        return Failure(
            LibreNMSUnreachable(
                f"Cannot reach LibreNMS at {where.base_url} (connection failed).",
                hint="Check LIBRENMS_URL and that the server is up and reachable from here.",
            ),
            retryable=True,
        )
    if isinstance(exc, requests.exceptions.InvalidURL | requests.exceptions.MissingSchema):
        return Failure(
            LibreNMSUnreachable(
                f"The LibreNMS URL '{where.base_url}' is not a valid http(s) URL.",
                hint="Set LIBRENMS_URL like https://librenms.example.net.",
            ),
            retryable=False,
        )
    return Failure(
        LibreNMSUnreachable(
            f"The request to LibreNMS at {url} failed ({type(exc).__name__}).",
            hint="Check LIBRENMS_URL.",
        ),
        retryable=False,
    )


def status_failure(status: int, url: str, said: str, location: str, where: Where) -> Failure:
    """An HTTP error status (with the server's own message `said`), as the error to raise."""
    said_part = f": {said}" if said else ""
    if status == 401:
        error: LibreNMSError = LibreNMSAuthError(
            f"LibreNMS at {where.base_url} rejected the API token (401).",
            hint=f"Check {where.token_env}: create a token under Settings → API → API Settings.",
        )
    elif status == 403:
        error = LibreNMSForbidden(
            f"LibreNMS at {url} refused access (403){said_part}.",
            hint="The token's user needs global-read (or admin) rights in LibreNMS, or access to this device.",
        )
    elif status == 404:
        error = LibreNMSNotFound(f"LibreNMS at {url} found nothing (404){said_part}.")
    elif status >= 500:
        error = LibreNMSServerError(
            f"LibreNMS at {url} failed with HTTP {status}{said_part}.",
            hint="This is on the LibreNMS side: check its web server log "
            "(large installs can hit PHP max_execution_time or memory_limit).",
        )
    elif 300 <= status < 400:
        target = public_url(location, drop_suffix=API_PREFIX) or "another address"
        error = LibreNMSError(
            f"LibreNMS at {where.base_url} redirects API requests (HTTP {status}) to {target}.",
            hint="Set LIBRENMS_URL to the address it redirects to (often https:// instead of http://).",
        )
    else:
        error = LibreNMSError(f"LibreNMS at {url} refused the request (HTTP {status}){said_part}.")
    return Failure(error, retryable=status in RETRY_STATUSES)


def _is_read_timeout(exc: BaseException) -> bool:
    """requests raises ConnectionError, not ReadTimeout, when the read times out while streaming the body."""
    args = getattr(exc, "args", ())
    return bool(args) and isinstance(args[0], urllib3.exceptions.ReadTimeoutError)
