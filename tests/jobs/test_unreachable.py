"""core.jobs.status while Redis cannot be reached: "unreachable right now" (QueueUnavailable) is never
told as "Redis answered and no longer knows the job" (expired), so a poller keeps following the job and
picks it up when Redis answers again."""

from __future__ import annotations

import dataclasses
import time

import pytest
import redis
from rq.job import Job

from core import jobs
from core.choices import JobKind, JobMode, JobState
from core.errors import QueueUnavailable
from core.jobs import store as job_store
from core.jobs.queue import enqueue
from core.settings import Settings
from tests.helpers import RedisJanitor, closed_port
from tests.jobs.conftest import IDLE_QUEUE, MARK, missing_items

pytestmark = [pytest.mark.redis]


def _down(settings: Settings) -> Settings:
    return dataclasses.replace(settings, redis_url=f"redis://127.0.0.1:{closed_port()}/0")


@pytest.fixture
def queued_job(conn: redis.Redis, janitor: RedisJanitor, job_settings: Settings) -> str:
    """An import job queued where no worker listens: active for as long as the test needs."""
    settings = dataclasses.replace(job_settings, queue_name=IDLE_QUEUE)
    payload = [item.to_data() for item in missing_items()]
    handle = enqueue(conn, settings, JobKind.IMPORT, 3, "core.jobs.import_job", payload, None)
    janitor.own(handle.job_id)
    yield handle.job_id
    jobs.cancel(conn, handle.job_id)


def test_a_job_of_a_redis_that_cannot_be_reached_is_unreachable_not_expired(
    conn: redis.Redis, job_settings: Settings, queued_job: str
) -> None:
    assert jobs.job_status(job_settings, queued_job).state is JobState.QUEUED

    down = _down(job_settings)  # the same job, read while Redis cannot be reached
    with pytest.raises(QueueUnavailable, match="Redis cannot be reached"):
        jobs.job_status(down, queued_job)
    with pytest.raises(QueueUnavailable):
        jobs.job_state(down, queued_job)
    client = redis.Redis.from_url(down.redis_url, socket_connect_timeout=1)  # a client, as the CLI holds
    with pytest.raises(QueueUnavailable):
        jobs.job_status(client, queued_job)

    assert jobs.job_status(job_settings, queued_job).state is JobState.QUEUED  # Redis answers: picked up


def test_redis_failing_while_the_rq_job_is_read_is_unreachable_not_expired(
    conn: redis.Redis, queued_job: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fails(*_args, **_kwargs):
        raise redis.ConnectionError("Connection refused")

    monkeypatch.setattr(Job, "fetch", fails)  # the record was read, then Redis went away

    with pytest.raises(QueueUnavailable):
        jobs.job_status(conn, queued_job)


def test_a_job_redis_answers_it_does_not_know_is_still_expired(job_settings: Settings) -> None:
    status = jobs.job_status(job_settings, f"{MARK}-never-there")
    assert status.state is JobState.EXPIRED and "no longer known" in status.error


def test_a_job_started_here_while_redis_was_down_is_read_here_when_redis_answers_again(
    job_settings: Settings,
) -> None:
    job_id = f"{MARK}-started-without-redis"
    record = job_store.new_record(job_id, JobKind.IMPORT, JobMode.IN_PROCESS, total=2)
    job_store.LOCAL.put_record(job_id, record)  # what start_import keeps when Redis cannot be reached
    job_store.LOCAL.touch_alive(job_id)

    assert jobs.job_status(_down(job_settings), job_id).state is JobState.RUNNING
    assert jobs.job_status(job_settings, job_id).state is JobState.RUNNING  # Redis is back: still here
    jobs.cancel(job_settings, job_id)
    assert job_store.LOCAL.cancel_requested(job_id)  # the flag its thread reads
    job_store.LOCAL.put_record(job_id, {**record, "state": JobState.STOPPED.value, "ended_at": time.time()})
