"""The Runs page: import and undo runs with their kinds, state and counts; one run opened with its plan, result
lines and NetBox objects; Undo offered only where an undo can work, and started only after its
confirmation; Cancel and Hard stop of a running job, each confirmed.

The real import comes from this module's own LibreNMS (tests.helpers.running_lab: the fixture devices
renamed for this run), so no other test module imports the same device; only what was made for the lab's
devices is deleted from NetBox. The other runs are records written straight into Redis (core.jobs.store)
under ids this module owns; only those, and the job this module started, are removed from Redis.
"""

from __future__ import annotations

import dataclasses
import secrets
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pandas as pd
import pynetbox
import pytest
import redis
from streamlit.testing.v1 import AppTest

from core import jobs
from core.choices import JobKind, JobMode, JobState
from core.importer import ImportItem
from core.jobs.store import RedisStore, new_record
from core.settings import load_settings
from tests.helpers import Lab, RedisJanitor, delete_lab_objects, signed_in_app

PAGE = "pages/runs.py"
MARK = f"lnbi-test-runs-page-{secrets.token_hex(3)}"
HARD_STOP = "Hard stop (kills the worker; the batch in flight may be left unfinished)"


def open_runs(run: str = "") -> AppTest:
    """The Runs page through app.py's navigation frame; with `run`, opened at ?run=<run>."""
    at = signed_in_app(60)
    if run:
        at.query_params["run"] = run
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    return at


def table_with(at: AppTest, *columns: str) -> pd.DataFrame:
    """The one table the page shows with these columns."""
    (frame,) = [d.value for d in at.dataframe if set(columns) <= set(d.value.columns)]
    return frame


def button(at: AppTest, *, key: str = "", label: str = ""):
    found = [b for b in at.button if (key and b.key == key) or (label and b.label == label)]
    assert len(found) == 1, [(b.key, b.label) for b in at.button]
    return found[0]


def has_button(at: AppTest, key: str) -> bool:
    return any(b.key == key for b in at.button)


@pytest.fixture
def janitor(env: dict, redis_url: str) -> Iterator[RedisJanitor]:
    """Removes from Redis what this module's runs left there (their records, lines, objects), nothing else."""
    connection = redis.Redis.from_url(redis_url)
    owner = RedisJanitor(connection, MARK)
    yield owner
    owner.cleanup()
    connection.close()


@pytest.fixture
def put_run(janitor: RedisJanitor) -> Callable[..., str]:
    """put_run(kind, state, results=, objects=, plan=, **record): a run's record as core.jobs writes it,
    in Redis and in the recent-jobs index, under a new id this module owns. Returns the id."""
    store = RedisStore(janitor.conn)

    def put(
        kind: JobKind = JobKind.IMPORT,
        state: JobState = JobState.FINISHED,
        *,
        results: Sequence[dict[str, Any]] = (),
        objects: Sequence[dict[str, Any]] = (),
        plan: Sequence[dict[str, Any]] = (),
        **record: Any,
    ) -> str:
        run_id = uuid.uuid4().hex
        janitor.own(run_id)
        data = new_record(run_id, kind, JobMode.IN_PROCESS, total=len(results)) | {"state": state.value}
        data |= {"done": len(results), "ended_at": None if state.active else time.time()} | record
        store.put_record(run_id, data)
        store.index(run_id, data["enqueued_at"])
        store.add_results(run_id, list(results))
        store.add_objects(run_id, list(objects))
        if plan:
            store.put_plan(run_id, plan)
        if state.active:
            store.touch_alive(run_id)  # the app running it heartbeats
        return run_id

    return put


def device_object(device_id: int, name: str, action: str = "create") -> dict[str, Any]:
    return {"type": "dcim.device", "id": device_id, "name": name, "action": action, "request_id": "req-1"}


def result_line(name: str, outcome: str, kind: str = "device") -> dict[str, Any]:
    return {
        "server_key": "default",
        "librenms_id": 0,
        "name": name,
        "outcome": outcome,
        "kind": kind,
        "message": f"{outcome} {kind}",
        "netbox_id": 7,
        "url": "",
        "extra": [],
    }


