"""LibreNMS API client: the one place that talks to LibreNMS (REST API v0, see shared/librenms-api.md).

It owns the HTTP edge: the `X-Auth-Token` header, connect/read timeouts, retries with exponential
backoff for GETs, and the translation of every failure into one `core.errors.LibreNMS*` exception whose
message a user can act on. It also owns the credential boundary: raw device objects carry SNMP
communities and v3 passwords in clear text (contract §2), so they never leave this module — callers get
`LibreDevice` values, which keep only safe fields. Neither the token nor a credential reaches a message,
an exception chain or a log line.

Filtering: LibreNMS accepts ONE `type`/`query` pair for the device list. `DeviceFilter.server_side()`
picks the most selective one; `DeviceFilter.matches()` re-applies every filter locally, so results do
not depend on the server's version or on how it treats `%`/`_` in LIKE queries.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import threading
import time
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter

from core import defaults
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
from core.models import LibreDevice, as_int
from core.settings import LibreNMSServer

__all__ = ["DeviceFilter", "LibreNMSClient"]

log = logging.getLogger(__name__)

API_PREFIX = "/api/v0"
RETRY_STATUSES = frozenset({500, 502, 503, 504})
USER_AGENT = "librenms-netbox-importer/0.1"
_MAX_SERVER_MESSAGE = 200  # characters of a server's error message quoted in ours


# --------------------------------------------------------------------------------------- filters


def _fold(text: str) -> str:
    return text.strip().casefold()


@dataclass(frozen=True)
class DeviceFilter:
    """What the user asked for on the Filter step. Empty strings mean 'any'."""

    location: str = ""
    type: str = ""
    os: str = ""
    hostname: str = ""
    sysname: str = ""
    hardware: str = ""
    show_disabled: bool = False
    # Applied by callers that hold the NetBox index / the inventory; kept here so one object describes a search.
    exclude_existing: bool = False
    detect_stacks: bool = False

    def server_side(self) -> tuple[str, str] | None:
        """The one (type, query) pair to send to LibreNMS: the most selective filter set, or None.

        Order: sysName (exact) > hostname > hardware > os (exact) > location > device type (exact).
        """
        candidates = (
            ("sysName", self.sysname),
            ("hostname", self.hostname),
            ("hardware", self.hardware),
            ("os", self.os),
            ("location", self.location),
            ("type", self.type),
        )
        for api_type, value in candidates:
            if value.strip():
                return (api_type, value.strip())
        return None

    def matches(self, device: LibreDevice) -> bool:
        """True when `device` passes every filter, compared case-insensitively and literally.

        location, hostname and hardware are substrings (LibreNMS' LIKE %q%, without its wildcards);
        sysName, os and type are exact. Disabled devices only pass with `show_disabled`.
        """
        if device.disabled and not self.show_disabled:
            return False
        for wanted, have in (
            (self.location, device.location),
            (self.hostname, device.hostname),
            (self.hardware, device.hardware),
        ):
            if wanted.strip() and _fold(wanted) not in have.casefold():
                return False
        for wanted, have in (
            (self.sysname, device.sysname),
            (self.os, device.os),
            (self.type, device.type),
        ):
            if wanted.strip() and _fold(wanted) != _fold(have):
                return False
        return True


# --------------------------------------------------------------------------------------- client


def _public_base(url: str) -> str:
    """The server URL as we show it: no credentials, query or fragment, no trailing / or /api/v0."""
    parts = urlsplit(url.strip())
    netloc = parts.hostname or ""
    if ":" in netloc:  # IPv6 literal
        netloc = f"[{netloc}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    if port:
        netloc += f":{port}"
    path = parts.path.rstrip("/")
    if path.endswith(API_PREFIX):
        path = path[: -len(API_PREFIX)]
    return urlunsplit((parts.scheme, netloc, path, "", ""))


def _token_env(server: LibreNMSServer) -> str:
    if server.key == defaults.DEFAULT_SERVER_KEY:
        return "LIBRENMS_TOKEN"
    return f"LIBRENMS_{server.key.upper().replace('-', '_')}_TOKEN"


class _Failure:
    """A failed attempt, described without keeping the requests exception or response (they hold the token)."""

    __slots__ = ("error", "retryable")

    def __init__(self, error: LibreNMSError, retryable: bool) -> None:
        self.error = error
        self.retryable = retryable


class LibreNMSClient:
    """Reads from one LibreNMS server. Thread-safe for the reads it offers.

    `retries` is how many times a failed GET is repeated (connection errors, timeouts, 500/502/503/504;
    never 4xx); the wait before retry n is `backoff * 2**(n-1)` seconds.
    """

    def __init__(
        self,
        server: LibreNMSServer,
        *,
        timeout: float = defaults.LIBRENMS_READ_TIMEOUT,
        connect_timeout: float = defaults.LIBRENMS_CONNECT_TIMEOUT,
        retries: int = defaults.LIBRENMS_RETRIES,
        backoff: float = defaults.LIBRENMS_BACKOFF,
        session: requests.Session | None = None,
        cache_seconds: float = 0,
    ) -> None:
        self.server = server
        self.cache_seconds = cache_seconds
        self._list_cache: dict[tuple[tuple[str, str], ...], tuple[float, list[Any]]] = {}
        self.base_url = _public_base(server.url)
        self._api_url = self.base_url + API_PREFIX
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self.retries = max(0, int(retries))
        self.backoff = max(0.0, float(backoff))
        if session is None:
            session = requests.Session()
            adapter = HTTPAdapter(pool_maxsize=max(10, defaults.INVENTORY_POOL_SIZE * 2))
            session.mount("http://", adapter)
            session.mount("https://", adapter)
        self._session = session
        self._inventory_cache: dict[int, list[dict]] = {}
        self._lock = threading.Lock()
        self.inventory_errors: dict[int, str] = {}
        self.skipped_devices = 0

    def __repr__(self) -> str:
        return f"LibreNMSClient({self.base_url!r}, key={self.server.key!r})"

    # ----------------------------------------------------------------------------- public reads

    def system(self) -> dict:
        """Version and schema info (`/system`, first element). Any valid token may call it."""
        rows = self._get_list("/system", "system")
        if not rows or not isinstance(rows[0], Mapping):
            raise LibreNMSBadResponse(
                f"LibreNMS at {self.base_url} answered /system without the system information."
            )
        return dict(rows[0])

    def list_devices(self, flt: DeviceFilter | None = None) -> list[LibreDevice]:
        """Devices, in the server's order. With a filter: one pair server-side, then all of it locally.

        Objects that cannot be parsed (no device_id) are skipped and counted in `self.skipped_devices`.
        """
        params: dict[str, str] = {}
        pair = flt.server_side() if flt is not None else None
        if pair is not None:
            params = {"type": pair[0], "query": pair[1]}
        raw = self._cached_list(params)
        devices, self.skipped_devices = self._parse_devices(raw)
        if flt is not None:
            devices = [d for d in devices if flt.matches(d)]
        return devices

    def _cached_list(self, params: dict[str, str]) -> list[Any]:
        """The raw device list, kept `cache_seconds` per server-side filter (0: always fetched)."""
        key = tuple(sorted(params.items()))
        now = time.monotonic()
        with self._lock:
            hit = self._list_cache.get(key)
        if hit is not None and now - hit[0] < self.cache_seconds:
            return hit[1]
        raw = self._get_list("/devices", "devices", params=params)
        if self.cache_seconds > 0:
            with self._lock:
                self._list_cache[key] = (now, raw)
        return raw

    def get_device(self, hostname_or_id: str | int) -> LibreDevice:
        """One device by hostname (case-insensitive) or numeric id."""
        ident = str(hostname_or_id).strip()
        if not ident:
            raise LibreNMSNotFound("No LibreNMS device was named (empty hostname).")
        raw = self._get_list(f"/devices/{quote(ident, safe=':')}", "devices")
        devices, _ = self._parse_devices(raw)
        if not devices:
            raise LibreNMSNotFound(f"LibreNMS at {self.base_url} has no device '{ident}'.")
        return devices[0]

    def locations(self) -> list[str]:
        """Location names, sorted case-insensitively. No locations at all (404) is an empty list."""
        try:
            rows = self._get_list("/resources/locations", "locations")
        except LibreNMSNotFound as exc:
            if "locations do not exist" in exc.message.casefold():
                return []
            raise
        names = {
            str(row["location"]).strip()
            for row in rows
            if isinstance(row, Mapping) and isinstance(row.get("location"), str) and row["location"].strip()
        }
        return sorted(names, key=lambda n: (n.casefold(), n))

    def inventory(self, device_id: int) -> list[dict]:
        """Every ENTITY-MIB row of one device (`/inventory/:id/all`); stored in the client's cache."""
        device_id = int(device_id)
        rows = self._get_list(f"/inventory/{device_id}/all", "inventory")
        clean = [dict(row) for row in rows if isinstance(row, Mapping)]
        with self._lock:
            self._inventory_cache[device_id] = clean
            self.inventory_errors.pop(device_id, None)
        return clean

    def inventories(
        self, device_ids: Iterable[int], *, pool: int = defaults.INVENTORY_POOL_SIZE
    ) -> dict[int, list[dict]]:
        """Inventories of many devices, fetched concurrently; cached ones are not fetched again.

        A device whose fetch fails maps to [] and its error is kept in `self.inventory_errors`; it is
        not cached, so a later call tries it again. The batch itself never fails.
        """
        wanted = list(dict.fromkeys(int(i) for i in device_ids))
        with self._lock:
            missing = [i for i in wanted if i not in self._inventory_cache]

        def fetch(device_id: int) -> None:
            try:
                self.inventory(device_id)
            except LibreNMSError as exc:
                with self._lock:
                    self.inventory_errors[device_id] = str(exc)

        if missing:
            with ThreadPoolExecutor(max_workers=max(1, min(pool, len(missing)))) as executor:
                list(executor.map(fetch, missing))
        with self._lock:
            return {i: list(self._inventory_cache.get(i, [])) for i in wanted}

    def clear_cache(self) -> None:
        """Forget cached device lists, inventories and inventory errors (the page's Refresh)."""
        with self._lock:
            self._list_cache.clear()
            self._inventory_cache.clear()
            self.inventory_errors.clear()

    def management_address(self, device: LibreDevice) -> tuple[str, int, str] | None:
        """(address, prefix length, interface name) of the device's polling IP.

        From `/devices/:id/ip` and `/devices/:id/ports`. None when LibreNMS knows no addresses for the
        device (404) or the device has no polling IP. When the address list lacks the polling IP, the
        answer is (ip, 32 or 128, "").
        """
        target = _parse_ip(device.ip) or _parse_ip(device.hostname)
        if target is None:
            return None
        try:
            rows = self._get_list(f"/devices/{device.device_id}/ip", "addresses")
        except LibreNMSNotFound:
            return None
        fallback = (str(target), target.max_prefixlen, "")
        for row in rows:
            if not isinstance(row, Mapping):
                continue
            family = "ipv4" if target.version == 4 else "ipv6"
            found = _parse_ip(row.get(f"{family}_address")) or _parse_ip(row.get(f"{family}_compressed"))
            if found != target:
                continue
            prefixlen = as_int(row.get(f"{family}_prefixlen"))
            if prefixlen is None or not 0 <= prefixlen <= target.max_prefixlen:
                prefixlen = target.max_prefixlen
            return (str(target), prefixlen, self._port_name(device.device_id, as_int(row.get("port_id"))))
        return fallback

    # ----------------------------------------------------------------------------- helpers

    def _port_name(self, device_id: int, port_id: int | None) -> str:
        if port_id is None:
            return ""
        try:
            ports = self._get_list(
                f"/devices/{device_id}/ports", "ports", params={"columns": "port_id,ifName"}
            )
        except LibreNMSNotFound:  # current releases: 404 "No ports found"
            return ""
        for port in ports:
            if isinstance(port, Mapping) and as_int(port.get("port_id")) == port_id:
                return str(port.get("ifName") or "").strip()
        return ""

    def _parse_devices(self, raw: list[Any]) -> tuple[list[LibreDevice], int]:
        """LibreDevices (credentials dropped) and the number of objects that could not be parsed."""
        devices: list[LibreDevice] = []
        skipped = 0
        for obj in raw:
            try:
                if not isinstance(obj, Mapping):
                    raise ValueError("not an object")
                devices.append(LibreDevice.from_api(obj, server_key=self.server.key))
            except (ValueError, TypeError, AttributeError):
                skipped += 1
        if skipped:
            log.warning(
                "LibreNMS %s: skipped %d device object(s) without a usable device_id",
                self.server.key,
                skipped,
            )
        return devices, skipped

    def _get_list(self, path: str, key: str, params: Mapping[str, str] | None = None) -> list[Any]:
        """GET `path` and return the list under `key` of a LibreNMS success envelope."""
        body = self._get(path, params)
        url = self._api_url + path
        if body.get("status") == "error":
            raise LibreNMSBadResponse(
                f"LibreNMS at {url} answered with an error: {self._server_message(body) or 'no message'}."
            )
        payload = body.get(key)
        if not isinstance(payload, list):
            raise LibreNMSBadResponse(
                f"LibreNMS at {url} answered without the expected '{key}' list.",
                hint="Check that LIBRENMS_URL points at a LibreNMS server (its API lives under /api/v0).",
            )
        return payload

    def _get(self, path: str, params: Mapping[str, str] | None) -> dict[str, Any]:
        """GET with retries; returns the decoded JSON object or raises a LibreNMS* error."""
        attempt = 0
        while True:
            outcome = self._attempt(path, params)
            if not isinstance(outcome, _Failure):
                return outcome
            if not outcome.retryable or attempt >= self.retries:
                raise outcome.error  # raised outside any `except`: no chained requests exception
            wait = self.backoff * (2**attempt)
            attempt += 1
            log.warning(
                "GET %s%s failed (%s); retry %d/%d in %.1fs",
                API_PREFIX,
                path,
                type(outcome.error).__name__,
                attempt,
                self.retries,
                wait,
            )
            if wait:
                time.sleep(wait)

    def _attempt(self, path: str, params: Mapping[str, str] | None) -> dict[str, Any] | _Failure:
        url = self._api_url + path
        started = time.monotonic()
        failure: _Failure | None = None
        response: requests.Response | None = None
        try:
            response = self._session.get(
                url,
                params=dict(params or {}),
                headers={
                    "X-Auth-Token": self.server.token.get(),
                    "Accept": "application/json",
                    "User-Agent": USER_AGENT,
                },
                timeout=(self.connect_timeout, self.timeout),
                verify=self.server.verify_tls,
                allow_redirects=False,  # a redirect would carry X-Auth-Token to wherever it points
            )
            content = response.content
        except requests.exceptions.RequestException as exc:
            failure = self._transport_failure(exc, url)
        elapsed = time.monotonic() - started
        if failure is not None:
            log.debug("GET %s%s -> %s after %.2fs", API_PREFIX, path, type(failure.error).__name__, elapsed)
            return failure
        assert response is not None
        log.debug("GET %s%s -> %d in %.2fs", API_PREFIX, path, response.status_code, elapsed)
        status = response.status_code
        body, decode_error = _decode(content)
        if status >= 300:
            return self._status_failure(status, url, body, response.headers.get("Location", ""))
        if decode_error or not isinstance(body, dict):
            what = "was cut off or is not JSON" if decode_error else "is not a JSON object"
            ctype = response.headers.get("Content-Type", "").split(";")[0].strip()
            hint = "Retry; if it persists, check the LibreNMS web server log."
            if ctype == "text/html":
                hint = "It sent HTML: check that LIBRENMS_URL points at the LibreNMS root, not a login page or proxy."
            return _Failure(
                LibreNMSBadResponse(
                    f"LibreNMS at {url} sent an answer that {what} ({len(content)} bytes, HTTP {status}).",
                    hint=hint,
                ),
                retryable=False,
            )
        return body

    def _transport_failure(self, exc: requests.exceptions.RequestException, url: str) -> _Failure:
        if isinstance(exc, requests.exceptions.ConnectTimeout):
            return _Failure(
                LibreNMSUnreachable(
                    f"LibreNMS at {self.base_url} did not accept a connection within {self.connect_timeout:g} s.",
                    hint="Check LIBRENMS_URL, the network path and any firewall in between.",
                ),
                retryable=True,
            )
        if isinstance(exc, requests.exceptions.ReadTimeout) or _is_read_timeout(exc):
            return _Failure(
                LibreNMSTimeout(
                    f"LibreNMS at {url} did not answer within {self.timeout:g} s.",
                    hint="Raise LIBRENMS_TIMEOUT or narrow the filter: a large device list can take tens of seconds.",
                ),
                retryable=True,
            )
        if isinstance(exc, requests.exceptions.SSLError):
            return _Failure(
                LibreNMSUnreachable(
                    f"The TLS connection to LibreNMS at {self.base_url} failed (certificate not trusted?).",
                    hint="Install the CA that signed its certificate, or set LIBRENMS_VERIFY_TLS=false.",
                ),
                retryable=False,
            )
        if isinstance(
            exc, requests.exceptions.ChunkedEncodingError | requests.exceptions.ContentDecodingError
        ):
            return _Failure(
                LibreNMSBadResponse(
                    f"LibreNMS at {url} broke off its answer before it was complete.",
                    hint="Retry; if it persists, check the LibreNMS web server log (PHP memory_limit?).",
                ),
                retryable=False,
            )
        if isinstance(exc, requests.exceptions.ConnectionError):
            return _Failure(
                LibreNMSUnreachable(
                    f"Cannot reach LibreNMS at {self.base_url} (connection failed).",
                    hint="Check LIBRENMS_URL and that the server is up and reachable from here.",
                ),
                retryable=True,
            )
        if isinstance(exc, requests.exceptions.InvalidURL | requests.exceptions.MissingSchema):
            return _Failure(
                LibreNMSUnreachable(
                    f"The LibreNMS URL '{self.base_url}' is not a valid http(s) URL.",
                    hint="Set LIBRENMS_URL like https://librenms.example.net.",
                ),
                retryable=False,
            )
        return _Failure(
            LibreNMSUnreachable(
                f"The request to LibreNMS at {url} failed ({type(exc).__name__}).",
                hint="Check LIBRENMS_URL.",
            ),
            retryable=False,
        )

    def _status_failure(self, status: int, url: str, body: Any, location: str) -> _Failure:
        said = self._server_message(body)
        said_part = f": {said}" if said else ""
        if status == 401:
            error: LibreNMSError = LibreNMSAuthError(
                f"LibreNMS at {self.base_url} rejected the API token (401).",
                hint=f"Check {_token_env(self.server)}: create a token under Settings → API → API Settings.",
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
            target = _public_base(location) if location else "another address"
            error = LibreNMSError(
                f"LibreNMS at {self.base_url} redirects API requests (HTTP {status}) to {target}.",
                hint="Set LIBRENMS_URL to the address it redirects to (often https:// instead of http://).",
            )
        else:
            error = LibreNMSError(f"LibreNMS at {url} refused the request (HTTP {status}){said_part}.")
        return _Failure(error, retryable=status in RETRY_STATUSES)

    def _server_message(self, body: Any) -> str:
        """The server's own error message, shortened and scrubbed of the token (should it ever echo it)."""
        if not isinstance(body, Mapping):
            return ""
        message = body.get("message")
        if not isinstance(message, str):
            return ""
        message = " ".join(message.split())[:_MAX_SERVER_MESSAGE]
        token = self.server.token.get()
        if token and token in message:
            message = message.replace(token, "********")
        return message.rstrip(".")


# --------------------------------------------------------------------------------------- small pure helpers


def _decode(content: bytes) -> tuple[Any, bool]:
    """(decoded JSON, failed?)."""
    try:
        return json.loads(content.decode("utf-8")), False
    except (ValueError, UnicodeDecodeError):
        return None, True


def _is_read_timeout(exc: BaseException) -> bool:
    """requests raises ConnectionError, not ReadTimeout, when the read times out while streaming the body."""
    args = getattr(exc, "args", ())
    return bool(args) and isinstance(args[0], urllib3.exceptions.ReadTimeoutError)


def _parse_ip(value: Any) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return ipaddress.ip_address(value.strip())
    except ValueError:
        return None
