"""Background jobs: imports and searches on RQ, with an in-process fallback that looks the same from outside.

What this module owns:
- starting a job (`start_import`, `start_search`): on the RQ queue when Redis is reachable and a live worker
  listens, otherwise in a background thread of the calling process (the app), and saying so in the handle;
- the job functions the worker runs (`import_job`, `search_job`): settings come from the worker's own
  environment, so a job carries only device ids and the analyst's choices, never a token;
- progress and results: every job has a record (`keys.job`) with its state, progress and counts, mirrored
  into `job.meta` for RQ's own tools, and its finished rows are appended to `keys.job_results` as they
  finish, so a stopped or killed job keeps what it created;
- reading a job back (`job_state`, `job_status`, `recent_jobs`) the same way whoever ran it; every RQ status
  maps to one `JobState`, and a job whose worker died (no heartbeat within WORKER_HEARTBEAT_GRACE) is
  `abandoned`, so polling always ends;
- stopping (`cancel`): a queued job is canceled; a running one gets the cancel flag (it stops at its next
  batch) and, for a worker job, RQ's stop-job command (its work horse is killed);
- locks per LibreNMS device (`RedisLocks`), so overlapping jobs never create one device twice;
- stored searches (`save_search`, `load_search`, `recent_searches`), pickled with a TTL;
- running a worker (`run_worker`, i.e. `python -m core worker`).

Functions that read or write job data take `conn`: a Redis connection (made with `connect`), a `Settings`
object (connected from `settings.redis_url`), or None. Without Redis (None, or Settings whose Redis cannot
be reached) they use a store inside this process, where jobs started in-process without Redis live.

The queue's Redis connection uses `decode_responses=False` (RQ stores pickles). Keys come from core.keys.
"""

from __future__ import annotations

import contextlib
import json
import logging
import pickle
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import redis
from rq import Queue, Worker, get_current_job
from rq.command import send_stop_job_command
from rq.exceptions import InvalidJobOperation, NoSuchJobError
from rq.job import Job
from rq.job import JobStatus as RQStatus

from core import defaults, keys
from core.errors import ImporterError, QueueUnavailable
from core.health import redact_url
from core.importer import ImportItem, LocalLocks, Locks, Progress, RowResult, run_import
from core.librenms import DeviceFilter
from core.search import SearchResult, run_search
from core.settings import Settings, load_settings

log = logging.getLogger(__name__)