def test_the_list_shows_import_and_undo_runs_with_their_kinds_counts_and_state(put_run) -> None:
    imported = put_run(
        by="analyst",
        results=[result_line("sw1", "created"), result_line("sw2", "skipped")],
        counts={"created": 1, "skipped": 1},
    )
    resumed = put_run(results=[result_line("sw2", "completed")], counts={"completed": 1}, resumes=imported)
    undo = put_run(
        JobKind.UNDO,
        results=[result_line("sw1", "deleted")],
        counts={"deleted": 1},
        undoes=imported,
        by="analyst",
    )
    at = open_runs()
    table = table_with(at, "run", "kind").set_index("run")
    assert table.loc[undo, "kind"] == f"undo of {imported[:8]}"
    assert table.loc[resumed, "kind"] == f"import resuming {imported[:8]}"
    assert table.loc[imported, "kind"] == "import"
    assert table.loc[imported, ["by", "rows", "created", "skipped"]].tolist() == ["analyst", "2 / 2", 1, 1]
    assert table.loc[undo, ["rows", "deleted", "state"]].tolist() == ["1 / 1", 1, "finished"]
    assert table.loc[resumed, "completed"] == 1


def test_opening_a_real_import_run_by_its_link_shows_its_plan_results_and_netbox_objects(
    lab_env: dict, lab: Lab, nb: pynetbox.api, janitor: RedisJanitor
) -> None:
    settings = load_settings()
    handle = jobs.start_import(settings, [ImportItem("default", lab.device_id("esx01"))])
    janitor.own(handle.job_id)
    try:
        deadline = time.monotonic() + 120
        while jobs.job_status(settings, handle.job_id).active and time.monotonic() < deadline:
            time.sleep(0.5)
        (device,) = nb.dcim.devices.filter(cf_librenms_id=lab.device_id("esx01"))

        at = open_runs(run=handle.job_id)  # a link: /runs?run=<id>
        assert at.selectbox(key="run").value == handle.job_id
        listed = table_with(at, "run", "kind").set_index("run").loc[handle.job_id]
        assert (listed["kind"], listed["state"], listed["created"]) == ("import", "finished", 1)
        plan = table_with(at, "row", "action", "fields")
        assert set(plan["row"]) == {lab.name("esx01")} and set(plan["action"]) == {"create"}
        assert "device" in set(plan["object"])
        results = table_with(at, "outcome", "message")
        assert list(results["name"]) == [lab.name("esx01")] and list(results["outcome"]) == ["created"]
        objects = table_with(at, "action", "request")
        line = objects[objects["object"] == "device"].iloc[0]
        assert (line["action"], line["name"], line["id"]) == ("create", device.name, device.id)
        assert line["url"] == f"{settings.netbox_url}/dcim/devices/{device.id}/"
        assert line["request"]  # NetBox's request id of the write
        assert any("the run's record" in c.value for c in at.caption)  # where the objects came from
        assert has_button(at, "undo") and not has_button(at, "resume")  # done, nothing left to resume
    finally:
        delete_lab_objects(nb, lab)


def test_undo_is_offered_only_for_an_ended_import_not_yet_undone_with_objects(put_run) -> None:
    made = [device_object(9_100_001, "sw1")]
    offered = put_run(objects=made, counts={"created": 1})
    undone_undo = put_run(JobKind.UNDO, objects=[device_object(9_100_002, "sw2", "delete")])
    not_offered = {
        "undone already": put_run(objects=made, undone_by=undone_undo),
        "still running": put_run(state=JobState.RUNNING, objects=made),
        "made nothing": put_run(counts={"skipped": 1}),  # and NetBox's changelog knows nothing of it
        "an undo": undone_undo,
    }
    assert has_button(open_runs(run=offered), "undo")
    for why, run_id in not_offered.items():
        assert not has_button(open_runs(run=run_id), "undo"), why


