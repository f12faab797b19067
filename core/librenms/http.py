"""The HTTP edge to one LibreNMS server: the `X-Auth-Token` header, connect/read timeouts, retries with
exponential backoff for GETs, the success envelope, and the translation of every failure into one error
(core.librenms.failures). Neither the token nor a credential reaches a message, an exception chain or a log
line. See docs/librenms-api.md#1-authentication-envelope-and-errors.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping
from typing import Any, TypedDict, Unpack

import requests
from requests.adapters import HTTPAdapter

from core import defaults
from core.errors import LibreNMSBadResponse
from core.librenms.failures import (
    API_PREFIX,
    Failure,
    Where,
    bad_body,
    status_failure,
    transport_failure,
)
from core.settings import LibreNMSServer
from core.values import public_url

log = logging.getLogger(__name__)

USER_AGENT = "librenms-netbox-importer/0.1"
_MAX_SERVER_MESSAGE = 200  # characters of a server's error message quoted in ours


class HttpOptions(TypedDict, total=False):
    timeout: float  # read timeout, seconds
    connect_timeout: float
    retries: int
    backoff: float  # seconds before the first retry, doubled after each
    session: requests.Session | None  # tests pass one that records what is sent


class LibreNMSHttp:
    """GETs against one server. Thread-safe (one pooled requests session).

    `retries` is how many times a failed GET is repeated (connection errors, timeouts, 500/502/503/504;
    never 4xx); the wait before retry n is `backoff * 2**(n-1)` seconds.
    """

    def __init__(self, server: LibreNMSServer, **options: Unpack[HttpOptions]) -> None:
        timeout = options.get("timeout", defaults.LIBRENMS_READ_TIMEOUT)
        connect_timeout = options.get("connect_timeout", defaults.LIBRENMS_CONNECT_TIMEOUT)
        retries = options.get("retries", defaults.LIBRENMS_RETRIES)
        backoff = options.get("backoff", defaults.LIBRENMS_BACKOFF)
        session = options.get("session")
        self.server = server
        self.base_url = public_url(server.url, drop_suffix=API_PREFIX) or server.url.split("?")[0]
        self._api_url = self.base_url + API_PREFIX
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self.retries = max(0, int(retries))
        self.backoff = max(0.0, float(backoff))
        if session is None:
            session = requests.Session()
            # stack detection, or an import's batches in flight each reading addresses in parallel
            adapter = HTTPAdapter(
                pool_maxsize=defaults.INVENTORY_POOL_SIZE * max(2, defaults.IMPORT_CONCURRENCY)
            )
            session.mount("http://", adapter)
            session.mount("https://", adapter)
        self._session = session
        self._where = Where(self.base_url, server.token_setting, connect_timeout, timeout)

    def get_list(self, path: str, key: str, params: Mapping[str, str] | None = None) -> list[Any]:
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
            if not isinstance(outcome, Failure):
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

    def _attempt(self, path: str, params: Mapping[str, str] | None) -> dict[str, Any] | Failure:
        url = self._api_url + path
        started = time.monotonic()
        failure: Failure | None = None
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
            failure = transport_failure(exc, url, self._where)
        elapsed = time.monotonic() - started
        if failure is not None:
            log.debug("GET %s%s -> %s after %.2fs", API_PREFIX, path, type(failure.error).__name__, elapsed)
            return failure
        assert response is not None
        log.debug("GET %s%s -> %d in %.2fs", API_PREFIX, path, response.status_code, elapsed)
        status = response.status_code
        body, decode_error = _decode(content)
        if status >= 300:
            said = self._server_message(body)
            return status_failure(status, url, said, response.headers.get("Location", ""), self._where)
        if decode_error or not isinstance(body, dict):
            ctype = response.headers.get("Content-Type", "").split(";")[0].strip()
            return bad_body(url, status, len(content), ctype, cut_off=decode_error)
        return body

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


def _decode(content: bytes) -> tuple[Any, bool]:
    """(decoded JSON, failed?)."""
    try:
        return json.loads(content.decode("utf-8")), False
    except (ValueError, UnicodeDecodeError):
        return None, True