# A lock outlives any one batch (50 devices take seconds); a killed job's locks are released when it is seen
# abandoned or stopped, or expire after this.
LOCK_TTL_SECONDS = 600
# The worker heartbeats this often, while idle and while a job runs; well inside WORKER_HEARTBEAT_GRACE.
HEARTBEAT_SECONDS = max(1, defaults.WORKER_HEARTBEAT_GRACE // 4)
JOBS_KEPT = 500  # entries of the recent-jobs index
REDIS_TIMEOUT_SECONDS = 5.0
REDIS_CONNECT_TIMEOUT_SECONDS = 2.0

NO_WORKER_NOTE = "No worker is listening: the import runs inside the app"
NO_WORKER_SEARCH_NOTE = "No worker is listening: the search runs inside the app"


class JobState(StrEnum):
    """What the app shows for a job."""

    QUEUED = "queued"
    RUNNING = "running"
    FINISHED = "finished"
    STOPPED = "stopped"  # cancelled while running: what finished before is kept
    CANCELED = "canceled"  # cancelled before it started
    FAILED = "failed"
    ABANDONED = "abandoned"  # its worker died (killed, crashed, machine gone)
    EXPIRED = "expired"  # Redis no longer knows it (results expired, or Redis was reset)

    @property
    def active(self) -> bool:
        return self in ACTIVE_STATES


ACTIVE_STATES = frozenset({JobState.QUEUED, JobState.RUNNING})
FINAL_STATES = frozenset(set(JobState) - ACTIVE_STATES)

# Every RQ status, as the app shows it. STARTED, FINISHED and FAILED are refined by `job_state` (a dead
# worker → abandoned; a job that stopped on its cancel flag → stopped; RQ's own abandoned-job cleanup →
# abandoned).
RQ_STATES: dict[RQStatus, JobState] = {
    RQStatus.CREATED: JobState.QUEUED,
    RQStatus.QUEUED: JobState.QUEUED,
    RQStatus.DEFERRED: JobState.QUEUED,
    RQStatus.SCHEDULED: JobState.QUEUED,
    RQStatus.STARTED: JobState.RUNNING,
    RQStatus.FINISHED: JobState.FINISHED,
    RQStatus.STOPPED: JobState.STOPPED,
    RQStatus.CANCELED: JobState.CANCELED,
    RQStatus.FAILED: JobState.FAILED,
}


class Mode(StrEnum):
    WORKER = "worker"
    IN_PROCESS = "in-process"


class JobKind(StrEnum):
    IMPORT = "import"
    SEARCH = "search"


class SearchExpired(ImporterError):
    """A stored search is no longer there (expired, dropped from the recent list, or Redis was reset)."""


@dataclass(frozen=True, slots=True)
class JobHandle:
    job_id: str
    mode: str  # Mode value: "worker" or "in-process"
    note: str = ""  # for the user, e.g. that no worker listens and the job runs inside the app


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
    mode: str = ""
    kind: str = JobKind.IMPORT.value
    enqueued_at: datetime | None = None
    ended_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.state.active


# ------------------------------------------------------------------ connections


def connect(settings: Settings, *, timeout: float | None = REDIS_TIMEOUT_SECONDS) -> redis.Redis:
    """A Redis connection for the queue (decode_responses=False), checked with PING."""
    try:
        conn = redis.Redis.from_url(
            settings.redis_url,
            decode_responses=False,
            socket_connect_timeout=REDIS_CONNECT_TIMEOUT_SECONDS,
            socket_timeout=timeout,
        )
        conn.ping()
    except (redis.RedisError, ValueError) as exc:
        raise QueueUnavailable(
            f"Redis cannot be reached at {redact_url(settings.redis_url)} ({exc.__class__.__name__}).",
            hint="Check REDIS_URL and that Redis is running.",
        ) from None
    return conn


_CLIENTS: dict[str, redis.Redis] = {}  # one client (and connection pool) per Redis URL in this process


def connect_or_none(settings: Settings) -> redis.Redis | None:
    """A connection (reused across calls, checked with PING), or None when Redis cannot be reached."""
    conn = _CLIENTS.get(settings.redis_url)
    if conn is not None:
        try:
            conn.ping()
            return conn
        except redis.RedisError:
            _CLIENTS.pop(settings.redis_url, None)
    try:
        conn = connect(settings)
    except QueueUnavailable:
        return None
    _CLIENTS[settings.redis_url] = conn
    return conn


Conn = redis.Redis | Settings | None


def _resolve(conn: Conn) -> redis.Redis | None:
    if isinstance(conn, Settings):
        return connect_or_none(conn)
    return conn


@contextlib.contextmanager
def _redis_errors() -> Iterator[None]:
    try:
        yield
    except redis.RedisError as exc:
        raise QueueUnavailable(
            f"Redis stopped answering ({exc.__class__.__name__}).", hint="Check that Redis is running."
        ) from None


def _now() -> float:
    return time.time()


def _datetime(epoch: float | None) -> datetime | None:
    return datetime.fromtimestamp(epoch, UTC) if epoch else None


def _epoch(value: datetime | None) -> float | None:
    if value is None:
        return None
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()


def _fresh(heartbeat: datetime | None, grace: float) -> bool:
    """True when a heartbeat is at most `grace` seconds old."""
    when = _epoch(heartbeat)
    return when is not None and _now() - when <= grace


# ------------------------------------------------------------------ stores


class _RedisStore:
    """Job records, results, flags, the recent-jobs index and stored searches in Redis."""

    def __init__(self, conn: redis.Redis) -> None:
        self.conn = conn

    def get_record(self, job_id: str) -> dict[str, Any] | None:
        raw = self.conn.get(keys.job(job_id))
        return json.loads(raw) if raw else None

    def put_record(self, job_id: str, record: Mapping[str, Any]) -> None:
        self.conn.set(keys.job(job_id), json.dumps(record), ex=defaults.RESULT_TTL_SECONDS)

    def add_results(self, job_id: str, results: Sequence[Mapping[str, Any]]) -> None:
        if not results:
            return
        key = keys.job_results(job_id)
        with self.conn.pipeline() as pipe:
            pipe.rpush(key, *(json.dumps(r) for r in results))
            pipe.expire(key, defaults.RESULT_TTL_SECONDS)
            pipe.execute()

    def results(self, job_id: str) -> list[dict[str, Any]]:
        return [json.loads(raw) for raw in self.conn.lrange(keys.job_results(job_id), 0, -1)]

    def set_cancel(self, job_id: str) -> None:
        self.conn.set(keys.job_cancel(job_id), b"1", ex=defaults.JOB_TIMEOUT_SECONDS)

    def cancel_requested(self, job_id: str) -> bool:
        return bool(self.conn.exists(keys.job_cancel(job_id)))

    def touch_alive(self, job_id: str) -> None:
        self.conn.set(keys.job_alive(job_id), b"1", ex=defaults.WORKER_HEARTBEAT_GRACE)

    def is_alive(self, job_id: str) -> bool:
        return _thread_alive(job_id) or bool(self.conn.exists(keys.job_alive(job_id)))

    def index(self, job_id: str, when: float) -> None:
        key = keys.jobs_index()
        with self.conn.pipeline() as pipe:
            pipe.zadd(key, {job_id: when})
            pipe.zremrangebyscore(key, "-inf", when - defaults.RESULT_TTL_SECONDS)
            pipe.zremrangebyrank(key, 0, -JOBS_KEPT - 1)
            pipe.execute()

    def recent(self, limit: int) -> list[str]:
        return [raw.decode() for raw in self.conn.zrevrange(keys.jobs_index(), 0, limit - 1)]

    def forget(self, job_id: str) -> None:
        self.conn.zrem(keys.jobs_index(), job_id)

    def put_search(self, search_id: str, blob: bytes, summary: Mapping[str, Any]) -> None:
        listing = keys.recent_searches()
        entry = json.dumps(summary)
        old = [raw for raw in self.conn.lrange(listing, 0, -1) if json.loads(raw).get("id") == search_id]
        with self.conn.pipeline() as pipe:
            pipe.set(keys.search_result(search_id), blob, ex=defaults.RESULT_TTL_SECONDS)
            for raw in old:
                pipe.lrem(listing, 0, raw)
            pipe.lpush(listing, entry)
            pipe.execute()
        dropped = self.conn.lrange(listing, defaults.RECENT_SEARCHES_KEPT, -1)
        if dropped:
            with self.conn.pipeline() as pipe:
                for raw in dropped:
                    pipe.delete(keys.search_result(json.loads(raw)["id"]))
                pipe.ltrim(listing, 0, defaults.RECENT_SEARCHES_KEPT - 1)
                pipe.execute()

    def get_search(self, search_id: str) -> bytes | None:
        return self.conn.get(keys.search_result(search_id))

    def searches(self) -> list[dict[str, Any]]:
        entries = [json.loads(raw) for raw in self.conn.lrange(keys.recent_searches(), 0, -1)]
        with self.conn.pipeline() as pipe:
            for entry in entries:
                pipe.exists(keys.search_result(entry["id"]))
            there = pipe.execute()
        return [entry for entry, ok in zip(entries, there, strict=True) if ok]


class _LocalStore:
    """The same, inside this process: for jobs started in-process while Redis cannot be reached."""

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._records: dict[str, dict[str, Any]] = {}
        self._results: dict[str, list[dict[str, Any]]] = {}
        self._flags: set[str] = set()
        self._index: dict[str, float] = {}
        self._searches: list[tuple[dict[str, Any], bytes]] = []

    def get_record(self, job_id: str) -> dict[str, Any] | None:
        with self._mutex:
            record = self._records.get(job_id)
            return dict(record) if record is not None else None

    def put_record(self, job_id: str, record: Mapping[str, Any]) -> None:
        with self._mutex:
            self._records[job_id] = json.loads(json.dumps(record))

    def add_results(self, job_id: str, results: Sequence[Mapping[str, Any]]) -> None:
        with self._mutex:
            self._results.setdefault(job_id, []).extend(json.loads(json.dumps(list(results))))

    def results(self, job_id: str) -> list[dict[str, Any]]:
        with self._mutex:
            return [dict(r) for r in self._results.get(job_id, [])]

    def set_cancel(self, job_id: str) -> None:
        with self._mutex:
            self._flags.add(job_id)

    def cancel_requested(self, job_id: str) -> bool:
        with self._mutex:
            return job_id in self._flags

    def touch_alive(self, job_id: str) -> None:
        pass  # the thread itself tells

    def is_alive(self, job_id: str) -> bool:
        return _thread_alive(job_id)

    def index(self, job_id: str, when: float) -> None:
        with self._mutex:
            self._index[job_id] = when
            for old in sorted(self._index, key=self._index.__getitem__)[:-JOBS_KEPT]:
                for table in (self._index, self._records, self._results):
                    table.pop(old, None)

    def recent(self, limit: int) -> list[str]:
        with self._mutex:
            return sorted(self._index, key=self._index.__getitem__, reverse=True)[:limit]

    def forget(self, job_id: str) -> None:
        with self._mutex:
            self._index.pop(job_id, None)

    def put_search(self, search_id: str, blob: bytes, summary: Mapping[str, Any]) -> None:
        with self._mutex:
            self._searches = [(s, b) for s, b in self._searches if s["id"] != search_id]
            self._searches.insert(0, (dict(summary), blob))
            del self._searches[defaults.RECENT_SEARCHES_KEPT :]

    def get_search(self, search_id: str) -> bytes | None:
        with self._mutex:
            return next((blob for s, blob in self._searches if s["id"] == search_id), None)

    def searches(self) -> list[dict[str, Any]]:
        with self._mutex:
            return [dict(s) for s, _ in self._searches]


LOCAL_STORE = _LocalStore()
Store = _RedisStore | _LocalStore


def _store(conn: redis.Redis | None) -> Store:
    return _RedisStore(conn) if conn is not None else LOCAL_STORE


# Threads of the jobs this process runs in-process, by job id (their liveness is their heartbeat).
_THREADS: dict[str, threading.Thread] = {}


def _thread_alive(job_id: str) -> bool:
    thread = _THREADS.get(job_id)
    return thread is not None and thread.is_alive()


def _new_record(job_id: str, kind: JobKind, mode: Mode, *, total: int, queue: str = "") -> dict[str, Any]:
    return {
        "id": job_id,
        "kind": kind.value,
        "mode": mode.value,
        "state": (JobState.QUEUED if mode is Mode.WORKER else JobState.RUNNING).value,
        "queue": queue,
        "total": total,
        "done": 0,
        "current": "",
        "counts": {},
        "error": "",
        "enqueued_at": _now(),
        "started_at": None,
        "ended_at": None,
    }


# ------------------------------------------------------------------ locks


_RELEASE_SCRIPT = """
local released = 0
for _, key in ipairs(KEYS) do
  if redis.call('get', key) == ARGV[1] then released = released + redis.call('del', key) end
end
return released
"""


class RedisLocks:
    """core.importer.Locks in Redis: one key per LibreNMS device (SET NX EX), its value the owner (job id).

    `release` deletes only keys whose value is still this owner's, so a lock that expired and was taken by
    another job is never released by mistake. The keys held are listed under keys.job_locks(owner), so the
    locks of a job that died can be released by whoever sees it dead (`release_job_locks`).
    """

    def __init__(self, conn: redis.Redis, ttl: int = LOCK_TTL_SECONDS, owner: str | None = None) -> None:
        self.conn = conn
        self.ttl = ttl
        self.owner = owner or uuid.uuid4().hex

    def acquire(self, keys_: Sequence[tuple[str, int]]) -> list[tuple[str, int]]:
        if not keys_:
            return []
        names = [keys.lock(server, device_id) for server, device_id in keys_]
        with self.conn.pipeline() as pipe:
            for name in names:
                pipe.set(name, self.owner.encode(), nx=True, ex=self.ttl)
            got = pipe.execute()
        held = [(key, name) for key, name, ok in zip(keys_, names, got, strict=True) if ok]
        if held:
            with self.conn.pipeline() as pipe:
                pipe.sadd(keys.job_locks(self.owner), *(name for _, name in held))
                pipe.expire(keys.job_locks(self.owner), self.ttl)
                pipe.execute()
        return [key for key, _ in held]

    def release(self, keys_: Sequence[tuple[str, int]]) -> None:
        if not keys_:
            return
        names = [keys.lock(server, device_id) for server, device_id in keys_]
        self.conn.eval(_RELEASE_SCRIPT, len(names), *names, self.owner.encode())
        self.conn.srem(keys.job_locks(self.owner), *names)

    def release_all(self) -> int:
        """Release every lock this owner still holds; returns how many."""
        return release_job_locks(self.conn, self.owner)


def release_job_locks(conn: redis.Redis, job_id: str) -> int:
    """Release the device locks a job still holds (e.g. after it was killed); returns how many."""
    names = [raw.decode() for raw in conn.smembers(keys.job_locks(job_id))]
    released = conn.eval(_RELEASE_SCRIPT, len(names), *names, job_id.encode()) if names else 0
    conn.delete(keys.job_locks(job_id))
    return int(released)


# ------------------------------------------------------------------ workers


def worker_alive(
    conn: redis.Redis, queue_name: str, *, grace: float = defaults.WORKER_HEARTBEAT_GRACE
) -> bool:
    """True when a worker listening on the queue sent a heartbeat within `grace` seconds (a worker killed
    with SIGKILL leaves its key behind for a while: its heartbeat, not its key, tells)."""
    with _redis_errors():
        workers = Worker.all(queue=Queue(queue_name, connection=conn))
    return any(_fresh(worker.last_heartbeat, grace) for worker in workers)


def _worker_of(conn: redis.Redis, job: Job) -> Worker | None:
    if not job.worker_name:
        return None
    return Worker.find_by_key(Worker.redis_worker_namespace_prefix + job.worker_name, connection=conn)


def run_worker(
    settings: Settings, *, burst: bool = False, name: str | None = None, heartbeat: int = HEARTBEAT_SECONDS
) -> bool:
    """Run an RQ worker on settings.queue_name until stopped (SIGINT/SIGTERM: warm shutdown).

    The same as `rq worker -u $REDIS_URL --worker-ttl 30 --job-monitoring-interval 15 librenms-import`
    (with the default queue name; the worker's environment carries the NetBox and LibreNMS settings).
    `heartbeat`: seconds between heartbeats, idle or busy; it must stay well under WORKER_HEARTBEAT_GRACE.
    Returns True when it ran at least one job.
    """
    conn = connect(settings, timeout=None)  # no socket timeout: the worker blocks on the queue
    worker = Worker(
        [Queue(settings.queue_name, connection=conn)],
        connection=conn,
        name=name,
        worker_ttl=heartbeat + 15,  # rq: an idle worker heartbeats every worker_ttl - 15 seconds
        job_monitoring_interval=heartbeat,
    )
    log.info(
        "worker %s on queue '%s' at %s", worker.name, settings.queue_name, redact_url(settings.redis_url)
    )
    return worker.work(burst=burst, logging_level="INFO")


# ------------------------------------------------------------------ state


def _fetch(conn: redis.Redis, job_id: str) -> Job | None:
    try:
        return Job.fetch(job_id, connection=conn)
    except NoSuchJobError:
        return None
    except Exception:  # a half-written or foreign hash: as good as gone
        log.debug("job %s cannot be read", job_id, exc_info=True)
        return None


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
    if record is not None and record.get("mode") == Mode.IN_PROCESS:
        assert recorded is not None
        if recorded.active and not store.is_alive(job_id):
            return JobState.ABANDONED, None
        return recorded, None
    job = _fetch(conn, job_id) if conn is not None else None
    if job is None:
        return (recorded if recorded in FINAL_STATES else JobState.EXPIRED), None
    status = job.get_status(refresh=False)
    if status is None:
        return JobState.EXPIRED, job
    try:
        state = RQ_STATES[RQStatus(status)]
    except (ValueError, KeyError):  # a status this RQ release does not know: nothing will move it on
        return JobState.EXPIRED, job
    if state is JobState.RUNNING:
        worker = _worker_of(conn, job) if job.worker_name else None
        if job.worker_name and (worker is None or not _fresh(worker.last_heartbeat, grace)):
            return JobState.ABANDONED, job
    elif state is JobState.FINISHED and recorded in (JobState.STOPPED, JobState.FAILED):
        return recorded, job
    elif state is JobState.FAILED and "AbandonedJobError" in _failure_text(job):
        return JobState.ABANDONED, job
    return state, job


def job_state(conn: Conn, job_id: str, *, grace: float = defaults.WORKER_HEARTBEAT_GRACE) -> JobState:
    """The job's state. Every RQ status maps to one state, and a job Redis no longer knows is `expired`."""
    redis_conn = _resolve(conn)
    store = _store(redis_conn)
    with _redis_errors():
        return _state(redis_conn, store, job_id, store.get_record(job_id), grace)[0]


ABANDONED_TEXT = (
    "The worker running this job stopped answering (killed or crashed). The rows finished before that are "
    "listed; run the import again to create the rest (what exists is skipped)."
)
EXPIRED_TEXT = "This job is no longer known: its results expired, or Redis was reset."


def _settle(
    conn: redis.Redis | None, store: Store, job_id: str, record: dict[str, Any] | None, state: JobState, job
) -> None:
    """A job seen ended by someone else (stopped, abandoned, canceled): write that down once, and release the
    device locks it may still hold."""
    if record is None or state not in FINAL_STATES or state is JobState.EXPIRED:
        return
    if record.get("state") == state.value:
        return
    record["state"] = state.value
    record["ended_at"] = record.get("ended_at") or _epoch(getattr(job, "ended_at", None)) or _now()
    store.put_record(job_id, record)
    if conn is not None and state is not JobState.FINISHED:
        release_job_locks(conn, job_id)


def job_status(
    conn: Conn, job_id: str, *, results: bool = True, grace: float = defaults.WORKER_HEARTBEAT_GRACE
) -> JobStatus:
    """State, progress, counts and (with `results`) the finished rows of a job, whoever ran it."""
    redis_conn = _resolve(conn)
    store = _store(redis_conn)
    with _redis_errors():
        record = store.get_record(job_id)
        state, job = _state(redis_conn, store, job_id, record, grace)
        if record is None and job is not None:
            record = _record_from_rq(job)
        else:
            _settle(redis_conn, store, job_id, record, state, job)
        rows = store.results(job_id) if results else []
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
        enqueued_at=_datetime(record.get("enqueued_at")),
        ended_at=_datetime(record.get("ended_at")),
    )


