"""A lock per LibreNMS device, so two imports never create the same one. The Redis implementation, shared
by every process, is core.jobs.RedisLocks; `LocalLocks` serves one process without Redis."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import ClassVar, Protocol

from core.librenms import RowKey


class Locks(Protocol):
    def acquire(self, keys: Sequence[RowKey]) -> list[RowKey]: ...  # returns those acquired

    def release(self, keys: Sequence[RowKey]) -> None: ...


class LocalLocks:
    """Locks within one process (the in-process fallback without Redis)."""

    _held: ClassVar[set[RowKey]] = set()
    _mutex: ClassVar[threading.Lock] = threading.Lock()

    def acquire(self, keys: Sequence[RowKey]) -> list[RowKey]:
        with self._mutex:
            got = [k for k in keys if k not in self._held]
            self._held.update(got)
            return got

    def release(self, keys: Sequence[RowKey]) -> None:
        with self._mutex:
            self._held.difference_update(keys)
