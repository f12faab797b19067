"""Polling a job while Redis cannot be reached: the Import page's progress and its background-search poller
say "Queue unreachable (Redis), retrying…" and keep following the job (never "expired"), and pick it up
when Redis answers again.

The jobs are queued where no worker listens (they stay queued, i.e. active, for the whole test) and removed
from Redis at the end (RedisJanitor); nothing is written to NetBox. "Redis cannot be reached" is the page's
settings pointing at a closed port (the settings are st.cache_resource: cleared, then read again); the real
Redis is never stopped.
"""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Iterator

import pytest
import redis
import streamlit as st
from streamlit.testing.v1 import AppTest

from core import codec, jobs
from core.choices import JobKind
from core.importer import ImportItem
from core.jobs.queue import enqueue
from core.librenms import DeviceFilter
from core.settings import load_settings
from tests.helpers import RedisJanitor, closed_port, signed_in_app
from ui.review import STATE

MARK = f"lnbi-test-polling-{secrets.token_hex(3)}"
RETRYING = "Queue unreachable (Redis), retrying…"
HARD_STOP = "Hard stop (kills the worker; the batch in flight may be left unfinished)"


@pytest.fixture
def janitor(env: dict, redis_url: str) -> Iterator[RedisJanitor]:
    connection = redis.Redis.from_url(redis_url)
    owner = RedisJanitor(connection, MARK)
    yield owner
    owner.cleanup()
    connection.close()


def queued(janitor: RedisJanitor, kind: JobKind) -> str:
    """A job queued where no worker listens: it stays queued (active) as long as the test needs."""
    settings = dataclasses.replace(load_settings(), queue_name=f"{MARK}-idle")
    if kind is JobKind.IMPORT:
        args = ([ImportItem("default", 2_100_000_001, {"role": "server"}).to_data()], None)
        handle = enqueue(janitor.conn, settings, kind, 1, "core.jobs.import_job", *args)
    else:
        args = (codec.filter_to_data(DeviceFilter()), None)
        handle = enqueue(janitor.conn, settings, kind, 100, "core.jobs.search_job", *args)
    janitor.own(handle.job_id)
    return handle.job_id


@pytest.fixture
def redis_reach(env: dict, monkeypatch: pytest.MonkeyPatch):
    """redis_reach(False): the page's Redis cannot be reached from its next run on; (True): it can again."""

    def reach(ok: bool) -> None:
        url = env["REDIS_URL"] if ok else f"redis://127.0.0.1:{closed_port()}/2"
        monkeypatch.setenv("REDIS_URL", url)
        st.cache_resource.clear()  # context.settings() reads the environment again
        st.cache_data.clear()

    return reach


def first_run() -> AppTest:
    at = signed_in_app(90)
    at.run()
    assert not at.exception, at.exception
    return at


def labels(at: AppTest) -> list[str]:
    return [s.label for s in at.status]


def shown_text(at: AppTest) -> str:
    return " ".join([*labels(at), *(e.value for e in at.error), *(w.value for w in at.warning)])


def test_the_import_progress_keeps_polling_while_redis_cannot_be_reached(
    env: dict, janitor: RedisJanitor, redis_reach
) -> None:
    at = first_run()
    next(t for t in at.text_input if t.label.startswith("Hostname")).input("esx01")
    next(b for b in at.button if b.label.startswith("Search")).click().run()  # the import section shows
    assert not at.exception, at.exception
    job_id = queued(janitor, JobKind.IMPORT)
    at.session_state[STATE].job_id = job_id  # as the confirmation dialog's Import button leaves it
    at.run()
    assert any(label.startswith("Importing… 0 / 1") for label in labels(at)), labels(at)

    redis_reach(False)
    for _ in range(2):  # every poll while it lasts
        at.run()
        assert not at.exception, at.exception
        assert RETRYING in labels(at), labels(at)
        assert "expired" not in shown_text(at) and "no longer known" not in shown_text(at)
        assert at.session_state[STATE].job_id == job_id  # still following the job

    redis_reach(True)
    at.run()
    assert not at.exception, at.exception
    assert RETRYING not in labels(at)
    assert any(label.startswith("Importing… 0 / 1") for label in labels(at)), labels(at)
    # a worker's job: the safe cancel, and the hard stop as a separate, labelled action
    assert {"Cancel import", HARD_STOP} <= {b.label for b in at.button}
    jobs.cancel(janitor.conn, job_id)


def test_the_background_search_poller_keeps_polling_while_redis_cannot_be_reached(
    env: dict, janitor: RedisJanitor, redis_reach
) -> None:
    at = first_run()
    job_id = queued(janitor, JobKind.SEARCH)
    at.session_state[STATE].search_job_id = job_id  # as the Search button leaves it, In background ticked
    at.run()
    assert any(label.startswith("Searching in the background") for label in labels(at)), labels(at)

    redis_reach(False)
    for _ in range(2):
        at.run()
        assert not at.exception, at.exception
        assert RETRYING in labels(at), labels(at)
        assert "expired" not in shown_text(at) and "no longer known" not in shown_text(at)
        assert at.session_state[STATE].search_job_id == job_id

    redis_reach(True)
    at.run()
    assert not at.exception, at.exception
    assert any(label.startswith("Searching in the background") for label in labels(at)), labels(at)
    jobs.cancel(janitor.conn, job_id)
