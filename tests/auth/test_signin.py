"""Signing in with NetBox, on the real test NetBox and the users devtools/stack.sh makes: a personal token
that expires, named for the analyst; a clear refusal; sign-out and the end of a session delete the token;
who is an admin."""

from __future__ import annotations

import time
from datetime import datetime

import pynetbox
import pytest
import requests

from core import defaults
from core.auth import SessionTokens, SignInRefused, sign_in, sign_in_with_token, sign_out
from core.choices import SignInMethod
from core.settings import Settings, load_settings
from tests.helpers import password_of


@pytest.fixture
def settings(stack_env: dict[str, str]) -> Settings:
    return load_settings({**stack_env, "SESSION_HOURS": "2"})


def works(settings: Settings, token: str) -> bool:
    response = requests.get(
        f"{settings.netbox_url}/api/status/", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    return response.status_code == 200


def test_signing_in_gets_the_analyst_a_personal_token_that_expires_after_session_hours(
    settings: Settings, nb: pynetbox.api
) -> None:
    before = time.time()
    analyst = sign_in(settings, "analyst", password_of("analyst"))
    try:
        assert analyst.username == "analyst" and analyst.method is SignInMethod.PASSWORD
        assert analyst.provisioned and works(settings, analyst.token.get())
        record = nb.users.tokens.get(analyst.token_id)
        assert record.user.username == "analyst" and record.description == defaults.TOKEN_DESCRIPTION
        expires = datetime.fromisoformat(str(record.expires)).timestamp()
        assert before + 2 * 3600 - 5 <= expires <= time.time() + 2 * 3600 + 5
        assert analyst.expires == pytest.approx(expires, abs=2)
    finally:
        sign_out(settings, analyst)


def test_a_wrong_password_is_refused_in_words_and_makes_no_token(
    settings: Settings, nb: pynetbox.api
) -> None:
    tokens = len(list(nb.users.tokens.filter(user="analyst")))
    with pytest.raises(SignInRefused, match="did not accept that username and password"):
        sign_in(settings, "analyst", "not-the-password")
    with pytest.raises(SignInRefused, match="did not accept"):
        sign_in(settings, "nobody-by-this-name", "whatever")
    assert len(list(nb.users.tokens.filter(user="analyst"))) == tokens


def test_signing_out_deletes_the_token_in_netbox(settings: Settings, nb: pynetbox.api) -> None:
    analyst = sign_in(settings, "viewer", password_of("viewer"))
    sign_out(settings, analyst)
    assert nb.users.tokens.get(analyst.token_id) is None
    assert not works(settings, analyst.token.get())
    sign_out(settings, analyst)  # twice: the token is gone already, which is what sign-out wants


def test_superusers_and_members_of_the_admin_group_are_admins_others_are_not(settings: Settings) -> None:
    seen = {}
    for username in ("admin", "lead", "analyst", "viewer"):
        analyst = sign_in(settings, username, password_of(username))
        seen[username] = analyst.is_admin
        sign_out(settings, analyst)
    assert seen == {"admin": True, "lead": True, "analyst": False, "viewer": False}


def test_the_admin_group_is_a_setting(stack_env: dict[str, str]) -> None:
    settings = load_settings({**stack_env, "ADMIN_GROUP": "some-other-group"})
    analyst = sign_in(settings, "lead", password_of("lead"))
    sign_out(settings, analyst)
    assert not analyst.is_admin


def test_a_pasted_token_signs_in_its_own_user_and_stays_in_netbox_at_sign_out(
    settings: Settings, nb: pynetbox.api
) -> None:
    user = nb.users.users.get(username="analyst")
    token = nb.users.tokens.create(user=user.id, write_enabled=True, description="analyst's own")
    secret = f"nbt_{token.key}.{token.token}"
    try:
        analyst = sign_in_with_token(settings, secret)
        assert analyst.username == "analyst" and analyst.method is SignInMethod.TOKEN
        assert not analyst.is_admin and not analyst.provisioned
        assert analyst.expires <= time.time() + 2 * 3600 + 5  # the session still ends after SESSION_HOURS
        sign_out(settings, analyst)
        assert works(settings, secret)
    finally:
        token.delete()


def test_a_token_netbox_does_not_know_or_that_is_not_v2_is_refused(settings: Settings) -> None:
    with pytest.raises(SignInRefused, match="did not accept that token"):
        sign_in_with_token(settings, "nbt_abcdefghijkl.0123456789012345678901234567890123456789")
    with pytest.raises(SignInRefused, match="nbt_"):
        sign_in_with_token(settings, "0123456789012345678901234567890123456789")


def test_a_read_only_token_is_refused(settings: Settings, nb: pynetbox.api) -> None:
    user = nb.users.users.get(username="viewer")
    token = nb.users.tokens.create(user=user.id, write_enabled=False)
    try:
        with pytest.raises(SignInRefused, match="may only read"):
            sign_in_with_token(settings, f"nbt_{token.key}.{token.token}")
    finally:
        token.delete()


def test_the_tokens_of_ended_sessions_are_deleted_and_those_of_live_ones_kept(
    settings: Settings, nb: pynetbox.api
) -> None:
    gone = sign_in(settings, "analyst", password_of("analyst"))
    live = sign_in(settings, "viewer", password_of("viewer"))
    tokens = SessionTokens(settings)
    tokens.register("session-gone", gone)
    tokens.register("session-live", live)
    try:
        assert tokens.sweep(lambda session: session == "session-live") == 1
        assert nb.users.tokens.get(gone.token_id) is None
        assert nb.users.tokens.get(live.token_id) is not None
        assert tokens.sessions() == ["session-live"]
    finally:
        sign_out(settings, live)