def _record_from_rq(job: Job) -> dict[str, Any]:
    """A job enqueued without our record (e.g. by hand): what job.meta says."""
    meta = job.meta or {}
    return {
        "id": job.id,
        "kind": meta.get("kind", JobKind.IMPORT.value),
        "mode": Mode.WORKER.value,
        "done": meta.get("done", 0),
        "total": meta.get("total", 0),
        "current": meta.get("current", ""),
        "counts": meta.get("counts", {}),
        "error": meta.get("error", ""),
        "enqueued_at": _epoch(job.enqueued_at),
        "ended_at": _epoch(job.ended_at),
    }


def recent_jobs(conn: Conn, limit: int = 20, *, kind: str | None = JobKind.IMPORT.value) -> list[JobStatus]:
    """The most recent jobs (imports by default), newest first, without their result rows."""
    redis_conn = _resolve(conn)
    store = _store(redis_conn)
    out: list[JobStatus] = []
    with _redis_errors():
        ids = store.recent(JOBS_KEPT if kind else limit)
    for job_id in ids:
        status = job_status(redis_conn, job_id, results=False)
        if status.state is JobState.EXPIRED and not status.mode:
            store.forget(job_id)
            continue
        if kind and status.kind != kind:
            continue
        out.append(status)
        if len(out) >= limit:
            break
    return out


