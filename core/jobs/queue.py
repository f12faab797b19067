"""Starting and stopping jobs. A job goes on the RQ queue when Redis is reachable and a live worker
listens, otherwise it runs in a background thread of the calling process (the app); the handle says which.
Either way it is followed with `job_status(conn_or_settings, handle.job_id)`, stopped at a safe point with
`cancel` (the batches in flight finish), or killed with `hard_stop` (a worker's job only).

What goes on the queue is plain JSON data (RQ's JSON serializer): items as ImportItem.to_data(), the filter
as dataclasses.asdict; no token, no pickle.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import redis
from rq.command import send_stop_job_command
from rq.exceptions import InvalidJobOperation, NoSuchJobError
from rq.job import JobStatus as RQStatus

from core import codec, defaults
from core.choices import JobKind, JobMode, JobState
from core.errors import ImporterError
from core.importer import ImportItem, LocalLocks, Locks
from core.jobs.connection import SERIALIZER, Conn, connect_or_none, fetch_job, queue, redis_errors
from core.jobs.locks import RedisLocks
from core.jobs.runner import execute_import, execute_search, start_thread
from core.jobs.status import job_status, locate
from core.jobs.store import Store, new_record, store_for
from core.jobs.worker import worker_alive
from core.librenms import DeviceFilter
from core.settings import Settings
from core.values import public_url

# RQ keeps a job's function by name: the package's public names, so a queued job still runs after the
# modules inside core.jobs move.
_IMPORT_JOB = "core.jobs.import_job"
_SEARCH_JOB = "core.jobs.search_job"

NO_WORKER_NOTE = "No worker is listening: the import runs inside the app"
NO_WORKER_SEARCH_NOTE = "No worker is listening: the search runs inside the app"


@dataclass(frozen=True, slots=True)
class JobHandle:
    job_id: str
    mode: str  # a JobMode value: "worker" or "in-process"
    note: str = ""  # for the user, e.g. that no worker listens and the job runs inside the app


def enqueue(
    conn: redis.Redis, settings: Settings, kind: JobKind, total: int, func: str, *args: Any
) -> JobHandle:
    """Put a job on settings.queue_name, with its record and its place in the recent jobs. `args` must be
    plain JSON data."""
    job_id = uuid.uuid4().hex
    store = store_for(conn)
    record = new_record(job_id, kind, JobMode.WORKER, total=total, queue=settings.queue_name)
    with redis_errors():
        store.put_record(job_id, record)
        store.index(job_id, record["enqueued_at"])
        queue(conn, settings.queue_name).enqueue(
            func,
            *args,
            job_id=job_id,
            job_timeout=defaults.JOB_TIMEOUT_SECONDS,
            result_ttl=defaults.RESULT_TTL_SECONDS,
            failure_ttl=defaults.RESULT_TTL_SECONDS,
            description=f"{kind.value} of {total} device(s)" if kind is JobKind.IMPORT else "search",
            meta={"kind": kind.value, "total": total},
        )
    return JobHandle(job_id, JobMode.WORKER.value)


def _start_here(store: Store, kind: JobKind, total: int) -> str:
    """The record of a job this process runs; returns its id."""
    job_id = uuid.uuid4().hex
    record = new_record(job_id, kind, JobMode.IN_PROCESS, total=total)
    with redis_errors():
        store.put_record(job_id, record)
        store.index(job_id, record["enqueued_at"])
    return job_id


def _local_note(base: str, conn: redis.Redis | None, settings: Settings) -> str:
    if conn is not None:
        return base + "."
    return (
        f"{base}, and Redis cannot be reached at {public_url(settings.redis_url)}: progress and results are "
        "kept in this app process only."
    )


def start_import(
    settings: Settings, items: Iterable[ImportItem], *, batch_size: int | None = None
) -> JobHandle:
    """Start importing `items`: on the worker when Redis is reachable and a live worker listens, otherwise
    in a background thread of this process (the handle's note says so). Either way, follow it with
    `job_status(conn_or_settings, handle.job_id)`."""
    payload = [item.to_data() for item in items]
    if not payload:
        raise ImporterError("Nothing to import: no row is ready and ticked.")
    conn = connect_or_none(settings)
    if conn is not None and worker_alive(conn, settings.queue_name):
        return enqueue(conn, settings, JobKind.IMPORT, len(payload), _IMPORT_JOB, payload, batch_size)

    store = store_for(conn)
    job_id = _start_here(store, JobKind.IMPORT, len(payload))
    locks: Locks = RedisLocks(conn, owner=job_id) if conn is not None else LocalLocks()
    parsed = [ImportItem.from_data(data) for data in payload]  # exactly what a worker would get

    def target() -> None:
        if not isinstance(locks, RedisLocks):
            execute_import(store, job_id, lambda: settings, parsed, locks=locks, batch_size=batch_size)
            return
        try:
            with locks.kept_alive():  # refreshed while the run lasts
                execute_import(store, job_id, lambda: settings, parsed, locks=locks, batch_size=batch_size)
        finally:
            locks.release_all()

    start_thread(store, job_id, target)
    return JobHandle(job_id, JobMode.IN_PROCESS.value, _local_note(NO_WORKER_NOTE, conn, settings))


def start_search(settings: Settings, flt: DeviceFilter, server_key: str | None = None) -> JobHandle:
    """Start a search like `start_import` starts an import. When it has finished, its result is
    `load_search(conn_or_settings, handle.job_id)`."""
    conn = connect_or_none(settings)
    if conn is not None and worker_alive(conn, settings.queue_name):
        return enqueue(
            conn, settings, JobKind.SEARCH, 100, _SEARCH_JOB, codec.filter_to_data(flt), server_key
        )
    store = store_for(conn)
    job_id = _start_here(store, JobKind.SEARCH, 100)
    start_thread(store, job_id, lambda: execute_search(store, job_id, lambda: settings, flt, server_key))
    return JobHandle(job_id, JobMode.IN_PROCESS.value, _local_note(NO_WORKER_SEARCH_NOTE, conn, settings))


def cancel(conn: Conn, job_id: str, *, hard: bool = False) -> JobState:
    """Stop a job at a safe point. Queued: canceled, it never runs. Running (in a worker or in an app): its
    cancel flag is set and nothing is killed; the run stops at its next safe point, between batches: the
    batches in flight finish their devices, IPs and stack masters and report their result lines, then it
    ends `stopped`. `hard=True` is `hard_stop`. Returns the state right after (still `running` while the
    run goes to its safe point). Raises QueueUnavailable while Redis cannot be reached."""
    with redis_errors():
        redis_conn, store = locate(conn, job_id)
        record = store.get_record(job_id)
        store.set_cancel(job_id)
        if redis_conn is not None and (record is None or record.get("mode") == JobMode.WORKER):
            job = fetch_job(redis_conn, job_id)
            status = job.get_status(refresh=False) if job is not None else None
            if job is not None and status in (RQStatus.QUEUED, RQStatus.DEFERRED, RQStatus.SCHEDULED):
                with contextlib.suppress(InvalidJobOperation):
                    job.cancel()
            elif job is not None and status == RQStatus.STARTED and hard:
                with contextlib.suppress(InvalidJobOperation, NoSuchJobError):
                    send_stop_job_command(redis_conn, job_id, serializer=SERIALIZER)
    return job_status(redis_conn, job_id, results=False).state


def hard_stop(conn: Conn, job_id: str) -> JobState:
    """Stop a job now. A worker's running job: RQ's stop-job command kills its work horse at once (the
    worker itself lives on), so the batch in flight may be left unfinished: objects created without their
    result line, IP or stack master (a re-run reports them as existing). Its device locks are released
    when it is seen stopped. A job running inside an app cannot be killed from outside: it gets the cancel
    flag and stops at its next safe point, as with `cancel`. Queued: canceled, as with `cancel`."""
    return cancel(conn, job_id, hard=True)
