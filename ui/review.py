"""The Import page's session state: the current search, the grid's version and picks, the running job.

Everything here is Streamlit glue around core objects; no validation or NetBox logic lives here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import streamlit as st

from core import defaults
from core.csvio import CsvReport
from core.search import SearchResult
from core.sources import Sources
from ui import context

STATE = "_import_page"


@dataclass
class PageState:
    search: SearchResult | None = None
    search_id: str = ""
    grid_version: int = 0  # bumped after edits made outside the grid, so the editor shows fresh rows
    picked: set[tuple[str, int]] = field(default_factory=set)
    grid_page: int = 0  # the grid's page when the rows shown are more than defaults.GRID_PAGE_ROWS
    confirming: bool = False  # the import confirmation dialog is open
    job_id: str = ""
    job_note: str = ""
    refreshed_for: str = ""  # the job after which the statuses were last re-validated
    search_job_id: str = ""
    search_note: str = ""
    csv_report: CsvReport | None = None


def state() -> PageState:
    if not isinstance(st.session_state.get(STATE), PageState):  # new session, or the module was reloaded
        st.session_state[STATE] = PageState()
    return st.session_state[STATE]


@st.cache_resource(show_spinner=False)
def sources() -> Sources:
    """The process's LibreNMS side (a client per server, whose device lists are cached for
    LIBRENMS_CACHE_SECONDS across sessions)."""
    return Sources(context.base_settings())


@st.cache_data(ttl=defaults.LOCATIONS_CACHE_SECONDS, show_spinner=False)
def locations(server_key: str) -> list[str]:
    return sources().locations(server_key)
