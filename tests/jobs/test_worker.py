"""core.jobs.worker: a real worker process (`python -m core worker`) — its heartbeat, and an import job run
with the worker's own settings: the job carries ids and choices, never a token, and Redis holds no pickle."""

from __future__ import annotations

import base64
import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from rq import Worker
from rq.job import Job
from rq.serializers import JSONSerializer

from core import defaults, jobs
from core.choices import JobMode, JobState
from core.jobs.connection import SERIALIZER
from core.settings import Settings
from tests.conftest import SIM_TOKEN
from tests.helpers import (
    GRACE,
    HEARTBEAT,
    PICKLE_PREFIXES,
    WorkerProcess,
    raw_redis_bytes,
    rq_job_hash,
    wait_for_end,
)
from tests.jobs.conftest import MISSING_IDS, NOBODY, QUEUE, missing_items, queue_of

pytestmark = [pytest.mark.redis]


def test_the_product_runs_rq_with_its_json_serializer() -> None:
    assert SERIALIZER is JSONSerializer


def test_worker_alive_goes_by_heartbeat(conn: redis.Redis, worker: WorkerProcess) -> None:
    assert jobs.worker_alive(conn, QUEUE, grace=GRACE)
    assert not jobs.worker_alive(conn, NOBODY)
    time.sleep(HEARTBEAT * 3)  # idle: it keeps heartbeating
    assert jobs.worker_alive(conn, QUEUE, grace=GRACE)
    workers = Worker.all(queue=queue_of(conn), serializer=JSONSerializer)
    assert len(workers) == 1 and workers[0].last_heartbeat is not None


def test_the_health_check_passes_only_for_a_worker_on_this_host_that_heartbeats(
    conn: redis.Redis, worker: WorkerProcess, env: dict[str, str], module_tmp: Path
) -> None:
    def alive(queue: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "core", "worker", "--alive"],
            env={**env, "QUEUE_NAME": queue},
            cwd=module_tmp,
            capture_output=True,
            text=True,
            timeout=60,
        )

    here, nobody = alive(QUEUE), alive(NOBODY)

    assert here.returncode == 0 and socket.gethostname() in here.stdout, here.stdout + here.stderr
    assert nobody.returncode == 1 and "no worker" in nobody.stderr
    assert not jobs.worker_alive(conn, QUEUE, grace=GRACE, hostname="another-host")


def test_an_import_job_carries_no_token(
    conn: redis.Redis, worker: WorkerProcess, job_settings: Settings, stack_env: dict[str, str]
) -> None:
    handle = jobs.start_import(job_settings, missing_items())

    assert handle.mode == JobMode.WORKER and handle.note == ""
    job = Job.fetch(handle.job_id, connection=conn, serializer=JSONSerializer)
    assert job.func_name == "core.jobs.import_job"
    assert job.timeout == defaults.JOB_TIMEOUT_SECONDS
    assert job.result_ttl == defaults.RESULT_TTL_SECONDS and job.failure_ttl == defaults.RESULT_TTL_SECONDS
    items = job.args[0]
    assert [item["librenms_id"] for item in items] == list(MISSING_IDS)
    assert all(set(item) == {"server_key", "librenms_id", "overrides"} for item in items)

    status = wait_for_end(conn, handle.job_id)

    assert status.state is JobState.FINISHED, status.error
    assert status.mode == "worker" and status.total == status.done == 3
    assert status.counts["failed"] == 3
    assert [r["librenms_id"] for r in status.results] == list(MISSING_IDS)
    assert all("LibreNMS no longer has this device" in r["message"] for r in status.results)
    tokens = [stack_env["NETBOX_TOKEN"], SIM_TOKEN, stack_env["NETBOX_TOKEN"].split(".")[-1]]
    stored = b"\n".join(raw_redis_bytes(conn, key) for key in conn.scan_iter(count=1000))
    assert handle.job_id.encode() in stored
    for token in tokens:
        assert token.encode() not in stored, "a token reached Redis"
        assert token not in worker.output(), "the worker logged a token"
    assert (
        Job.fetch(handle.job_id, connection=conn, serializer=JSONSerializer).meta["done"] == 3
    )  # job.meta too


def test_a_job_the_worker_ran_is_json_throughout(
    conn: redis.Redis, worker: WorkerProcess, job_settings: Settings
) -> None:
    handle = jobs.start_import(job_settings, missing_items())
    assert wait_for_end(conn, handle.job_id).state is JobState.FINISHED

    stored = rq_job_hash(conn, handle.job_id)
    for name, value in stored.items():
        assert not value.startswith(PICKLE_PREFIXES), f"field {name} is a pickle"
    assert json.loads(stored["data"])[0] == "core.jobs.import_job"
    assert json.loads(stored["meta"])["state"] == "finished"
    # RQ's result of the job (a stream entry) is JSON too: what import_job returned
    job = Job.fetch(handle.job_id, connection=conn, serializer=JSONSerializer)
    result = job.latest_result()
    assert result is not None and result.return_value["state"] == "finished"
    assert result.return_value["counts"]["failed"] == 3
    entries = [fields for _entry, fields in conn.xrange(f"rq:results:{handle.job_id}")]
    assert entries and all(b"return_value" in fields for fields in entries)
    for fields in entries:
        value = base64.b64decode(fields[b"return_value"])  # RQ base64-encodes the serialized value
        assert not value.startswith(PICKLE_PREFIXES) and json.loads(value)["state"] == "finished"


def test_the_job_functions_refuse_to_run_outside_a_worker() -> None:
    with pytest.raises(RuntimeError, match="inside an RQ worker"):
        jobs.import_job([])
    with pytest.raises(RuntimeError, match="inside an RQ worker"):
        jobs.search_job({})
