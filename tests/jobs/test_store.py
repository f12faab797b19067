"""core.jobs.store: the Redis store and the in-process store keep job data alike (both JSON)."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator

import pytest
import redis

from core import defaults, keys
from core.choices import JobKind, JobMode, JobState
from core.jobs.store import LOCAL, LocalStore, RedisStore, Store, new_record, store_for
from tests.helpers import RedisJanitor
from tests.jobs.conftest import MARK


# the Redis case reaches the test stack's Redis lazily: its markers cannot come from the fixture names
@pytest.fixture(params=[pytest.param("redis", marks=[pytest.mark.netbox, pytest.mark.redis]), "local"])
def store(request: pytest.FixtureRequest) -> Iterator[Store]:
    if request.param == "local":
        yield LocalStore()
    else:
        janitor: RedisJanitor = request.getfixturevalue("janitor")
        yield RedisStore(janitor.conn)


def job_id() -> str:
    return f"{MARK}-store-{secrets.token_hex(4)}"


def test_new_records_are_queued_for_a_worker_and_running_in_process() -> None:
    queued = new_record("a", JobKind.IMPORT, JobMode.WORKER, total=4, queue="q")
    here = new_record("b", JobKind.SEARCH, JobMode.IN_PROCESS, total=100)

    assert queued["state"] == JobState.QUEUED and here["state"] == JobState.RUNNING
    assert (queued["kind"], queued["mode"], queued["queue"], queued["total"]) == ("import", "worker", "q", 4)
    assert (here["kind"], here["mode"], here["done"], here["counts"]) == ("search", "in-process", 0, {})
    assert queued["enqueued_at"] and queued["ended_at"] is None


def test_records_results_and_flags_read_back_as_written(store: Store) -> None:
    jid = job_id()
    record = new_record(jid, JobKind.IMPORT, JobMode.IN_PROCESS, total=2)

    assert store.get_record(jid) is None
    store.put_record(jid, record)
    stored = store.get_record(jid)
    assert stored == record and stored is not record
    store.add_results(jid, [{"librenms_id": 1}])
    store.add_results(jid, [])
    store.add_results(jid, [{"librenms_id": 2, "extra": ["a"]}])
    assert store.results(jid) == [{"librenms_id": 1}, {"librenms_id": 2, "extra": ["a"]}]
    assert not store.cancel_requested(jid)
    store.set_cancel(jid)
    assert store.cancel_requested(jid)
    assert not store.is_alive(jid)
    store.touch_alive(jid)
    assert store.is_alive(jid)


def test_the_recent_jobs_index_is_newest_first(store: Store) -> None:
    first, second = job_id(), job_id()
    when = time.time() + 60  # a minute ahead: the newest in a shared index, and it trims nobody else's
    store.index(first, when)
    store.index(second, when + 1)

    assert store.recent(2) == [second, first]
    store.forget(second)
    assert store.recent(1) == [first]
    store.forget(first)


def test_searches_are_kept_newest_first_and_replaced_by_id(store: Store, janitor: RedisJanitor) -> None:
    ids = [job_id() for _ in range(3)]
    for n, search_id in enumerate(ids):
        store.put_search(search_id, f'{{"n": {n}}}', {"id": search_id, "time": n})
    store.put_search(ids[0], '{"n": 9}', {"id": ids[0], "time": 9})  # saved again: moves to the head

    listed = [entry["id"] for entry in store.searches()]
    assert listed[:3] == [ids[0], ids[2], ids[1]]
    assert store.get_search(ids[0]) == '{"n": 9}' and store.get_search(job_id()) is None
    if isinstance(store, RedisStore):
        assert janitor.conn.get(keys.search_result(ids[0])) == b'{"n": 9}'
        assert 0 < janitor.conn.ttl(keys.search_result(ids[0])) <= defaults.RESULT_TTL_SECONDS


def test_the_local_store_keeps_at_most_recent_searches_kept() -> None:
    local = LocalStore()
    for n in range(defaults.RECENT_SEARCHES_KEPT + 2):
        local.put_search(str(n), "{}", {"id": str(n)})

    assert len(local.searches()) == defaults.RECENT_SEARCHES_KEPT
    assert local.get_search("0") is None and local.get_search("1") is None


def test_the_store_is_redis_with_a_connection_else_the_one_in_this_process(conn: redis.Redis) -> None:
    assert isinstance(store_for(conn), RedisStore) and store_for(conn).conn is conn
    assert store_for(None) is LOCAL
