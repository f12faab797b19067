"""Cancel is a safe stop; hard stop is a separate action. A worker import cancelled while it runs finishes
the batch in flight (its devices, their IPs, their result lines), then stops: it ends "stopped" with a result
line for every row it wrote, and the worker lives on. `jobs.hard_stop` (`python -m core jobs --kill`) kills
the work horse; `jobs.cancel` (`--cancel`) never does.

The import test writes to NetBox: its devices come from this module's own LibreNMS (tests.helpers.
running_lab), and what was made for them is deleted at the end. The worker reaches NetBox through a proxy
(tests.helpers.HoldingProxy) that holds the batch's management-interface requests, so the cancel arrives
while a batch is provably in flight: its devices created, their IPs not yet.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pynetbox
import pytest
import redis
from rq import Worker
from rq.job import Job
from rq.job import JobStatus as RQStatus
from rq.serializers import JSONSerializer

from core import jobs, keys
from core.choices import JobState, Kind, RowStatus
from core.importer import ImportItem
from core.librenms import DeviceFilter
from core.review import Review
from core.search import run_search
from core.settings import Settings
from tests.helpers import (
    GRACE,
    HEARTBEAT,
    HoldingProxy,
    Lab,
    WorkerProcess,
    running_lab,
    settings_from,
    start_worker,
    wait_for_end,
    wait_until,
    worker_env,
)
from tests.jobs.conftest import MARK, queue_of

pytestmark = [pytest.mark.redis]

CANCEL_QUEUE = f"{MARK}-cancel"
DEVICES = ["acc-sw-wh-01", "ar-spine01", "br-lyon-sw01", "br-lyon-sw02", "br-tokyo-sw01", "cx-acc01"]


@pytest.fixture(scope="module")
def lab(reference_data, nb: pynetbox.api, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    with running_lab(tmp_path_factory.mktemp("cancel-lab"), nb=nb) as lab:
        yield lab


@pytest.fixture(scope="module")
def proxy(stack_env: dict[str, str]) -> Iterator[HoldingProxy]:
    holding = HoldingProxy(stack_env["NETBOX_URL"]).start()
    yield holding
    holding.stop()


@pytest.fixture(scope="module")
def lab_env(stack_env: dict[str, str], lab: Lab, proxy: HoldingProxy) -> dict[str, str]:
    env = worker_env(stack_env, librenms_url=lab.sim.url, queue=CANCEL_QUEUE, mapping=lab.mapping)
    return {**env, "NETBOX_URL": proxy.url}


@pytest.fixture(scope="module")
def lab_settings(lab_env: dict[str, str], lab: Lab) -> Settings:
    return settings_from(lab_env, lab.tmp)


@pytest.fixture(scope="module")
def lab_worker(conn: redis.Redis, janitor, lab_env: dict[str, str], lab: Lab) -> Iterator[WorkerProcess]:
    process = start_worker(conn, lab_env, lab.tmp / "worker")
    yield process
    process.stop()


@pytest.fixture(scope="module")
def review(lab: Lab, lab_settings: Settings) -> Review:
    lab.review = run_search(lab_settings, DeviceFilter(detect_stacks=True)).review
    return lab.review


def ready_items(lab: Lab, review: Review, templates: list[str]) -> list[ImportItem]:
    items = []
    for template in templates:
        row = lab.row(template, 0)
        review.apply_role([row.key], "access-switch")
        row = review.rows[row.key]
        assert row.kind is Kind.DEVICE and row.stack is None and row.device.ip
        assert row.status is RowStatus.READY, f"{row.name}: {row.status.value}: {row.issues_text()}"
        items.append(ImportItem.from_row(row))
    return items


def lab_devices(nb: pynetbox.api, lab: Lab) -> dict[int, object]:
    """The NetBox devices made for the lab's devices, by LibreNMS id."""
    found = {}
    for device in nb.dcim.devices.filter(q=lab.run):
        if not lab.owns(device):
            continue
        value = device.custom_fields.get("librenms_id")
        found[int(value["default"] if isinstance(value, dict) else value)] = device
    return found


