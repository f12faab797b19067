"""core.jobs.connection: Redis clients (checked, reused per URL), what `conn` may be, Redis errors as
QueueUnavailable (never showing a password)."""

from __future__ import annotations

import dataclasses

import pytest
import redis

from core.errors import QueueUnavailable
from core.jobs import connection
from core.jobs.connection import connect, connect_or_none, redis_errors, resolve
from core.settings import Settings
from tests.helpers import closed_port


def test_an_unreachable_redis_is_queue_unavailable_without_its_password(job_settings: Settings) -> None:
    settings = dataclasses.replace(job_settings, redis_url=f"redis://:s3cret-pw@127.0.0.1:{closed_port()}/0")

    with pytest.raises(QueueUnavailable) as caught:
        connect(settings)

    assert "Redis cannot be reached at redis://127.0.0.1:" in str(caught.value)
    assert "s3cret-pw" not in str(caught.value)
    assert connect_or_none(settings) is None and resolve(settings) is None
    assert resolve(None) is None


@pytest.mark.redis
def test_one_client_per_url_is_reused_while_it_answers(job_settings: Settings, conn: redis.Redis) -> None:
    first = connect_or_none(job_settings)

    assert first is not None and connect_or_none(job_settings) is first
    assert resolve(job_settings) is first and resolve(conn) is conn
    assert connection._CLIENTS[job_settings.redis_url] is first


def test_redis_failing_mid_call_is_queue_unavailable() -> None:
    with pytest.raises(QueueUnavailable, match="Redis stopped answering"), redis_errors():
        raise redis.ConnectionError("gone")
