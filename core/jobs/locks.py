"""Locks per LibreNMS device in Redis (core.importer.Locks), so overlapping imports in any process (worker
jobs, imports running inside an app, `python -m core import --sync`) never create one device twice; keeping
them alive while their owner runs; and releasing the locks of a job that died."""

from __future__ import annotations

import contextlib
import logging
import threading
import uuid
from collections.abc import Iterator, Sequence

import redis

from core import defaults, keys
from core.librenms import RowKey

log = logging.getLogger(__name__)

# Deletes each key only while it still holds this owner's value (ARGV[1]); returns how many went.
_RELEASE_SCRIPT = """
local released = 0
for _, key in ipairs(KEYS) do
  if redis.call('get', key) == ARGV[1] then released = released + redis.call('del', key) end
end
return released
"""

# KEYS[1] is the owner's list of held locks, KEYS[2..] the locks: each lock still holding this owner's value
# (ARGV[1]) gets ARGV[2] seconds again, in one atomic step; one that expired and was taken by another owner
# keeps its own TTL. Returns how many were extended.
_REFRESH_SCRIPT = """
local extended = 0
for i = 2, #KEYS do
  if redis.call('get', KEYS[i]) == ARGV[1] then
    redis.call('expire', KEYS[i], ARGV[2])
    extended = extended + 1
  end
end
if extended > 0 then redis.call('expire', KEYS[1], ARGV[2]) end
return extended
"""


class RedisLocks:
    """core.importer.Locks in Redis: one key per LibreNMS device (SET NX EX), its value the owner (job id).

    `release` deletes only keys whose value is still this owner's, so a lock that expired and was taken by
    another job is never released by mistake. The keys held are listed under keys.job_locks(owner), so the
    locks of a job that died can be released by whoever sees it dead (`release_job_locks`). A lock lives
    `ttl` seconds: `refresh` gives the locks still this owner's their full TTL again, and `kept_alive` does
    that every LOCK_REFRESH_SECONDS while its owner runs, so a long run never loses its locks midway, while
    the locks of an owner that was killed expire after `ttl`.
    """

    def __init__(
        self, conn: redis.Redis, ttl: int = defaults.LOCK_TTL_SECONDS, owner: str | None = None
    ) -> None:
        self.conn = conn
        self.ttl = ttl
        self.owner = owner or uuid.uuid4().hex

    def acquire(self, keys_: Sequence[RowKey]) -> list[RowKey]:
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

    def release(self, keys_: Sequence[RowKey]) -> None:
        if not keys_:
            return
        names = [keys.lock(server, device_id) for server, device_id in keys_]
        self.conn.eval(_RELEASE_SCRIPT, len(names), *names, self.owner.encode())
        self.conn.srem(keys.job_locks(self.owner), *names)

    def release_all(self) -> int:
        """Release every lock this owner still holds; returns how many."""
        return release_job_locks(self.conn, self.owner)

    def refresh(self) -> int:
        """Give every lock this owner still holds its full TTL again (atomic per call: a lock another
        owner took meanwhile is left alone); returns how many were extended."""
        listing = keys.job_locks(self.owner)
        names = [raw.decode() for raw in self.conn.smembers(listing)]
        if not names:
            return 0
        return int(
            self.conn.eval(_REFRESH_SCRIPT, 1 + len(names), listing, *names, self.owner.encode(), self.ttl)
        )

    @contextlib.contextmanager
    def kept_alive(self, every: float | None = None) -> Iterator[RedisLocks]:
        """While the block runs, a daemon thread refreshes the locks every `every` seconds (default
        LOCK_REFRESH_SECONDS, at most a third of the TTL). A refresh Redis does not answer is logged and
        tried again at the next beat."""
        every = min(every or defaults.LOCK_REFRESH_SECONDS, self.ttl / 3)
        done = threading.Event()

        def beat() -> None:
            while not done.wait(every):
                try:
                    self.refresh()
                except redis.RedisError as exc:
                    log.warning("device locks of %s not refreshed: %s", self.owner, exc.__class__.__name__)

        thread = threading.Thread(target=beat, name=f"locks-{self.owner}", daemon=True)
        thread.start()
        try:
            yield self
        finally:
            done.set()
            thread.join(timeout=5)


def release_job_locks(conn: redis.Redis, job_id: str) -> int:
    """Release the device locks a job still holds (e.g. after it was killed); returns how many."""
    names = [raw.decode() for raw in conn.smembers(keys.job_locks(job_id))]
    released = conn.eval(_RELEASE_SCRIPT, len(names), *names, job_id.encode()) if names else 0
    conn.delete(keys.job_locks(job_id))
    return int(released)
