"""Connections: LibreNMS, NetBox and Redis, reachable or not, why, versions; the settings in force."""

from __future__ import annotations

import streamlit as st

from core.auth import may_administer
from core.errors import ImporterError
from core.health import create_librenms_field
from core.values import public_url
from ui import context
from ui.text import literal

context.require_app_frame("pages/connections.py")
st.title("Connections")
if st.button("Check again", icon="🔄"):
    context.clear_service_states()

for state in context.service_states():
    with st.container(border=True):
        st.markdown(f"**{'🟢' if state.ok else '🔴'} {literal(state.name)}** {literal(state.version)}")
        st.caption(literal(state.detail))
        if state.missing_field and not may_administer(context.analyst()):
            st.caption("An admin of this app (or of NetBox) creates the field.")
        elif state.missing_field and st.button("Create the librenms_id field in NetBox", icon="🛠️"):
            try:
                create_librenms_field(context.settings())
            except ImporterError as exc:
                context.show_error(exc)
            else:
                context.clear_service_states()
                st.rerun()

settings = context.settings()
st.subheader("Settings in force")
rows = [
    *(
        {
            "setting": f"LibreNMS '{s.key}'",
            "value": f"{s.url} (token {s.token.masked()}, TLS verify {s.verify_tls})",
        }
        for s in settings.librenms_servers
    ),
    {
        "setting": "NetBox",
        "value": f"{settings.netbox_url or '(not set)'} (token {settings.netbox_token.masked()})",
    },
    {
        "setting": "Sign-in",
        "value": f"AUTH={settings.auth}; admins: superusers and the NetBox group '{settings.admin_group}'; "
        f"JOB_SECRET {settings.job_secret.masked()}; sign-in tokens expire after {settings.session_hours:g} h",
    },
    {"setting": "Redis", "value": public_url(settings.redis_url)},
    {"setting": "Queue", "value": settings.queue_name},
    {"setting": "Mapping file", "value": str(settings.mapping_file)},
    {
        "setting": "Device names from",
        "value": f"{settings.name_source}, domain stripped: {settings.strip_domain}",
    },
]
st.dataframe(rows, hide_index=True, width="stretch")
