"""Import: filter LibreNMS devices, review them against NetBox, edit, export/import CSV, import the chosen ones."""

from __future__ import annotations

import streamlit as st

from core import csvio, grid
from core.choices import Kind, RowStatus, Severity
from core.errors import ImporterError
from core.librenms import DeviceFilter
from ui import context, importing, searching
from ui.review import locations, state
from ui.text import literal

context.require_app_frame("pages/import_devices.py")
settings = context.settings()
page = state()

st.title("Import devices from LibreNMS")

# ------------------------------------------------------------------ filters
if not settings.librenms_servers:
    st.warning("No LibreNMS is configured: set LIBRENMS_URL and LIBRENMS_TOKEN (see the Connections page).")
    st.stop()

with st.form("filters", border=True):
    server_keys = [s.key for s in settings.librenms_servers]
    cols = st.columns([2, 1, 1, 1, 1, 1, 1] if len(server_keys) > 1 else [2, 1, 1, 1, 1, 1])
    server_key = cols.pop().selectbox("LibreNMS", server_keys) if len(server_keys) > 1 else server_keys[0]
    try:
        known_locations = locations(server_key)
    except ImporterError:
        known_locations = []
    location = cols[0].selectbox(
        "Location", ["", *known_locations], format_func=lambda v: v or "Any location", accept_new_options=True
    )
    device_type = cols[1].text_input("Type", placeholder="network, server…")
    os_name = cols[2].text_input("OS", placeholder="iosxe, linux…")
    hostname = cols[3].text_input("Hostname contains")
    sysname = cols[4].text_input("sysName is")
    hardware = cols[5].text_input("Hardware contains")
    flags = st.columns([1, 1, 1, 1, 1, 2])
    show_disabled = flags[0].checkbox("Show disabled")
    exclude_existing = flags[1].checkbox("Exclude existing", help="Leave out devices already in NetBox")
    detect_stacks = flags[2].checkbox("Detect stacks", value=True)
    refresh = flags[3].checkbox("Refresh", help="Ignore the short-lived cache of the LibreNMS device list")
    background = flags[4].checkbox("In background", help="Run the search as a job (large inventories)")
    submitted = flags[5].form_submit_button("Search", type="primary", icon="🔎", width="stretch")

if submitted:
    flt = DeviceFilter(
        location=location or "",
        type=device_type,
        os=os_name,
        hostname=hostname,
        sysname=sysname,
        hardware=hardware,
        show_disabled=show_disabled,
        exclude_existing=exclude_existing,
        detect_stacks=detect_stacks,
    )
    if background:
        searching.start(settings, flt, server_key, page)
    else:
        searching.run_here(settings, flt, server_key, page, refresh=refresh)

searching.follow(settings, page)
searching.recent(settings, page)

search = page.search
if search is None:
    st.info("Choose filters and press **Search** to review LibreNMS devices against NetBox.")
    st.stop()

review = search.review
for warning in search.warnings:
    st.warning(literal(warning))

# ------------------------------------------------------------------ summary
counts = grid.view_counts(review)
metrics = st.columns(len(grid.VIEW_STATUSES) + 1)
metrics[0].metric("Devices", len(review))
for col, status in zip(metrics[1:], grid.VIEW_STATUSES, strict=True):
    col.metric(grid.status_label(status), counts[status])
if search.excluded_existing:
    st.caption(
        f"{search.excluded_existing} device(s) already in NetBox are hidden (Exclude already in NetBox)."
    )
if search.inventories:
    st.caption(grid.inventory_summary(search.inventories))
if len(review):
    charts = grid.summary_frames(review)
    left, right = st.columns(2)
    left.bar_chart(charts["site"], x="site", y="devices", height=260, horizontal=True, sort="-devices")
    right.bar_chart(charts["os"], x="os", y="devices", height=260, horizontal=True, sort="-devices")

# ------------------------------------------------------------------ view filter + bulk edit
index = review.index
role_options = sorted(r.name for r in index.roles)
rack_options = sorted({r.name for r in index.racks})
cluster_options = sorted(c.name for c in index.clusters)

view = st.columns([2, 2, 1])
show_statuses = view[0].multiselect(
    "Show", list(grid.VIEW_STATUSES), format_func=grid.status_label, placeholder="All statuses"
)
needle = view[1].text_input("Find", placeholder="name, hostname, site, hardware, os…")
shown = grid.matching_keys(review, statuses=show_statuses, text=needle)
view[2].metric("Shown", len(shown))

