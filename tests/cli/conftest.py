"""`python -m core` as a user runs it: a subprocess with settings in its environment, against the LibreNMS
simulator and the test NetBox. Exit codes: 0 done, 1 check found a failing service, 2 could not run."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import DEMO_MAPPINGS, FIXTURES, ROOT, SIM_TOKEN

FIXTURE_DEVICES = json.loads((FIXTURES / "devices.json").read_text(encoding="utf-8"))["devices"]
LIBRENMS_VERSION = json.loads((FIXTURES / "system.json").read_text(encoding="utf-8"))["system"][0][
    "local_ver"
]
BAD_LIBRENMS_TOKEN = "wrong-librenms-token-8d1e7c"
BAD_NETBOX_TOKEN = "0123456789abcdef0123456789abcdef01234567"


def enabled(device: dict) -> bool:
    return str(device.get("disabled")) in {"0", "False", "false", "None"}


@pytest.fixture
def env(stack_env, sim, reference_data, tmp_path: Path) -> dict[str, str]:
    """A clean environment: only what the CLI needs, pointing at the simulator and the test NetBox."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "PYTHONPATH": str(ROOT),
        "LIBRENMS_URL": sim.url,
        "LIBRENMS_TOKEN": SIM_TOKEN,
        "NETBOX_URL": stack_env["NETBOX_URL"],
        "NETBOX_TOKEN": stack_env["NETBOX_TOKEN"],
        "REDIS_URL": stack_env["REDIS_URL"],
        "MAPPING_FILE": str(DEMO_MAPPINGS),
    }


def run(env: dict[str, str], *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """`python -m core ARGS` in `cwd` (a temporary directory: no .streamlit/secrets.toml there)."""
    return subprocess.run(
        [sys.executable, "-m", "core", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=180,
    )


def read_csv(path: Path) -> list[dict[str, str]]:
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf"), "CSV files carry a UTF-8 BOM for Excel"
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def assert_no_secret(result: subprocess.CompletedProcess[str], *secrets: str) -> None:
    for secret in secrets:
        assert secret not in result.stdout
        assert secret not in result.stderr