def test_a_cancelled_worker_import_finishes_the_batches_in_flight_and_the_worker_lives_on(
    conn: redis.Redis,
    nb: pynetbox.api,
    lab: Lab,
    review: Review,
    proxy: HoldingProxy,
    lab_worker: WorkerProcess,
    lab_settings: Settings,
) -> None:
    items = ready_items(lab, review, DEVICES)
    pid = lab_worker.proc.pid
    proxy.hold("POST", "/api/dcim/interfaces/")  # a batch has created its devices; their IPs come next
    try:
        handle = jobs.start_import(lab_settings, items, batch_size=1)  # more batches than in flight
        assert handle.mode == "worker"
        wait_until(proxy.entered.is_set, timeout=90, what="a batch to reach its management interfaces")

        assert jobs.cancel(conn, handle.job_id) is JobState.RUNNING  # it goes on to its safe point
        job = Job.fetch(handle.job_id, connection=conn, serializer=JSONSerializer)
        deadline = time.monotonic() + 3  # a kill would show within this
        while time.monotonic() < deadline and job.get_status() == RQStatus.STARTED:
            time.sleep(0.1)
    finally:
        proxy.release()
    status = wait_for_end(conn, handle.job_id)

    assert status.state is JobState.STOPPED, status.error
    made = lab_devices(nb, lab)
    lines = {r["librenms_id"]: r for r in status.results}
    assert made, "the batch in flight created its devices"
    assert set(lines) == set(made), "every row written has its result line"
    assert all(lines[i]["outcome"] == "created" and lines[i]["netbox_id"] == made[i].id for i in made)
    assert all(made[i].primary_ip4 is not None for i in made), "the batch in flight finished its IPs"
    assert status.done == len(made) < status.total == len(items)  # and nothing after it started
    assert job.get_status() == RQStatus.FINISHED  # the work horse ended the job itself: never killed
    held = [k for k in conn.scan_iter(match=keys.locks_pattern()) if conn.get(k) == handle.job_id.encode()]
    assert not held and not conn.exists(keys.job_locks(handle.job_id))
    # the worker lives on: the same process, heartbeating
    assert lab_worker.proc.poll() is None
    time.sleep(2 * HEARTBEAT)
    assert jobs.worker_alive(conn, CANCEL_QUEUE, grace=GRACE)
    (registered,) = Worker.all(queue=queue_of(conn, CANCEL_QUEUE), serializer=JSONSerializer)
    assert registered.pid == pid


def _running_sleep(conn: redis.Redis, seconds: int = 30) -> Job:
    job = queue_of(conn).enqueue(time.sleep, seconds)
    wait_until(lambda: jobs.job_state(conn, job.id, grace=GRACE) is JobState.RUNNING, what="running")
    return job


def test_cancel_only_asks_a_running_job_to_stop_and_hard_stop_kills_its_work_horse(
    conn: redis.Redis, worker: WorkerProcess
) -> None:
    job = _running_sleep(conn)  # a job that never looks at its cancel flag
    horses = worker.horses()

    assert jobs.cancel(conn, job.id) is JobState.RUNNING
    time.sleep(1.5)
    assert job.get_status() == RQStatus.STARTED and worker.horses() == horses  # nothing was killed
    assert conn.exists(keys.job_cancel(job.id))

    jobs.hard_stop(conn, job.id)

    wait_until(lambda: job.get_status() == RQStatus.STOPPED, what="RQ to stop the job")
    assert jobs.job_status(conn, job.id, grace=GRACE).state is JobState.STOPPED
    assert worker.proc.poll() is None
    wait_until(lambda: jobs.worker_alive(conn, worker.queue, grace=GRACE), what="the worker")


def test_cli_jobs_cancel_is_the_safe_stop_and_kill_the_hard_one(
    conn: redis.Redis, worker: WorkerProcess, env: dict[str, str], module_tmp: Path
) -> None:
    job = _running_sleep(conn)

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "core", "jobs", *args],
            env=env,
            cwd=module_tmp,
            capture_output=True,
            text=True,
            timeout=60,
        )

    cancel = cli("--cancel", job.id)
    assert cancel.returncode == 0, cancel.stderr
    assert "stops after the batch in flight" in cancel.stdout
    time.sleep(1.5)
    assert job.get_status() == RQStatus.STARTED

    kill = cli("--kill", job.id)
    assert kill.returncode == 0, kill.stderr
    assert "hard stop" in kill.stdout and "may be left unfinished" in kill.stdout
    wait_until(lambda: job.get_status() == RQStatus.STOPPED, what="RQ to stop the job")
    assert "--kill" in cli("--help").stdout