def cancel(conn: Conn, job_id: str, *, hard: bool = True) -> JobState:
    """Stop a job. Queued: canceled, it never runs. Running: the cancel flag makes it stop after the batch in
    hand (results so far are kept); for a worker job `hard` also sends RQ's stop-job command, which kills the
    work horse at once (a batch in flight may then be created without its result line: a re-run reports
    it as existing). Returns the state right after."""
    redis_conn = _resolve(conn)
    store = _store(redis_conn)
    with _redis_errors():
        record = store.get_record(job_id)
        store.set_cancel(job_id)
        if redis_conn is not None and (record is None or record.get("mode") == Mode.WORKER):
            job = _fetch(redis_conn, job_id)
            status = job.get_status(refresh=False) if job is not None else None
            if job is not None and status in (RQStatus.QUEUED, RQStatus.DEFERRED, RQStatus.SCHEDULED):
                with contextlib.suppress(InvalidJobOperation):
                    job.cancel()
            elif job is not None and status == RQStatus.STARTED and hard:
                with contextlib.suppress(InvalidJobOperation, NoSuchJobError):
                    send_stop_job_command(redis_conn, job_id)
    return job_status(redis_conn, job_id, results=False).state


# ------------------------------------------------------------------ running a job (worker or thread)


def _item_payload(item: ImportItem) -> dict[str, Any]:
    """What a job carries for one row: ids and choices (see ImportItem), as plain data."""
    return {"server_key": item.server_key, "librenms_id": item.librenms_id, "overrides": dict(item.overrides)}


