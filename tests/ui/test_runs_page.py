"""The Jobs page: recent imports with state and counts, and the results of one, whoever ran it.

The import comes from this module's own LibreNMS (tests.helpers.running_lab: the fixture devices renamed for
this run), so no other test module imports the same device; only what was made for the lab's devices is
deleted from NetBox, and only the job this module started is removed from Redis.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pynetbox
import pytest
import redis
from streamlit.testing.v1 import AppTest

from core import jobs
from core.importer import ImportItem
from core.settings import load_settings
from tests.conftest import ROOT
from tests.helpers import Lab, RedisJanitor, delete_lab_objects

PAGE = "pages/jobs.py"


def open_jobs() -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    return at


@pytest.fixture
def janitor(lab_env: dict, redis_url: str) -> Iterator[RedisJanitor]:
    """Removes from Redis what this module's job left there (its records, its queue), nothing else."""
    connection = redis.Redis.from_url(redis_url)
    owner = RedisJanitor(connection, lab_env["QUEUE_NAME"])
    yield owner
    owner.cleanup()
    connection.close()


@pytest.fixture
def finished_job(
    lab_env: dict, lab: Lab, nb: pynetbox.api, janitor: RedisJanitor
) -> Iterator[jobs.JobHandle]:
    """An import of the lab's esx01 (ready with the demo data) run in this process: no worker listens."""
    settings = load_settings()
    handle = jobs.start_import(settings, [ImportItem("default", lab.device_id("esx01"))])
    janitor.own(handle.job_id)
    try:
        deadline = time.monotonic() + 120
        while jobs.job_status(settings, handle.job_id).active and time.monotonic() < deadline:
            time.sleep(0.5)
        yield handle
    finally:
        delete_lab_objects(nb, lab)


def test_recent_import_is_listed_with_its_state_and_results(finished_job, lab: Lab, nb: pynetbox.api) -> None:
    at = open_jobs()
    table = at.dataframe[0].value
    line = table[table["job"] == finished_job.job_id].iloc[0]
    assert (line["state"], line["created"], line["ran in"]) == ("finished", 1, "in-process")
    at.selectbox[0].set_value(finished_job.job_id).run()
    assert not at.exception
    results = at.dataframe[-1].value
    assert list(results["name"]) == [lab.name("esx01")] and list(results["outcome"]) == ["created"]
    (device,) = nb.dcim.devices.filter(cf_librenms_id=lab.device_id("esx01"))
    assert results["url"].iloc[0].endswith(f"/dcim/devices/{device.id}/")


def test_without_redis_the_page_says_so_and_does_not_break(
    env: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:9/0")
    at = open_jobs()
    assert any("Redis cannot be reached" in w.value for w in at.warning)


HARD_STOP = "Hard stop (kills the worker; the batch in flight may be left unfinished)"


def test_a_running_worker_job_has_a_safe_cancel_and_a_separate_clearly_labelled_hard_stop(
    env: dict, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import dataclasses
    import secrets

    from core.choices import JobKind
    from core.jobs.queue import enqueue

    marker = f"lnbi-test-jobs-page-{secrets.token_hex(3)}"
    connection = redis.Redis.from_url(redis_url)
    owner = RedisJanitor(connection, marker)
    settings = dataclasses.replace(load_settings(), queue_name=f"{marker}-idle")  # no worker listens there
    item = ImportItem("default", 2_100_000_001, {"role": "server"}).to_data()
    handle = enqueue(connection, settings, JobKind.IMPORT, 1, "core.jobs.import_job", [item], None)
    owner.own(handle.job_id)
    asked: list[tuple[str, str]] = []
    try:
        monkeypatch.setattr(jobs, "cancel", lambda _conn, job_id, **_kw: asked.append(("cancel", job_id)))
        monkeypatch.setattr(jobs, "hard_stop", lambda _conn, job_id: asked.append(("hard stop", job_id)))
        at = open_jobs()
        cancel = next(b for b in at.button if b.key == f"cancel-{handle.job_id}")
        kill = next(b for b in at.button if b.key == f"kill-{handle.job_id}")
        assert cancel.label == "Cancel" and "after the batch in flight" in (cancel.help or "")
        assert kill.label == HARD_STOP

        cancel.click().run()
        assert not at.exception, at.exception
        assert asked == [("cancel", handle.job_id)]  # the safe stop, nothing killed
        next(b for b in at.button if b.key == f"kill-{handle.job_id}").click().run()
        assert not at.exception, at.exception
        assert asked == [("cancel", handle.job_id), ("hard stop", handle.job_id)]
    finally:
        monkeypatch.undo()
        try:
            jobs.cancel(connection, handle.job_id)
        finally:
            owner.cleanup()
            connection.close()
