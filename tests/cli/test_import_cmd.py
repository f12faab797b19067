"""`python -m core import`: the rows an edited review CSV imports (core.csvio.import_csv, the rule the
Import page uses too), `--dry-run`, and a real `--sync` import of one row (deleted at the end)."""

from __future__ import annotations

import csv
import io
import re
import subprocess
from pathlib import Path

import pynetbox
import pytest

from tests.cli.conftest import assert_no_secret, read_csv, run
from tests.conftest import SIM_TOKEN
from tests.helpers import forget_inventories

NEEDS_ROLE = (21, 47)  # acc-sw-f3-01, acc-sw-wh-01: need a role, nothing else
READY_VM = 202  # web02: ready from the demo data, and imported by no other test of this stack


def export(env: dict[str, str], tmp_path: Path) -> list[dict[str, str]]:
    """The review of every enabled device, as `validate` writes it."""
    path = tmp_path / "review.csv"
    result = run(env, "validate", "--stacks", "--csv", str(path), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    return read_csv(path)


def write(
    path: Path, lines: list[dict[str, str]], *, columns=None, delimiter: str = ",", prefix: str = ""
) -> Path:
    buffer = io.StringIO()
    writer = csv.DictWriter(
        buffer, fieldnames=list(columns or lines[0]), delimiter=delimiter, lineterminator="\r\n"
    )
    writer.writeheader()
    writer.writerows(lines)
    path.write_bytes((prefix + buffer.getvalue()).encode("utf-8-sig"))
    return path


def by_id(lines: list[dict[str, str]]) -> dict[int, dict[str, str]]:
    return {int(line["librenms_id"]): line for line in lines}


def dry_rows(result: subprocess.CompletedProcess[str]) -> dict[int, tuple[str, str, str]]:
    """{librenms_id: (name, kind, what would be created)} from `import --dry-run`'s row lines."""
    rows = {}
    for line in result.stdout.splitlines():
        cells = line.split("\t")
        if len(cells) == 4 and cells[0].isdigit():
            rows[int(cells[0])] = (cells[1], cells[2], cells[3])
    return rows


def dry_run(env: dict[str, str], path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run(env, "import", "--csv", str(path), "--dry-run", *args, cwd=path.parent)


# ------------------------------------------------------------------ --dry-run


def test_dry_run_lists_the_rows_the_export_imports_and_imports_nothing(
    env, nb: pynetbox.api, tmp_path: Path
) -> None:
    lines = export(env, tmp_path)
    devices, vms = nb.dcim.devices.count(), nb.virtualization.virtual_machines.count()

    result = dry_run(env, write(tmp_path / "review.csv", lines))

    assert result.returncode == 0, result.stderr
    expected = {int(line["librenms_id"]): line for line in lines if line["import"] == "yes"}
    rows = dry_rows(result)
    assert expected and set(rows) == set(expected)
    for device_id, (name, kind, what) in rows.items():
        assert (name, kind) == (expected[device_id]["name"], expected[device_id]["kind"])
        made = "virtual machine" if kind == "vm" else "device"
        assert what.startswith(f"{made} '{name}'"), what
    assert f"{len(rows)} row(s) to import" in result.stdout
    assert "dry run: nothing is imported" in result.stdout and "job" not in result.stdout
    assert (nb.dcim.devices.count(), nb.virtualization.virtual_machines.count()) == (devices, vms)
    assert_no_secret(result, SIM_TOKEN, env["NETBOX_TOKEN"])


def test_import_no_is_not_imported_even_when_the_lines_edit_makes_the_row_ready(env, tmp_path: Path) -> None:
    lines = export(env, tmp_path)
    rows = by_id(lines)
    kept, ticked = NEEDS_ROLE
    assert rows[kept]["import"] == rows[ticked]["import"] == "no"
    rows[kept]["role"] = "Access switch"  # ready by this edit, but its import cell still says no
    rows[ticked].update(role="Access switch", **{"import": "yes"})
    path = write(tmp_path / "edited.csv", lines)

    result = dry_run(env, path)

    assert result.returncode == 0, result.stderr
    found = dry_rows(result)
    assert ticked in found and kept not in found
    line = 2 + [int(x["librenms_id"]) for x in lines].index(kept)
    assert (
        f"warning: line {line}: device {kept} ({rows[kept]['name']}) is ready now but its import cell says no: "
        "it will not be imported"
    ) in result.stderr


def test_a_librenms_id_header_semicolons_and_a_sep_line_are_read_and_only_those_devices_are_reviewed(
    env, sim, tmp_path: Path
) -> None:
    ticked, stack = NEEDS_ROLE[0], 12  # core-sw01: a stack, so its inventory is read
    lines = [
        {"LibreNMS ID": str(ticked), "Role": "Access switch", "Import": "yes"},
        {"LibreNMS ID": str(stack), "Role": "", "Import": "yes"},
    ]
    path = write(tmp_path / "excel.csv", lines, delimiter=";", prefix="sep=;\r\n")
    forget_inventories(env["REDIS_URL"], sim.url)  # read now, so the test sees which are read
    sim.reset_stats()

    result = dry_run(env, path)

    assert result.returncode == 0, result.stderr
    assert set(dry_rows(result)) == {ticked}
    assert f"device {stack} is marked import=yes but its status is 'needs input'" in result.stderr
    inventories = {p for p in sim.stats()["by_path"] if "/inventory/" in p}
    assert inventories and all(re.search(rf"/inventory/({ticked}|{stack})/", p) for p in inventories)


def test_a_rejected_line_is_not_imported_even_when_its_row_is_ready(env, tmp_path: Path) -> None:
    lines = export(env, tmp_path)
    rows = by_id(lines)
    assert rows[READY_VM]["import"] == "yes"
    rows[READY_VM]["role"] = "Access switch"  # not a role for virtual machines: the line is rejected
    result = dry_run(env, write(tmp_path / "edited.csv", lines))

    assert result.returncode == 0, result.stderr
    assert f"librenms_id {READY_VM} rejected, not imported" in result.stderr
    assert READY_VM not in dry_rows(result)
    assert "1 rejected" in result.stdout


def test_rows_absent_from_the_csv_are_not_imported(env, tmp_path: Path) -> None:
    lines = export(env, tmp_path)
    ready = [line for line in lines if line["import"] == "yes"]
    assert len(ready) > 1
    result = dry_run(env, write(tmp_path / "one.csv", ready[:1]))

    assert result.returncode == 0, result.stderr
    assert set(dry_rows(result)) == {int(ready[0]["librenms_id"])}


@pytest.mark.parametrize(
    ("text", "message"),
    [("hostname,role\r\nx,Leaf\r\n", "no 'librenms_id' column"), ("", "The CSV file is empty")],
    ids=["no librenms_id column", "empty"],
)
def test_an_unreadable_csv_exits_2(env, tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(text, encoding="utf-8")
    result = dry_run(env, path)
    assert result.returncode == 2 and message in result.stderr


def test_a_missing_csv_exits_2(env, tmp_path: Path) -> None:
    result = dry_run(env, tmp_path / "missing.csv")
    assert result.returncode == 2 and "cannot read" in result.stderr


# ------------------------------------------------------------------ a real import, then the row exists


@pytest.fixture
def created_vms(nb: pynetbox.api) -> list[int]:
    """VM ids a test created; deleted at the end, with their IP addresses."""
    made: list[int] = []
    yield made
    for vm_id in made:
        for ip in nb.ipam.ip_addresses.filter(virtual_machine_id=vm_id):
            ip.delete()
        vm = nb.virtualization.virtual_machines.get(vm_id)
        if vm is not None:
            vm.delete()


def test_sync_import_creates_the_row_and_then_reports_it_already_in_netbox_with_its_link(
    env, nb: pynetbox.api, tmp_path: Path, created_vms: list[int]
) -> None:
    lines = export(env, tmp_path)
    line = by_id(lines)[READY_VM]
    if nb.virtualization.virtual_machines.get(name=line["name"]) is not None:
        pytest.fail(f"{line['name']} is already in the test NetBox: the test needs it absent")
    path = write(tmp_path / "one.csv", [line])
    results = tmp_path / "results.csv"

    done = run(env, "import", "--csv", str(path), "--sync", "--results", str(results), cwd=tmp_path)

    (first,) = read_csv(results)
    if first["netbox_id"]:
        created_vms.append(int(first["netbox_id"]))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 row(s) to import" in done.stdout
    assert "import finished: created 1, skipped 0, failed 0" in done.stdout
    assert first["outcome"] == "created" and first["url"].startswith("http")
    assert_no_secret(done, SIM_TOKEN, env["NETBOX_TOKEN"])

    # the same CSV again: the row is in NetBox now, listed with its link and never sent to an import
    again = dry_run(env, path)
    assert again.returncode == 0, again.stderr
    assert "0 row(s) to import" in again.stdout and dry_rows(again) == {}
    assert f"already in NetBox: {line['name']} (librenms_id {READY_VM}): {first['url']}" in again.stdout

    second = run(env, "import", "--csv", str(path), "--sync", "--results", str(results), cwd=tmp_path)
    assert second.returncode == 0, second.stdout + second.stderr
    (skipped,) = read_csv(results)
    assert skipped["outcome"] == "skipped" and skipped["url"] == first["url"]
    assert "already in NetBox" in skipped["message"]
    assert "0 row(s) to import" in second.stdout and "wrote 1 result(s)" in second.stdout


def test_dry_run_shows_every_object_with_its_fields_and_writes_the_plan_csv(env, tmp_path: Path) -> None:
    lines = export(env, tmp_path)
    rows = by_id(lines)
    rows[12].update(role="Core switch", **{"import": "yes"})  # core-sw01: a 3-member stack
    path = write(tmp_path / "stack.csv", lines)

    result = dry_run(env, path, "--plan", str(tmp_path / "plan.csv"))

    assert result.returncode == 0, result.stderr
    assert dry_rows(result)[12][2].startswith("virtual chassis 'core-sw01' with 3 member devices")
    assert "    stack member 'core-sw01-2': name=core-sw01-2" in result.stdout
    assert "vc_position=2" in result.stdout and "role=Core switch" in result.stdout
    plan = list(csv.DictReader(io.StringIO((tmp_path / "plan.csv").read_text(encoding="utf-8-sig"))))
    stack = [line for line in plan if line["librenms_id"] == "12"]
    assert [line["object"] for line in stack] == [
        "virtual chassis",
        "stack member",
        "stack member",
        "stack member",
        "interface",
        "IP address",
    ]
    assert {int(line["librenms_id"]) for line in plan if line["action"] == "create"} == set(dry_rows(result))
