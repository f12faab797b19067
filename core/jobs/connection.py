"""Connections: a Redis client for the queue (checked with PING, reused per URL in this process), what the
job functions accept as `conn`, Redis errors turned into QueueUnavailable, and the RQ objects on a
connection, all with RQ's JSON serializer (nothing RQ writes or reads here is a pickle).

`Conn` is what every reader and writer of job data takes: a Redis client (made with `connect`), a
`Settings` (connected from `settings.redis_url`, or None when Redis cannot be reached), or None (the store
inside this process, core.jobs.store.LOCAL).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

import redis
from rq import Queue, Worker
from rq.exceptions import NoSuchJobError
from rq.job import Job
from rq.serializers import JSONSerializer

from core import defaults
from core.errors import QueueUnavailable
from core.settings import Settings
from core.values import public_url

log = logging.getLogger(__name__)

# Every place RQ (de)serializes a job (queue, worker, Job.fetch, registries) uses this one.
SERIALIZER = JSONSerializer

Conn = redis.Redis | Settings | None

# One client (and its connection pool) per Redis URL in this process: the app polls job states on every
# rerun of a page, and a new pool per poll would open a connection each time.
_CLIENTS: dict[str, redis.Redis] = {}


def connect(settings: Settings, *, timeout: float | None = defaults.REDIS_TIMEOUT_SECONDS) -> redis.Redis:
    """A Redis client for the queue (decode_responses=False: RQ stores bytes), checked with PING."""
    try:
        conn = redis.Redis.from_url(
            settings.redis_url,
            decode_responses=False,
            socket_connect_timeout=defaults.REDIS_CONNECT_TIMEOUT_SECONDS,
            socket_timeout=timeout,
        )
        conn.ping()
    except (redis.RedisError, ValueError) as exc:
        raise QueueUnavailable(
            f"Redis cannot be reached at {public_url(settings.redis_url)} ({exc.__class__.__name__}).",
            hint="Check REDIS_URL and that Redis is running.",
        ) from None
    return conn


def connect_or_none(settings: Settings) -> redis.Redis | None:
    """A client (reused across calls, checked with PING), or None when Redis cannot be reached."""
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


def resolve(conn: Conn) -> redis.Redis | None:
    """A Redis client for `conn`, or None for the store inside this process."""
    if isinstance(conn, Settings):
        return connect_or_none(conn)
    return conn


@contextlib.contextmanager
def redis_errors() -> Iterator[None]:
    """Redis failing mid-call becomes QueueUnavailable, a message for the user."""
    try:
        yield
    except redis.RedisError as exc:
        raise QueueUnavailable(
            f"Redis stopped answering ({exc.__class__.__name__}).", hint="Check that Redis is running."
        ) from None


def queue(conn: redis.Redis, name: str) -> Queue:
    return Queue(name, connection=conn, serializer=SERIALIZER)


def fetch_job(conn: redis.Redis, job_id: str) -> Job | None:
    """The RQ job, or None when Redis no longer has it (or holds something that is not a job of ours).
    Redis failing to answer raises (redis.RedisError): a job Redis cannot be asked about is not gone."""
    try:
        return Job.fetch(job_id, connection=conn, serializer=SERIALIZER)
    except NoSuchJobError:
        return None
    except redis.RedisError:  # Redis did not answer: that says nothing about the job (redis_errors)
        raise
    except Exception:  # a half-written or foreign hash (e.g. a pickled job of an older release): gone
        log.debug("job %s cannot be read", job_id, exc_info=True)
        return None


def workers(conn: redis.Redis, queue_name: str) -> list[Worker]:
    """The workers registered on a queue (alive or not: see core.jobs.worker.worker_alive)."""
    return Worker.all(queue=queue(conn, queue_name), serializer=SERIALIZER)


def worker_of(conn: redis.Redis, job: Job) -> Worker | None:
    """The worker that took a job, while Redis still has its key."""
    if not job.worker_name:
        return None
    key = Worker.redis_worker_namespace_prefix + job.worker_name
    return Worker.find_by_key(key, connection=conn, serializer=SERIALIZER)
