"""The NetBox gateway: a pynetbox API on one counting session (TLS, timeout from settings), calls whose
failures become our errors, and NetBox's status. Every request goes through the one session, whose counter
the benchmarks and tests read.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pynetbox
import requests

from core import defaults
from core.errors import NetBoxSetupError
from core.netbox.failures import translate
from core.settings import Settings

log = logging.getLogger(__name__)


class CountingSession(requests.Session):
    """A requests session that counts what it sends (benchmarks and tests read `count`)."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        self.count += 1
        kwargs.setdefault("timeout", self.timeout)
        response = super().send(request, **kwargs)
        log.debug(
            "NetBox %s %s -> %s", request.method, (request.path_url or "").split("?")[0], response.status_code
        )
        return response

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
    """Run one NetBox call; any failure is raised as our NetBoxError, in words, without the token."""
    try:
        return fn()
    except Exception as exc:
        raise translate(exc, base_url(api), action) from None


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
