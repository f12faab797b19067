"""Fixtures of the core.jobs tests: a real Redis and a real worker process (`python -m core worker`).

Redis: the test database of the stack (REDIS_URL). It is shared: the tests never flush it, they name every
queue, worker and lock owner with this run's marker, own the ids of the jobs and searches they make, and
remove only that at the end (tests.helpers.RedisJanitor). Nothing here writes to NetBox: import jobs get
device ids LibreNMS does not have (every row ends "failed: LibreNMS no longer has this device"), searches
only read. Imports that create objects are in tests/importer.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from rq import Queue
from rq.job import Job
from rq.job import JobStatus as RQStatus
from rq.serializers import JSONSerializer

from core.importer import ImportItem
from core.settings import Settings
from tests.conftest import DEMO_MAPPINGS
from tests.helpers import RedisJanitor, WorkerProcess, settings_from, start_worker, worker_env

RUN = secrets.token_hex(3)
MARK = f"lnbi-test-jobs-{RUN}"  # in every name the tests give: "-test-" is no job id's (not hex)
QUEUE = f"{MARK}-queue"
IDLE_QUEUE = f"{MARK}-idle"  # no worker ever listens here
NOBODY = f"{MARK}-nobody-listens"  # nor here
MISSING_IDS = (2_100_000_001, 2_100_000_002, 2_100_000_003)  # device ids no simulator serves


def missing_items() -> list[ImportItem]:
    return [ImportItem("default", device_id, {"role": "server"}) for device_id in MISSING_IDS]


@pytest.fixture(scope="package")
def janitor(stack_env: dict[str, str]) -> Iterator[RedisJanitor]:
    connection = redis.Redis.from_url(stack_env["REDIS_URL"])
    owner = RedisJanitor(connection, MARK)
    with pytest.MonkeyPatch.context() as patch:
        owner.watch(patch)
        yield owner
    owner.cleanup()
    connection.close()


@pytest.fixture(scope="package")
def conn(janitor: RedisJanitor) -> redis.Redis:
    return janitor.conn


@pytest.fixture(scope="package")
def module_tmp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("jobs")
    (path / "mappings.yaml").write_text(DEMO_MAPPINGS.read_text(encoding="utf-8"), encoding="utf-8")
    return path


@pytest.fixture(scope="package")
def env(stack_env: dict[str, str], sim, module_tmp: Path) -> dict[str, str]:
    return worker_env(stack_env, librenms_url=sim.url, queue=QUEUE, mapping=module_tmp / "mappings.yaml")


@pytest.fixture(scope="package")
def job_settings(env: dict[str, str], module_tmp: Path) -> Settings:
    return settings_from(env, module_tmp)


@pytest.fixture(scope="package")
def worker(conn: redis.Redis, env: dict[str, str], module_tmp: Path) -> Iterator[WorkerProcess]:
    process = start_worker(conn, env, module_tmp)
    yield process
    process.stop()


@pytest.fixture
def idle_queue(conn: redis.Redis) -> Queue:
    return Queue(IDLE_QUEUE, connection=conn, serializer=JSONSerializer)


def queue_of(conn: redis.Redis, name: str = QUEUE) -> Queue:
    """An RQ queue as the product makes it (JSON serializer): what `python -m core worker` can run."""
    return Queue(name, connection=conn, serializer=JSONSerializer)


def started_job(conn: redis.Redis, janitor: RedisJanitor, worker_name: str) -> Job:
    """A job RQ shows as started by `worker_name` (made by hand: no worker runs it)."""
    job = Job.create(time.sleep, args=(0,), connection=conn, origin=IDLE_QUEUE, serializer=JSONSerializer)
    janitor.own(job.id)
    job.worker_name = worker_name
    job.save()
    job.set_status(RQStatus.STARTED)
    return job
