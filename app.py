"""LibreNMS → NetBox importer: the Streamlit entry point (sign-in, navigation and the sidebar's state)."""

from __future__ import annotations

import streamlit as st

from core.choices import AuthMode
from core.errors import ImporterError
from ui import auth, context
from ui.text import literal

st.set_page_config(page_title="LibreNMS → NetBox", page_icon="🛰️", layout="wide")

try:
    settings = context.base_settings()
except ImporterError as exc:  # a malformed setting: say which, run nothing
    context.show_error(exc)
    st.stop()

pages = {
    "pages/import_devices.py": st.Page("pages/import_devices.py", title="Import", icon="📥", default=True),
    "pages/mappings.py": st.Page("pages/mappings.py", title="Mappings", icon="🗺️"),
    "pages/runs.py": st.Page("pages/runs.py", title="Runs", icon="🗂️"),
    "pages/connections.py": st.Page("pages/connections.py", title="Connections", icon="🔌"),
}
analyst = context.analyst()
if analyst is None:  # nothing but the sign-in page; the page a link asked for opens after signing in
    path = st.context.url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1] if st.context.url else ""
    context.remember_deep_link(next((f for f, p in pages.items() if p.url_path == path and path), None))
    st.navigation([st.Page(lambda: auth.sign_in_page(settings), title="Sign in", icon="🔑")]).run()
    st.stop()

navigation = st.navigation(list(pages.values()))
if settings.auth is AuthMode.NONE:
    st.warning(auth.NONE_BANNER, icon="🔓")

with st.sidebar:
    auth.sidebar(settings, analyst)
    st.caption("Services")
    try:
        for state in context.service_states():
            st.markdown(f"{'🟢' if state.ok else '🔴'} {literal(state.name)}")
    except ImporterError as exc:
        st.markdown(f"🔴 {literal(exc.message)}")

context.enter_app_frame()
navigation.run()
