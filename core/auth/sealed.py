"""How an analyst's NetBox token reaches the worker: sealed. A job on the queue carries the analyst's name
and their token encrypted (Fernet: AES-128-CBC with an HMAC) with a key derived from JOB_SECRET, a setting
only the app and the worker share, and bound to the token's expiry: a sealed token is refused once that time
has passed, whatever the key. Nothing in Redis holds a token in the clear."""

from __future__ import annotations

import base64
import hashlib
import json
import time
from typing import Any

from cryptography.fernet import Fernet, InvalidToken

from core.errors import ConfigError, ImporterError
from core.settings import Secret, Settings

_CONTEXT = b"librenms-netbox-importer job token v1:"


class SealError(ImporterError):
    """A sealed token cannot be opened: another key, altered, or its time is over."""


def _fernet(key: Secret) -> Fernet:
    if not key:
        raise ConfigError(
            "JOB_SECRET is not set: the worker cannot write as the signed-in analyst.",
            hint="Set the same JOB_SECRET (a long random string) for the app and the worker.",
        )
    return Fernet(base64.urlsafe_b64encode(hashlib.sha256(_CONTEXT + key.get().encode()).digest()))


def seal(token: Secret, expires: float, key: Secret) -> str:
    """The token, encrypted with the key and bound to `expires` (epoch seconds)."""
    plain = json.dumps({"token": token.get(), "expires": expires}).encode()
    return _fernet(key).encrypt(plain).decode()


def unseal(sealed: str, key: Secret, *, now: float | None = None) -> tuple[Secret, float]:
    """(token, expires) of a sealed token. Raises SealError when it cannot be opened or has expired."""
    try:
        data = json.loads(_fernet(key).decrypt(sealed.encode()))
    except (InvalidToken, ValueError):
        raise SealError(
            "The analyst's sealed NetBox token cannot be opened here.",
            hint="The app and the worker must have the same JOB_SECRET.",
        ) from None
    expires = float(data["expires"])
    if (time.time() if now is None else now) >= expires:
        raise SealError(
            "The analyst's NetBox sign-in expired before the job ran: sign in again and start it again."
        )
    return Secret(str(data["token"])), expires


def actor_of(settings: Settings) -> dict[str, Any]:
    """Who a job acts for, as plain JSON for the queue: the analyst's name and, when the session writes with
    their own token, that token sealed. Raises ConfigError when it must be sealed and JOB_SECRET is unset."""
    sealed = (
        seal(settings.netbox_token, settings.token_expires, settings.job_secret)
        if settings.personal_token
        else ""
    )
    return {"analyst": settings.analyst, "token": sealed}


def open_actor(settings: Settings, actor: dict[str, Any] | None) -> Settings:
    """The worker's settings for a job's actor: named as the analyst, writing with their token when the
    job carries one. A job without an actor (queued by the command line, or before sign-in existed) runs
    with the worker's own settings. Raises SealError."""
    if not actor or not actor.get("analyst"):
        return settings
    if not actor.get("token"):
        return settings.as_analyst(str(actor["analyst"]))
    token, expires = unseal(str(actor["token"]), settings.job_secret)
    return settings.as_analyst(str(actor["analyst"]), token, expires)
