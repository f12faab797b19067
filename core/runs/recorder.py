"""A run's record of what it made, kept the moment NetBox confirms each write: the session of the run's
NetBox API tells the recorder of every 2xx write (core.netbox.gateway.WriteLog), and the recorder hands
the objects of it, with NetBox's request id, to a sink (the run's job store, in Redis).

A sink that fails (Redis gone) never stops the run: the recorder keeps every object in memory too, marks
the record incomplete, and NetBox's changelog, where every change names the run, still has the whole story
(core.runs.changelog rebuilds the record from it).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pynetbox
import requests

from core.runs.objects import RunObject, type_of_path

log = logging.getLogger(__name__)

Sink = Callable[[list[dict[str, Any]]], None]
_ACTIONS = {"POST": "create", "PUT": "update", "PATCH": "update", "DELETE": "delete"}


class Recorder:
    """Collects the objects of every confirmed write of one run, and passes each write's to `sink`."""

    def __init__(self, sink: Sink | None = None) -> None:
        self.sink = sink
        self.objects: list[RunObject] = []
        self.lost = False  # the sink failed at least once: its copy lacks objects this one has
        self._mutex = threading.Lock()

    def confirmed(
        self, method: str, path: str, request_id: str, sent: Any, answer: requests.Response
    ) -> None:
        kind = type_of_path(path)
        if not kind:
            return
        action = _ACTIONS[method]
        if action == "delete":
            items = [i for i in _items(sent) if i.get("id")] or [{"id": _trailing_id(path)}]
        else:
            try:
                items = _items(answer.json())
            except ValueError:
                items = []
        self._add([_object(kind, item, action, request_id) for item in items if item.get("id")])

    def found(self, path: str, records: list[Any], action: str = "create") -> None:
        """Objects a write whose answer was lost had made (or changed: `action` "update")."""
        kind = type_of_path(path)
        if kind:
            self._add([_object(kind, dict(record), action, "") for record in records])

    def _add(self, objects: list[RunObject]) -> None:
        if not objects:
            return
        with self._mutex:
            self.objects += objects
        if self.sink is None:
            return
        try:
            self.sink([o.as_dict() for o in objects])
        except Exception as exc:  # Redis gone: NetBox's changelog still names the run on every change
            if not self.lost:
                log.warning("The run's record could not be stored (%s); NetBox's changelog has it", exc)
            self.lost = True


@contextlib.contextmanager
def recording(api: pynetbox.api, recorder: Recorder) -> Iterator[Recorder]:
    """Tell `recorder` of every write `api` makes while the block runs."""
    session = api.http_session
    previous = getattr(session, "write_log", None)
    session.write_log = recorder
    try:
        yield recorder
    finally:
        session.write_log = previous


def _items(body: Any) -> list[dict[str, Any]]:
    if isinstance(body, dict):
        return [body]
    if isinstance(body, list):
        return [item for item in body if isinstance(item, dict)]
    return []


def _trailing_id(path: str) -> int:
    last = path.rstrip("/").rsplit("/", 1)[-1]
    return int(last) if last.isdigit() else 0


def _object(kind: str, item: dict[str, Any], action: str, request_id: str) -> RunObject:
    name = item.get("name") or item.get("address") or item.get("display") or ""
    return RunObject(kind, int(item["id"]), str(name), action, request_id, time.time())
