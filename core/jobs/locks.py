"""Locks per LibreNMS device in Redis (core.importer.Locks), so overlapping jobs in any process never
create one device twice; and releasing the locks of a job that died."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import redis

from core import defaults, keys
from core.librenms import RowKey

# Deletes each key only while it still holds this owner's value (ARGV[1]); returns how many went.
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


def release_job_locks(conn: redis.Redis, job_id: str) -> int:
    """Release the device locks a job still holds (e.g. after it was killed); returns how many."""
    names = [raw.decode() for raw in conn.smembers(keys.job_locks(job_id))]
    released = conn.eval(_RELEASE_SCRIPT, len(names), *names, job_id.encode()) if names else 0
    conn.delete(keys.job_locks(job_id))
    return int(released)
