"""Browser-test fixtures: the app served by `streamlit run app.py` against the test stack, driven by Debian's
headless Chromium through Playwright. Screenshots go to artifacts/screenshots/ (look at them).

The app reads its devices from a LibreNMS of its own (`app_lab`: the fixture devices renamed for this run,
tests.helpers.running_lab), so what the browser tests import is no other test module's device; at the end
what was made in NetBox for the lab's devices is deleted, and nothing else."""

from __future__ import annotations

import csv
import io
import json
import re
import secrets
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pynetbox
import pytest
import redis

from core import keys
from devtools.appserver import serve_app
from tests.conftest import ROOT
from tests.helpers import Lab, RedisJanitor, password_of, running_lab

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
def app_lab(reference_data, nb: pynetbox.api, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """The LibreNMS the browser tests' app reads: one copy of the fixture devices, renamed for this run."""
    with running_lab(tmp_path_factory.mktemp("browser-lab"), nb=nb) as lab:
        yield lab


def lab_redis_ids(conn: redis.Redis, lab: Lab) -> list[str]:
    """The ids of the runs and saved searches in Redis that are of the lab's devices: an import with a
    result for one of them, an undo or resume of such an import, a search whose stored devices carry the
    lab's run marker in their names."""
    owned = []
    runs = [member.decode() for member in conn.zrange(keys.jobs_index(), 0, -1)]
    for job_id in runs:
        results = (json.loads(raw) for raw in conn.lrange(keys.job_results(job_id), 0, -1))
        if any(result.get("librenms_id") in lab.devices for result in results):
            owned.append(job_id)
    for job_id in runs:
        raw = conn.get(keys.job(job_id))
        record = json.loads(raw) if raw else {}
        if {record.get("undoes"), record.get("resumes")} & set(owned):
            owned.append(job_id)
    marker = f"-{lab.run}-".encode()
    for raw in conn.lrange(keys.recent_searches(), 0, -1):
        search_id = json.loads(raw)["id"]
        stored = conn.get(keys.search_result(search_id))
        if stored is not None and marker in stored:
            owned.append(search_id)
    return owned


@pytest.fixture(scope="session")
def app_redis(redis_url: str, app_lab: Lab) -> Iterator[RedisJanitor]:
    """What the app writes into the shared Redis for the lab (its import jobs and searches) is removed once
    the app has stopped; nothing of anyone else's (tests.helpers.RedisJanitor)."""
    conn = redis.Redis.from_url(redis_url)
    janitor = RedisJanitor(conn, f"lnbi-browser-{app_lab.run}")
    yield janitor
    janitor.own(*lab_redis_ids(conn, app_lab))
    janitor.cleanup()
    conn.close()


@pytest.fixture(scope="session")
def app_url(
    stack_env: dict[str, str], app_lab: Lab, app_redis: RedisJanitor, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    # a queue of its own: no worker listens there, so an import runs in the app (and says so). The settings
    # that differ from .streamlit/config.toml: the grids' CSV download, the only way to read what a canvas
    # grid shows (grid_rows; analysts do not get it: tests/test_streamlit_config.py), and how long a closed
    # tab's session is kept (so the test of its token's deletion waits seconds, not minutes).
    env = {
        **stack_env,
        **app_lab.env(),
        "QUEUE_NAME": f"lnbi-browser-{app_lab.run}",
        "STREAMLIT_CLIENT_DISABLE_DATA_EXPORT": "false",
        # a closed tab's session ends after 2 s (not 120), and its sign-in token is deleted within 1 s more
        "STREAMLIT_SERVER_DISCONNECTED_SESSION_TTL": "2",
        "SESSION_SWEEP_SECONDS": "1",
    }
    with serve_app(env, tmp_path_factory.mktemp("browser-log") / "streamlit.log") as url:
        yield url


# Who the OpenID Connect provider lets sign in: lead is a NetBox user (in the admin group), the other is not.
SSO_USERS = {
    "lead": {"preferred_username": "lead", "email": "lead@example.net", "name": "Lead Analyst"},
    "sso-only": {"preferred_username": "sso-only", "email": "sso-only@example.net", "name": "Only In SSO"},
}


@pytest.fixture(scope="session")
def oidc_provider() -> Iterator[str]:
    """A real OpenID Connect provider (discovery, authorization code flow, signed ID tokens: the package
    oidc-provider-mock) on 127.0.0.1, whose sign-in form offers the SSO_USERS; yields its issuer URL."""
    import oidc_provider_mock
    from werkzeug.serving import make_server

    users = [oidc_provider_mock.User(sub=sub, claims=claims) for sub, claims in SSO_USERS.items()]
    server = make_server("127.0.0.1", 0, oidc_provider_mock.app(user_claims=users), threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def sso_app_url(
    stack_env: dict[str, str],
    app_lab: Lab,
    app_redis: RedisJanitor,
    oidc_provider: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[str]:
    """The app with AUTH=oidc, signing in through `oidc_provider` with Streamlit's own st.login."""
    folder = tmp_path_factory.mktemp("sso-app")
    secrets_file = folder / "secrets.toml"
    secrets_file.write_text(
        "[auth]\n"
        'redirect_uri = "http://127.0.0.1:{port}/oauth2callback"\n'
        f'cookie_secret = "{secrets.token_urlsafe(32)}"\n'
        'client_id = "librenms-netbox-importer"\n'
        f'client_secret = "{secrets.token_urlsafe(24)}"\n'
        f'server_metadata_url = "{oidc_provider}/.well-known/openid-configuration"\n',
        encoding="utf-8",
    )
    env = {
        **stack_env,
        **app_lab.env(),
        "AUTH": "oidc",
        "QUEUE_NAME": f"lnbi-browser-sso-{app_lab.run}",
        "STREAMLIT_CLIENT_DISABLE_DATA_EXPORT": "false",
    }
    with serve_app(env, folder / "streamlit.log", secrets_file=secrets_file) as url:
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
    context = browser.new_context(viewport={"width": 1500, "height": 1900}, accept_downloads=True)
    # A grid's "Download as CSV" saves through the File System Access API when the browser has it (a native
    # dialog nobody answers headless); without it, it is a plain download Playwright receives (grid_rows).
    context.add_init_script("delete window.showSaveFilePicker;")
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


def grid_rows(page, grid) -> list[dict[str, str]]:
    """What a Streamlit grid (st.data_editor / st.dataframe: a canvas) shows, every row and column, read
    through its toolbar's "Download as CSV", as the user would get it."""
    grid.hover()  # the toolbar shows on hover
    with page.expect_download() as download:
        grid.get_by_role("button", name="Download as CSV").click()
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def sign_in(page, username: str, password: str | None = None, *, wait: bool = True) -> None:
    """Sign in on the page a new session shows (the stack's users: devtools/stack.sh); `wait`: until the app
    has opened (a page of it, no sign-in form)."""
    page.get_by_role("heading", name="Sign in").wait_for()
    page.get_by_label("NetBox username").fill(username)
    page.get_by_label("Password", exact=True).fill(password or password_of(username))
    page.get_by_role("button", name=re.compile(r"Sign in$")).click()
    if wait:
        page.get_by_text(f"Signed in as {username}").wait_for()
        settle(page)
