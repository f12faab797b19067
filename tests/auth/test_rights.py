"""Who may act in the app: admins act on everything, analysts on their own runs; nobody signed in, on nothing."""

from __future__ import annotations

from core.auth import Analyst, local_user, may_act_on, may_administer
from core.choices import SignInMethod

ALICE = Analyst("alice", SignInMethod.PASSWORD)
ADMIN = Analyst("root", SignInMethod.PASSWORD, is_admin=True)


def test_only_admins_may_administer() -> None:
    assert may_administer(ADMIN)
    assert not may_administer(ALICE)
    assert not may_administer(None)


def test_an_analyst_acts_on_their_own_runs_only() -> None:
    assert may_act_on(ALICE, "alice")
    assert not may_act_on(ALICE, "bob")
    assert not may_act_on(ALICE, "")  # a run from the command line is an admin's to act on


def test_an_admin_acts_on_anyones_run() -> None:
    assert may_act_on(ADMIN, "alice") and may_act_on(ADMIN, "")


def test_nobody_signed_in_acts_on_nothing() -> None:
    assert not may_act_on(None, "")


def test_without_sign_in_the_local_user_may_do_everything() -> None:
    user = local_user()
    assert may_administer(user) and may_act_on(user, "alice")
