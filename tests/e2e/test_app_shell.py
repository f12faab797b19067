"""The app comes up in a real browser and shows the services it talks to, without any token."""

from __future__ import annotations

import pytest

from tests.conftest import SIM_TOKEN
from tests.e2e.conftest import settle, shot

pytestmark = pytest.mark.e2e


def test_connections_page_shows_every_service_up_and_no_token(
    page, app_url: str, stack_env: dict[str, str]
) -> None:
    page.goto(f"{app_url}/connections")
    page.get_by_text("Settings in force").wait_for()
    page.get_by_text("Services").wait_for()
    settle(page)
    shot(page, "connections")
    body = page.inner_text("body")
    assert "NetBox 4.7.3" in body
    assert "LibreNMS 26.6.0" in body
    assert "Redis" in body
    for secret in (SIM_TOKEN, stack_env["NETBOX_TOKEN"], stack_env["NETBOX_TOKEN"].split(".")[-1]):
        assert secret not in page.content()
