"""Import: filter LibreNMS devices, review them against NetBox, import the chosen ones."""

from __future__ import annotations

import streamlit as st

from ui import context

context.require_app_frame("pages/import_devices.py")
st.title("Import devices from LibreNMS")
st.info("The review grid is coming; check the Connections page meanwhile.")
