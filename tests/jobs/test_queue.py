"""core.jobs.queue: starting jobs (on the queue when a worker listens, else in the app), what a queued job
carries (plain JSON, no token, no pickle), and cancel."""

from __future__ import annotations

import dataclasses
import json
import time

import pytest
import redis
from rq import Queue
from rq.job import Job
from rq.job import JobStatus as RQStatus
from rq.serializers import JSONSerializer

from core import codec, jobs
from core.choices import JobKind, JobMode, JobState
from core.errors import ImporterError
from core.importer import ImportItem
from core.jobs.queue import enqueue
from core.librenms import DeviceFilter
from core.settings import Settings
from tests.conftest import SIM_TOKEN
from tests.helpers import (
    GRACE,
    HEARTBEAT,
    PICKLE_PREFIXES,
    RedisJanitor,
    WorkerProcess,
    closed_port,
    rq_job_hash,
    wait_for_end,
    wait_until,
)
from tests.jobs.conftest import IDLE_QUEUE, MISSING_IDS, NOBODY, QUEUE, missing_items, queue_of

pytestmark = [pytest.mark.redis]


def test_a_canceled_job_is_canceled(conn: redis.Redis, idle_queue: Queue) -> None:
    job = idle_queue.enqueue(time.sleep, 0)

    assert jobs.cancel(conn, job.id) is JobState.CANCELED
    assert job.get_status() == RQStatus.CANCELED
    assert jobs.job_status(conn, job.id).state is JobState.CANCELED


def test_a_running_job_runs_and_a_stopped_one_is_stopped(conn: redis.Redis, worker: WorkerProcess) -> None:
    job = queue_of(conn).enqueue(time.sleep, 60)
    wait_until(lambda: jobs.job_state(conn, job.id, grace=GRACE) is JobState.RUNNING, what="running")

    jobs.hard_stop(conn, job.id)  # a sleep never looks at its cancel flag: only a hard stop ends it

    wait_until(lambda: job.get_status() == RQStatus.STOPPED, what="RQ to stop the job")
    status = jobs.job_status(conn, job.id, grace=GRACE)
    assert status.state is JobState.STOPPED


def test_without_a_worker_the_import_runs_in_process(conn: redis.Redis, job_settings: Settings) -> None:
    settings = dataclasses.replace(job_settings, queue_name=NOBODY)

    handle = jobs.start_import(settings, missing_items())

    assert handle.mode == "in-process"
    assert handle.note == "No worker is listening: the import runs inside the app."
    status = wait_for_end(conn, handle.job_id)  # read back through Redis, like a worker job
    assert status.state is JobState.FINISHED and status.mode == "in-process"
    assert [r["librenms_id"] for r in status.results] == list(MISSING_IDS)
    assert status.counts["failed"] == 3 and status.done == status.total == 3
    assert jobs.job_status(settings, handle.job_id).results == status.results  # Settings work as conn too
    listed = {s.job_id: s for s in jobs.recent_jobs(conn)}
    assert listed[handle.job_id].mode == "in-process" and listed[handle.job_id].state is JobState.FINISHED
    assert listed[handle.job_id].results == []


def test_without_redis_the_import_runs_in_process_and_is_read_back_here(job_settings: Settings) -> None:
    settings = dataclasses.replace(job_settings, redis_url=f"redis://:s3cret-pw@127.0.0.1:{closed_port()}/0")

    handle = jobs.start_import(settings, missing_items())

    assert handle.mode == "in-process"
    assert handle.note.startswith("No worker is listening: the import runs inside the app")
    assert "Redis cannot be reached" in handle.note
    assert "s3cret-pw" not in handle.note  # the URL is shown without its password
    status = wait_for_end(None, handle.job_id)
    assert status.state is JobState.FINISHED
    assert [r["librenms_id"] for r in status.results] == list(MISSING_IDS)
    assert jobs.job_status(settings, handle.job_id).results == status.results
    assert handle.job_id in [s.job_id for s in jobs.recent_jobs(None)]


def test_nothing_to_import_is_refused(job_settings: Settings) -> None:
    with pytest.raises(ImporterError, match="Nothing to import"):
        jobs.start_import(job_settings, [])


def test_a_queued_import_canceled_never_runs(
    conn: redis.Redis, worker: WorkerProcess, job_settings: Settings
) -> None:
    blocker = queue_of(conn).enqueue(time.sleep, 60)  # keeps the only worker busy
    wait_until(lambda: blocker.get_status() == RQStatus.STARTED, what="the blocker to start")
    handle = jobs.start_import(job_settings, missing_items())
    assert handle.mode == "worker"
    assert jobs.job_state(conn, handle.job_id) is JobState.QUEUED

    assert jobs.cancel(conn, handle.job_id) is JobState.CANCELED

    jobs.hard_stop(conn, blocker.id)
    wait_until(
        lambda: jobs.worker_alive(conn, QUEUE, grace=GRACE) and blocker.get_status() == RQStatus.STOPPED
    )
    time.sleep(2 * HEARTBEAT)
    status = jobs.job_status(conn, handle.job_id)
    assert status.state is JobState.CANCELED and status.results == [] and status.done == 0
    listed = {s.job_id: s.state for s in jobs.recent_jobs(conn, limit=50)}
    assert listed[handle.job_id] is JobState.CANCELED


