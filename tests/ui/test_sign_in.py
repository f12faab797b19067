"""Sign-in in the app (AppTest, the real test NetBox and its users): no page works without it, a wrong
password is said plainly, signing out deletes the session's token in NetBox, admins alone edit mappings,
NetBox's own permissions decide the Import button, and AUTH=none says what it means."""

from __future__ import annotations

import pynetbox
import pytest
from streamlit.testing.v1 import AppTest

from core.auth import sign_out
from core.choices import RowStatus
from core.librenms import DeviceFilter
from core.mapping import load_mappings
from core.review import build_review
from core.search import SearchResult
from core.settings import load_settings
from tests.conftest import DEMO_MAPPINGS, ROOT
from tests.helpers import demo_index, fixture_devices, password_of
from ui.auth import ANALYST, NONE_BANNER
from ui.review import STATE, PageState

PAGES = ["pages/import_devices.py", "pages/mappings.py", "pages/runs.py", "pages/connections.py"]
TIMEOUT = 60


def fresh() -> AppTest:
    """A new browser session that has not signed in."""
    return AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)


def signed_in_as(username: str, at: AppTest | None = None) -> AppTest:
    at = at or fresh()
    at.run()
    fields = {t.label: t for t in at.text_input}
    fields["NetBox username"].input(username)
    fields["Password"].input(password_of(username))
    next(b for b in at.button if b.label == "Sign in").click().run()
    assert not at.exception, at.exception
    return at


def page_titles(at: AppTest) -> list[str]:
    return [t.value for t in at.title]


@pytest.mark.parametrize("page", PAGES)
def test_no_page_runs_for_a_session_that_has_not_signed_in(env: dict, page: str) -> None:
    at = fresh()
    at.query_params["run"] = "0123456789abcdef"
    at.switch_page(page).run()
    assert not at.exception, at.exception
    assert page_titles(at) == ["Sign in"]
    assert {t.label for t in at.text_input} >= {"NetBox username", "Password"}
    assert not at.dataframe and not at.sidebar.button  # nothing of any page, no sidebar actions


def test_a_wrong_password_gets_a_clear_message_and_the_sign_in_page_again(env: dict) -> None:
    at = fresh().run()
    fields = {t.label: t for t in at.text_input}
    fields["NetBox username"].input("analyst")
    fields["Password"].input("not-the-password")
    next(b for b in at.button if b.label == "Sign in").click().run()
    assert [e.value for e in at.error] == ["NetBox did not accept that username and password."]
    assert page_titles(at) == ["Sign in"] and ANALYST not in at.session_state


def test_signing_in_opens_the_app_as_the_analyst_with_a_token_of_their_own(
    env: dict, nb: pynetbox.api
) -> None:
    """(Signing out, and the token gone from NetBox after it, is the browser test's: tests/browser.)"""
    at = signed_in_as("analyst")
    assert page_titles(at) == ["Import devices from LibreNMS"]
    analyst = at.session_state[ANALYST]
    assert analyst.username == "analyst" and nb.users.tokens.get(analyst.token_id).user.username == "analyst"
    assert any("Signed in as **analyst**" in c.value for c in at.sidebar.caption)
    assert [b for b in at.sidebar.button if b.label == "Sign out"]
    signed_out(at)


def test_only_an_admin_may_edit_the_mapping_tables(env: dict) -> None:
    viewer = signed_in_as("viewer")
    viewer.switch_page("pages/mappings.py").run()
    assert not viewer.exception, viewer.exception
    assert any("Read-only" in i.value for i in viewer.info)
    assert not [b for b in viewer.button if b.label == "Save"]
    assert not [b for b in viewer.button if b.label.startswith("Map to")]
    signed_out(viewer)

    lead = signed_in_as("lead")  # in the admin group, not a superuser
    lead.switch_page("pages/mappings.py").run()
    assert not lead.exception, lead.exception
    assert [b for b in lead.button if b.label == "Save"]
    signed_out(lead)


def test_the_import_button_says_what_netbox_will_not_let_the_analyst_write(env: dict) -> None:
    review = build_review(list(fixture_devices().values()), demo_index(), load_mappings(DEMO_MAPPINGS))
    assert any(row.status is RowStatus.READY for row in review.rows.values())
    at = signed_in_as("viewer")
    at.session_state[STATE] = PageState(
        search=SearchResult(review, DeviceFilter(), "default", found=len(review), excluded_existing=0)
    )
    at.run()
    assert not at.exception, at.exception
    button = next(b for b in at.button if b.label.startswith("Import ") and "ready rows" in b.label)
    assert button.disabled
    (warning,) = [w.value for w in at.warning if "does not let you" in w.value]
    assert "add devices" in warning
    signed_out(at)


def test_with_auth_none_the_app_opens_without_sign_in_and_says_so(
    env: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AUTH", "none")
    at = fresh().run()
    assert not at.exception, at.exception
    assert page_titles(at) == ["Import devices from LibreNMS"]
    assert [w.value for w in at.warning if w.value == NONE_BANNER]


def signed_out(at: AppTest) -> None:
    """The test's session ends: its token is deleted as sign-out deletes it."""
    sign_out(load_settings(), at.session_state[ANALYST])
