"""core.jobs.status: reading a job back — every RQ status, dead workers and apps, expired jobs, the recent
jobs (and `python -m core jobs`, which lists them)."""

from __future__ import annotations

import dataclasses
import operator
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import redis
from rq import Queue, SimpleWorker, Worker
from rq.job import JobStatus as RQStatus
from rq.registry import StartedJobRegistry
from rq.serializers import JSONSerializer
from rq.utils import utcformat

from core import jobs, keys
from core.choices import JobKind, JobMode, JobState
from core.jobs.store import RedisStore, new_record
from core.settings import Settings
from tests.helpers import GRACE, RedisJanitor, wait_for_end
from tests.jobs.conftest import IDLE_QUEUE, MARK, NOBODY, missing_items, started_job

pytestmark = [pytest.mark.redis]


def test_queued_deferred_and_scheduled_jobs_are_queued(conn: redis.Redis, idle_queue: Queue) -> None:
    first = idle_queue.enqueue(time.sleep, 0)
    deferred = idle_queue.enqueue(time.sleep, 0, depends_on=first)
    scheduled = idle_queue.enqueue_in(timedelta(hours=1), time.sleep, 0)

    assert first.get_status() == RQStatus.QUEUED
    assert deferred.get_status() == RQStatus.DEFERRED
    assert scheduled.get_status() == RQStatus.SCHEDULED
    for job in (first, deferred, scheduled):
        assert jobs.job_state(conn, job.id) is JobState.QUEUED
        assert jobs.job_status(conn, job.id).active
    for job in (first, deferred, scheduled):
        jobs.cancel(conn, job.id)


def test_finished_and_failed_jobs(conn: redis.Redis, idle_queue: Queue) -> None:
    good = idle_queue.enqueue(operator.add, 1, 2)
    bad = idle_queue.enqueue(operator.truediv, 1, 0)
    SimpleWorker([idle_queue], connection=conn, serializer=JSONSerializer).work(burst=True)

    assert good.get_status() == RQStatus.FINISHED and bad.get_status() == RQStatus.FAILED
    assert jobs.job_state(conn, good.id) is JobState.FINISHED
    failed = jobs.job_status(conn, bad.id)
    assert failed.state is JobState.FAILED
    assert "ZeroDivisionError" in failed.error


def test_a_job_redis_no_longer_has_is_expired(conn: redis.Redis, idle_queue: Queue) -> None:
    job = idle_queue.enqueue(time.sleep, 0)
    job.delete()

    for job_id in (job.id, "never-there"):
        assert jobs.job_state(conn, job_id) is JobState.EXPIRED
        status = jobs.job_status(conn, job_id)
        assert status.state is JobState.EXPIRED and not status.active
        assert "no longer known" in status.error


def test_a_started_job_whose_worker_is_gone_is_abandoned(conn: redis.Redis, janitor: RedisJanitor) -> None:
    job = started_job(
        conn, janitor, f"{MARK}-ghost"
    )  # no such worker key: it died, or was SIGKILLed long ago

    assert jobs.job_state(conn, job.id) is JobState.ABANDONED
    assert "stopped answering" in jobs.job_status(conn, job.id).error


def test_a_started_job_is_running_while_its_worker_heartbeats(
    conn: redis.Redis, janitor: RedisJanitor, idle_queue: Queue
) -> None:
    fake = Worker([idle_queue], connection=conn, name=f"{MARK}-silent", serializer=JSONSerializer)
    fake.register_birth()
    job = started_job(conn, janitor, fake.name)
    try:
        assert jobs.job_state(conn, job.id, grace=GRACE) is JobState.RUNNING
        # the key is still there (SIGKILL leaves it until its TTL), but the heartbeat is old
        conn.hset(fake.key, "last_heartbeat", utcformat(datetime.now(UTC) - timedelta(minutes=5)))
        assert jobs.job_state(conn, job.id, grace=GRACE) is JobState.ABANDONED
        assert not jobs.worker_alive(conn, IDLE_QUEUE, grace=GRACE)
    finally:
        fake.register_death()


def test_an_in_process_job_whose_app_died_is_abandoned(conn: redis.Redis) -> None:
    job_id = f"{MARK}-in-app"
    record = new_record(job_id, JobKind.IMPORT, JobMode.IN_PROCESS, total=5)
    RedisStore(conn).put_record(job_id, record)  # running, but no thread here and no heartbeat key
    conn.set(keys.job_alive(job_id), b"1", ex=5)

    assert jobs.job_state(conn, job_id) is JobState.RUNNING  # its app heartbeats (another process)

    conn.delete(keys.job_alive(job_id))
    assert jobs.job_state(conn, job_id) is JobState.ABANDONED
    status = jobs.job_status(conn, job_id)
    assert status.state is JobState.ABANDONED and status.ended_at is not None
    assert jobs.job_state(conn, job_id) is JobState.ABANDONED  # written down: it stays so


def test_rqs_own_abandoned_job_cleanup_shows_as_abandoned(
    conn: redis.Redis, janitor: RedisJanitor, idle_queue: Queue
) -> None:
    job = started_job(conn, janitor, f"{MARK}-ghost")
    registry = StartedJobRegistry(queue=idle_queue)
    conn.zadd(registry.key, {f"{job.id}:lost-execution": 1})  # expired long ago: its worker never came back
    registry.cleanup()

    assert job.get_status() == RQStatus.FAILED
    assert jobs.job_state(conn, job.id) is JobState.ABANDONED


def test_a_job_enqueued_by_hand_reads_from_its_meta(conn: redis.Redis, idle_queue: Queue) -> None:
    job = idle_queue.enqueue(time.sleep, 0, meta={"kind": "import", "total": 7, "done": 2})

    status = jobs.job_status(conn, job.id)

    assert status.state is JobState.QUEUED and status.mode == JobMode.WORKER
    assert (status.done, status.total, status.kind) == (2, 7, "import")
    assert status.enqueued_at is not None
    jobs.cancel(conn, job.id)


def test_cli_jobs_lists_recent_jobs(
    conn: redis.Redis, env: dict[str, str], job_settings: Settings, module_tmp: Path
) -> None:
    handle = jobs.start_import(dataclasses.replace(job_settings, queue_name=NOBODY), missing_items())
    wait_for_end(conn, handle.job_id)

    result = subprocess.run(
        [sys.executable, "-m", "core", "jobs", "--limit", "50"],
        env=env,
        cwd=module_tmp,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    line = next(line for line in result.stdout.splitlines() if handle.job_id in line)
    assert "in-process" in line and "finished" in line and "3/3" in line and "failed 3" in line
    assert env["NETBOX_TOKEN"] not in result.stdout + result.stderr
    listed = {s.job_id: s for s in jobs.recent_jobs(conn, limit=50)}
    assert listed[handle.job_id].kind == JobKind.IMPORT and listed[handle.job_id].results == []