# ------------------------------------------------------------------ what a queued job holds, byte for byte


def _queued(conn: redis.Redis, janitor: RedisJanitor, settings: Settings, kind: JobKind, *args) -> str:
    """A job put on the idle queue as start_import/start_search put it (no worker takes it)."""
    func = "core.jobs.import_job" if kind is JobKind.IMPORT else "core.jobs.search_job"
    handle = enqueue(conn, dataclasses.replace(settings, queue_name=IDLE_QUEUE), kind, 3, func, *args)
    janitor.own(handle.job_id)
    return handle.job_id


@pytest.mark.parametrize("kind", [JobKind.IMPORT, JobKind.SEARCH])
def test_a_queued_job_is_json_in_redis_and_carries_no_token(
    kind: JobKind,
    conn: redis.Redis,
    janitor: RedisJanitor,
    job_settings: Settings,
    stack_env: dict[str, str],
) -> None:
    if kind is JobKind.IMPORT:
        args = ([item.to_data() for item in missing_items()], None)
    else:
        args = (codec.filter_to_data(DeviceFilter(os="iosxe", detect_stacks=True)), "default")
    job_id = _queued(conn, janitor, job_settings, kind, *args)

    stored = rq_job_hash(conn, job_id)  # HGETALL rq:job:<id>, data inflated

    for name, value in stored.items():
        assert not value.startswith(PICKLE_PREFIXES), f"field {name} is a pickle"
    func_name, instance, job_args, job_kwargs = json.loads(stored["data"])
    assert func_name == f"core.jobs.{kind.value}_job" and instance is None and job_kwargs == {}
    assert job_args == json.loads(json.dumps([*args, {"analyst": "", "token": ""}]))  # plain JSON, as given
    assert json.loads(stored["meta"]) == {"kind": kind.value, "total": 3}
    everything = b"\n".join(stored.values())
    for token in (stack_env["NETBOX_TOKEN"], stack_env["NETBOX_TOKEN"].split(".")[-1], SIM_TOKEN):
        assert token.encode() not in everything, "a token reached the queue"
    job = Job.fetch(job_id, connection=conn, serializer=JSONSerializer)
    assert job.func_name == func_name and job.get_status() == RQStatus.QUEUED
    assert jobs.job_status(conn, job_id).mode == JobMode.WORKER
    assert jobs.cancel(conn, job_id) is JobState.CANCELED


def test_an_import_jobs_items_are_what_importitem_to_data_gives(
    conn: redis.Redis, janitor: RedisJanitor, job_settings: Settings
) -> None:
    items = [ImportItem("default", 5, {"role": "server", "kind": "vm"}), ImportItem("dc2", 6)]
    job_id = _queued(conn, janitor, job_settings, JobKind.IMPORT, [i.to_data() for i in items], 2)

    job = Job.fetch(job_id, connection=conn, serializer=JSONSerializer)

    assert [ImportItem.from_data(data) for data in job.args[0]] == items and job.args[1] == 2
    jobs.cancel(conn, job_id)


def test_a_signed_in_analysts_queued_job_holds_their_token_only_sealed(
    conn: redis.Redis, janitor: RedisJanitor, job_settings: Settings, nb
) -> None:
    """The raw bytes of a queued job (every field of its hash, the data inflated) hold the analyst's name and
    their token sealed with JOB_SECRET, never the token itself; the worker's JOB_SECRET opens it."""
    from core.auth import sign_in, sign_out, unseal
    from tests.helpers import password_of

    analyst = sign_in(job_settings, "analyst", password_of("analyst"))
    try:
        settings = analyst.settings(job_settings)
        assert settings.personal_token and job_settings.job_secret
        job_id = _queued(
            conn, janitor, settings, JobKind.IMPORT, [i.to_data() for i in missing_items()], None
        )
        stored = rq_job_hash(conn, job_id)
        raw = b"\n".join([*conn.hgetall(f"rq:job:{job_id}").values(), *stored.values()])
        token = analyst.token.get()
        for part in (token, token.split(".")[1], token.split(".")[0].removeprefix("nbt_")):
            assert part.encode() not in raw, "the analyst's token reached Redis"
        *_, actor = json.loads(stored["data"])[2]
        assert actor["analyst"] == "analyst"
        assert unseal(actor["token"], job_settings.job_secret)[0] == analyst.token
        assert jobs.job_status(conn, job_id).analyst == "analyst"
    finally:
        sign_out(job_settings, analyst)
