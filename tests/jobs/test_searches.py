"""core.jobs.searches: stored searches, whoever ran them (a worker or the app), as JSON in Redis; the
recent searches; and a stored value that is not ours (an old pickle) is never loaded."""

from __future__ import annotations

import dataclasses
import json
import pickle

import pytest
import redis
from rq.job import Job
from rq.serializers import JSONSerializer

from core import codec, defaults, jobs, keys
from core.choices import JobState
from core.errors import SearchExpired
from core.jobs.store import LOCAL
from core.librenms import DeviceFilter
from core.search import run_search
from core.settings import Settings
from tests.helpers import PICKLE_PREFIXES, RedisJanitor, WorkerProcess, wait_for_end
from tests.jobs.conftest import MARK, NOBODY

pytestmark = [pytest.mark.redis]


def _statuses(result) -> dict[tuple[str, int], tuple[str, str]]:
    return {key: (row.name, row.status.value) for key, row in result.review.rows.items()}


def test_a_search_job_stores_what_an_in_process_search_stores(
    conn: redis.Redis, worker: WorkerProcess, job_settings: Settings
) -> None:
    flt = DeviceFilter(detect_stacks=True)
    handle = jobs.start_search(job_settings, flt)
    assert handle.mode == "worker"
    job = Job.fetch(handle.job_id, connection=conn, serializer=JSONSerializer)
    assert job.func_name == "core.jobs.search_job" and job.args[0] == dataclasses.asdict(flt)
    status = wait_for_end(conn, handle.job_id)
    assert status.state is JobState.FINISHED and status.kind == "search", status.error
    from_worker = jobs.load_search(conn, handle.job_id)

    local = run_search(job_settings, flt)
    local_id = jobs.save_search(conn, local)
    from_app = jobs.load_search(conn, local_id)

    assert _statuses(from_worker) == _statuses(from_app) == _statuses(local)
    assert len(from_worker.review) > 30
    assert any(row.stack for row in from_worker.review)
    assert from_worker.filter == flt and from_worker.server_key == "default"
    listed = {entry["id"]: entry for entry in jobs.recent_searches(conn)}
    assert listed[handle.job_id]["counts"] == listed[local_id]["counts"]
    assert listed[handle.job_id]["filters"] == {"detect_stacks": True}
    assert sum(listed[local_id]["counts"].values()) == len(local.review)
    assert (
        Job.fetch(handle.job_id, connection=conn, serializer=JSONSerializer).meta["done"] == 100
    )  # job.meta


def test_a_search_without_a_worker_runs_in_process_and_loads_the_same_way(
    conn: redis.Redis, job_settings: Settings
) -> None:
    settings = dataclasses.replace(job_settings, queue_name=NOBODY)

    handle = jobs.start_search(settings, DeviceFilter(os="iosxe"))

    assert handle.mode == "in-process" and "search runs inside the app" in handle.note
    assert wait_for_end(conn, handle.job_id).state is JobState.FINISHED
    result = jobs.load_search(conn, handle.job_id)
    assert result.review.rows and {row.device.os for row in result.review} == {"iosxe"}
    assert jobs.recent_searches(conn)[0]["id"] == handle.job_id


def test_recent_searches_keeps_the_newest_and_drops_the_rest(
    conn: redis.Redis, job_settings: Settings
) -> None:
    result = run_search(job_settings, DeviceFilter(os="nxos"))
    ids = [jobs.save_search(conn, result) for _ in range(defaults.RECENT_SEARCHES_KEPT + 3)]

    listed = [entry["id"] for entry in jobs.recent_searches(conn)]

    assert listed == ids[::-1][: defaults.RECENT_SEARCHES_KEPT]
    assert 0 < conn.ttl(keys.search_result(ids[-1])) <= defaults.RESULT_TTL_SECONDS
    for gone in ids[:3]:
        with pytest.raises(SearchExpired):
            jobs.load_search(conn, gone)
    assert conn.llen(keys.recent_searches()) == defaults.RECENT_SEARCHES_KEPT


def test_a_stored_search_is_json_in_redis(conn: redis.Redis, job_settings: Settings) -> None:
    result = run_search(job_settings, DeviceFilter(os="iosxe", detect_stacks=True))
    search_id = jobs.save_search(conn, result)

    raw = conn.get(keys.search_result(search_id))  # the value exactly as Redis holds it

    assert raw is not None and not raw.startswith(PICKLE_PREFIXES) and b"\x80" not in raw[:2]
    data = json.loads(raw)
    assert data["format"] == codec.FORMAT and data["server_key"] == "default"
    assert data["filter"] == dataclasses.asdict(result.filter)
    assert len(data["review"]["devices"]) == len(result.review.devices)
    assert {
        "devices", "index", "mappings", "options", "stacks", "choices", "shared_sysnames", "stack_errors",
    } == set(data["review"])  # fmt: skip
    (entry,) = [e for e in jobs.recent_searches(conn) if e["id"] == search_id]
    assert json.loads(json.dumps(entry)) == entry and entry["rows"] == len(result.review)


PWNED: list[str] = []


class _Evil:
    """What an attacker with write access to Redis could store: a pickle that runs code when loaded."""

    def __reduce__(self):
        return (PWNED.append, ("code ran",))


@pytest.mark.parametrize("value", [pickle.dumps(_Evil(), protocol=5), b"{not json", b'{"format": 0}'])
def test_a_stored_value_that_is_not_our_json_is_never_run_and_reads_as_expired(
    value: bytes, conn: redis.Redis, janitor: RedisJanitor
) -> None:
    search_id = f"{MARK}-foreign-search"
    conn.set(keys.search_result(search_id), value, ex=60)

    with pytest.raises(SearchExpired, match="cannot be read"):
        jobs.load_search(conn, search_id)
    assert PWNED == []


def test_searches_without_redis_are_kept_in_this_process(job_settings: Settings) -> None:
    result = run_search(job_settings, DeviceFilter(os="nxos"))

    search_id = jobs.save_search(None, result)

    assert LOCAL.get_search(search_id) == codec.dumps_search(result)  # the same JSON as in Redis
    assert _statuses(jobs.load_search(None, search_id)) == _statuses(result)
    assert jobs.recent_searches(None)[0]["id"] == search_id
    with pytest.raises(SearchExpired, match="no longer stored"):
        jobs.load_search(None, f"{MARK}-never-saved")
