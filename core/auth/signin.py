"""Signing in with NetBox. With a username and password the app asks NetBox for a personal token that
expires after SESSION_HOURS (`POST /api/users/tokens/provision/`) and signing out deletes it again; an
analyst who only logs in to NetBox through single sign-on pastes a token of their own instead (NetBox keeps
it at sign-out). Either way NetBox says who the token belongs to, and whether they may do admin actions."""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pynetbox
import requests

from core import defaults, netbox
from core.auth.analyst import Analyst
from core.choices import SignInMethod
from core.errors import ImporterError, NetBoxError
from core.netbox.failures import describe_error_body
from core.settings import Secret, Settings

log = logging.getLogger(__name__)


class SignInRefused(ImporterError):
    """NetBox did not accept the username and password, or the token."""


def _api(settings: Settings, token: Secret) -> pynetbox.api:
    return netbox.connect(replace(settings, netbox_token=token))


def _request(api: pynetbox.api, method: str, path: str, action: str, **kwargs: Any) -> requests.Response:
    headers = {"Accept": "application/json", **netbox.auth_header(api)}
    try:
        return api.http_session.request(method, f"{api.base_url}/{path}", headers=headers, **kwargs)
    except Exception as exc:
        raise netbox.translate(exc, netbox.base_url(api), action) from None


def _json(response: requests.Response, api: pynetbox.api, action: str) -> Any:
    try:
        return response.json()
    except ValueError:
        raise NetBoxError(
            f"NetBox at {netbox.base_url(api)} answered with something that is not JSON while trying to {action}."
        ) from None


def sign_in(settings: Settings, username: str, password: str, *, now: float | None = None) -> Analyst:
    """Ask NetBox for a personal token for this user, expiring after settings.session_hours. Raises
    SignInRefused for a wrong username or password, NetBoxError when NetBox cannot be asked."""
    if not username or not password:
        raise SignInRefused("Enter your NetBox username and password.")
    expires = (time.time() if now is None else now) + settings.session_hours * 3600
    api = _api(settings, Secret(""))
    action = "sign you in"
    body = {
        "username": username,
        "password": password,
        "expires": datetime.fromtimestamp(expires, UTC).isoformat(),
        "description": defaults.TOKEN_DESCRIPTION,
        "write_enabled": True,
    }
    response = _request(api, "POST", "users/tokens/provision/", action, json=body)
    if response.status_code in (401, 403):
        raise SignInRefused(
            "NetBox did not accept that username and password.",
            hint="Use your NetBox login. If you sign in to NetBox through single sign-on, paste a NetBox API "
            "token of your own instead.",
        )
    if not response.ok:
        raise NetBoxError(
            f"NetBox at {netbox.base_url(api)} could not {action} ({response.status_code}): "
            f"{describe_error_body(response.text)}"
        )
    data = _json(response, api, action)
    token = f"nbt_{data['key']}.{data['token']}" if data.get("version") == 2 else str(data["token"])
    user = data.get("user") or {}
    secret = Secret(token)
    log.info(
        "signed in %s (NetBox token %s, expires %s)", user.get("username"), data.get("id"), body["expires"]
    )
    return Analyst(
        username=str(user.get("username") or username),
        method=SignInMethod.PASSWORD,
        is_admin=_is_admin(settings, secret, user.get("id")),
        token=secret,
        token_id=data.get("id"),
        expires=expires,
    )


