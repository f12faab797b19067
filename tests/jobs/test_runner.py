"""core.jobs.runner: the in-process runner (a daemon thread with a heartbeat) and running one job into a
store; here in a store of its own, without Redis, NetBox or a worker."""

from __future__ import annotations

import threading

from core.choices import JobKind, JobMode, JobState
from core.errors import LibreNMSUnreachable
from core.jobs import runner
from core.jobs.runner import execute_import, execute_search, start_thread
from core.jobs.store import LocalStore, new_record
from core.librenms import DeviceFilter
from tests.helpers import wait_until


def test_the_thread_heartbeats_while_it_runs_and_its_job_is_then_final() -> None:
    store, release = LocalStore(), threading.Event()
    store.put_record("j1", new_record("j1", JobKind.IMPORT, JobMode.IN_PROCESS, total=1))

    def target() -> None:
        release.wait(10)
        record = store.get_record("j1") or {}
        store.put_record("j1", {**record, "state": JobState.FINISHED.value})

    start_thread(store, "j1", target)

    assert store.is_alive("j1")
    release.set()
    wait_until(lambda: store.get_record("j1")["state"] == "finished", timeout=10, what="the job to finish")


def test_a_bug_in_a_job_leaves_it_failed_and_readable() -> None:
    store = LocalStore()
    store.put_record("j2", new_record("j2", JobKind.IMPORT, JobMode.IN_PROCESS, total=1))

    def target() -> None:
        raise KeyError("oops")

    start_thread(store, "j2", target)

    record = wait_until(lambda: (r := store.get_record("j2")) and r["state"] == "failed" and r, timeout=10)
    assert record["error"] == "KeyError: 'oops'" and record["ended_at"]


def test_a_search_that_cannot_reach_librenms_fails_with_the_message(monkeypatch) -> None:
    store, seen = LocalStore(), []

    def unreachable(*_args, **_kwargs):
        raise LibreNMSUnreachable("LibreNMS cannot be reached at http://x.", hint="Check LIBRENMS_URL.")

    monkeypatch.setattr(runner, "run_search", unreachable)

    result = execute_search(store, "j3", lambda: None, DeviceFilter(), None, meta=seen.append)

    assert result == {
        "state": "failed",
        "error": "LibreNMS cannot be reached at http://x. Check LIBRENMS_URL.",
    }
    record = store.get_record("j3")
    assert record["state"] == "failed" and record["kind"] == "search" and record["ended_at"]
    assert seen and seen[-1]["state"] == "failed"


def test_an_import_that_cannot_start_fails_with_the_message_and_keeps_no_rows(monkeypatch) -> None:
    store = LocalStore()

    def unreachable(*_args, **_kwargs):
        raise LibreNMSUnreachable("LibreNMS cannot be reached.")

    monkeypatch.setattr(runner, "run_import", unreachable)

    result = execute_import(store, "j4", lambda: None, [], locks=None, batch_size=None)

    assert result == {"state": "failed", "counts": {}, "error": "LibreNMS cannot be reached."}
    assert store.get_record("j4")["state"] == "failed" and store.results("j4") == []
