"""`python -m core check`: every service reachable, its token accepted, its version; 1 when one fails."""

from __future__ import annotations

from pathlib import Path

from tests.cli.conftest import BAD_LIBRENMS_TOKEN, LIBRENMS_VERSION, assert_no_secret, run
from tests.conftest import SIM_TOKEN
from tests.helpers import closed_port


def test_check_with_everything_up_exits_0_and_prints_versions(env, nb, tmp_path: Path) -> None:
    result = run(env, "check", cwd=tmp_path)

    assert result.returncode == 0, result.stdout + result.stderr
    lines = {line.split()[1]: line for line in result.stdout.splitlines() if line.strip()}
    assert set(lines) == {"LibreNMS", "NetBox", "Redis"}
    assert all(line.startswith("OK") for line in lines.values())
    assert LIBRENMS_VERSION in lines["LibreNMS"]
    assert nb.status()["netbox-version"] in lines["NetBox"]
    assert_no_secret(result, SIM_TOKEN, env["NETBOX_TOKEN"])


def test_check_with_netbox_down_exits_1(env, tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    result = run({**env, "NETBOX_URL": url}, "check", cwd=tmp_path)

    assert result.returncode == 1
    netbox = next(line for line in result.stdout.splitlines() if " NetBox " in line)
    assert netbox.startswith("FAILING") and "cannot be reached" in netbox
    assert next(line for line in result.stdout.splitlines() if " LibreNMS " in line).startswith("OK")
    assert "NetBox" in result.stderr


def test_check_with_bad_librenms_token_exits_1(env, tmp_path: Path) -> None:
    result = run({**env, "LIBRENMS_TOKEN": BAD_LIBRENMS_TOKEN}, "check", cwd=tmp_path)

    assert result.returncode == 1
    assert "401" in result.stdout
    assert_no_secret(result, BAD_LIBRENMS_TOKEN)
