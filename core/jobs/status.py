"""Reading a job back, whoever ran it (a worker, or a thread of some app process): its state, progress,
counts and finished rows. Every RQ status maps to one JobState; a job whose worker or app stopped
heartbeating is `abandoned` and one Redis no longer knows is `expired`, so polling always ends. A job seen
ended by someone else is written down once (`settle`), and its device locks are released.

Redis that cannot be reached right now is not a state of the job: the readers raise QueueUnavailable
(never `expired`, which means Redis answered and no longer knows the job), so a poller says "unreachable,
retrying" and keeps following; the job is read again as soon as Redis answers. Jobs started in this process
while Redis could not be reached (core.jobs.store.LOCAL) are read from here, with or without Redis.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import redis
from rq.job import Job

from core import defaults
from core.choices import JobKind, JobMode, JobState
from core.errors import QueueUnavailable
from core.jobs.clock import fresh, now, to_datetime, to_epoch
from core.jobs.connection import Conn, fetch_job, redis_errors, resolve, worker_of
from core.jobs.locks import release_job_locks
from core.jobs.states import FINAL_STATES, rq_state
from core.jobs.store import LOCAL, Store, store_for
from core.settings import Settings
from core.values import public_url

ABANDONED_TEXT = (
    "The worker running this job stopped answering (killed or crashed). The rows finished before that are "
    "listed; run the import again to create the rest (what exists is skipped)."
)
EXPIRED_TEXT = "This job is no longer known: its results expired, or Redis was reset."


def locate(conn: Conn, job_id: str) -> tuple[redis.Redis | None, Store]:
    """Where the job's data is: this process's store for a job started here while Redis could not be
    reached (even once Redis answers again), else Redis. Raises QueueUnavailable when `conn` is Settings
    whose Redis cannot be reached right now: the job's state is unknown then, not `expired`."""
    if LOCAL.get_record(job_id) is not None:
        return None, LOCAL
    redis_conn = resolve(conn)
    if redis_conn is None and isinstance(conn, Settings):
        raise QueueUnavailable(
            f"Redis cannot be reached at {public_url(conn.redis_url)}: the job's state is unknown until it "
            "answers again.",
            hint="Check that Redis is running; the job itself goes on.",
        )
    return redis_conn, store_for(redis_conn)


@dataclass(slots=True)
class JobStatus:
    """A job as the app shows it, whoever ran it. For a search, done/total is percent and `results` is empty
    (load the result with `load_search(conn, job_id)`)."""

    job_id: str
    state: JobState
    done: int = 0
    total: int = 0
    current: str = ""
    counts: dict[str, int] = field(default_factory=dict)
    results: list[dict[str, Any]] = field(default_factory=list)
    error: str = ""
    mode: str = ""  # a JobMode value
    kind: str = JobKind.IMPORT.value
    enqueued_at: datetime | None = None
    ended_at: datetime | None = None
    stopping: bool = False  # active, and asked to stop: it stops at its next safe point
    by: str = ""  # a run's NetBox user, as NetBox's changelog names it
    analyst: str = ""  # who started it (signed in); "" for the command line or AUTH=none
    resumes: str = ""  # the run an import resumes
    undoes: str = ""  # the run an undo undoes
    undone_by: str = ""  # the undo run of this import

    @property
    def active(self) -> bool:
        return self.state.active


def _failure_text(job: Job) -> str:
    with contextlib.suppress(Exception):
        result = job.latest_result()
        if result is not None and result.exc_string:
            return result.exc_string
    return ""


def _state(
    conn: redis.Redis | None, store: Store, job_id: str, record: Mapping[str, Any] | None, grace: float
) -> tuple[JobState, Job | None]:
    recorded = JobState(record["state"]) if record else None
    if record is not None and record.get("mode") == JobMode.IN_PROCESS:
        assert recorded is not None
        if recorded.active and not store.is_alive(job_id):
            return JobState.ABANDONED, None
        return recorded, None
    job = fetch_job(conn, job_id) if conn is not None else None
    if job is None:
        return (recorded if recorded in FINAL_STATES else JobState.EXPIRED), None
    status = job.get_status(refresh=False)
    state = rq_state(status) if status is not None else None
    if state is None:  # no status, or one this RQ release does not know: nothing will move it on
        return JobState.EXPIRED, job
    if state is JobState.RUNNING:
        if job.worker_name:
            worker = worker_of(conn, job)
            if worker is None or not fresh(worker.last_heartbeat, grace):
                return JobState.ABANDONED, job
    elif state is JobState.FINISHED and recorded in (JobState.STOPPED, JobState.FAILED):
        return recorded, job
    elif state is JobState.FAILED and "AbandonedJobError" in _failure_text(job):
        return JobState.ABANDONED, job
    return state, job


