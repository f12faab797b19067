"""Settings and clients, cached for the Streamlit process (st.cache_resource), the session's analyst and the
settings they work with, the page guard, and the sidebar state."""

from __future__ import annotations

import streamlit as st

from core import defaults
from core.auth import Analyst
from core.errors import ImporterError
from core.health import ServiceState, check_all
from core.settings import Settings, load_settings
from ui import auth
from ui.text import literal

APP_FRAME = "_app_frame"
DEEP_LINK = "_deep_link"


def enter_app_frame() -> None:
    """Called by app.py once st.navigation is set up for a signed-in session: mark the session, then honour
    a pending deep link."""
    st.session_state[APP_FRAME] = True
    target = st.session_state.pop(DEEP_LINK, None)
    if target:
        page, query = target
        st.switch_page(page, query_params=query)


def remember_deep_link(page_file: str | None) -> None:
    """A session that is not signed in asked for this page (with the link's query parameters): it opens
    once the session has signed in."""
    if page_file and DEEP_LINK not in st.session_state:
        st.session_state[DEEP_LINK] = (page_file, st.query_params.to_dict())


def require_app_frame(page_file: str) -> None:
    """Every page calls this first. On a fresh server, Streamlit serves a deep link (/connections) from the
    pages/ directory without running app.py; such a session goes through app.py, which then opens the page
    with the link's query parameters (/runs?run=<id>) once the session has signed in. A page never runs
    for a session that has not signed in."""
    if not st.session_state.get(APP_FRAME) or analyst() is None:
        remember_deep_link(page_file)
        st.switch_page("app.py")


@st.cache_resource(show_spinner=False)
def base_settings() -> Settings:
    """The process's settings, as the environment gives them (the service token)."""
    return load_settings()


def analyst() -> Analyst | None:
    """Who this session is signed in as (None: nobody yet)."""
    return auth.current(base_settings())


def settings() -> Settings:
    """The settings this session works with: the signed-in analyst's name on every change and their own
    NetBox token for every request (AUTH=none: the process's settings)."""
    who = analyst()
    if who is None:  # pages are guarded by require_app_frame: a session that never signed in gets nothing
        st.switch_page("app.py")
        st.stop()
    return who.settings(base_settings())


@st.cache_data(ttl=defaults.SERVICE_STATES_SECONDS, show_spinner=False)
def _service_states(who: str, _settings: Settings) -> list[ServiceState]:
    return check_all(_settings)


def service_states() -> list[ServiceState]:
    """The services as this session's analyst sees them (NetBox with their token), checked at most every
    SERVICE_STATES_SECONDS."""
    current = settings()
    return _service_states(current.analyst, current)


def clear_service_states() -> None:
    _service_states.clear()


def show_error(exc: ImporterError) -> None:
    """One error, in words, with what to do; never a traceback (which could hold a URL with secrets). Its
    words quote LibreNMS, NetBox or a CSV: shown as text."""
    st.error(literal(exc.message), icon="⚠️")
    if exc.hint:
        st.caption(literal(exc.hint))
