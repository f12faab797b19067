"""tests.helpers.RedisJanitor, which removes what the tests made in the shared Redis: it must remove only
that, and put back the recent searches of others that the product dropped meanwhile."""

from __future__ import annotations

import json
import time
import uuid

import pytest
import redis

from core import defaults, keys
from core.jobs.store import RedisStore
from tests.helpers import RedisJanitor
from tests.jobs.conftest import MARK

pytestmark = [pytest.mark.redis]


def test_the_janitor_removes_only_what_is_owned_and_puts_back_dropped_searches(conn: redis.Redis) -> None:
    foreign_id, foreign_job = uuid.uuid4().hex, uuid.uuid4().hex  # someone else's: no marker in them
    foreign_entry = json.dumps({"id": foreign_id, "time": time.time() + 3600})
    foreign_keys = [keys.search_result(foreign_id), keys.job(foreign_job), keys.lock(f"x{foreign_job}", 1)]
    conn.set(foreign_keys[0], b'{"theirs": 1}', ex=600)
    conn.set(foreign_keys[1], b"{}", ex=600)
    conn.set(foreign_keys[2], foreign_job.encode(), ex=600)
    conn.lpush(keys.recent_searches(), foreign_entry)
    conn.zadd(keys.jobs_index(), {foreign_job: 1})
    try:
        inner = f"{MARK}-inner"
        janitor = RedisJanitor(conn, inner)
        mine = uuid.uuid4().hex
        janitor.own(mine, "", "short")  # ids too short to be safe are never owned
        assert "" not in janitor.tokens and "short" not in janitor.tokens
        store = RedisStore(conn)
        for n in range(defaults.RECENT_SEARCHES_KEPT + 1):  # pushes the foreign search out, result and all
            store.put_search(f"{inner}-{n}", "{}", {"id": f"{inner}-{n}", "time": time.time()})
        assert not conn.exists(keys.search_result(foreign_id))
        conn.set(keys.job(mine), b"{}", ex=600)
        conn.set(keys.lock(f"x{mine}", 2), mine.encode(), ex=600)
        conn.zadd(keys.jobs_index(), {mine: 2})

        janitor.cleanup()

        assert all(conn.exists(key) for key in foreign_keys)
        assert conn.get(keys.search_result(foreign_id)) == b'{"theirs": 1}'
        listed = [json.loads(raw)["id"] for raw in conn.lrange(keys.recent_searches(), 0, -1)]
        assert foreign_id in listed and not any(inner in i for i in listed)
        assert not conn.exists(keys.job(mine)) and not conn.exists(keys.lock(f"x{mine}", 2))
        assert (
            conn.zscore(keys.jobs_index(), mine) is None and conn.zscore(keys.jobs_index(), foreign_job) == 1
        )
        assert not list(conn.scan_iter(match=f"*{inner}*"))
    finally:
        conn.delete(*foreign_keys)
        conn.lrem(keys.recent_searches(), 0, foreign_entry)
        conn.zrem(keys.jobs_index(), foreign_job)
