"""Signing in through single sign-on (AUTH=oidc): Streamlit's st.login talks OpenID Connect to the
identity provider; here its claims become the analyst. Writes then use the service token, and the analyst is
named in every changelog message and run record; whether they may do admin actions is what NetBox says of
its user of the same name."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from core import defaults
from core.auth.analyst import Analyst
from core.auth.signin import SignInRefused, netbox_admin
from core.choices import SignInMethod
from core.settings import Settings


def username_of(claims: Mapping[str, Any]) -> str:
    """The analyst's name: the first of OIDC_USERNAME_CLAIMS the provider gives."""
    for claim in defaults.OIDC_USERNAME_CLAIMS:
        value = claims.get(claim)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return ""


def sso_analyst(settings: Settings, claims: Mapping[str, Any]) -> Analyst:
    """The analyst the identity provider's claims name. Raises SignInRefused when they name nobody."""
    username = username_of(claims)
    if not username:
        raise SignInRefused(
            "The identity provider did not say who you are (no "
            + ", ".join(defaults.OIDC_USERNAME_CLAIMS)
            + " claim)."
        )
    return Analyst(username=username, method=SignInMethod.SSO, is_admin=netbox_admin(settings, username))
