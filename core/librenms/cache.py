"""A small thread-safe in-memory cache with an optional time to live, for the client's reads."""

from __future__ import annotations

import threading
import time


class MemoryCache[K, V]:
    """Values by key, each kept `ttl` seconds (None: until `clear`; 0 or less: nothing is kept)."""

    def __init__(self, ttl: float | None) -> None:
        self.ttl = ttl
        self._items: dict[K, tuple[float, V]] = {}
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        with self._lock:
            hit = self._items.get(key)
        if hit is None or (self.ttl is not None and time.monotonic() - hit[0] >= self.ttl):
            return None
        return hit[1]

    def put(self, key: K, value: V) -> None:
        if self.ttl is not None and self.ttl <= 0:
            return
        with self._lock:
            self._items[key] = (time.monotonic(), value)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
