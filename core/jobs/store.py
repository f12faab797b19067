"""Where job data lives: job records, finished rows, cancel flags, heartbeats, the recent-jobs index and
stored searches. `RedisStore` keeps them in Redis (keys from core.keys, all JSON) for every process;
`LOCAL` keeps them inside this process, for jobs started while Redis cannot be reached.

Import and undo jobs are runs: their record, results, plan and objects (what NetBox confirmed each write
made, core.runs.recorder) are kept RUN_TTL_SECONDS, searches RESULT_TTL_SECONDS.

A job record (`new_record`) is the JSON the app reads back: id, kind, mode, state, queue, progress
(done/total/current), counts, error and times (epoch seconds).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any

import redis

from core import defaults, keys
from core.choices import JobKind, JobMode, JobState
from core.jobs.clock import now


def new_record(
    job_id: str, kind: JobKind, mode: JobMode, *, total: int, queue: str = "", analyst: str = ""
) -> dict[str, Any]:
    """A new job's record: queued for a worker, running at once in this process; `analyst`: who started it."""
    return {
        "id": job_id,
        "kind": kind.value,
        "mode": mode.value,
        "state": (JobState.QUEUED if mode is JobMode.WORKER else JobState.RUNNING).value,
        "queue": queue,
        "analyst": analyst,
        "total": total,
        "done": 0,
        "current": "",
        "counts": {},
        "error": "",
        "enqueued_at": now(),
        "started_at": None,
        "ended_at": None,
    }


class RedisStore:
    """Job data in Redis, shared by the app, the command line and every worker."""

    def __init__(self, conn: redis.Redis) -> None:
        self.conn = conn

    def get_record(self, job_id: str) -> dict[str, Any] | None:
        raw = self.conn.get(keys.job(job_id))
        return json.loads(raw) if raw else None

    def put_record(self, job_id: str, record: Mapping[str, Any]) -> None:
        self.conn.set(keys.job(job_id), json.dumps(record), ex=ttl(record.get("kind")))

    def add_results(self, job_id: str, results: Sequence[Mapping[str, Any]]) -> None:
        self._append(keys.job_results(job_id), results)

    def results(self, job_id: str) -> list[dict[str, Any]]:
        return [json.loads(raw) for raw in self.conn.lrange(keys.job_results(job_id), 0, -1)]

    def add_objects(self, job_id: str, objects: Sequence[Mapping[str, Any]]) -> None:
        self._append(keys.job_objects(job_id), objects)

    def objects(self, job_id: str) -> list[dict[str, Any]]:
        return [json.loads(raw) for raw in self.conn.lrange(keys.job_objects(job_id), 0, -1)]

    def put_plan(self, job_id: str, plan: Sequence[Mapping[str, Any]]) -> None:
        self.conn.set(keys.job_plan(job_id), json.dumps(list(plan)), ex=defaults.RUN_TTL_SECONDS)

    def plan(self, job_id: str) -> list[dict[str, Any]]:
        raw = self.conn.get(keys.job_plan(job_id))
        return json.loads(raw) if raw else []

    def put_items(self, job_id: str, items: Sequence[Mapping[str, Any]]) -> None:
        self.conn.set(keys.job_items(job_id), json.dumps(list(items)), ex=defaults.RUN_TTL_SECONDS)

    def items(self, job_id: str) -> list[dict[str, Any]]:
        raw = self.conn.get(keys.job_items(job_id))
        return json.loads(raw) if raw else []

    def _append(self, key: str, entries: Sequence[Mapping[str, Any]]) -> None:
        if not entries:
            return
        with self.conn.pipeline() as pipe:
            pipe.rpush(key, *(json.dumps(e) for e in entries))
            pipe.expire(key, defaults.RUN_TTL_SECONDS)
            pipe.execute()

    def set_cancel(self, job_id: str) -> None:
        self.conn.set(keys.job_cancel(job_id), b"1", ex=defaults.JOB_TIMEOUT_SECONDS)

    def cancel_requested(self, job_id: str) -> bool:
        return bool(self.conn.exists(keys.job_cancel(job_id)))

    def touch_alive(self, job_id: str) -> None:
        self.conn.set(keys.job_alive(job_id), b"1", ex=defaults.WORKER_HEARTBEAT_GRACE)

    def is_alive(self, job_id: str) -> bool:
        return bool(self.conn.exists(keys.job_alive(job_id)))

    def index(self, job_id: str, when: float) -> None:
        key = keys.jobs_index()
        with self.conn.pipeline() as pipe:
            pipe.zadd(key, {job_id: when})
            pipe.zremrangebyscore(key, "-inf", when - defaults.RUN_TTL_SECONDS)
            pipe.zremrangebyrank(key, 0, -defaults.JOBS_KEPT - 1)
            pipe.execute()

    def recent(self, limit: int) -> list[str]:
        return [raw.decode() for raw in self.conn.zrevrange(keys.jobs_index(), 0, limit - 1)]

    def forget(self, job_id: str) -> None:
        self.conn.zrem(keys.jobs_index(), job_id)

    def put_search(self, search_id: str, text: str, summary: Mapping[str, Any]) -> None:
        listing = keys.recent_searches()
        entry = json.dumps(summary)
        old = [raw for raw in self.conn.lrange(listing, 0, -1) if json.loads(raw).get("id") == search_id]
        with self.conn.pipeline() as pipe:
            pipe.set(keys.search_result(search_id), text.encode(), ex=defaults.RESULT_TTL_SECONDS)
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

    def get_search(self, search_id: str) -> str | None:
        raw = self.conn.get(keys.search_result(search_id))
        return raw.decode("utf-8", errors="replace") if raw is not None else None

    def searches(self) -> list[dict[str, Any]]:
        entries = [json.loads(raw) for raw in self.conn.lrange(keys.recent_searches(), 0, -1)]
        with self.conn.pipeline() as pipe:
            for entry in entries:
                pipe.exists(keys.search_result(entry["id"]))
            there = pipe.execute()
        return [entry for entry, ok in zip(entries, there, strict=True) if ok]


