"""`python -m core validate`: search, validate, counts, the review CSV; and how the commands fail."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from tests.cli.conftest import (
    BAD_LIBRENMS_TOKEN,
    BAD_NETBOX_TOKEN,
    FIXTURE_DEVICES,
    assert_no_secret,
    enabled,
    read_csv,
    run,
)
from tests.conftest import SIM_TOKEN
from tests.helpers import closed_port


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


def test_validate_links_to_librenms_without_the_token_or_api_path(env, tmp_path: Path) -> None:
    out = tmp_path / "review.csv"
    result = run(env, "validate", "--hostname", "core-sw01", "--csv", str(out), cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    (line,) = read_csv(out)
    assert line["librenms_url"] == f"{env['LIBRENMS_URL'].rstrip('/')}/device/device={line['librenms_id']}/"


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
