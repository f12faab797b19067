"""Single sign-on: the identity provider's claims name the analyst; NetBox says whether that user is an
admin (asked with the service token, on the real test NetBox)."""

from __future__ import annotations

import pytest

from core.auth import SignInRefused, sso_analyst, username_of
from core.choices import SignInMethod
from core.settings import Settings, load_settings


def test_the_analyst_is_named_by_the_first_claim_the_provider_gives() -> None:
    assert username_of({"preferred_username": "alice", "email": "a@x", "sub": "1"}) == "alice"
    assert username_of({"preferred_username": " ", "email": "a@x", "sub": "1"}) == "a@x"
    assert username_of({"sub": "1"}) == "1"
    assert username_of({}) == ""


def test_claims_that_name_nobody_are_refused_in_words() -> None:
    with pytest.raises(SignInRefused, match="did not say who you are"):
        sso_analyst(Settings(), {"name": "Someone"})


@pytest.fixture
def settings(stack_env: dict[str, str]) -> Settings:
    return load_settings({**stack_env, "AUTH": "oidc"})


def test_netbox_says_which_single_sign_on_users_are_admins(settings: Settings) -> None:
    seen = {
        name: sso_analyst(settings, {"preferred_username": name}) for name in ("admin", "lead", "analyst")
    }
    assert {name: a.is_admin for name, a in seen.items()} == {"admin": True, "lead": True, "analyst": False}
    assert all(a.method is SignInMethod.SSO and not a.token for a in seen.values())


def test_a_single_sign_on_user_netbox_does_not_know_is_no_admin(settings: Settings) -> None:
    assert not sso_analyst(settings, {"preferred_username": "nobody-in-netbox"}).is_admin


def test_a_single_sign_on_session_writes_with_the_service_token_under_the_analysts_name(
    settings: Settings,
) -> None:
    session = sso_analyst(settings, {"preferred_username": "lead"}).settings(settings)
    assert session.analyst == "lead" and session.netbox_token == settings.netbox_token
    assert not session.personal_token
