"""LibreNMS → NetBox importer: the Streamlit entry point (navigation and the sidebar's connection state)."""

from __future__ import annotations

import streamlit as st

from core.errors import ImporterError
from ui import context
from ui.text import literal

st.set_page_config(page_title="LibreNMS → NetBox", page_icon="🛰️", layout="wide")

pages = [
    st.Page("pages/import_devices.py", title="Import", icon="📥", default=True),
    st.Page("pages/mappings.py", title="Mappings", icon="🗺️"),
    st.Page("pages/runs.py", title="Runs", icon="🗂️"),
    st.Page("pages/connections.py", title="Connections", icon="🔌"),
]
navigation = st.navigation(pages)

with st.sidebar:
    st.caption("Services")
    try:
        for state in context.service_states():
            st.markdown(f"{'🟢' if state.ok else '🔴'} {literal(state.name)}")
    except ImporterError as exc:
        st.markdown(f"🔴 {literal(exc.message)}")

context.enter_app_frame()
navigation.run()