def _item(data: Mapping[str, Any]) -> ImportItem:
    overrides = {str(k): str(v) for k, v in (data.get("overrides") or {}).items() if v not in (None, "")}
    return ImportItem(str(data["server_key"]), int(data["librenms_id"]), overrides)


MetaSink = Callable[[Mapping[str, Any]], None]


def _rq_meta_sink(job: Job) -> MetaSink:
    def sink(record: Mapping[str, Any]) -> None:
        job.meta.update(
            {k: record.get(k) for k in ("kind", "state", "done", "total", "current", "counts", "error")}
        )
        job.save_meta()

    return sink


def _execute_import(
    store: Store,
    job_id: str,
    settings_fn: Callable[[], Settings],
    items: Sequence[ImportItem],
    *,
    locks: Locks,
    batch_size: int | None,
    meta: MetaSink | None = None,
) -> dict[str, Any]:
    """Run one import, keeping the record, the results list and (for RQ) job.meta up to date."""
    record = store.get_record(job_id) or _new_record(job_id, JobKind.IMPORT, Mode.WORKER, total=len(items))
    record.update(state=JobState.RUNNING.value, started_at=_now(), total=len(items))
    store.put_record(job_id, record)
    if meta:
        meta(record)
    pushed = 0

    def progress(p: Progress, finished: list[RowResult]) -> None:
        nonlocal pushed
        store.add_results(job_id, [r.as_dict() for r in finished])
        pushed += len(finished)
        record.update(done=p.done, total=p.total, current=p.current, counts=dict(p.counts))
        store.put_record(job_id, record)
        if meta:
            meta(record)

    def finish(state: JobState, error: str = "") -> dict[str, Any]:
        record.update(state=state.value, error=error, ended_at=_now(), current="")
        store.put_record(job_id, record)
        if meta:
            meta(record)
        return {"state": state.value, "counts": record.get("counts", {}), "error": error}

    try:
        settings = settings_fn()
        report = run_import(
            settings,
            items,
            progress=progress,
            should_stop=lambda: store.cancel_requested(job_id),
            locks=locks,
            batch_size=batch_size or defaults.IMPORT_BATCH_SIZE,
        )
    except ImporterError as exc:
        return finish(JobState.FAILED, str(exc))
    store.add_results(job_id, [r.as_dict() for r in report.results[pushed:]])
    record.update(done=len(report.results), counts=report.counts())
    state = JobState.STOPPED if report.stopped else JobState.FAILED if report.error else JobState.FINISHED
    return finish(state, report.error)


