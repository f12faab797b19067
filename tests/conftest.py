"""Shared fixtures: the real local NetBox ('test' stack), Redis, the LibreNMS simulator, settings.

Run through devtools/test.sh, which resets the test stack and exports its settings. Running pytest directly
works too after `STACK=test devtools/stack.sh up`: the settings are then read from .stack/test/netbox.env.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pynetbox
import pytest

from core.settings import Settings, load_settings

ROOT = Path(__file__).resolve().parent.parent
STACK_ENV = ROOT / ".stack" / "test" / "netbox.env"
FIXTURES = ROOT / "devtools" / "librenms-data"
DEMO_MAPPINGS = ROOT / "devtools" / "demo-mappings.yaml"
SIM_TOKEN = "test-librenms-token-5f2c"


def _stack_env() -> dict[str, str]:
    keys = ("NETBOX_URL", "NETBOX_TOKEN", "NETBOX_TOKEN_NOPERM", "REDIS_URL")
    if all(os.environ.get(k) for k in keys):
        return {k: os.environ[k] for k in (*keys, "JOB_SECRET") if k in os.environ}
    if not STACK_ENV.is_file():
        pytest.fail("No test NetBox: run devtools/test.sh, or `STACK=test devtools/stack.sh up` first.")
    env = {}
    for line in STACK_ENV.read_text().splitlines():
        if "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            env[key] = value
    return env


# What a test needs, told by the fixtures it uses (directly or through other fixtures): the marker follows,
# so `pytest -m "not netbox"` runs the pure tests only, and no test can forget its marker.
NEEDS = {
    "netbox": frozenset({"stack_env"}),
    "redis": frozenset({"redis_url"}),
    "browser": frozenset({"browser"}),
}


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        used = set(getattr(item, "fixturenames", ()))
        for marker, fixtures in NEEDS.items():
            if used & fixtures:
                item.add_marker(marker)


@pytest.fixture(scope="session")
def redis_url(stack_env: dict[str, str]) -> str:
    """The app's Redis database of the test stack (tests remove only the keys they made)."""
    return stack_env["REDIS_URL"]


@pytest.fixture(scope="session")
def stack_env() -> dict[str, str]:
    return _stack_env()


@pytest.fixture(scope="session")
def nb(stack_env: dict[str, str]) -> pynetbox.api:
    """pynetbox on the test NetBox as its superuser."""
    return pynetbox.api(stack_env["NETBOX_URL"], token=stack_env["NETBOX_TOKEN"])


@pytest.fixture(scope="session")
def reference_data(nb: pynetbox.api) -> pynetbox.api:
    """The demo reference data (sites, types, roles, racks, clusters, librenms_id field), loaded once."""
    from devtools import demo_data

    demo_data.load(nb)
    return nb


@pytest.fixture(scope="session")
def sim() -> Iterator:
    from devtools.librenms_sim import LibreNMSSimulator

    simulator = LibreNMSSimulator(tokens=[SIM_TOKEN]).start()
    yield simulator
    simulator.stop()


def stack_settings(stack_env: dict[str, str], librenms_url: str, tmp: Path) -> Settings:
    """Settings pointing at the test NetBox, this LibreNMS (simulator) and a copy of the demo mappings in
    `tmp` (tests may edit it); no secrets file."""
    mapping = tmp / "mappings.yaml"
    mapping.write_text(DEMO_MAPPINGS.read_text(encoding="utf-8"), encoding="utf-8")
    return load_settings(
        {
            "LIBRENMS_URL": librenms_url,
            "LIBRENMS_TOKEN": SIM_TOKEN,
            "NETBOX_URL": stack_env["NETBOX_URL"],
            "NETBOX_TOKEN": stack_env["NETBOX_TOKEN"],
            "REDIS_URL": stack_env["REDIS_URL"],
            "MAPPING_FILE": str(mapping),
        },
        secrets_file=tmp / "none.toml",
    )


@pytest.fixture
def settings(stack_env: dict[str, str], sim, tmp_path: Path) -> Settings:
    """Settings on the test NetBox, the shared simulator and the demo mappings."""
    return stack_settings(stack_env, sim.url, tmp_path)
