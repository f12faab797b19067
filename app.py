"""LibreNMS → NetBox importer: the Streamlit entry point (sign-in, navigation and the sidebar's state)."""

from __future__ import annotations

from pathlib import Path

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

PAGES = [  # (file, title, icon)
    ("pages/import_devices.py", "Import", "📥"),
    ("pages/mappings.py", "Mappings", "🗺️"),
    ("pages/runs.py", "Runs", "🗂️"),
    ("pages/connections.py", "Connections", "🔌"),
]
analyst = context.analyst()
if analyst is None:
    # Every address of the app shows the sign-in page, and no page runs. The address stays: a link to a page
    # (/runs?run=<id>) opens that page, with its query, once the session has signed in.
    def sign_in() -> None:
        auth.sign_in_page(settings)

    st.navigation(
        [
            st.Page(sign_in, title="Sign in", icon="🔑", url_path="sign-in", default=True),
            *(st.Page(sign_in, title=title, url_path=Path(file).stem) for file, title, _ in PAGES[1:]),
        ],
        position="hidden",
    ).run()
    st.stop()

navigation = st.navigation(
    [st.Page(file, title=title, icon=icon, default=i == 0) for i, (file, title, icon) in enumerate(PAGES)]
)
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
