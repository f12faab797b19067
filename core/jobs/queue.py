"""Starting and stopping jobs. A job goes on the RQ queue when Redis is reachable and a live worker
listens, otherwise it runs in a background thread of the calling process (the app); the handle says which.
Either way it is followed with `job_status(conn_or_settings, handle.job_id)`, stopped at a safe point with
`cancel` (the batches in flight finish), or killed with `hard_stop` (a worker's job only).

What goes on the queue is plain JSON data (RQ's JSON serializer): items as ImportItem.to_data(), the filter
as dataclasses.asdict, and who the job acts for (core.auth.actor_of: the analyst's name and their NetBox
token sealed with JOB_SECRET); no token in the clear, no pickle. Without JOB_SECRET a signed-in analyst's
jobs run inside the app, which holds their token anyway.
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
from core.auth import actor_of
from core.choices import JobKind, JobMode, JobState
from core.errors import ImporterError
from core.importer import ImportItem, LocalLocks, Locks
from core.jobs.connection import SERIALIZER, Conn, connect_or_none, fetch_job, queue, redis_errors
from core.jobs.locks import RedisLocks
from core.jobs.runner import MetaSink, execute_import, execute_search, execute_undo, start_thread
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
_UNDO_JOB = "core.jobs.undo_job"
NO_WORKER_UNDO_NOTE = "No worker is listening: the undo runs inside the app"

NO_WORKER_NOTE = "No worker is listening: the import runs inside the app"
NO_WORKER_SEARCH_NOTE = "No worker is listening: the search runs inside the app"
NO_SECRET_NOTE = (
    "JOB_SECRET is not set, so the worker cannot act with your NetBox sign-in: it runs inside the app"
)


@dataclass(frozen=True, slots=True)
class JobHandle:
    job_id: str
    mode: str  # a JobMode value: "worker" or "in-process"
    note: str = ""  # for the user, e.g. that no worker listens and the job runs inside the app


def enqueue(
    conn: redis.Redis,
    settings: Settings,
    kind: JobKind,
    total: int,
    func: str,
    *args: Any,
    extra: dict[str, Any] | None = None,
) -> JobHandle:
    """Put a job on settings.queue_name, with its record (and `extra` in it) and its place in the recent
    jobs. `args` must be plain JSON data."""
    job_id = uuid.uuid4().hex
    store = store_for(conn)
    record = new_record(
        job_id, kind, JobMode.WORKER, total=total, queue=settings.queue_name, analyst=settings.analyst
    ) | (extra or {})
    actor = actor_of(settings)
    with redis_errors():
        store.put_record(job_id, record)
        store.index(job_id, record["enqueued_at"])
        queue(conn, settings.queue_name).enqueue(
            func,
            *args,
            actor,
            job_id=job_id,
            job_timeout=defaults.JOB_TIMEOUT_SECONDS,
            result_ttl=defaults.RESULT_TTL_SECONDS,
            failure_ttl=defaults.RESULT_TTL_SECONDS,
            description=f"{kind.value} of {total} device(s)" if kind is JobKind.IMPORT else kind.value,
            meta={"kind": kind.value, "total": total},
        )
    return JobHandle(job_id, JobMode.WORKER.value)


def _start_here(
    store: Store, settings: Settings, kind: JobKind, total: int, extra: dict[str, Any] | None = None
) -> str:
    """The record of a job this process runs; returns its id."""
    job_id = uuid.uuid4().hex
    record = new_record(job_id, kind, JobMode.IN_PROCESS, total=total, analyst=settings.analyst) | (
        extra or {}
    )
    with redis_errors():
        store.put_record(job_id, record)
        store.index(job_id, record["enqueued_at"])
    return job_id


def _on_worker(conn: redis.Redis | None, settings: Settings) -> bool:
    """Whether a job goes to a worker: Redis answers, a live worker listens, and the worker can act for the
    analyst (their token can be sealed: JOB_SECRET is set, or the session uses the service token)."""
    if conn is None or not worker_alive(conn, settings.queue_name):
        return False
    return not settings.personal_token or bool(settings.job_secret)


def _local_note(base: str, conn: redis.Redis | None, settings: Settings) -> str:
    if conn is not None and settings.personal_token and not settings.job_secret:
        with contextlib.suppress(ImporterError):
            if worker_alive(conn, settings.queue_name):
                return NO_SECRET_NOTE + "."
    if conn is not None:
        return base + "."
    return (
        f"{base}, and Redis cannot be reached at {public_url(settings.redis_url)}: progress and results are "
        "kept in this app process only."
    )


def start_import(
    settings: Settings, items: Iterable[ImportItem], *, batch_size: int | None = None, resumes: str = ""
) -> JobHandle:
    """Start importing `items`: on the worker when Redis is reachable and a live worker listens, otherwise
    in a background thread of this process (the handle's note says so). Either way, follow it with
    `job_status(conn_or_settings, handle.job_id)`. `resumes`: the run this one resumes (`start_resume`)."""
    payload = [item.to_data() for item in items]
    if not payload:
        raise ImporterError("Nothing to import: no row is ready and ticked.")
    conn = connect_or_none(settings)
    extra = {"resumes": resumes}
    if _on_worker(conn, settings):
        return enqueue(
            conn,
            settings,
            JobKind.IMPORT,
            len(payload),
            _IMPORT_JOB,
            payload,
            batch_size,
            resumes,
            extra=extra,
        )

    store = store_for(conn)
    job_id = _start_here(store, settings, JobKind.IMPORT, len(payload), extra)
    locks: Locks = RedisLocks(conn, owner=job_id) if conn is not None else LocalLocks()
    parsed = [ImportItem.from_data(data) for data in payload]  # exactly what a worker would get

    def target() -> None:
        def run() -> None:
            execute_import(
                store, job_id, lambda: settings, parsed, locks=locks, batch_size=batch_size, resumes=resumes
            )

        if not isinstance(locks, RedisLocks):
            run()
            return
        try:
            with locks.kept_alive():  # refreshed while the run lasts
                run()
        finally:
            locks.release_all()

    start_thread(store, job_id, target)
    return JobHandle(job_id, JobMode.IN_PROCESS.value, _local_note(NO_WORKER_NOTE, conn, settings))


def start_search(settings: Settings, flt: DeviceFilter, server_key: str | None = None) -> JobHandle:
    """Start a search like `start_import` starts an import. When it has finished, its result is
    `load_search(conn_or_settings, handle.job_id)`."""
    conn = connect_or_none(settings)
    if _on_worker(conn, settings):
        return enqueue(
            conn, settings, JobKind.SEARCH, 100, _SEARCH_JOB, codec.filter_to_data(flt), server_key
        )
    store = store_for(conn)
    job_id = _start_here(store, settings, JobKind.SEARCH, 100)
    start_thread(store, job_id, lambda: execute_search(store, job_id, lambda: settings, flt, server_key))
    return JobHandle(job_id, JobMode.IN_PROCESS.value, _local_note(NO_WORKER_SEARCH_NOTE, conn, settings))


def run_here(
    settings: Settings,
    *,
    items: Iterable[ImportItem] = (),
    undo: str = "",
    resumes: str = "",
    batch_size: int | None = None,
    meta: MetaSink | None = None,
) -> str:
    """Run an import of `items` (or the undo of the run `undo`) in this process and wait for it: a run like
    a worker's, with its record, results and objects (in Redis when it can be reached) and under the
    device locks worker jobs take, refreshed while it runs. `meta` gets the record after each change (the
    command line's progress). Returns the run's id."""
    conn = connect_or_none(settings)
    store = store_for(conn)
    parsed = [ImportItem.from_data(i.to_data()) for i in items]
    kind = JobKind.UNDO if undo else JobKind.IMPORT
    job_id = _start_here(
        store, settings, kind, len(parsed), {"undoes": undo} if undo else {"resumes": resumes}
    )
    locks: Locks = RedisLocks(conn, owner=job_id) if conn is not None else LocalLocks()

    def target() -> None:
        if undo:
            execute_undo(store, job_id, lambda: settings, undo, meta=meta)
            return
        try:
            with locks.kept_alive() if isinstance(locks, RedisLocks) else contextlib.nullcontext():
                execute_import(
                    store,
                    job_id,
                    lambda: settings,
                    parsed,
                    locks=locks,
                    batch_size=batch_size,
                    meta=meta,
                    resumes=resumes,
                )
        finally:
            if isinstance(locks, RedisLocks):
                locks.release_all()

    start_thread(store, job_id, target).join()
    return job_id


def run_items(settings: Settings, run_id: str) -> list[ImportItem]:
    """The rows an import run was given, to resume it. Raises ImporterError when they are no longer kept
    (QueueUnavailable while Redis cannot be reached)."""
    conn = connect_or_none(settings)
    with redis_errors():
        _, store = locate(conn, run_id)
        items = store.items(run_id)
    if not items:
        raise ImporterError(f"Run {run_id} cannot be resumed: its rows are no longer kept.")
    return [ImportItem.from_data(i) for i in items]


def start_resume(settings: Settings, run_id: str) -> JobHandle:
    """Run an import run's rows again as a new run that resumes it: what it left unfinished is completed
    (core.importer.repair), what it did not get to is imported, and its changes name the resumed run too,
    so that run's undo covers them. Raises ImporterError when the run's rows are no longer kept."""
    return start_import(settings, run_items(settings, run_id), resumes=run_id)


def start_undo(settings: Settings, run_id: str) -> JobHandle:
    """Undo the run `run_id` (core.runs.undo), as a job like an import: on the worker when one listens,
    else inside this process."""
    conn = connect_or_none(settings)
    extra = {"undoes": run_id}
    if _on_worker(conn, settings):
        return enqueue(conn, settings, JobKind.UNDO, 0, _UNDO_JOB, run_id, extra=extra)
    store = store_for(conn)
    job_id = _start_here(store, settings, JobKind.UNDO, 0, extra)
    start_thread(store, job_id, lambda: execute_undo(store, job_id, lambda: settings, run_id))
    return JobHandle(job_id, JobMode.IN_PROCESS.value, _local_note(NO_WORKER_UNDO_NOTE, conn, settings))


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
    result line, IP or stack master (a resume of the run, or a re-run, completes them). Its device locks are released
    when it is seen stopped. A job running inside an app cannot be killed from outside: it gets the cancel
    flag and stops at its next safe point, as with `cancel`. Queued: canceled, as with `cancel`."""
    return cancel(conn, job_id, hard=True)
