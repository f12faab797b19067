"""Settings and clients, cached for the Streamlit process (st.cache_resource), and the sidebar state."""

from __future__ import annotations

import streamlit as st

from core.errors import ImporterError
from core.health import ServiceState, check_all
from core.settings import Settings, load_settings


@st.cache_resource(show_spinner=False)
def settings() -> Settings:
    return load_settings()


@st.cache_data(ttl=30, show_spinner=False)
def service_states() -> list[ServiceState]:
    return check_all(settings())


def show_error(exc: ImporterError) -> None:
    """One error, in words, with what to do; never a traceback (which could hold a URL with secrets)."""
    st.error(exc.message, icon="⚠️")
    if exc.hint:
        st.caption(exc.hint)
