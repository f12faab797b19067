"""`python -m core` as a user runs it: a subprocess with settings in its environment, against the LibreNMS
simulator and the test NetBox. Exit codes: 0 done, 1 check found a failing service, 2 could not run.
"""

from __future__ import annotations

import csv
import io
import json
import os
import socket
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


def closed_port() -> int:
    """A local TCP port nothing listens on."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


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
        timeout=120,
    )


def read_csv(path: Path) -> list[dict[str, str]]:
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf"), "CSV files carry a UTF-8 BOM for Excel"
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def assert_no_secret(result: subprocess.CompletedProcess[str], *secrets: str) -> None:
    for secret in secrets:
        assert secret not in result.stdout
        assert secret not in result.stderr


# ------------------------------------------------------------------ validate


def test_validate_writes_the_review_and_prints_counts(env, tmp_path: Path) -> None:
    out = tmp_path / "review.csv"
    result = run(env, "validate", "--csv", str(out), cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    lines = read_csv(out)
    expected = {d["device_id"] for d in FIXTURE_DEVICES if enabled(d)}
    assert len(lines) == len(expected) == 39
    assert {line["librenms_id"] for line in lines} == {str(i) for i in expected}
    for status in ("ready", "needs input", "exists", "conflict", "blocked"):
        count = sum(line["status"] == status for line in lines)
        assert f"  {status}" in result.stdout
        assert any(row.split() == [*status.split(), str(count)] for row in result.stdout.splitlines()), (
            f"no count line for {status}"
        )
    assert "total" in result.stdout and "NetBox requests:" in result.stdout and "timings:" in result.stdout
    assert f"wrote {len(lines)} row(s)" in result.stdout
    assert_no_secret(result, SIM_TOKEN, env["NETBOX_TOKEN"])
    text = out.read_text(encoding="utf-8-sig")
    assert SIM_TOKEN not in text and env["NETBOX_TOKEN"] not in text and "nw-r0-c0mmunity" not in text


def test_validate_show_disabled_and_stacks(env, tmp_path: Path) -> None:
    out = tmp_path / "all.csv"
    result = run(env, "validate", "--show-disabled", "--stacks", "--csv", str(out), cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    lines = read_csv(out)
    assert len(lines) == len(FIXTURE_DEVICES) == 40
    assert any(line["stack_members"].count("|") >= 1 for line in lines)


def test_validate_filters_by_os(env, tmp_path: Path) -> None:
    out = tmp_path / "iosxe.csv"
    result = run(env, "validate", "--os", "iosxe", "--csv", str(out), cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    lines = read_csv(out)
    expected = {str(d["device_id"]) for d in FIXTURE_DEVICES if d["os"] == "iosxe" and enabled(d)}
    assert 0 < len(lines) < 39
    assert {line["librenms_id"] for line in lines} == expected
    assert {line["os"] for line in lines} == {"iosxe"}
    assert f"{len(expected)} device(s) found" in result.stdout


def test_validate_csv_to_stdout_keeps_counts_on_stderr(env, tmp_path: Path) -> None:
    result = run(
        env,
        "validate",
        "--hostname",
        "hq.example.net",
        "--delimiter",
        "semicolon",
        "--csv",
        "-",
        cwd=tmp_path,
    )

    assert result.returncode == 0, result.stderr
    lines = list(csv.DictReader(io.StringIO(result.stdout, newline=""), delimiter=";"))
    assert lines and all("hq.example.net" in line["hostname"] for line in lines)
    assert "NetBox requests:" in result.stderr and "NetBox requests:" not in result.stdout


def test_validate_without_csv_only_prints(env, tmp_path: Path) -> None:
    result = run(env, "validate", "--sysname", "no-such-device", cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    assert "0 device(s) found" in result.stdout
    assert list(tmp_path.glob("*.csv")) == []


def test_bad_librenms_token_exits_2_without_showing_it(env, tmp_path: Path) -> None:
    out = tmp_path / "review.csv"
    result = run({**env, "LIBRENMS_TOKEN": BAD_LIBRENMS_TOKEN}, "validate", "--csv", str(out), cwd=tmp_path)

    assert result.returncode == 2
    assert "401" in result.stderr and "token" in result.stderr.casefold()
    assert "LIBRENMS_TOKEN" in result.stderr  # says which setting to fix
    assert_no_secret(result, BAD_LIBRENMS_TOKEN, env["NETBOX_TOKEN"])
    assert not out.exists()


def test_unreachable_librenms_exits_2(env, tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    out = tmp_path / "review.csv"
    result = run({**env, "LIBRENMS_URL": url}, "validate", "--csv", str(out), cwd=tmp_path)

    assert result.returncode == 2
    assert "Cannot reach LibreNMS" in result.stderr and url in result.stderr
    assert_no_secret(result, SIM_TOKEN)
    assert not out.exists()


def test_bad_netbox_token_exits_2_without_showing_it(env, tmp_path: Path) -> None:
    result = run({**env, "NETBOX_TOKEN": BAD_NETBOX_TOKEN}, "validate", cwd=tmp_path)

    assert result.returncode == 2
    assert "NetBox" in result.stderr and "NETBOX_TOKEN" in result.stderr
    assert "403" in result.stderr or "401" in result.stderr
    assert_no_secret(result, BAD_NETBOX_TOKEN, SIM_TOKEN)


def test_unknown_server_key_exits_2(env, tmp_path: Path) -> None:
    result = run(env, "validate", "--server", "dc9", cwd=tmp_path)

    assert result.returncode == 2
    assert "dc9" in result.stderr


def test_unwritable_csv_path_exits_2(env, tmp_path: Path) -> None:
    result = run(env, "validate", "--csv", str(tmp_path / "missing-dir" / "out.csv"), cwd=tmp_path)

    assert result.returncode == 2
    assert "cannot write" in result.stderr


# ------------------------------------------------------------------ check


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


# ------------------------------------------------------------------ usage


def test_help_documents_the_exit_codes(tmp_path: Path) -> None:
    result = run({"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(ROOT)}, "--help", cwd=tmp_path)

    assert result.returncode == 0
    assert "exit codes:" in result.stdout
    for command in ("check", "validate"):
        assert command in result.stdout


def test_no_command_is_a_usage_error(tmp_path: Path) -> None:
    result = run({"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(ROOT)}, cwd=tmp_path)

    assert result.returncode == 2
    assert "usage:" in result.stderr