def _execute_search(
    store: Store,
    job_id: str,
    settings_fn: Callable[[], Settings],
    flt: DeviceFilter,
    server_key: str | None,
    meta: MetaSink | None = None,
) -> dict[str, Any]:
    record = store.get_record(job_id) or _new_record(job_id, JobKind.SEARCH, Mode.WORKER, total=100)
    record.update(state=JobState.RUNNING.value, started_at=_now())
    store.put_record(job_id, record)

    def progress(what: str, fraction: float) -> None:
        record.update(current=what, done=round(fraction * 100), total=100)
        store.put_record(job_id, record)
        if meta:
            meta(record)

    try:
        result = run_search(settings_fn(), flt, server_key=server_key, progress=progress)
    except ImporterError as exc:
        record.update(state=JobState.FAILED.value, error=str(exc), ended_at=_now(), current="")
        store.put_record(job_id, record)
        if meta:
            meta(record)
        return {"state": JobState.FAILED.value, "error": str(exc)}
    summary = _save_search(store, result, job_id)
    record.update(
        state=JobState.FINISHED.value, ended_at=_now(), counts=summary["counts"], done=100, current=""
    )
    store.put_record(job_id, record)
    if meta:
        meta(record)
    return {"state": JobState.FINISHED.value, "search_id": job_id, "counts": summary["counts"]}


