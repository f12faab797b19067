"""Single sign-on in a real browser (AUTH=oidc): Streamlit's st.login against a real OpenID Connect
provider on 127.0.0.1. The provider says who the analyst is; NetBox writes use the service token, and the
analyst is named in every changelog message and in the run; admin rights are what NetBox says of its user
of that name."""

from __future__ import annotations

import re

import pynetbox
import pytest

from tests.browser.conftest import settle, shot
from tests.helpers import Lab, delete_lab_objects

DEVICE = "fw-hq01"  # ready with the demo data


def sso_sign_in(page, app_url: str, subject: str) -> None:
    page.goto(app_url)
    page.get_by_role("button", name=re.compile("Sign in with single sign-on")).click()
    page.get_by_role("button", name=f"Authorize as {subject}").click()  # the provider's own page
    page.get_by_text(f"Signed in as {subject}").wait_for()
    settle(page)


def sign_out(page) -> None:
    """Sign out of the app and of the provider (st.logout ends the provider's session too), back to the
    app's sign-in page."""
    page.locator("[data-testid='stSidebar']").get_by_role("button", name=re.compile("Sign out")).click()
    page.get_by_role("button", name="End session").click()  # the provider's own page
    page.get_by_role("button", name=re.compile("Sign in with single sign-on")).wait_for()
    settle(page)


@pytest.fixture
def cleanup(nb: pynetbox.api, app_lab: Lab):
    yield
    delete_lab_objects(nb, app_lab)


def test_an_analyst_signed_in_by_the_identity_provider_is_named_in_netboxs_changelog(
    page, sso_app_url: str, app_lab: Lab, nb: pynetbox.api, cleanup
) -> None:
    page.goto(f"{sso_app_url}/runs")
    page.get_by_role("heading", name="Sign in").wait_for()
    settle(page)
    shot(page, "sso-sign-in")
    assert page.get_by_role("heading", name="Runs").count() == 0

    sso_sign_in(page, sso_app_url, "lead")
    shot(page, "sso-signed-in")
    assert (
        "Signed in as lead (admin, single sign-on)" in page.locator("[data-testid='stSidebar']").inner_text()
    )

    page.get_by_label("Hostname contains").fill(app_lab.device(DEVICE)["hostname"])
    page.get_by_role("button", name="Search").click()
    page.get_by_text(re.compile(r"Found 1 devices")).wait_for(timeout=60_000)
    settle(page)
    page.get_by_role("button", name="Import 1 ready rows").click()
    page.get_by_role("dialog").get_by_role("button", name="Import", exact=True).click()
    page.get_by_text("Import finished: created 1, skipped 0, failed 0").wait_for(timeout=120_000)
    settle(page)
    shot(page, "sso-imported")

    (device,) = nb.dcim.devices.filter(cf_librenms_id=app_lab.device_id(DEVICE))
    changes = list(
        nb.core.object_changes.filter(changed_object_type="dcim.device", changed_object_id=device.id)
    )
    assert changes and {c.user_name for c in changes} == {"admin"}  # the service token's user
    assert all(c.message.endswith(", by lead") for c in changes)
    page.get_by_role("link", name=re.compile(r"on the Runs page")).click()
    page.get_by_text(re.compile(r"^Run [0-9a-f]{32} by lead,")).wait_for()

    sign_out(page)
    shot(page, "sso-signed-out")


def test_someone_netbox_does_not_know_is_signed_in_but_not_an_admin(
    page, sso_app_url: str, app_lab: Lab
) -> None:
    sso_sign_in(page, sso_app_url, "sso-only")
    assert (
        "Signed in as sso-only (analyst, single sign-on)"
        in page.locator("[data-testid='stSidebar']").inner_text()
    )
    page.get_by_role("link", name=re.compile("Mappings")).click()
    page.get_by_role("heading", name="Mappings").wait_for()
    settle(page)
    assert page.get_by_text(re.compile("^Read-only: the mapping tables are edited by admins")).count() == 1
    assert page.get_by_role("button", name=re.compile("Save")).count() == 0
    sign_out(page)
