"""Settings and clients, cached for the Streamlit process (st.cache_resource), and the sidebar state."""

from __future__ import annotations

import streamlit as st

from core import defaults
from core.errors import ImporterError
from core.health import ServiceState, check_all
from core.settings import Settings, load_settings
from ui.text import literal

APP_FRAME = "_app_frame"
DEEP_LINK = "_deep_link"


def enter_app_frame() -> None:
    """Called by app.py once st.navigation is set up: mark the session, then honour a pending deep link."""
    st.session_state[APP_FRAME] = True
    target = st.session_state.pop(DEEP_LINK, None)
    if target:
        page, query = target
        st.switch_page(page, query_params=query)


def require_app_frame(page_file: str) -> None:
    """Every page calls this first. On a fresh server, Streamlit serves a deep link (/connections) from the
    pages/ directory without running app.py; such a session goes through app.py, which then opens the page
    with the link's query parameters (/runs?run=<id>)."""
    if not st.session_state.get(APP_FRAME):
        st.session_state[DEEP_LINK] = (page_file, st.query_params.to_dict())
        st.switch_page("app.py")


@st.cache_resource(show_spinner=False)
def settings() -> Settings:
    return load_settings()


@st.cache_data(ttl=defaults.SERVICE_STATES_SECONDS, show_spinner=False)
def service_states() -> list[ServiceState]:
    return check_all(settings())


def show_error(exc: ImporterError) -> None:
    """One error, in words, with what to do; never a traceback (which could hold a URL with secrets). Its
    words quote LibreNMS, NetBox or a CSV: shown as text."""
    st.error(literal(exc.message), icon="⚠️")
    if exc.hint:
        st.caption(literal(exc.hint))
