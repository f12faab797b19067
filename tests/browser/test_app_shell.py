"""The app comes up in a real browser and shows the services it talks to, without any token."""

from __future__ import annotations

import re

from core.values import public_url
from tests.browser.conftest import settle, shot, sign_in
from tests.conftest import SIM_TOKEN
from tests.helpers import Lab


def service_box(page, name: str):
    """The Connections page's box of one service: '<mark> <name> <version>' over its detail."""
    title = page.locator("[data-testid='stMain'] [data-testid='stMarkdownContainer']").filter(
        has_text=re.compile(rf"^(🟢|🔴) {re.escape(name)}\b")
    )
    assert title.count() == 1, f"one service called {name}"
    return title.locator("xpath=ancestor::div[@data-testid='stVerticalBlock'][1]")


def test_connections_page_shows_every_service_up_and_no_token(
    page, app_url: str, app_lab: Lab, stack_env: dict[str, str]
) -> None:
    page.goto(f"{app_url}/connections")
    sign_in(page, "admin")  # a link to a page opens it once signed in
    page.get_by_text("Settings in force").wait_for()
    page.get_by_text("Services").wait_for()
    settle(page)
    shot(page, "connections")
    expected = {
        "LibreNMS": ("26.6.0", f"reachable at {app_lab.sim.url}"),
        "NetBox": (
            "4.7.3",
            f"reachable at {stack_env['NETBOX_URL'].rstrip('/')}; librenms_id field: integer",
        ),
        "Redis": ("", f"reachable at {public_url(stack_env['REDIS_URL'])}"),
    }
    for name, (version, detail) in expected.items():
        text = service_box(page, name).inner_text()
        assert re.match(rf"🟢 {name} {re.escape(version)}", text), text  # 🔴 when the check failed
        assert detail in text, text
    sidebar = page.locator("[data-testid='stSidebar']").inner_text()
    assert {"🟢 LibreNMS", "🟢 NetBox", "🟢 Redis"} <= set(sidebar.splitlines()), sidebar
    for secret in (SIM_TOKEN, stack_env["NETBOX_TOKEN"], stack_env["NETBOX_TOKEN"].split(".")[-1]):
        assert secret not in page.content()


def test_analysts_get_no_deploy_rerun_or_clear_cache_menu(page, app_url: str, app_lab: Lab) -> None:
    page.goto(f"{app_url}/connections")
    sign_in(page, "admin")  # a link to a page opens it once signed in
    page.get_by_text("Settings in force").wait_for()
    settle(page)
    shot(page, "no-deploy-menu")

    assert page.locator("[data-testid='stAppDeployButton']").count() == 0
    assert page.get_by_text("Deploy", exact=True).count() == 0
