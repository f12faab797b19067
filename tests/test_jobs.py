"""core.jobs against a real Redis and a real worker process (`python -m core worker`): states, locks, cancel,
the in-process fallback, what a job carries, stored searches.

Redis: the test database of the stack (REDIS_URL, flushed when this module starts; no other database is
touched). Queues are named per run. Nothing here writes to NetBox: import jobs get device ids LibreNMS does
not have (every row ends "failed: LibreNMS no longer has this device"), searches only read. Imports that
create objects are in test_worker_import.py.

The helpers at the top (worker process, waiting) are shared with test_worker_import.py.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fnmatch
import operator
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import zlib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import redis
from rq import Queue, SimpleWorker, Worker
from rq.job import Job
from rq.job import JobStatus as RQStatus
from rq.registry import StartedJobRegistry
from rq.utils import utcformat

from core import defaults, jobs, keys
from core.importer import ImportItem
from core.librenms import DeviceFilter
from core.search import run_search
from core.settings import Settings, load_settings
from tests.conftest import DEMO_MAPPINGS, ROOT, SIM_TOKEN

pytestmark = [pytest.mark.redis]

HEARTBEAT = 1  # the test workers heartbeat every second …
GRACE = 5  # … so a worker silent for 5 s is dead
MISSING_IDS = (2_100_000_001, 2_100_000_002, 2_100_000_003)  # device ids no simulator serves


# ------------------------------------------------------------------ shared helpers


def wait_until(
    predicate: Callable[[], Any], timeout: float = 30.0, interval: float = 0.1, what: str = ""
) -> Any:
    """Poll until predicate() is truthy; returns its value, fails the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what or predicate}")
        time.sleep(interval)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def worker_env(
    stack_env: dict[str, str],
    *,
    librenms_url: str,
    queue: str,
    mapping: Path,
    netbox_token: str | None = None,
) -> dict[str, str]:
    """The environment of a worker process: only what the product reads, like a container would have."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(ROOT),
        "LIBRENMS_URL": librenms_url,
        "LIBRENMS_TOKEN": SIM_TOKEN,
        "NETBOX_URL": stack_env["NETBOX_URL"],
        "NETBOX_TOKEN": netbox_token or stack_env["NETBOX_TOKEN"],
        "REDIS_URL": stack_env["REDIS_URL"],
        "QUEUE_NAME": queue,
        "MAPPING_FILE": str(mapping),
    }


def settings_from(env: dict[str, str], tmp: Path) -> Settings:
    return load_settings(env, secrets_file=tmp / "no-secrets.toml")


@dataclasses.dataclass
class WorkerProcess:
    proc: subprocess.Popen
    log: Path
    queue: str

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def horses(self) -> list[int]:
        """Pids of the work horses (RQ forks one per job; it runs in its own process group)."""
        found = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.proc.pid:
                found.append(int(stat.parent.name))
        return found

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()
        self.proc.wait(timeout=15)

    def kill(self) -> None:
        """SIGKILL the worker and its work horse, as an OOM killer or a lost machine would."""
        for pid in [*self.horses(), self.proc.pid]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.proc.wait(timeout=15)


def start_worker(conn: redis.Redis, env: dict[str, str], tmp: Path, *, name: str = "") -> WorkerProcess:
    """`python -m core worker` in its own process, and wait until it heartbeats on its queue."""
    tmp.mkdir(parents=True, exist_ok=True)
    log = tmp / f"worker-{name or secrets.token_hex(3)}.log"
    args = [sys.executable, "-m", "core", "worker", "--heartbeat", str(HEARTBEAT)]
    if name:
        args += ["--name", name]
    with log.open("wb") as out:
        proc = subprocess.Popen(args, env=env, cwd=tmp, stdout=out, stderr=subprocess.STDOUT)
    worker = WorkerProcess(proc, log, env["QUEUE_NAME"])

    def ready() -> bool:
        if proc.poll() is not None:
            pytest.fail(f"the worker exited with {proc.returncode}:\n{worker.output()}")
        return jobs.worker_alive(conn, env["QUEUE_NAME"], grace=GRACE)

    wait_until(ready, timeout=30, what="the worker's first heartbeat")
    return worker


def wait_for_end(conn: Any, job_id: str, timeout: float = 90.0) -> jobs.JobStatus:
    """Poll like the app does until the job is no longer queued or running."""

    def ended() -> jobs.JobStatus | None:
        status = jobs.job_status(conn, job_id, results=False, grace=GRACE)
        return None if status.active else status

    wait_until(ended, timeout=timeout, interval=0.2, what=f"job {job_id} to end")
    return jobs.job_status(conn, job_id, grace=GRACE)


def missing_items() -> list[ImportItem]:
    return [ImportItem("default", device_id, {"role": "server"}) for device_id in MISSING_IDS]


def raw_redis_bytes(conn: redis.Redis, key: str) -> bytes:
    """Every byte stored under a key, whatever its type, with RQ's zlib-compressed job data inflated."""
    kind = conn.type(key)
    values: list[bytes] = []
    if kind == b"hash":
        for field_name, value in conn.hgetall(key).items():
            values += [field_name, value]
            if field_name == b"data":
                values.append(zlib.decompress(value))
    elif kind == b"string":
        values.append(conn.get(key))
    elif kind == b"list":
        values += conn.lrange(key, 0, -1)
    elif kind == b"set":
        values += list(conn.smembers(key))
    elif kind == b"zset":
        values += [member for member, _ in conn.zrange(key, 0, -1, withscores=True)]
    elif kind == b"stream":  # RQ's results
        for _entry, entry_fields in conn.xrange(key):
            values += [*entry_fields.keys(), *entry_fields.values()]
    return b"\n".join(values)