class LocalStore:
    """The same inside this process, for jobs started in-process while Redis cannot be reached. Values are
    copied through JSON on the way in, so they read back exactly as from Redis."""

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._records: dict[str, dict[str, Any]] = {}
        self._results: dict[str, list[dict[str, Any]]] = {}
        self._objects: dict[str, list[dict[str, Any]]] = {}
        self._plans: dict[str, list[dict[str, Any]]] = {}
        self._items: dict[str, list[dict[str, Any]]] = {}
        self._flags: set[str] = set()
        self._alive: dict[str, float] = {}  # job id → when its heartbeat expires (monotonic clock)
        self._index: dict[str, float] = {}
        self._searches: list[tuple[dict[str, Any], str]] = []

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

    def add_objects(self, job_id: str, objects: Sequence[Mapping[str, Any]]) -> None:
        with self._mutex:
            self._objects.setdefault(job_id, []).extend(json.loads(json.dumps(list(objects))))

    def objects(self, job_id: str) -> list[dict[str, Any]]:
        with self._mutex:
            return [dict(o) for o in self._objects.get(job_id, [])]

    def put_plan(self, job_id: str, plan: Sequence[Mapping[str, Any]]) -> None:
        with self._mutex:
            self._plans[job_id] = json.loads(json.dumps(list(plan)))

    def plan(self, job_id: str) -> list[dict[str, Any]]:
        with self._mutex:
            return [dict(p) for p in self._plans.get(job_id, [])]

    def put_items(self, job_id: str, items: Sequence[Mapping[str, Any]]) -> None:
        with self._mutex:
            self._items[job_id] = json.loads(json.dumps(list(items)))

    def items(self, job_id: str) -> list[dict[str, Any]]:
        with self._mutex:
            return [dict(i) for i in self._items.get(job_id, [])]

    def set_cancel(self, job_id: str) -> None:
        with self._mutex:
            self._flags.add(job_id)

    def cancel_requested(self, job_id: str) -> bool:
        with self._mutex:
            return job_id in self._flags

    def touch_alive(self, job_id: str) -> None:
        with self._mutex:
            self._alive[job_id] = time.monotonic() + defaults.WORKER_HEARTBEAT_GRACE

    def is_alive(self, job_id: str) -> bool:
        with self._mutex:
            return self._alive.get(job_id, 0.0) > time.monotonic()

    def index(self, job_id: str, when: float) -> None:
        with self._mutex:
            self._index[job_id] = when
            for old in sorted(self._index, key=self._index.__getitem__)[: -defaults.JOBS_KEPT]:
                for table in (
                    self._index,
                    self._records,
                    self._results,
                    self._objects,
                    self._plans,
                    self._items,
                    self._alive,
                ):
                    table.pop(old, None)
                self._flags.discard(old)

    def recent(self, limit: int) -> list[str]:
        with self._mutex:
            return sorted(self._index, key=self._index.__getitem__, reverse=True)[:limit]

    def forget(self, job_id: str) -> None:
        with self._mutex:
            self._index.pop(job_id, None)

    def put_search(self, search_id: str, text: str, summary: Mapping[str, Any]) -> None:
        with self._mutex:
            self._searches = [(s, t) for s, t in self._searches if s["id"] != search_id]
            self._searches.insert(0, (json.loads(json.dumps(summary)), text))
            del self._searches[defaults.RECENT_SEARCHES_KEPT :]

    def get_search(self, search_id: str) -> str | None:
        with self._mutex:
            return next((text for s, text in self._searches if s["id"] == search_id), None)

    def searches(self) -> list[dict[str, Any]]:
        with self._mutex:
            return [dict(s) for s, _ in self._searches]


Store = RedisStore | LocalStore


def ttl(kind: Any) -> int:
    """How long a job's data is kept: a run (import or undo) long enough to be undone, a search less."""
    return (
        defaults.RUN_TTL_SECONDS
        if kind in (JobKind.IMPORT.value, JobKind.UNDO.value)
        else defaults.RESULT_TTL_SECONDS
    )


# The in-process fallback's only state: it must outlive one page run (the next rerun polls the job), so it
# lives as long as the process, like the jobs it holds.
LOCAL = LocalStore()


def store_for(conn: redis.Redis | None) -> Store:
    """Redis when there is a connection, else the store inside this process."""
    return RedisStore(conn) if conn is not None else LOCAL
