"""The worker side: the job functions RQ runs (`import_job`, `search_job`), whether a live worker listens
(`worker_alive`), and running a worker (`run_worker`, i.e. `python -m core worker`).

A job carries only plain JSON data (device ids, the analyst's choices, a filter) and who it acts for: the
analyst's name and, when they signed in with NetBox, their token sealed (core.auth.sealed), opened here with
the JOB_SECRET the worker shares with the app. The other settings come from the worker's own environment.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

import redis
from rq import Worker, get_current_job
from rq.job import Job

from core import codec, defaults
from core.auth import open_actor
from core.importer import ImportItem
from core.jobs.clock import fresh
from core.jobs.connection import SERIALIZER, connect, queue, redis_errors, workers
from core.jobs.locks import RedisLocks
from core.jobs.runner import MetaSink, execute_import, execute_search, execute_undo
from core.jobs.store import RedisStore
from core.settings import Settings, load_settings
from core.values import public_url

log = logging.getLogger(__name__)

_META_FIELDS = ("kind", "state", "done", "total", "current", "counts", "error")


def _meta_sink(job: Job) -> MetaSink:
    """Mirror the job's record into job.meta, for RQ's own tools (rq info, dashboards)."""

    def sink(record: Mapping[str, Any]) -> None:
        job.meta.update({k: record.get(k) for k in _META_FIELDS})
        job.save_meta()

    return sink


def _current_job(what: str) -> Job:
    job = get_current_job()
    if job is None:
        raise RuntimeError(
            f"{what} runs inside an RQ worker; use core.jobs.start_{what.removesuffix('_job')}"
        )
    return job


def _settings_for(actor: dict[str, Any] | None) -> Callable[[], Settings]:
    """The job's settings: the worker's own, acting for the job's analyst (raises SealError, which the
    runner reports as the job's error, when their sealed token cannot be opened or has expired)."""
    return lambda: open_actor(load_settings(), actor)


def import_job(
    items: list[dict[str, Any]],
    batch_size: int | None = None,
    resumes: str = "",
    actor: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The RQ job: import `items` (ImportItem.to_data: ids and choices) for `actor` with the settings of the
    worker's own environment; `resumes`: the run it resumes."""
    job = _current_job("import_job")
    conn = job.connection
    locks = RedisLocks(conn, owner=job.id)
    try:
        with locks.kept_alive():  # refreshed while the job runs: a long job never loses its locks midway
            return execute_import(
                RedisStore(conn),
                job.id,
                _settings_for(actor),
                [ImportItem.from_data(i) for i in items],
                locks=locks,
                batch_size=batch_size,
                meta=_meta_sink(job),
                resumes=resumes,
            )
    finally:
        locks.release_all()


def undo_job(run_id: str, actor: dict[str, Any] | None = None) -> dict[str, Any]:
    """The RQ job: undo the run `run_id` (core.runs.undo) for `actor` with the worker's settings."""
    job = _current_job("undo_job")
    return execute_undo(
        RedisStore(job.connection), job.id, _settings_for(actor), run_id, meta=_meta_sink(job)
    )


def search_job(
    flt: dict[str, Any], server_key: str | None = None, actor: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The RQ job: run a search (the filter as dataclasses.asdict) with the worker's settings; the result is
    stored under the job id."""
    job = _current_job("search_job")
    return execute_search(
        RedisStore(job.connection),
        job.id,
        _settings_for(actor),
        codec.filter_from_data(flt),
        server_key,
        _meta_sink(job),
    )


def worker_alive(
    conn: redis.Redis,
    queue_name: str,
    *,
    grace: float = defaults.WORKER_HEARTBEAT_GRACE,
    hostname: str | None = None,
) -> bool:
    """True when a worker listening on the queue (and running on `hostname`, when given) sent a heartbeat
    within `grace` seconds (a worker killed with SIGKILL leaves its key behind for a while: its heartbeat,
    not its key, tells)."""
    with redis_errors():
        found = workers(conn, queue_name)
    return any(
        fresh(worker.last_heartbeat, grace) and (hostname is None or worker.hostname == hostname)
        for worker in found
    )


def run_worker(
    settings: Settings, *, burst: bool = False, name: str | None = None, heartbeat: int | None = None
) -> bool:
    """Run an RQ worker on settings.queue_name until stopped (SIGINT/SIGTERM: warm shutdown).

    The same as `rq worker -u $REDIS_URL --serializer rq.serializers.JSONSerializer --worker-ttl 30
    --job-monitoring-interval 15 librenms-import` (with the default queue name; the worker's environment
    carries the NetBox and LibreNMS settings). `heartbeat`: seconds between heartbeats, idle or busy
    (default HEARTBEAT_SECONDS); it must stay well under WORKER_HEARTBEAT_GRACE.
    Returns True when it ran at least one job.
    """
    heartbeat = heartbeat or defaults.HEARTBEAT_SECONDS
    conn = connect(settings, timeout=None)  # no socket timeout: the worker blocks on the queue
    worker = Worker(
        [queue(conn, settings.queue_name)],
        connection=conn,
        name=name,
        serializer=SERIALIZER,
        worker_ttl=heartbeat + 15,  # rq: an idle worker heartbeats every worker_ttl - 15 seconds
        job_monitoring_interval=heartbeat,
    )
    log.info(
        "worker %s on queue '%s' at %s", worker.name, settings.queue_name, public_url(settings.redis_url)
    )
    return worker.work(burst=burst, logging_level="INFO")
