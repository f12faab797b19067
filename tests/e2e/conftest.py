"""End-to-end fixtures: the app served by `streamlit run app.py` against the test stack, driven by Debian's
headless Chromium through Playwright. Screenshots go to artifacts/screenshots/ (look at them)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from devtools.appserver import serve_app
from tests.conftest import DEMO_MAPPINGS, ROOT, SIM_TOKEN

SCREENSHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def app_url(
    stack_env: dict[str, str], sim, reference_data, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    mapping = tmp_path_factory.mktemp("e2e") / "mappings.yaml"
    mapping.write_text(DEMO_MAPPINGS.read_text(encoding="utf-8"), encoding="utf-8")
    env = {**stack_env, "LIBRENMS_URL": sim.url, "LIBRENMS_TOKEN": SIM_TOKEN, "MAPPING_FILE": str(mapping)}
    with serve_app(env, tmp_path_factory.mktemp("e2e-log") / "streamlit.log") as url:
        yield url


@pytest.fixture(scope="session")
def browser() -> Iterator:
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is missing: run devtools/bootstrap.sh --browser")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser) -> Iterator:
    context = browser.new_context(viewport={"width": 1500, "height": 1900})
    pg = context.new_page()
    pg.set_default_timeout(30_000)
    yield pg
    context.close()


def settle(page, quiet_ms: int = 800, timeout_s: float = 60) -> None:
    """Wait until Streamlit has finished running: its status widget ('Running…/Stop') stays gone for a while."""
    deadline = time.monotonic() + timeout_s
    quiet_since = None
    while time.monotonic() < deadline:
        running = page.locator('[data-testid="stStatusWidget"]').count() > 0
        now = time.monotonic()
        if running:
            quiet_since = None
        elif quiet_since is None:
            quiet_since = now
        elif (now - quiet_since) * 1000 >= quiet_ms:
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"the app kept running for more than {timeout_s} s")


def shot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
