"""The Jobs page: recent imports with state and counts, and the results of one, whoever ran it."""

from __future__ import annotations

import time

import pytest
from streamlit.testing.v1 import AppTest

from core import jobs
from core.importer import ImportItem
from core.settings import load_settings
from tests.conftest import ROOT

PAGE = "pages/jobs.py"


def open_jobs() -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    return at


@pytest.fixture
def finished_job(env: dict, nb):
    """An import of esx01 (ready with the demo data) run in this process: no worker listens on the queue."""
    settings = load_settings()
    handle = jobs.start_import(settings, [ImportItem("default", 111)])
    deadline = time.monotonic() + 120
    while jobs.job_status(settings, handle.job_id).active and time.monotonic() < deadline:
        time.sleep(0.5)
    yield handle
    for device in nb.dcim.devices.filter(cf_librenms_id=111, name="esx01"):
        for ip in nb.ipam.ip_addresses.filter(device_id=device.id):
            ip.delete()
        device.delete()


def test_recent_import_is_listed_with_its_state_and_results(finished_job) -> None:
    at = open_jobs()
    table = at.dataframe[0].value
    line = table[table["job"] == finished_job.job_id].iloc[0]
    assert (line["state"], line["created"], line["ran in"]) == ("finished", 1, "in-process")
    at.selectbox[0].set_value(finished_job.job_id).run()
    assert not at.exception
    results = at.dataframe[-1].value
    assert list(results["name"]) == ["esx01"] and list(results["outcome"]) == ["created"]
    assert results["url"].iloc[0].endswith("/")


def test_without_redis_the_page_says_so_and_does_not_break(
    env: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:9/0")
    at = open_jobs()
    assert any("Redis cannot be reached" in w.value for w in at.warning)
