"""The analyst using the app: who they are in NetBox, how they signed in, whether they may do admin actions,
and the NetBox token their session writes with."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from core.choices import SignInMethod
from core.settings import Secret, Settings


@dataclass(frozen=True, slots=True)
class Analyst:
    username: str  # as NetBox knows them
    method: SignInMethod
    is_admin: bool = False  # NetBox superuser, or member of the ADMIN_GROUP group
    token: Secret = field(default_factory=lambda: Secret(""))  # their own NetBox token ("" with AUTH=none)
    token_id: int | None = None  # the token the app asked NetBox for: sign-out deletes it
    expires: float = 0.0  # epoch seconds the session stops using the token (its NetBox expiry or sooner)

    @property
    def provisioned(self) -> bool:
        """The app asked NetBox for this token (a password sign-in): signing out deletes it."""
        return self.method is SignInMethod.PASSWORD and self.token_id is not None

    def expired(self, now: float | None = None) -> bool:
        return bool(self.expires) and (time.time() if now is None else now) >= self.expires

    def settings(self, base: Settings) -> Settings:
        """The settings this analyst's session works with: their name on every change, and their own token
        for every NetBox request when they have one (AUTH=none: the service token)."""
        if self.method is SignInMethod.NONE:
            return base
        return base.as_analyst(self.username, self.token, self.expires)


def local_user() -> Analyst:
    """AUTH=none: one user on their own machine, acting with the service token, allowed everything."""
    return Analyst(username="", method=SignInMethod.NONE, is_admin=True)
