"""Sign-in in a real browser, with the test stack's NetBox users (devtools/stack.sh): the sign-in page, a
wrong password, an analyst whose NetBox permission covers devices of one site importing rows of two sites,
a viewer who can neither import nor edit mappings, and sign-out deleting the analyst's token in NetBox."""

from __future__ import annotations

import re

import pynetbox
import pytest

from core import defaults
from tests.browser.conftest import grid_rows, settle, shot, sign_in
from tests.helpers import Lab, delete_lab_objects, wait_until

ALLOWED, REFUSED = "fw-hq01", "esx01"  # ready with the demo data: site hq (the analyst's), site dc2-fra


def sign_in_tokens(nb: pynetbox.api, username: str) -> set[int]:
    return {
        t.id for t in nb.users.tokens.filter(user=username) if t.description == defaults.TOKEN_DESCRIPTION
    }


def sign_out(page) -> None:
    page.locator("[data-testid='stSidebar']").get_by_role("button", name=re.compile("Sign out")).click()
    page.get_by_role("heading", name="Sign in").wait_for()
    settle(page)


@pytest.fixture
def cleanup(nb: pynetbox.api, app_lab: Lab):
    yield
    delete_lab_objects(nb, app_lab)


def test_every_page_asks_a_fresh_session_to_sign_in_and_refuses_a_wrong_password_in_words(
    page, app_url: str
) -> None:
    for path, heading in [
        ("", "Import devices from LibreNMS"),
        ("runs?run=0123456789abcdef", "Runs"),
        ("connections", "Connections"),
        ("mappings", "Mappings"),
    ]:
        page.goto(f"{app_url}/{path}")  # a fresh session each time
        page.get_by_role("heading", name="Sign in").wait_for()
        settle(page)
        assert page.get_by_role("heading", name=heading).count() == 0, f"/{path} showed its page"
        assert page.locator("[data-testid='stSidebarNav']").count() == 0
    sign_in(page, "analyst", "not-the-password", wait=False)
    page.get_by_text("NetBox did not accept that username and password.").wait_for()
    settle(page)
    shot(page, "sign-in-wrong-password")
    assert page.get_by_role("heading", name="Sign in").count() == 1


def test_an_analyst_imports_the_rows_netbox_lets_them_and_the_others_fail_with_netboxs_reason(
    page, app_url: str, app_lab: Lab, nb: pynetbox.api, cleanup
) -> None:
    before = sign_in_tokens(nb, "analyst")
    page.goto(app_url)
    shot(page, "sign-in")
    sign_in(page, "analyst")
    (token_id,) = sign_in_tokens(nb, "analyst") - before  # the session's own token, made at sign-in

    page.get_by_role("button", name="Search").click()
    page.get_by_text(re.compile(r"Found \d+ devices")).wait_for(timeout=60_000)
    settle(page)
    page.get_by_role("button", name=re.compile(r"Import \d+ ready rows")).click()
    page.get_by_role("dialog").get_by_role("button", name="Import", exact=True).click()
    page.get_by_text(re.compile(r"^Import (finished|failed)")).wait_for(timeout=120_000)
    settle(page)
    shot(page, "analyst-import-two-sites")

    (allowed,) = nb.dcim.devices.filter(cf_librenms_id=app_lab.device_id(ALLOWED))
    assert allowed.site.slug == "hq" and allowed.primary_ip4 is not None
    changes = list(
        nb.core.object_changes.filter(changed_object_type="dcim.device", changed_object_id=allowed.id)
    )
    assert changes and {c.user_name for c in changes} == {"analyst"}
    assert all(c.message.endswith(", by analyst") for c in changes)
    assert not list(nb.dcim.devices.filter(cf_librenms_id=app_lab.device_id(REFUSED)))
    results = grid_rows(page, page.locator("[data-testid='stDataFrame']").last)  # the import's lines
    (refused,) = [line for line in results if line["name"] == app_lab.name(REFUSED)]
    assert refused["outcome"] == "failed" and "permission" in refused["message"].lower(), refused
    (made,) = [line for line in results if line["name"] == app_lab.name(ALLOWED)]
    assert made["outcome"] == "created", made

    sign_out(page)
    shot(page, "signed-out")
    assert nb.users.tokens.get(token_id) is None
    assert "Your sign-in token was deleted in NetBox." in page.inner_text("body")


def test_a_viewer_can_neither_import_nor_edit_mappings(page, app_url: str, app_lab: Lab) -> None:
    page.goto(app_url)
    sign_in(page, "viewer")
    page.get_by_role("button", name="Search").click()
    page.get_by_text(re.compile(r"Found \d+ devices")).wait_for(timeout=60_000)
    settle(page)
    button = page.get_by_role("button", name=re.compile(r"Import \d+ ready rows"))
    assert button.is_disabled()
    page.get_by_text(re.compile("NetBox does not let you add devices")).wait_for()
    shot(page, "viewer-import")

    page.get_by_role("link", name=re.compile("Mappings")).click()
    page.get_by_role("heading", name="Mappings").wait_for()
    settle(page)
    shot(page, "viewer-mappings")
    assert page.get_by_text(re.compile("^Read-only: the mapping tables are edited by admins")).count() == 1
    assert page.get_by_role("button", name=re.compile("Save")).count() == 0
    assert page.get_by_role("button", name=re.compile("^Map to ")).count() == 0
    sign_out(page)


def test_closing_the_tab_deletes_the_sessions_token_in_netbox(
    browser, app_url: str, nb: pynetbox.api
) -> None:
    """The end of a session (its tab closed, and Streamlit no longer keeping it for a reconnect) deletes the
    token its sign-in made, as signing out would."""
    before = sign_in_tokens(nb, "viewer")
    context = browser.new_context()
    tab = context.new_page()
    tab.goto(app_url)
    sign_in(tab, "viewer")
    (token_id,) = sign_in_tokens(nb, "viewer") - before
    context.close()  # no sign-out: the tab is just gone
    wait_until(lambda: nb.users.tokens.get(token_id) is None, timeout=30, what="the token to be deleted")