with st.expander("Bulk edit", icon="✏️"):
    scope = st.radio(
        "Apply to",
        ["picked", "shown"],
        format_func=lambda s: (
            f"Rows picked in the grid ({len(page.picked)})"
            if s == "picked"
            else f"All rows shown by the filter above ({len(shown)})"
        ),
        horizontal=True,
    )
    field_col, value_col, go_col = st.columns([1, 2, 1], vertical_alignment="bottom")
    field = field_col.selectbox(
        "Field",
        ["role", "rack", "cluster", "kind", "action", "update"],
        format_func=lambda f: {"action": "action (rows in NetBox)", "update": "fields to update"}.get(f, f),
    )
    if field == "update":  # several fields at once; none: every field LibreNMS owns that differs
        value = ",".join(
            value_col.multiselect("Fields", grid.UPDATE_CHOICES, placeholder="Every field LibreNMS owns")
        )
    else:
        options = {
            "role": role_options,
            "rack": rack_options,
            "cluster": cluster_options,
            "kind": [k.value for k in Kind],
            "action": list(grid.ACTIONS),
        }[field]
        value = value_col.selectbox("Value", ["", *options], format_func=lambda v: v or "(clear)")
    targets = sorted(page.picked & set(review.rows)) if scope == "picked" else shown
    if field in ("action", "update"):  # only rows NetBox has take an action
        targets = [k for k in targets if review.rows[k].status is RowStatus.EXISTS]
    if go_col.button(f"Apply to {len(targets)} rows", disabled=not targets, width="stretch"):
        apply = {
            "role": review.apply_role,
            "rack": review.apply_rack,
            "cluster": review.apply_cluster,
            "kind": review.apply_kind,
            "action": lambda keys, v: review.apply_override(keys, action=v),
            "update": lambda keys, v: review.apply_override(keys, update=v),
        }[field]
        touched = apply(targets, value or None)
        page.grid_version += 1
        st.toast(f"{field} set on {len(targets)} rows; {len(touched)} rows re-validated")
        st.rerun()

# ------------------------------------------------------------------ the grid
paged = grid.page_of(shown, page.grid_page)
if paged.pages > 1:  # thousands of rows: the grid draws one page; Show / Find narrow what is paged
    pager, hint = st.columns([1, 3], vertical_alignment="bottom")
    page.grid_page = pager.selectbox(
        "Rows",
        range(paged.pages),
        index=paged.number,
        format_func=paged.label,
        key=f"grid-page-{page.grid_version}",
    )
    paged = grid.page_of(shown, page.grid_page)
    hint.caption(
        f"The grid shows {paged.size:,} rows at a time. Narrow them with Show and Find; "
        "a bulk edit of the rows shown applies to all of them, on every page."
    )
rows = [review.rows[key] for key in paged.keys]
frame = grid.rows_frame(rows, librenms_url=settings.server(search.server_key).url, picked=page.picked)
editor_key = f"grid-{page.grid_version}-{paged.number}"


st.data_editor(
    frame,
    key=editor_key,
    hide_index=True,
    width="stretch",
    height=min(38 * (len(frame) + 1) + 3, 620),
    disabled=[c for c in grid.COLUMNS if c not in grid.EDITABLE],
    column_order=[  # what the analyst reads and edits first, then where it came from
        "pick",
        "import",
        "status",
        "name",
        "issues",
        "differences",
        "action",
        "update",
        "role",
        "rack",
        "cluster",
        "kind",
        "site",
        "device_type",
        "platform",
        "stack",
        "netbox",
        "librenms",
    ],
    column_config={
        "pick": st.column_config.CheckboxColumn("✎", help="Pick rows for a bulk edit", width=40),
        "import": st.column_config.CheckboxColumn(
            "Import",
            help="Write this row to NetBox: create it when ready; link or update it when NetBox has it",
        ),
        "status": st.column_config.TextColumn("Status", width=120),
        "action": st.column_config.SelectboxColumn(
            "Action",
            options=list(grid.ACTIONS),
            help="A row NetBox has: link (write librenms_id only), update the fields chosen, or leave it",
        ),
        "update": st.column_config.MultiselectColumn(
            "Update",
            options=list(grid.UPDATE_CHOICES),
            help="The fields an update writes (none chosen: every field LibreNMS owns that differs); "
            "fields NetBox owns are never written",
        ),
        "differences": st.column_config.TextColumn(
            "Differences", width="medium", help="NetBox → LibreNMS, for a row NetBox has"
        ),
        "name": st.column_config.TextColumn("Name", width="medium"),
        "kind": st.column_config.SelectboxColumn("Kind", options=[k.value for k in Kind], required=True),
        "site": "Site",
        "device_type": "Device type",
        "platform": "Platform",
        "role": st.column_config.SelectboxColumn("Role", options=role_options),
        "rack": st.column_config.SelectboxColumn("Rack", options=rack_options),
        "cluster": st.column_config.SelectboxColumn("Cluster", options=cluster_options),
        "stack": "Stack",
        "issues": st.column_config.TextColumn(
            "Issues", width="large", help="What stops or needs this row, and the fix"
        ),
        "netbox": st.column_config.LinkColumn("NetBox", display_text="open ↗"),
        "librenms": st.column_config.LinkColumn("LibreNMS", display_text="open ↗"),
    },
)

# Apply what was edited in the grid (once: a new editor key follows), then show the re-validated rows.
edits = st.session_state.get(editor_key, {}).get("edited_rows", {})
if edits:
    _, picks = grid.apply_grid_edits(review, list(frame.index), edits)
    for key, picked in picks.items():
        (page.picked.add if picked else page.picked.discard)(key)
    page.grid_version += 1
    st.rerun()

