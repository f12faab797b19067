"""Where the inventories read for stack detection are kept, so that each is read from LibreNMS once per
discovery instead of once per search: LibreNMS re-reads a device's ENTITY-MIB only when it rediscovers it,
and the device list says when that was (`last_discovered`). An entry is keyed by the server (a digest of its
URL and key), the device id and that time; a rediscovered device has a new key and is read again.

`RedisInventories` is shared by the app, the worker and the command line; `MemoryInventories` serves one
process (no Redis configured, or Redis down: a store that fails is a miss, never an error). Values are JSON:
only the rows stack detection reads (the stack and chassis entries), not the whole inventory."""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

import redis

from core import defaults, keys
from core.librenms.device import LibreDevice
from core.settings import LibreNMSServer

log = logging.getLogger(__name__)

# The ENTITY-MIB classes stack detection reads (core.librenms.stacks): the rest of an inventory is not kept.
STACK_CLASSES = frozenset({"stack", "chassis"})
NEVER = "never"  # the discovery time of a device LibreNMS has not discovered yet


class InventoryStore(Protocol):
    def get_many(self, keys: list[str]) -> dict[str, list[dict]]:
        """The entries of those keys it has (a failing store has none)."""

    def put_many(self, entries: Mapping[str, list[dict]]) -> None:
        """Keep these entries (a failing store keeps nothing, and says so in the log)."""


def server_id(server: LibreNMSServer) -> str:
    """A short digest of the server's URL and key: the same device id on another server is another entry."""
    return hashlib.sha256(f"{server.url.rstrip('/')}\n{server.key}".encode()).hexdigest()[:16]


def entry_key(server: LibreNMSServer, device: LibreDevice) -> str:
    """The key of the device's inventory as LibreNMS last discovered it. A device never discovered has no
    inventory yet: its entry holds until its first discovery changes the key."""
    return keys.inventory(server_id(server), device.device_id, device.last_discovered or NEVER)


def stack_rows(rows: Iterable[Mapping[str, Any]]) -> list[dict]:
    """The rows stack detection reads."""
    return [dict(row) for row in rows if str(row.get("entPhysicalClass") or "").casefold() in STACK_CLASSES]


class MemoryInventories:
    """Entries in this process (every client of it shares them)."""

    def __init__(self) -> None:
        self._entries: dict[str, list[dict]] = {}
        self._lock = threading.Lock()

    def get_many(self, keys: list[str]) -> dict[str, list[dict]]:
        with self._lock:
            return {k: self._entries[k] for k in keys if k in self._entries}

    def put_many(self, entries: Mapping[str, list[dict]]) -> None:
        with self._lock:
            self._entries.update(entries)


class RedisInventories:
    """Entries in Redis, for every process that shares it; each kept INVENTORY_TTL_SECONDS at most."""

    def __init__(self, conn: redis.Redis, ttl: int = defaults.INVENTORY_TTL_SECONDS) -> None:
        self.conn = conn
        self.ttl = ttl

    def get_many(self, keys: list[str]) -> dict[str, list[dict]]:
        if not keys:
            return {}
        try:
            values = self.conn.mget(keys)
        except redis.RedisError as exc:
            log.warning("inventory cache unreadable, reading LibreNMS instead: %s", exc.__class__.__name__)
            return {}
        found = {}
        for key, value in zip(keys, values, strict=True):
            if value is None:
                continue
            try:
                rows = json.loads(value)
            except ValueError:
                continue
            if isinstance(rows, list):
                found[key] = rows
        return found

    def put_many(self, entries: Mapping[str, list[dict]]) -> None:
        if not entries:
            return
        try:
            with self.conn.pipeline(transaction=False) as pipe:
                for key, rows in entries.items():
                    pipe.set(key, json.dumps(rows, separators=(",", ":")), ex=self.ttl)
                pipe.execute()
        except redis.RedisError as exc:
            log.warning("inventory cache not written: %s", exc.__class__.__name__)


class LayeredInventories:
    """This process's memory in front of Redis: what Redis does not answer (or cannot, while it is down) is
    still reused within the process."""

    def __init__(self, memory: MemoryInventories, shared: RedisInventories) -> None:
        self.memory = memory
        self.shared = shared

    def get_many(self, keys: list[str]) -> dict[str, list[dict]]:
        found = self.memory.get_many(keys)
        rest = [k for k in keys if k not in found]
        if rest:
            shared = self.shared.get_many(rest)
            self.memory.put_many(shared)
            found.update(shared)
        return found

    def put_many(self, entries: Mapping[str, list[dict]]) -> None:
        self.memory.put_many(entries)
        self.shared.put_many(entries)


_MEMORY = MemoryInventories()
_REDIS: dict[str, LayeredInventories] = {}
_REDIS_LOCK = threading.Lock()


def inventory_store(redis_url: str) -> InventoryStore:
    """The store every client of this process uses: Redis at `redis_url` (behind this process's memory)
    when one is set, else the memory alone. A Redis that fails is a miss, never an error."""
    if not redis_url:
        return _MEMORY
    with _REDIS_LOCK:
        store = _REDIS.get(redis_url)
        if store is None:
            conn = redis.Redis.from_url(
                redis_url,
                socket_timeout=defaults.REDIS_TIMEOUT_SECONDS,
                socket_connect_timeout=defaults.REDIS_CONNECT_TIMEOUT_SECONDS,
            )
            store = _REDIS[redis_url] = LayeredInventories(_MEMORY, RedisInventories(conn))
        return store
