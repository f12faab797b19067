"""The NetBox gateway: a pynetbox API on one counting session (TLS, timeout from settings), calls whose
failures become our errors, and NetBox's status. Every request goes through the one session, whose counter
the benchmarks and tests read.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any, Protocol
from urllib.parse import urlsplit

import pynetbox
import requests
from requests.adapters import HTTPAdapter

from core import defaults
from core.errors import NetBoxError, NetBoxSetupError, NetBoxUnreachable
from core.netbox import retry
from core.netbox.failures import translate
from core.settings import Settings

log = logging.getLogger(__name__)


WRITES = frozenset({"POST", "PATCH", "PUT", "DELETE"})


class WriteLog(Protocol):
    """Told of every write NetBox confirmed (2xx), the moment its answer arrives: a run's record
    (core.runs.recorder) keeps each object it made or changed, with NetBox's request id."""

    def confirmed(
        self, method: str, path: str, request_id: str, sent: Any, answer: requests.Response
    ) -> None: ...

    def found(self, path: str, records: list[Any], action: str = "create") -> None:
        """Objects a write whose answer was lost had made (or changed), found by looking them up."""


def _with_message(body: Any, message: str) -> Any:
    """The JSON body with `changelog_message` in it (in each item of a bulk body); an empty body (a single
    DELETE) becomes just the message."""
    if body is None:
        return {"changelog_message": message}
    if isinstance(body, dict):
        return {"changelog_message": message, **body}
    if isinstance(body, list):
        return [_with_message(item, message) if isinstance(item, dict) else item for item in body]
    return body


class CountingSession(requests.Session):
    """A requests session that counts what it sends (benchmarks and tests read `count`), with the settings'
    timeout, and tries a failed request again where core.netbox.retry says that is safe."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0
        self._counting = threading.Lock()
        # an import's batches in flight, each with its parallel reads, keep their connections
        pool = HTTPAdapter(pool_maxsize=defaults.IMPORT_CONCURRENCY * defaults.NETBOX_READ_POOL_SIZE)
        self.mount("http://", pool)
        self.mount("https://", pool)
        self.changelog_message = ""  # set for a run: every write this session makes carries it
        self.write_log: WriteLog | None = None  # set for a run: told of every confirmed write

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        """Every write (POST, PATCH, PUT, DELETE; single or bulk) carries `changelog_message` when one is set,
        so NetBox's own changelog names the run that made each change."""
        verb = method.decode() if isinstance(method, bytes) else method
        write = verb.upper() in WRITES
        if self.changelog_message and write:
            kwargs["json"] = _with_message(kwargs.get("json"), self.changelog_message)
        response = super().request(method, url, *args, **kwargs)
        if write and response.ok and self.write_log is not None:
            path = urlsplit(response.url or str(url)).path
            self.write_log.confirmed(
                verb.upper(), path, response.headers.get("X-Request-ID", ""), kwargs.get("json"), response
            )
        return response

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        if kwargs.get("timeout") is None:  # requests passes timeout=None explicitly: it would wait forever
            kwargs["timeout"] = self.timeout
        method = request.method or "GET"
        path = (request.path_url or "").split("?")[0]

        def once() -> requests.Response:
            with self._counting:  # reads run in parallel threads (core.netbox.loading)
                self.count += 1
            try:
                response = super(CountingSession, self).send(request, **kwargs)
            except Exception as exc:
                log.debug("NetBox %s %s -> %s", method, path, exc.__class__.__name__)
                raise
            log.debug("NetBox %s %s -> %s", method, path, response.status_code)
            return response

        return retry.send_with_retries(method, once)

    timeout: float = defaults.NETBOX_TIMEOUT


def connect(settings: Settings) -> pynetbox.api:
    """A pynetbox API object on a counting session, with TLS and timeout from settings."""
    if not settings.netbox_url:
        raise NetBoxSetupError("No NetBox URL is configured.", hint="Set NETBOX_URL and NETBOX_TOKEN.")
    session = CountingSession()
    session.verify = settings.netbox_verify_tls
    session.timeout = settings.netbox_timeout
    api = pynetbox.api(settings.netbox_url, token=settings.netbox_token.get() or None)
    api.http_session = session
    return api


def request_count(api: pynetbox.api) -> int:
    session = api.http_session
    return session.count if isinstance(session, CountingSession) else 0


def call(api: pynetbox.api, action: str, fn: Callable[[], Any]) -> Any:
    """Run one NetBox call; any failure is raised as our NetBoxError, in words, without the token. (The
    session has already tried it again where that is safe: core.netbox.retry.)"""
    try:
        return fn()
    except Exception as exc:
        raise failure(api, action, exc) from None


def failure(api: pynetbox.api, action: str, exc: Exception) -> NetBoxError:
    """`translate`, except that a connection dropped after the request went out is said as such: NetBox
    was reached, and may have done it."""
    dropped = isinstance(exc, requests.ConnectionError) and not isinstance(exc, requests.Timeout)
    if dropped and not retry.never_sent(exc):
        return NetBoxUnreachable(
            f"NetBox at {base_url(api)} dropped the connection without an answer while trying to {action}."
        )
    return translate(exc, base_url(api), action)


def auth_header(api: pynetbox.api) -> dict[str, str]:
    """The Authorization header pynetbox sends for this API's token (v2 `nbt_…` tokens go as Bearer)."""
    token = api.token or ""
    if token.startswith("nbt_") and "." in token:
        return {"Authorization": f"Bearer {token}"}
    return {"Authorization": f"Token {token}"} if token else {}


def base_url(api: pynetbox.api) -> str:
    """NetBox's own URL (without /api), as links and messages show it."""
    return api.base_url.removesuffix("/api")


def status(api: pynetbox.api) -> dict[str, Any]:
    """NetBox's /api/status/ (needs a token): version and more, for the Connections page and `check`."""
    return call(api, "read its status", api.status)