# ------------------------------------------------------------------ fixtures


RUN = secrets.token_hex(3)
QUEUE = f"lnbi-test-jobs-{RUN}"
IDLE_QUEUE = f"lnbi-test-jobs-idle-{RUN}"  # no worker ever listens here


@pytest.fixture(scope="module")
def conn(stack_env: dict[str, str]) -> Iterator[redis.Redis]:
    connection = redis.Redis.from_url(stack_env["REDIS_URL"])
    connection.flushdb()  # the test database only (REDIS_URL of the test stack)
    yield connection
    connection.close()


@pytest.fixture(scope="module")
def module_tmp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("jobs")
    (path / "mappings.yaml").write_text(DEMO_MAPPINGS.read_text(encoding="utf-8"), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def env(stack_env: dict[str, str], sim, module_tmp: Path) -> dict[str, str]:
    return worker_env(stack_env, librenms_url=sim.url, queue=QUEUE, mapping=module_tmp / "mappings.yaml")


@pytest.fixture(scope="module")
def job_settings(env: dict[str, str], module_tmp: Path) -> Settings:
    return settings_from(env, module_tmp)


@pytest.fixture(scope="module")
def worker(conn: redis.Redis, env: dict[str, str], module_tmp: Path) -> Iterator[WorkerProcess]:
    process = start_worker(conn, env, module_tmp)
    yield process
    process.stop()


@pytest.fixture
def idle_queue(conn: redis.Redis) -> Queue:
    return Queue(IDLE_QUEUE, connection=conn)


def started_job(conn: redis.Redis, worker_name: str) -> Job:
    """A job RQ shows as started by `worker_name` (made by hand: no worker runs it)."""
    job = Job.create(time.sleep, args=(0,), connection=conn, origin=IDLE_QUEUE)
    job.worker_name = worker_name
    job.save()
    job.set_status(RQStatus.STARTED)
    return job


# ------------------------------------------------------------------ keys


def test_every_key_has_the_prefix_is_distinct_and_is_documented() -> None:
    made = {
        "job": keys.job("<id>"),
        "job_results": keys.job_results("<id>"),
        "job_cancel": keys.job_cancel("<id>"),
        "job_alive": keys.job_alive("<id>"),
        "job_locks": keys.job_locks("<id>"),
        "jobs_index": keys.jobs_index(),
        "lock": keys.lock("<server>", 7),
        "locks_pattern": keys.locks_pattern(),
        "search_result": keys.search_result("<id>"),
        "recent_searches": keys.recent_searches(),
    }
    public = {name for name in vars(keys) if callable(getattr(keys, name)) and not name.startswith("_")}
    assert public == set(made), "a key helper without a test line here"
    assert len(set(made.values())) == len(made)
    assert fnmatch.fnmatch(keys.lock("dc1", 42), keys.locks_pattern())
    for key in made.values():
        assert key.startswith(keys.PREFIX) and key.startswith("lnbi:")
        assert key.split("<")[0].rstrip(":7*") in keys.__doc__
    assert keys.lock("dc1", 42) == "lnbi:lock:dc1:42"


# ------------------------------------------------------------------ states


def test_every_rq_status_maps_to_one_job_state() -> None:
    assert set(jobs.RQ_STATES) == set(RQStatus)
    assert set(jobs.RQ_STATES.values()) <= set(jobs.JobState)
    assert set(jobs.JobState) == jobs.FINAL_STATES | jobs.ACTIVE_STATES


def test_queued_deferred_and_scheduled_jobs_are_queued(conn: redis.Redis, idle_queue: Queue) -> None:
    first = idle_queue.enqueue(time.sleep, 0)
    deferred = idle_queue.enqueue(time.sleep, 0, depends_on=first)
    scheduled = idle_queue.enqueue_in(timedelta(hours=1), time.sleep, 0)

    assert first.get_status() == RQStatus.QUEUED
    assert deferred.get_status() == RQStatus.DEFERRED
    assert scheduled.get_status() == RQStatus.SCHEDULED
    for job in (first, deferred, scheduled):
        assert jobs.job_state(conn, job.id) is jobs.JobState.QUEUED
        assert jobs.job_status(conn, job.id).active
    for job in (first, deferred, scheduled):
        jobs.cancel(conn, job.id)


def test_a_canceled_job_is_canceled(conn: redis.Redis, idle_queue: Queue) -> None:
    job = idle_queue.enqueue(time.sleep, 0)

    assert jobs.cancel(conn, job.id) is jobs.JobState.CANCELED
    assert job.get_status() == RQStatus.CANCELED
    assert jobs.job_status(conn, job.id).state is jobs.JobState.CANCELED


def test_finished_and_failed_jobs(conn: redis.Redis, idle_queue: Queue) -> None:
    good = idle_queue.enqueue(operator.add, 1, 2)
    bad = idle_queue.enqueue(operator.truediv, 1, 0)
    SimpleWorker([idle_queue], connection=conn).work(burst=True)

    assert good.get_status() == RQStatus.FINISHED and bad.get_status() == RQStatus.FAILED
    assert jobs.job_state(conn, good.id) is jobs.JobState.FINISHED
    failed = jobs.job_status(conn, bad.id)
    assert failed.state is jobs.JobState.FAILED
    assert "ZeroDivisionError" in failed.error


def test_a_job_redis_no_longer_has_is_expired(conn: redis.Redis, idle_queue: Queue) -> None:
    job = idle_queue.enqueue(time.sleep, 0)
    job.delete()

    for job_id in (job.id, "never-there"):
        assert jobs.job_state(conn, job_id) is jobs.JobState.EXPIRED
        status = jobs.job_status(conn, job_id)
        assert status.state is jobs.JobState.EXPIRED and not status.active
        assert "no longer known" in status.error


def test_a_started_job_whose_worker_is_gone_is_abandoned(conn: redis.Redis) -> None:
    job = started_job(conn, f"ghost-{RUN}")  # no such worker key: it died, or was SIGKILLed long ago

    assert jobs.job_state(conn, job.id) is jobs.JobState.ABANDONED
    assert "stopped answering" in jobs.job_status(conn, job.id).error


def test_a_started_job_is_running_while_its_worker_heartbeats(conn: redis.Redis, idle_queue: Queue) -> None:
    fake = Worker([idle_queue], connection=conn, name=f"silent-{RUN}")
    fake.register_birth()
    job = started_job(conn, fake.name)
    try:
        assert jobs.job_state(conn, job.id, grace=GRACE) is jobs.JobState.RUNNING
        # the key is still there (SIGKILL leaves it until its TTL), but the heartbeat is old
        conn.hset(fake.key, "last_heartbeat", utcformat(datetime.now(UTC) - timedelta(minutes=5)))
        assert jobs.job_state(conn, job.id, grace=GRACE) is jobs.JobState.ABANDONED
        assert not jobs.worker_alive(conn, IDLE_QUEUE, grace=GRACE)
    finally:
        fake.register_death()


def test_an_in_process_job_whose_app_died_is_abandoned(conn: redis.Redis) -> None:
    job_id = f"in-app-{RUN}"
    record = jobs._new_record(job_id, jobs.JobKind.IMPORT, jobs.Mode.IN_PROCESS, total=5)
    jobs._RedisStore(conn).put_record(job_id, record)  # running, but no thread here and no heartbeat key
    conn.set(keys.job_alive(job_id), b"1", ex=5)

    assert jobs.job_state(conn, job_id) is jobs.JobState.RUNNING  # its app heartbeats (another process)

    conn.delete(keys.job_alive(job_id))
    assert jobs.job_state(conn, job_id) is jobs.JobState.ABANDONED
    status = jobs.job_status(conn, job_id)
    assert status.state is jobs.JobState.ABANDONED and status.ended_at is not None
    assert jobs.job_state(conn, job_id) is jobs.JobState.ABANDONED  # written down: it stays so


def test_rqs_own_abandoned_job_cleanup_shows_as_abandoned(conn: redis.Redis, idle_queue: Queue) -> None:
    job = started_job(conn, f"ghost-{RUN}")
    registry = StartedJobRegistry(queue=idle_queue)
    conn.zadd(registry.key, {f"{job.id}:lost-execution": 1})  # expired long ago: its worker never came back
    registry.cleanup()

    assert job.get_status() == RQStatus.FAILED
    assert jobs.job_state(conn, job.id) is jobs.JobState.ABANDONED


def test_a_running_job_runs_and_a_stopped_one_is_stopped(conn: redis.Redis, worker: WorkerProcess) -> None:
    job = Queue(QUEUE, connection=conn).enqueue(time.sleep, 60)
    wait_until(lambda: jobs.job_state(conn, job.id, grace=GRACE) is jobs.JobState.RUNNING, what="running")

    jobs.cancel(conn, job.id)

    wait_until(lambda: job.get_status() == RQStatus.STOPPED, what="RQ to stop the job")
    status = jobs.job_status(conn, job.id, grace=GRACE)
    assert status.state is jobs.JobState.STOPPED


# ------------------------------------------------------------------ workers and locks


def test_worker_alive_goes_by_heartbeat(conn: redis.Redis, worker: WorkerProcess) -> None:
    assert jobs.worker_alive(conn, QUEUE, grace=GRACE)
    assert not jobs.worker_alive(conn, f"nobody-listens-{RUN}")
    time.sleep(HEARTBEAT * 3)  # idle: it keeps heartbeating
    assert jobs.worker_alive(conn, QUEUE, grace=GRACE)
    workers = Worker.all(queue=Queue(QUEUE, connection=conn))
    assert len(workers) == 1 and workers[0].last_heartbeat is not None


def test_redis_locks_are_exclusive_and_release_only_their_own(conn: redis.Redis) -> None:
    one = jobs.RedisLocks(conn, ttl=30, owner=f"job-a-{RUN}")
    two = jobs.RedisLocks(conn, ttl=30, owner=f"job-b-{RUN}")
    a, b, c = ("default", 1), ("default", 2), ("dc2", 1)

    assert one.acquire([a, b]) == [a, b]
    assert two.acquire([a, b, c]) == [c]
    assert 0 < conn.ttl(keys.lock(*a)) <= 30
    assert conn.get(keys.lock(*a)) == one.owner.encode()

    two.release([a, b, c])  # a and b are not two's: they stay locked
    assert conn.get(keys.lock(*a)) == one.owner.encode()
    assert conn.get(keys.lock(*c)) is None

    one.release([a])
    assert two.acquire([a]) == [a]
    # the locks of a job that died are released by whoever sees it dead, and only those
    assert jobs.release_job_locks(conn, one.owner) == 1  # b; a is two's now
    assert conn.get(keys.lock(*b)) is None and conn.get(keys.lock(*a)) == two.owner.encode()
    assert two.release_all() == 1


# ------------------------------------------------------------------ imports


def test_an_import_job_carries_no_token(
    conn: redis.Redis, worker: WorkerProcess, job_settings: Settings, stack_env: dict[str, str]
) -> None:
    handle = jobs.start_import(job_settings, missing_items())

    assert handle.mode == jobs.Mode.WORKER and handle.note == ""
    job = Job.fetch(handle.job_id, connection=conn)
    assert job.func_name == "core.jobs.import_job"
    assert job.timeout == defaults.JOB_TIMEOUT_SECONDS
    assert job.result_ttl == defaults.RESULT_TTL_SECONDS and job.failure_ttl == defaults.RESULT_TTL_SECONDS
    items = job.args[0]
    assert [item["librenms_id"] for item in items] == list(MISSING_IDS)
    assert all(set(item) == {"server_key", "librenms_id", "overrides"} for item in items)

    status = wait_for_end(conn, handle.job_id)

    assert status.state is jobs.JobState.FINISHED, status.error
    assert status.mode == "worker" and status.total == status.done == 3
    assert status.counts["failed"] == 3
    assert [r["librenms_id"] for r in status.results] == list(MISSING_IDS)
    assert all("LibreNMS no longer has this device" in r["message"] for r in status.results)
    tokens = [stack_env["NETBOX_TOKEN"], SIM_TOKEN, stack_env["NETBOX_TOKEN"].split(".")[-1]]
    stored = b"\n".join(raw_redis_bytes(conn, key) for key in conn.keys("*"))
    assert handle.job_id.encode() in stored
    for token in tokens:
        assert token.encode() not in stored, "a token reached Redis"
        assert token not in worker.output(), "the worker logged a token"
    assert Job.fetch(handle.job_id, connection=conn).meta["done"] == 3  # progress in job.meta too


def test_without_a_worker_the_import_runs_in_process(
    conn: redis.Redis, job_settings: Settings, module_tmp: Path
) -> None:
    settings = dataclasses.replace(job_settings, queue_name=f"nobody-listens-{RUN}")

    handle = jobs.start_import(settings, missing_items())

    assert handle.mode == "in-process"
    assert handle.note == "No worker is listening: the import runs inside the app."
    status = wait_for_end(conn, handle.job_id)  # read back through Redis, like a worker job
    assert status.state is jobs.JobState.FINISHED and status.mode == "in-process"
    assert [r["librenms_id"] for r in status.results] == list(MISSING_IDS)
    assert status.counts["failed"] == 3 and status.done == status.total == 3
    assert jobs.job_status(settings, handle.job_id).results == status.results  # Settings work as conn too
    listed = {s.job_id: s for s in jobs.recent_jobs(conn)}
    assert (
        listed[handle.job_id].mode == "in-process" and listed[handle.job_id].state is jobs.JobState.FINISHED
    )
    assert listed[handle.job_id].results == []


def test_without_redis_the_import_runs_in_process_and_is_read_back_here(job_settings: Settings) -> None:
    settings = dataclasses.replace(job_settings, redis_url=f"redis://127.0.0.1:{closed_port()}/0")

    handle = jobs.start_import(settings, missing_items())

    assert handle.mode == "in-process"
    assert handle.note.startswith("No worker is listening: the import runs inside the app")
    assert "Redis cannot be reached" in handle.note
    status = wait_for_end(None, handle.job_id)
    assert status.state is jobs.JobState.FINISHED
    assert [r["librenms_id"] for r in status.results] == list(MISSING_IDS)
    assert jobs.job_status(settings, handle.job_id).results == status.results
    assert handle.job_id in [s.job_id for s in jobs.recent_jobs(None)]


def test_a_queued_import_canceled_never_runs(
    conn: redis.Redis, worker: WorkerProcess, job_settings: Settings
) -> None:
    blocker = Queue(QUEUE, connection=conn).enqueue(time.sleep, 60)  # keeps the only worker busy
    wait_until(lambda: blocker.get_status() == RQStatus.STARTED, what="the blocker to start")
    handle = jobs.start_import(job_settings, missing_items())
    assert handle.mode == "worker"
    assert jobs.job_state(conn, handle.job_id) is jobs.JobState.QUEUED

    assert jobs.cancel(conn, handle.job_id) is jobs.JobState.CANCELED

    jobs.cancel(conn, blocker.id)
    wait_until(
        lambda: jobs.worker_alive(conn, QUEUE, grace=GRACE) and blocker.get_status() == RQStatus.STOPPED
    )
    time.sleep(2 * HEARTBEAT)
    status = jobs.job_status(conn, handle.job_id)
    assert status.state is jobs.JobState.CANCELED and status.results == [] and status.done == 0
    listed = {s.job_id: s.state for s in jobs.recent_jobs(conn, limit=50)}
    assert listed[handle.job_id] is jobs.JobState.CANCELED


def test_cli_jobs_lists_recent_jobs(
    conn: redis.Redis, env: dict[str, str], job_settings: Settings, module_tmp
):
    handle = jobs.start_import(dataclasses.replace(job_settings, queue_name=f"nobody-{RUN}"), missing_items())
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


# ------------------------------------------------------------------ searches


def _statuses(result) -> dict[tuple[str, int], tuple[str, str]]:
    return {key: (row.name, row.status.value) for key, row in result.review.rows.items()}


def test_a_search_job_stores_what_an_in_process_search_stores(
    conn: redis.Redis, worker: WorkerProcess, job_settings: Settings
) -> None:
    flt = DeviceFilter(detect_stacks=True)
    handle = jobs.start_search(job_settings, flt)
    assert handle.mode == "worker"
    status = wait_for_end(conn, handle.job_id)
    assert status.state is jobs.JobState.FINISHED and status.kind == "search", status.error
    from_worker = jobs.load_search(conn, handle.job_id)

    local = run_search(job_settings, flt)
    local_id = jobs.save_search(conn, local)
    from_app = jobs.load_search(conn, local_id)

    assert _statuses(from_worker) == _statuses(from_app) == _statuses(local)
    assert len(from_worker.review) > 30
    assert any(row.stack for row in from_worker.review)
    assert from_worker.filter == flt and from_worker.server_key == "default"
    listed = {entry["id"]: entry for entry in jobs.recent_searches(conn)}
    assert listed[handle.job_id]["counts"] == listed[local_id]["counts"]
    assert listed[handle.job_id]["filters"] == {"detect_stacks": True}
    assert sum(listed[local_id]["counts"].values()) == len(local.review)
    assert Job.fetch(handle.job_id, connection=conn).meta["done"] == 100  # progress in job.meta


def test_a_search_without_a_worker_runs_in_process_and_loads_the_same_way(
    conn: redis.Redis, job_settings: Settings
) -> None:
    settings = dataclasses.replace(job_settings, queue_name=f"nobody-listens-{RUN}")

    handle = jobs.start_search(settings, DeviceFilter(os="iosxe"))

    assert handle.mode == "in-process" and "search runs inside the app" in handle.note
    assert wait_for_end(conn, handle.job_id).state is jobs.JobState.FINISHED
    result = jobs.load_search(conn, handle.job_id)
    assert result.review.rows and {row.device.os for row in result.review} == {"iosxe"}
    assert jobs.recent_searches(conn)[0]["id"] == handle.job_id


def test_recent_searches_keeps_the_newest_and_drops_the_rest(
    conn: redis.Redis, job_settings: Settings
) -> None:
    result = run_search(job_settings, DeviceFilter(os="nxos"))
    ids = [jobs.save_search(conn, result) for _ in range(defaults.RECENT_SEARCHES_KEPT + 3)]

    listed = [entry["id"] for entry in jobs.recent_searches(conn)]

    assert listed == ids[::-1][: defaults.RECENT_SEARCHES_KEPT]
    assert 0 < conn.ttl(keys.search_result(ids[-1])) <= defaults.RESULT_TTL_SECONDS
    for gone in ids[:3]:
        with pytest.raises(jobs.SearchExpired):
            jobs.load_search(conn, gone)
    assert conn.llen(keys.recent_searches()) == defaults.RECENT_SEARCHES_KEPT
