"""A job carries the analyst's NetBox token sealed: only a holder of JOB_SECRET opens it, and not after the
token's expiry."""

from __future__ import annotations

import time

import pytest

from core.auth import SealError, actor_of, open_actor, seal, unseal
from core.errors import ConfigError
from core.settings import Secret, Settings

TOKEN = Secret("nbt_abcdefghijkl.0123456789012345678901234567890123456789")
KEY = Secret("a shared job secret of the app and the worker")


def analyst_settings(**changes: object) -> Settings:
    base = Settings(netbox_url="http://netbox.example", netbox_token=Secret("service-token"), job_secret=KEY)
    return base.as_analyst("alice", TOKEN, time.time() + 600)


def test_a_sealed_token_opens_with_the_same_key_to_the_token_and_its_expiry() -> None:
    expires = time.time() + 60
    token, until = unseal(seal(TOKEN, expires, KEY), KEY)
    assert token == TOKEN and until == pytest.approx(expires)


def test_a_sealed_token_shows_nothing_of_the_token() -> None:
    sealed = seal(TOKEN, time.time() + 60, KEY)
    secret_part = TOKEN.get().split(".")[1]
    assert TOKEN.get() not in sealed and secret_part not in sealed and "abcdefghijkl" not in sealed


def test_another_key_cannot_open_a_sealed_token() -> None:
    sealed = seal(TOKEN, time.time() + 60, KEY)
    with pytest.raises(SealError, match="same JOB_SECRET"):
        unseal(sealed, Secret("another secret"))


def test_an_altered_sealed_token_is_refused() -> None:
    sealed = seal(TOKEN, time.time() + 60, KEY)
    altered = sealed[:-6] + ("A" if sealed[-6] != "A" else "B") + sealed[-5:]
    with pytest.raises(SealError):
        unseal(altered, KEY)


def test_a_sealed_token_is_refused_once_the_token_has_expired() -> None:
    sealed = seal(TOKEN, time.time() + 60, KEY)
    with pytest.raises(SealError, match="expired"):
        unseal(sealed, KEY, now=time.time() + 61)


def test_sealing_without_a_job_secret_is_a_config_error_naming_the_setting() -> None:
    with pytest.raises(ConfigError, match="JOB_SECRET"):
        seal(TOKEN, time.time() + 60, Secret(""))


def test_an_analysts_actor_carries_their_name_and_their_token_sealed_only() -> None:
    settings = analyst_settings()
    actor = actor_of(settings)
    assert actor["analyst"] == "alice"
    assert TOKEN.get() not in str(actor)
    opened = open_actor(Settings(netbox_token=Secret("worker's service token"), job_secret=KEY), actor)
    assert opened.netbox_token == TOKEN and opened.analyst == "alice" and opened.personal_token


def test_a_session_on_the_service_token_sends_only_the_analysts_name() -> None:
    base = Settings(netbox_token=Secret("service-token"), job_secret=KEY)
    actor = actor_of(base.as_analyst("bob"))
    assert actor == {"analyst": "bob", "token": ""}
    opened = open_actor(base, actor)
    assert opened.analyst == "bob" and opened.netbox_token == Secret("service-token")


def test_a_job_without_an_actor_runs_with_the_workers_own_settings() -> None:
    base = Settings(netbox_token=Secret("service-token"))
    assert open_actor(base, None) is base
    assert open_actor(base, {}) is base
