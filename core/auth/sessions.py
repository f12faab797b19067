"""The personal tokens of the app's sessions: each password sign-in's token is registered with its session,
and when a session has ended (its browser tab closed, and the time Streamlit keeps a closed session for a
reconnect passed) `sweep` deletes the token in NetBox, as sign-out would. A token whose deletion fails stays
registered and is tried again at the next sweep; it expires in NetBox by itself in any case."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from core.auth.analyst import Analyst
from core.auth.signin import sign_out
from core.errors import ImporterError
from core.settings import Settings

log = logging.getLogger(__name__)


class SessionTokens:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._tokens: dict[str, Analyst] = {}
        self._lock = threading.Lock()

    def register(self, session_id: str, analyst: Analyst) -> None:
        if analyst.provisioned:
            with self._lock:
                self._tokens[session_id] = analyst

    def forget(self, session_id: str) -> None:
        """The session signed out (and deleted its token itself)."""
        with self._lock:
            self._tokens.pop(session_id, None)

    def sessions(self) -> list[str]:
        with self._lock:
            return list(self._tokens)

    def sweep(self, alive: Callable[[str], bool]) -> int:
        """Delete the tokens of the sessions that are no longer `alive`; returns how many were deleted."""
        with self._lock:
            ended = [(sid, analyst) for sid, analyst in self._tokens.items() if not alive(sid)]
        deleted = 0
        for session_id, analyst in ended:
            try:
                sign_out(self.settings, analyst)
            except ImporterError as exc:
                log.warning("the sign-in token of %s could not be deleted yet: %s", analyst.username, exc)
                continue
            with self._lock:
                self._tokens.pop(session_id, None)
            deleted += 1
        return deleted
