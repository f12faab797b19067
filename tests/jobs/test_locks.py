"""core.jobs.locks: a lock per LibreNMS device in Redis, exclusive across owners, released only by its
owner (or for a job that died)."""

from __future__ import annotations

import time

import pytest
import redis

from core import defaults, jobs, keys
from tests.jobs.conftest import MARK

pytestmark = [pytest.mark.redis]


def test_redis_locks_are_exclusive_and_release_only_their_own(conn: redis.Redis) -> None:
    one = jobs.RedisLocks(conn, ttl=30, owner=f"{MARK}-job-a")
    two = jobs.RedisLocks(conn, ttl=30, owner=f"{MARK}-job-b")
    a, b, c = (f"{MARK}-srv", 1), (f"{MARK}-srv", 2), (f"{MARK}-dc2", 1)  # this run's own lock keys

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


def test_locks_expire_after_the_lock_ttl_and_list_what_they_hold(conn: redis.Redis) -> None:
    locks = jobs.RedisLocks(conn, owner=f"{MARK}-job-c")
    key = (f"{MARK}-srv", 3)

    assert locks.ttl == defaults.LOCK_TTL_SECONDS
    assert locks.acquire([key]) == [key] and locks.acquire([]) == []
    assert 0 < conn.ttl(keys.lock(*key)) <= defaults.LOCK_TTL_SECONDS
    assert conn.smembers(keys.job_locks(locks.owner)) == {keys.lock(*key).encode()}
    locks.release([key])
    assert conn.smembers(keys.job_locks(locks.owner)) == set() and conn.get(keys.lock(*key)) is None
    assert locks.release_all() == 0


def test_refresh_extends_the_locks_still_held_and_not_one_another_owner_took(conn: redis.Redis) -> None:
    mine = jobs.RedisLocks(conn, ttl=3, owner=f"{MARK}-job-d")
    kept, lost = (f"{MARK}-srv", 4), (f"{MARK}-srv", 5)
    assert mine.acquire([kept, lost]) == [kept, lost]
    # `lost` expired and another job took it: its key now holds the other owner's value, with its own TTL
    conn.set(keys.lock(*lost), f"{MARK}-job-e".encode(), px=1500)
    conn.pexpire(keys.lock(*kept), 1000)
    conn.pexpire(keys.job_locks(mine.owner), 1000)

    assert mine.refresh() == 1

    assert 2000 < conn.pttl(keys.lock(*kept)) <= 3000  # the full TTL again
    assert 2000 < conn.pttl(keys.job_locks(mine.owner)) <= 3000  # and the list of what it holds
    assert conn.pttl(keys.lock(*lost)) <= 1500 and conn.get(keys.lock(*lost)) == f"{MARK}-job-e".encode()
    mine.release_all()
    conn.delete(keys.lock(*lost))
    assert mine.refresh() == 0  # nothing held: nothing to extend


def test_locks_kept_alive_outlive_their_ttl_while_the_owner_runs(conn: redis.Redis) -> None:
    locks = jobs.RedisLocks(conn, ttl=1, owner=f"{MARK}-job-f")
    key = (f"{MARK}-srv", 6)
    with locks.kept_alive(every=0.2):
        assert locks.acquire([key]) == [key]
        time.sleep(2.5)  # more than twice the TTL
        assert conn.get(keys.lock(*key)) == locks.owner.encode()
    time.sleep(1.5)  # the owner stopped refreshing (as if killed): the lock expires
    assert conn.get(keys.lock(*key)) is None
