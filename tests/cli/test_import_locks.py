"""`python -m core import --sync` takes the same device locks in Redis as worker jobs: a --sync import and a
worker job creating the same device at the same time never both create it; without Redis it says its locks
are this process's only.

The devices come from this module's own LibreNMS (tests.helpers.running_lab); what was made for them is
deleted from NetBox at the end, and what the module's jobs left in Redis is removed (RedisJanitor). The
worker reaches NetBox through a proxy that holds its device creation (tests.helpers.HoldingProxy): the
worker job then holds the device's lock while the --sync import runs.
"""

from __future__ import annotations

import csv
import secrets
from collections.abc import Iterator
from pathlib import Path

import pynetbox
import pytest
import redis

from core import jobs, keys
from core.choices import JobState
from core.importer import ImportItem
from core.settings import Settings
from tests.cli.conftest import read_csv, run
from tests.helpers import (
    HoldingProxy,
    Lab,
    WorkerProcess,
    closed_port,
    owned_redis,
    running_lab,
    settings_from,
    start_worker,
    wait_for_end,
    wait_until,
    worker_env,
)

QUEUE = f"lnbi-test-cli-locks-{secrets.token_hex(3)}"


@pytest.fixture(scope="module")
def conn(stack_env: dict[str, str]) -> Iterator[redis.Redis]:
    """The stack's Redis; what this module's jobs leave there (marked with QUEUE) is removed at the end."""
    with owned_redis(stack_env["REDIS_URL"], QUEUE) as connection:
        yield connection


@pytest.fixture(scope="module")
def lab(reference_data, nb: pynetbox.api, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    with running_lab(tmp_path_factory.mktemp("cli-locks-lab"), nb=nb) as lab:
        yield lab


@pytest.fixture(scope="module")
def proxy(stack_env: dict[str, str]) -> Iterator[HoldingProxy]:
    holding = HoldingProxy(stack_env["NETBOX_URL"]).start()
    yield holding
    holding.stop()


@pytest.fixture(scope="module")
def cli_env(stack_env: dict[str, str], lab: Lab) -> dict[str, str]:
    """The command line's environment: the lab's LibreNMS, the test NetBox itself, the stack's Redis."""
    return {
        **worker_env(stack_env, librenms_url=lab.sim.url, queue=QUEUE, mapping=lab.mapping),
        "HOME": str(lab.tmp),
    }


@pytest.fixture(scope="module")
def worker_settings(cli_env: dict[str, str], proxy: HoldingProxy, lab: Lab) -> Settings:
    return settings_from({**cli_env, "NETBOX_URL": proxy.url}, lab.tmp)


@pytest.fixture(scope="module")
def worker(
    conn: redis.Redis, cli_env: dict[str, str], proxy: HoldingProxy, lab: Lab
) -> Iterator[WorkerProcess]:
    process = start_worker(conn, {**cli_env, "NETBOX_URL": proxy.url}, lab.tmp / "worker")
    yield process
    process.stop()


def one_line_csv(path: Path, device_id: int, role: str) -> Path:
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=["librenms_id", "role", "import"])
        writer.writeheader()
        writer.writerow({"librenms_id": device_id, "role": role, "import": "yes"})
    return path


def devices_for(nb: pynetbox.api, lab: Lab, device_id: int) -> list:
    def mine(device) -> bool:
        value = device.custom_fields.get("librenms_id")
        return lab.owns(device) and (value == device_id or value == {"default": device_id})

    return [d for d in nb.dcim.devices.filter(q=lab.run) if mine(d)]


def test_a_sync_import_and_a_worker_job_never_both_create_the_device_they_share(
    conn: redis.Redis,
    nb: pynetbox.api,
    lab: Lab,
    proxy: HoldingProxy,
    worker: WorkerProcess,
    worker_settings: Settings,
    cli_env: dict[str, str],
) -> None:
    device_id = lab.device_id("acc-sw-wh-01")
    proxy.hold("POST", "/api/dcim/devices/")  # the worker job holds the device's lock, creating it
    try:
        handle = jobs.start_import(
            worker_settings, [ImportItem("default", device_id, {"role": "access-switch"})]
        )
        assert handle.mode == "worker"
        wait_until(proxy.entered.is_set, timeout=90, what="the worker job to create the device")
        assert conn.get(keys.lock("default", device_id)) == handle.job_id.encode()

        path = one_line_csv(lab.tmp / "shared.csv", device_id, "Access switch")
        results = lab.tmp / "shared-results.csv"
        done = run(cli_env, "import", "--csv", str(path), "--sync", "--results", str(results), cwd=lab.tmp)
    finally:
        proxy.release()
    status = wait_for_end(conn, handle.job_id)

    (line,) = read_csv(results)
    assert (line["outcome"], line["message"]) == (
        "skipped",
        "another import is creating this device right now",
    )
    assert "import finished: created 0, skipped 1, failed 0" in done.stdout, done.stdout + done.stderr
    assert done.returncode == 0
    assert "note:" not in done.stderr  # Redis answered: its locks were used
    assert status.state is JobState.FINISHED and status.counts["created"] == 1, status.results
    assert len(devices_for(nb, lab, device_id)) == 1
    assert conn.get(keys.lock("default", device_id)) is None  # both released theirs


def test_a_sync_import_without_redis_says_its_locks_are_this_processs_only(
    nb: pynetbox.api, lab: Lab, cli_env: dict[str, str]
) -> None:
    device_id = lab.device_id("br-lyon-sw01")
    env = {**cli_env, "REDIS_URL": f"redis://127.0.0.1:{closed_port()}/0"}
    path = one_line_csv(lab.tmp / "alone.csv", device_id, "Access switch")

    done = run(env, "import", "--csv", str(path), "--sync", cwd=lab.tmp)

    assert done.returncode == 0, done.stdout + done.stderr
    assert "note: Redis cannot be reached" in done.stderr
    assert "device locks are this process's only" in done.stderr
    assert "import finished: created 1, skipped 0, failed 0" in done.stdout
    assert len(devices_for(nb, lab, device_id)) == 1