def import_job(items: list[dict[str, Any]], batch_size: int | None = None) -> dict[str, Any]:
    """The RQ job: import `items` (ids and choices) with the settings of the worker's own environment."""
    job = get_current_job()
    if job is None:
        raise RuntimeError("import_job runs inside an RQ worker; use start_import")
    conn = job.connection
    locks = RedisLocks(conn, owner=job.id)
    try:
        return _execute_import(
            _RedisStore(conn),
            job.id,
            load_settings,
            [_item(i) for i in items],
            locks=locks,
            batch_size=batch_size,
            meta=_rq_meta_sink(job),
        )
    finally:
        locks.release_all()


def search_job(flt: dict[str, Any], server_key: str | None = None) -> dict[str, Any]:
    """The RQ job: run a search with the worker's settings; the result is stored under the job id."""
    job = get_current_job()
    if job is None:
        raise RuntimeError("search_job runs inside an RQ worker; use start_search")
    return _execute_search(
        _RedisStore(job.connection), job.id, load_settings, _filter(flt), server_key, _rq_meta_sink(job)
    )


def _filter(data: Mapping[str, Any]) -> DeviceFilter:
    names = {f.name for f in fields(DeviceFilter)}
    return DeviceFilter(**{k: v for k, v in data.items() if k in names})


def _start_thread(store: Store, job_id: str, target: Callable[[], Any]) -> None:
    """Run `target` in a daemon thread with a heartbeat, so a job whose app process died shows abandoned."""
    done = threading.Event()

    def beat() -> None:
        while not done.wait(0):
            with contextlib.suppress(Exception):
                store.touch_alive(job_id)
            done.wait(HEARTBEAT_SECONDS)

    def run() -> None:
        try:
            target()
        except Exception as exc:  # a bug, not a user error: keep the job readable as failed
            log.exception("in-process job %s failed", job_id)
            record = store.get_record(job_id) or {}
            record.update(
                state=JobState.FAILED.value, error=f"{exc.__class__.__name__}: {exc}", ended_at=_now()
            )
            with contextlib.suppress(Exception):
                store.put_record(job_id, record)
        finally:
            done.set()

    store.touch_alive(job_id)
    threading.Thread(target=beat, name=f"job-heartbeat-{job_id}", daemon=True).start()
    thread = threading.Thread(target=run, name=f"job-{job_id}", daemon=True)
    _THREADS[job_id] = thread
    for old in [k for k, t in _THREADS.items() if not t.is_alive() and k != job_id]:
        _THREADS.pop(old, None)
    thread.start()


def _enqueue(
    conn: redis.Redis, settings: Settings, kind: JobKind, total: int, func: Callable, *args: Any
) -> JobHandle:
    job_id = uuid.uuid4().hex
    store = _RedisStore(conn)
    record = _new_record(job_id, kind, Mode.WORKER, total=total, queue=settings.queue_name)
    with _redis_errors():
        store.put_record(job_id, record)
        store.index(job_id, record["enqueued_at"])
        Queue(settings.queue_name, connection=conn).enqueue(
            func,
            *args,
            job_id=job_id,
            job_timeout=defaults.JOB_TIMEOUT_SECONDS,
            result_ttl=defaults.RESULT_TTL_SECONDS,
            failure_ttl=defaults.RESULT_TTL_SECONDS,
            description=f"{kind.value} of {total} device(s)" if kind is JobKind.IMPORT else "search",
            meta={"kind": kind.value, "total": total},
        )
    return JobHandle(job_id, Mode.WORKER.value)