def sign_in_with_token(settings: Settings, token: str, *, now: float | None = None) -> Analyst:
    """Sign in with a NetBox API token of the analyst's own (a v2 `nbt_…` token: NetBox then says whose it
    is). The session uses it until settings.session_hours have passed, or until it expires in NetBox if that
    is sooner. Raises SignInRefused when NetBox does not accept it."""
    token = token.strip()
    if not token.startswith("nbt_") or "." not in token:
        raise SignInRefused(
            "Paste a NetBox v2 API token (it starts with nbt_).",
            hint="NetBox 4.7 makes v2 tokens; create one under your profile's API tokens.",
        )
    secret = Secret(token)
    api = _api(settings, secret)
    key = token.removeprefix("nbt_").split(".", 1)[0]
    action = "check your token"
    response = _request(api, "GET", "users/tokens/", action, params={"key": key})
    if response.status_code in (401, 403):
        raise SignInRefused(
            f"NetBox did not accept that token: {describe_error_body(response.text)}",
            hint="Check that it is enabled, not expired, and that it may write.",
        )
    if not response.ok:
        raise NetBoxError(
            f"NetBox at {netbox.base_url(api)} could not {action} ({response.status_code}): "
            f"{describe_error_body(response.text)}"
        )
    results = _json(response, api, action).get("results") or []
    if not results:
        raise SignInRefused("NetBox accepted the token but does not show it to its own user.")
    record = results[0]
    if not record.get("write_enabled", True):
        raise SignInRefused("That token may only read: the import needs a token that may write.")
    horizon = (time.time() if now is None else now) + settings.session_hours * 3600
    own_expiry = _epoch(record.get("expires"))
    user = record.get("user") or {}
    return Analyst(
        username=str(user.get("username") or ""),
        method=SignInMethod.TOKEN,
        is_admin=_is_admin(settings, secret, user.get("id")),
        token=secret,
        token_id=None,
        expires=min(horizon, own_expiry) if own_expiry else horizon,
    )


def sign_out(settings: Settings, analyst: Analyst) -> None:
    """Delete the token the app asked NetBox for at sign-in (a pasted token is the analyst's: it stays).
    A token NetBox no longer has counts as deleted. Raises NetBoxError when NetBox cannot be asked."""
    if not analyst.provisioned:
        return
    api = _api(settings, analyst.token)
    response = _request(api, "DELETE", f"users/tokens/{analyst.token_id}/", "delete your sign-in token")
    if response.status_code in (204, 404) or (
        response.status_code == 403 and "token" in response.text.lower()
    ):
        log.info("signed out %s (NetBox token %s deleted)", analyst.username, analyst.token_id)
        return  # deleted now, or already gone / expired (NetBox then refuses the token itself)
    raise NetBoxError(
        f"NetBox could not delete your sign-in token ({response.status_code}): {describe_error_body(response.text)}",
        hint=f"It expires by itself at {datetime.fromtimestamp(analyst.expires, UTC):%Y-%m-%d %H:%M} UTC.",
    )


def _epoch(text: Any) -> float:
    if not text:
        return 0.0
    try:
        return datetime.fromisoformat(str(text).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return 0.0


def netbox_admin(settings: Settings, username: str) -> bool:
    """Whether the NetBox user of this name is an admin (single sign-on: the analyst has no NetBox token
    of their own, so the service token asks). False when NetBox has no such user or cannot be asked."""
    return bool(username) and _admin(settings, None, {"username": username})


def _is_admin(settings: Settings, token: Secret, user_id: Any) -> bool:
    return isinstance(user_id, int) and _admin(settings, _api(settings, token), {"id": user_id})


def _admin(settings: Settings, own: pynetbox.api | None, user: dict[str, Any]) -> bool:
    """Whether the NetBox user (`user`: a users filter naming one) is a superuser or a member of
    settings.admin_group. The user's own token (`own`) tells superusers: they alone see every user,
    themselves among the superusers. Membership is asked with the service token when there is one: users may
    not read their own user record."""
    service = _api(settings, settings.netbox_token) if settings.netbox_token else None
    asking = own or service
    if asking is None:
        return False
    if _count(asking, {**user, "is_superuser": "true"}):
        return True
    return bool(settings.admin_group) and bool(
        _count(service or asking, {**user, "group": settings.admin_group})
    )


def _count(api: pynetbox.api, params: dict[str, Any]) -> int:
    """How many users match, as this token may see them (0 when it may not look, or the group is unknown)."""
    try:
        response = _request(
            api, "GET", "users/users/", "look up your NetBox user", params={**params, "brief": 1, "limit": 1}
        )
    except NetBoxError as exc:
        log.warning("could not tell whether a user is an admin: %s", exc)
        return 0
    if not response.ok:
        return 0
    try:
        return int(response.json().get("count") or 0)
    except (ValueError, AttributeError):
        return 0