# ------------------------------------------------------------------ row details
with st.expander("Row details", icon="🔍"):
    labels = {key: f"{review.rows[key].name} ({review.rows[key].device.hostname})" for key in paged.keys}
    chosen = st.selectbox(
        "Device", list(labels), format_func=labels.get, index=None, placeholder="Choose a device"
    )
    if chosen is not None:
        row = review.rows[chosen]
        st.markdown(f"**{grid.row_status_label(row)}** — {row.kind.value} ({literal(row.kind_reason)})")
        fields = [
            {
                "field": "name",
                "value": row.name,
                "from": "override" if row.overrides.name else settings.name_source,
            },
            *(
                {"field": name, "value": ref.name if ref else "—", "from": ref.source.value if ref else ""}
                for name, ref in (
                    ("site", row.site),
                    ("location", row.location),
                    ("device type", row.device_type),
                    ("platform", row.platform),
                    ("role", row.role),
                    ("rack", row.rack),
                    ("cluster", row.cluster),
                )
            ),
            {"field": "LibreNMS location", "value": row.device.location or "—", "from": "LibreNMS"},
            {"field": "LibreNMS hardware", "value": row.device.hardware or "—", "from": "LibreNMS"},
            {
                "field": "LibreNMS os / type",
                "value": f"{row.device.os} / {row.device.type}",
                "from": "LibreNMS",
            },
            {
                "field": "serial / IP",
                "value": f"{row.device.serial or '—'} / {row.device.ip or '—'}",
                "from": "LibreNMS",
            },
        ]
        if row.existing:
            fields.append(
                {
                    "field": "exists in NetBox",
                    "value": row.existing.url,
                    "from": f"by {row.existing.by.value}",
                }
            )
        st.dataframe(fields, hide_index=True, width="stretch")
        if row.differences:
            st.markdown("**How NetBox differs from LibreNMS**")
            st.dataframe(
                [
                    {
                        "field": d.field.value,
                        "NetBox": d.netbox,
                        "from (NetBox)": d.netbox_from,
                        "LibreNMS": d.librenms,
                        "from (LibreNMS)": d.librenms_from,
                        "owner": d.owner.value,
                        "an update writes it": "yes" if d.field in row.updates else "no",
                    }
                    for d in row.differences
                ],
                hide_index=True,
                width="stretch",
            )
        elif row.existing:
            st.caption("NetBox holds what LibreNMS says in every field compared.")
        for issue in row.issues:
            (st.error if issue.severity is Severity.BLOCKING else st.warning)(literal(issue))
        if row.stack:
            st.markdown(f"**Stack** ({row.stack.shape}), master: position {row.stack.master.position}")
            st.dataframe(
                [
                    {
                        "position": m.position,
                        "serial": m.serial,
                        "model": m.model,
                        "device type": t.name if t else "— (unknown)",
                        "master": m.is_master,
                    }
                    for m, t in zip(
                        row.stack.members, row.member_types or [None] * len(row.stack.members), strict=True
                    )
                ],
                hide_index=True,
                width="stretch",
            )

# ------------------------------------------------------------------ CSV
with st.expander("CSV: export, edit in a spreadsheet, bring back", icon="📄"):
    left, right = st.columns(2)
    left.download_button(
        "Download the review as CSV",
        # built on click, not on every rerun (thousands of rows)
        data=lambda: csvio.csv_bytes(review, librenms_url=settings.server(search.server_key).url),
        file_name="librenms-netbox-review.csv",
        mime="text/csv",
        icon="⬇️",
    )
    upload = right.file_uploader("Upload an edited CSV", type=["csv"], key=f"csv-{page.grid_version}")
    if upload is not None:
        try:
            page.csv_report = csvio.import_csv(review, upload.getvalue())
        except ImporterError as exc:
            context.show_error(exc)
        else:
            page.grid_version += 1
            st.rerun()
    report = page.csv_report
    if report is not None:
        st.markdown(f"**Last upload:** {report.summary()}")
        if report.changed:
            st.dataframe(
                [
                    {
                        "device": review.rows[key].name if key in review.rows else key[1],
                        "changes": "; ".join(
                            f"{f}: {old or '—'} → {new or '—'}" for f, (old, new) in changes.items()
                        ),
                    }
                    for key, changes in report.changed
                ],
                hide_index=True,
                width="stretch",
            )
        if report.rejected:
            st.error(
                f"{len(report.rejected)} line(s) rejected; nothing of them was applied, and their rows are not imported:"
            )
            st.dataframe(
                [
                    {"line": line, "librenms_id": lid, "why": "; ".join(reasons)}
                    for line, lid, reasons in report.rejected
                ],
                hide_index=True,
                width="stretch",
            )
        for warning in report.warnings:
            st.warning(literal(warning))

# ------------------------------------------------------------------ import
importing.section(settings, review, page)