def job_state(conn: Conn, job_id: str, *, grace: float = defaults.WORKER_HEARTBEAT_GRACE) -> JobState:
    """The job's state. Every RQ status maps to one state, and a job Redis no longer knows is `expired`.
    Raises QueueUnavailable while Redis cannot be reached (see `locate`)."""
    with redis_errors():
        redis_conn, store = locate(conn, job_id)
        return _state(redis_conn, store, job_id, store.get_record(job_id), grace)[0]


def settle(
    conn: redis.Redis | None,
    store: Store,
    job_id: str,
    record: dict[str, Any] | None,
    state: JobState,
    job: Job | None,
) -> None:
    """A job seen ended by someone else (stopped, abandoned, canceled): write that down once, and release the
    device locks it may still hold."""
    if record is None or state not in FINAL_STATES or state is JobState.EXPIRED:
        return
    if record.get("state") == state.value:
        return
    record["state"] = state.value
    record["ended_at"] = record.get("ended_at") or to_epoch(getattr(job, "ended_at", None)) or now()
    store.put_record(job_id, record)
    if conn is not None and state is not JobState.FINISHED:
        release_job_locks(conn, job_id)


def _record_from_rq(job: Job) -> dict[str, Any]:
    """A job enqueued without our record (e.g. by hand): what job.meta says."""
    meta = job.meta or {}
    return {
        "id": job.id,
        "kind": meta.get("kind", JobKind.IMPORT.value),
        "mode": JobMode.WORKER.value,
        "done": meta.get("done", 0),
        "total": meta.get("total", 0),
        "current": meta.get("current", ""),
        "counts": meta.get("counts", {}),
        "error": meta.get("error", ""),
        "enqueued_at": to_epoch(job.enqueued_at),
        "ended_at": to_epoch(job.ended_at),
    }


def job_status(
    conn: Conn, job_id: str, *, results: bool = True, grace: float = defaults.WORKER_HEARTBEAT_GRACE
) -> JobStatus:
    """State, progress, counts and (with `results`) the finished rows of a job, whoever ran it.

    Raises QueueUnavailable while Redis cannot be reached (a connection that fails, or Settings whose Redis
    does not answer): "unknown right now", never `expired`, which is only said when Redis answered and no
    longer knows the job. Pollers catch it, say so and poll again."""
    with redis_errors():
        redis_conn, store = locate(conn, job_id)
        record = store.get_record(job_id)
        state, job = _state(redis_conn, store, job_id, record, grace)
        if record is None and job is not None:
            record = _record_from_rq(job)
        else:
            settle(redis_conn, store, job_id, record, state, job)
        rows = store.results(job_id) if results else []
        stopping = state.active and store.cancel_requested(job_id)
    record = record or {}
    error = record.get("error") or ""
    if not error and state is JobState.FAILED and job is not None:
        lines = [line for line in _failure_text(job).strip().splitlines() if line.strip()]
        error = lines[-1] if lines else "The job failed."
    elif not error and state is JobState.ABANDONED:
        error = ABANDONED_TEXT
    elif not error and state is JobState.EXPIRED:
        error = EXPIRED_TEXT
    return JobStatus(
        job_id=job_id,
        state=state,
        done=int(record.get("done") or 0),
        total=int(record.get("total") or 0),
        current=str(record.get("current") or ""),
        counts=dict(record.get("counts") or {}),
        results=rows,
        error=error,
        mode=str(record.get("mode") or ""),
        kind=str(record.get("kind") or JobKind.IMPORT.value),
        enqueued_at=to_datetime(record.get("enqueued_at")),
        ended_at=to_datetime(record.get("ended_at")),
        stopping=stopping,
        by=str(record.get("by") or ""),
        analyst=str(record.get("analyst") or ""),
        resumes=str(record.get("resumes") or ""),
        undoes=str(record.get("undoes") or ""),
        undone_by=str(record.get("undone_by") or ""),
    )


def recent_jobs(
    conn: Conn, limit: int = 20, *, kind: str | tuple[str, ...] | None = JobKind.IMPORT.value
) -> list[JobStatus]:
    """The most recent jobs of a kind or kinds (imports by default), newest first, without their result
    rows."""
    kinds = (kind,) if isinstance(kind, str) else kind
    redis_conn = resolve(conn)
    store = store_for(redis_conn)
    out: list[JobStatus] = []
    with redis_errors():
        ids = store.recent(defaults.JOBS_KEPT if kind else limit)
    for job_id in ids:
        status = job_status(redis_conn, job_id, results=False)
        if status.state is JobState.EXPIRED and not status.mode:
            with redis_errors():
                store.forget(job_id)
            continue
        if kinds and status.kind not in kinds:
            continue
        out.append(status)
        if len(out) >= limit:
            break
    return out
