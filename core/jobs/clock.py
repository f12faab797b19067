"""Time as job records keep it: epoch seconds in the records, aware UTC datetimes for readers."""

from __future__ import annotations

import time
from datetime import UTC, datetime


def now() -> float:
    return time.time()


def to_datetime(epoch: float | None) -> datetime | None:
    return datetime.fromtimestamp(epoch, UTC) if epoch else None


def to_epoch(value: datetime | None) -> float | None:
    if value is None:
        return None
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()


def fresh(heartbeat: datetime | None, grace: float) -> bool:
    """True when a heartbeat is at most `grace` seconds old."""
    when = to_epoch(heartbeat)
    return when is not None and now() - when <= grace