CONFIRMATIONS = {
    "undo": ("Undo this run", ("deletes what this run created", "puts back what it changed", "left as")),
    "resume": ("Resume this run", ("this run's rows again", "unfinished", "never duplicated")),
}


@pytest.mark.parametrize("action", ["undo", "resume"])
def test_undo_and_resume_start_only_once_confirmed_and_then_open_the_new_run(
    action: str, put_run, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_id = put_run(  # stopped half way: it can be undone and resumed
        JobKind.IMPORT,
        JobState.STOPPED,
        objects=[device_object(9_100_003, "sw3")],
        results=[result_line("sw3", "created")],
        counts={"created": 1},
        total=2,
    )
    started: list[str] = []
    new_runs: list[str] = []

    def start(_settings, of: str) -> jobs.JobHandle:
        started.append(of)
        link = {"undoes": of} if action == "undo" else {"resumes": of}
        kind = JobKind.UNDO if action == "undo" else JobKind.IMPORT
        new_runs.append(put_run(kind, JobState.QUEUED, **link))
        return jobs.JobHandle(new_runs[-1], JobMode.IN_PROCESS.value)

    monkeypatch.setattr(jobs, f"start_{action}", start)
    go, words = CONFIRMATIONS[action]
    at = open_runs(run=run_id)
    button(at, key=action).click().run()
    assert not at.exception, at.exception
    assert started == []  # asked, not started
    said = " ".join(m.value for m in at.markdown)
    assert all(w in said for w in words), said
    button(at, label="Back").click().run()
    assert started == [] and not any(b.label == go for b in at.button)

    button(at, key=action).click().run()
    button(at, label=go).click().run()
    assert not at.exception, at.exception
    assert started == [run_id]
    (new_id,) = new_runs
    assert at.selectbox(key="run").value == new_id  # the new run is opened
    assert any(new_id in s.value for s in at.success)  # and its id said
    kind = f"undo of {run_id[:8]}" if action == "undo" else f"import resuming {run_id[:8]}"
    assert any(kind in m.value for m in at.markdown)


def test_without_redis_the_page_says_so_and_does_not_break(
    env: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:9/0")
    at = open_runs()
    assert any("Redis cannot be reached" in w.value for w in at.warning)


def test_a_running_worker_job_has_a_safe_cancel_and_a_separate_hard_stop_each_confirmed(
    env: dict, janitor: RedisJanitor, monkeypatch: pytest.MonkeyPatch
) -> None:
    from core.jobs.queue import enqueue

    settings = dataclasses.replace(load_settings(), queue_name=f"{MARK}-idle")  # no worker listens there
    item = ImportItem("default", 2_100_000_001, {"role": "server"}).to_data()
    handle = enqueue(janitor.conn, settings, JobKind.IMPORT, 1, "core.jobs.import_job", [item], None)
    janitor.own(handle.job_id)
    asked: list[tuple[str, str]] = []
    try:
        monkeypatch.setattr(jobs, "cancel", lambda _conn, job_id, **_kw: asked.append(("cancel", job_id)))
        monkeypatch.setattr(jobs, "hard_stop", lambda _conn, job_id: asked.append(("hard stop", job_id)))
        at = open_runs()
        cancel = button(at, key=f"cancel-{handle.job_id}")
        assert cancel.label == "Cancel" and "after the batch in flight" in (cancel.help or "")
        assert button(at, key=f"kill-{handle.job_id}").label == HARD_STOP

        cancel.click().run()
        assert not at.exception, at.exception
        assert asked == []  # the confirmation first
        button(at, label="Stop after the batch in flight").click().run()
        assert asked == [("cancel", handle.job_id)]  # the safe stop, nothing killed
        button(at, key=f"kill-{handle.job_id}").click().run()
        assert asked == [("cancel", handle.job_id)]
        assert any("Kills the worker's work horse" in m.value for m in at.markdown)
        button(at, label="Kill it now").click().run()
        assert not at.exception, at.exception
        assert asked == [("cancel", handle.job_id), ("hard stop", handle.job_id)]
    finally:
        monkeypatch.undo()
        jobs.cancel(janitor.conn, handle.job_id)