def _local_note(base: str, conn: redis.Redis | None, settings: Settings) -> str:
    if conn is not None:
        return base + "."
    return (
        f"{base}, and Redis cannot be reached at {redact_url(settings.redis_url)}: progress and results are "
        "kept in this app process only."
    )


def start_import(
    settings: Settings, items: Iterable[ImportItem], *, batch_size: int | None = None
) -> JobHandle:
    """Start importing `items`: on the worker when Redis is reachable and a live worker listens, otherwise
    in a background thread of this process (the handle's note says so). Either way, follow it with
    `job_status(conn_or_settings, handle.job_id)`."""
    items = list(items)
    if not items:
        raise ImporterError("Nothing to import: no row is ready and ticked.")
    payload = [_item_payload(item) for item in items]
    conn = connect_or_none(settings)
    if conn is not None and worker_alive(conn, settings.queue_name):
        return _enqueue(conn, settings, JobKind.IMPORT, len(items), import_job, payload, batch_size)

    job_id = uuid.uuid4().hex
    store = _store(conn)
    record = _new_record(job_id, JobKind.IMPORT, Mode.IN_PROCESS, total=len(items))
    with _redis_errors():
        store.put_record(job_id, record)
        store.index(job_id, record["enqueued_at"])
    locks: Locks = RedisLocks(conn, owner=job_id) if conn is not None else LocalLocks()
    parsed = [_item(i) for i in payload]

    def target() -> None:
        try:
            _execute_import(store, job_id, lambda: settings, parsed, locks=locks, batch_size=batch_size)
        finally:
            if isinstance(locks, RedisLocks):
                locks.release_all()

    _start_thread(store, job_id, target)
    return JobHandle(job_id, Mode.IN_PROCESS.value, _local_note(NO_WORKER_NOTE, conn, settings))


def start_search(settings: Settings, flt: DeviceFilter, server_key: str | None = None) -> JobHandle:
    """Start a search like `start_import` starts an import. When it has finished, its result is
    `load_search(conn_or_settings, handle.job_id)`."""
    conn = connect_or_none(settings)
    if conn is not None and worker_alive(conn, settings.queue_name):
        return _enqueue(conn, settings, JobKind.SEARCH, 100, search_job, asdict(flt), server_key)
    job_id = uuid.uuid4().hex
    store = _store(conn)
    record = _new_record(job_id, JobKind.SEARCH, Mode.IN_PROCESS, total=100)
    with _redis_errors():
        store.put_record(job_id, record)
        store.index(job_id, record["enqueued_at"])
    _start_thread(store, job_id, lambda: _execute_search(store, job_id, lambda: settings, flt, server_key))
    return JobHandle(job_id, Mode.IN_PROCESS.value, _local_note(NO_WORKER_SEARCH_NOTE, conn, settings))


# ------------------------------------------------------------------ stored searches


def _search_summary(result: SearchResult, search_id: str) -> dict[str, Any]:
    default = DeviceFilter()
    filters = {
        f.name: getattr(result.filter, f.name)
        for f in fields(DeviceFilter)
        if getattr(result.filter, f.name) != getattr(default, f.name)
    }
    return {
        "id": search_id,
        "time": _now(),
        "server_key": result.server_key,
        "filters": filters,
        "counts": {status.value: n for status, n in result.review.counts().items()},
        "rows": len(result.review),
        "found": result.found,
    }


def _save_search(store: Store, result: SearchResult, search_id: str | None = None) -> dict[str, Any]:
    search_id = search_id or uuid.uuid4().hex
    summary = _search_summary(result, search_id)
    with _redis_errors():
        store.put_search(search_id, pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL), summary)
    return summary


def save_search(conn: Conn, result: SearchResult, *, search_id: str | None = None) -> str:
    """Store a search result (pickled, RESULT_TTL_SECONDS) at the head of the recent searches (at most
    RECENT_SEARCHES_KEPT; older ones are dropped with their results); returns its id."""
    return _save_search(_store(_resolve(conn)), result, search_id)["id"]


def load_search(conn: Conn, search_id: str) -> SearchResult:
    """A stored search, as it was saved (whether a worker or the app ran it). Raises SearchExpired."""
    store = _store(_resolve(conn))
    with _redis_errors():
        blob = store.get_search(search_id)
    if blob is None:
        raise SearchExpired(
            "This search result is no longer stored (it expired or was dropped from the recent searches).",
            hint="Run the search again.",
        )
    return pickle.loads(blob)  # written by save_search into our own Redis, as RQ itself does with jobs


def recent_searches(conn: Conn) -> list[dict[str, Any]]:
    """Stored searches, newest first: {id, time, server_key, filters, counts, rows, found}."""
    store = _store(_resolve(conn))
    with _redis_errors():
        return store.searches()
