"""Mappings: the tables that turn LibreNMS locations, hardware and os into NetBox sites, device types and
platforms; the LibreNMS values that match nothing yet, with one-click fixes; the default role rules; which
fields of an existing device LibreNMS may overwrite (field ownership).
Every later import uses these tables: only admins (core.auth.may_administer) edit them, others read them."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import pandas as pd
import streamlit as st

from core import defaults, netbox, sources
from core.auth import may_administer
from core.choices import Owner, SyncField
from core.errors import ConfigError, ImporterError
from core.librenms import LibreDevice
from core.mapping import (
    DEFAULT_OWNERSHIP,
    NETBOX_ONLY,
    Mappings,
    diff_table,
    load_mappings,
    save_mappings,
    table_from_rows,
)
from core.review.unmatched import (
    NOUNS,
    Unmatched,
    check_targets,
    choices,
    empty_values,
    target_exists,
    unmatched_values,
)
from core.settings import Settings
from ui import context
from ui.text import literal

VALUE, OBJECT = "LibreNMS value", "NetBox object"
TABS = (  # (tab label, mapping table, what LibreNMS calls the value)
    ("Locations → sites", "sites", "location"),
    ("Hardware → device types", "device_types", "hardware"),
    ("OS → platforms", "platforms", "os"),
)
FLASH = "mappings_flash"  # messages that survive the rerun after a save
VERSIONS = "mappings_editor_versions"  # a saved table gets a fresh editor: its edits are in the file now
READ_ONLY = (
    "Read-only: the mapping tables are edited by admins (NetBox superusers, or members of the NetBox group "
    "'{group}'), since every later import uses them."
)


@st.cache_data(ttl=defaults.MAPPINGS_PAGE_CACHE_SECONDS, show_spinner="Reading NetBox…")
def netbox_index(settings_key: int, _settings: Settings) -> netbox.NetBoxIndex:
    return sources.reference_index(_settings)


@st.cache_data(ttl=defaults.MAPPINGS_PAGE_CACHE_SECONDS, show_spinner="Reading LibreNMS devices…")
def librenms_devices(settings_key: int, _settings: Settings) -> list[LibreDevice]:
    return sources.all_devices(_settings)


def load[T](what: Callable[[int, Settings], T], settings: Settings) -> T | None:
    """A cached load, or None after showing why it failed."""
    try:
        return what(hash(settings), settings)
    except ImporterError as exc:
        context.show_error(exc)
        return None


def editor_key(table: str) -> str:
    return f"mappings-{table}-{st.session_state.setdefault(VERSIONS, {}).get(table, 0)}"


def write(settings: Settings, mappings: Mappings, table: str, lines: list[str]) -> None:
    """Save atomically, then rerun with a fresh editor and the report of what changed. Only for admins."""
    if not may_administer(context.analyst()):
        st.error(READ_ONLY.format(group=literal(settings.admin_group)), icon="🔒")
        return
    try:
        save_mappings(settings.mapping_file, mappings)
    except OSError as exc:
        context.show_error(ConfigError(f"Could not write {settings.mapping_file}: {exc.strerror or exc}"))
        return
    versions = st.session_state.setdefault(VERSIONS, {})
    versions[table] = versions.get(table, 0) + 1
    st.session_state[FLASH] = [
        f"Saved {literal(settings.mapping_file.name)}:",
        *(f"- {literal(line)}" for line in lines),
    ]
    st.rerun()


def save_table(
    settings: Settings, mappings: Mappings, table: str, edited: pd.DataFrame, index: netbox.NetBoxIndex
) -> None:
    entries, problems = table_from_rows(zip(edited[VALUE], edited[OBJECT], strict=True))
    problems += check_targets(index, table, entries)
    if problems:
        st.error("Nothing was saved:\n" + "\n".join(f"- {literal(p)}" for p in problems), icon="⛔")
        return
    change = diff_table(getattr(mappings, table), entries)
    if not change:
        st.info("Nothing to save: the table is unchanged.")
        return
    write(settings, mappings.with_table(table, entries), table, change.describe())


def map_one(settings: Settings, table: str, value: str, ref: str) -> None:
    try:
        current = load_mappings(settings.mapping_file)  # the file as it is now, not as this run read it
    except ImporterError as exc:
        context.show_error(exc)
        return
    write(settings, current.with_entry(table, value, ref), table, [f"added '{value}' → {ref}"])


def draw_table(settings: Settings, mappings: Mappings, table: str, index: netbox.NetBoxIndex | None) -> None:
    entries = getattr(mappings, table)
    frame = pd.DataFrame(
        {
            VALUE: pd.Series(list(entries), dtype=object),
            OBJECT: pd.Series(list(entries.values()), dtype=object),
        }
    )
    if index is None or not may_administer(context.analyst()):
        st.dataframe(frame, hide_index=True, width="stretch")
        if index is None:
            st.caption("Editing needs NetBox, to check that every entry names an existing object.")
        return
    options = {c.ref: c.label for c in choices(index, table)}
    stale = [t for t in entries.values() if not target_exists(index, table, t)]
    for target in entries.values():  # entries may name an object by name or part number, not slug
        options.setdefault(target, f"{target} (not in NetBox)" if target in stale else target)
    if stale:
        st.warning(
            f"These entries name no NetBox {NOUNS[table]}; fix or delete them before saving: "
            + ", ".join(f"'{literal(t)}'" for t in sorted(set(stale))),
            icon="⚠️",
        )
    edited = st.data_editor(
        frame,
        key=editor_key(table),
        num_rows="dynamic",
        hide_index=True,
        width="stretch",
        column_config={
            VALUE: st.column_config.TextColumn(VALUE, required=True),
            OBJECT: st.column_config.SelectboxColumn(
                OBJECT, options=list(options), format_func=lambda ref: options.get(ref, ref), required=True
            ),
        },
    )
    if st.button("Save", key=f"save-{table}", type="primary", icon="💾"):
        save_table(settings, mappings, table, edited, index)


def draw_unmatched(settings: Settings, table: str, field: str, items: list[Unmatched], empty: int) -> None:
    noun = NOUNS[table]
    if not items:
        st.success(f"Every LibreNMS {field} matches a NetBox {noun}.", icon="✅")
    for item in items:
        digest = hashlib.sha1(item.value.casefold().encode()).hexdigest()[:12]
        with st.container(border=True):
            devices = f"{item.devices} device{'s' if item.devices != 1 else ''}"
            st.markdown(f"**{literal(item.value)}** · {devices}")
            st.caption("e.g. " + literal(", ".join(item.hostnames)))
            if not item.suggestions:
                st.caption(f"No NetBox {noun} looks close: add a row above, or create the {noun} in NetBox.")
            if item.suggestions and not may_administer(context.analyst()):
                st.caption("Close NetBox objects: " + literal(", ".join(c.name for c in item.suggestions)))
                continue
            for choice in item.suggestions:
                if st.button(
                    f"Map to {literal(choice.name)}",
                    key=f"map-{table}-{digest}-{choice.ref}",
                    help=literal(choice.label),
                ):
                    map_one(settings, table, item.value, choice.ref)
    if empty:
        st.caption(
            f"{empty} device{'s' if empty != 1 else ''} {'have' if empty != 1 else 'has'} no {field} in "
            f"LibreNMS: nothing to map; set it in LibreNMS, or the {noun} per row on the Import page."
        )


def draw_roles(settings: Settings, mappings: Mappings, index: netbox.NetBoxIndex | None) -> None:
    st.caption(
        f"Default role rules, first match wins. They are edited in the mapping file "
        f"(`{settings.mapping_file}`), under `roles`; hardware and os are regular expressions."
    )
    if not mappings.roles:
        st.info("No role rules: every device needs its role chosen on the Import page.")
        return
    rows = [
        {
            "#": i,
            "when": rule.describe(),
            "role": rule.role,
            **(
                {"in NetBox": "✓" if index.roles.find(rule.role) else "✗ no such role"}
                if index is not None
                else {}
            ),
        }
        for i, rule in enumerate(mappings.roles, start=1)
    ]
    st.dataframe(rows, hide_index=True, width="stretch")


OWNERSHIP_HELP = (
    "Which side owns each field of a device or VM NetBox already has. **librenms**: LibreNMS measures it "
    "on the device, and an update may overwrite NetBox's value. **netbox**: people decide it in NetBox; "
    "the review shows it when it differs and never writes it."
)
FIXED = [  # fields whose owner is not a choice
    ("librenms_id", "librenms", "the link itself: written by link and update"),
    ("stack", "netbox", "a stack's members and positions: shown when they differ, never written"),
    *(
        (name, "netbox", "LibreNMS has no value for it; never compared, never written")
        for name in NETBOX_ONLY
    ),
]


def draw_ownership(settings: Settings, mappings: Mappings) -> None:
    st.caption(OWNERSHIP_HELP)
    owners = mappings.owners()
    frame = pd.DataFrame(
        [
            {"field": name.value, "owner": owner.value, "default": DEFAULT_OWNERSHIP[name].value}
            for name, owner in owners.items()
        ]
    )
    edited = st.data_editor(
        frame,
        key=editor_key("ownership"),
        hide_index=True,
        width="stretch",
        disabled=["field", "default"] if may_administer(context.analyst()) else True,
        column_config={
            "owner": st.column_config.SelectboxColumn(
                "owner", options=[o.value for o in Owner], required=True
            )
        },
    )
    chosen = {SyncField(f): Owner(o) for f, o in zip(edited["field"], edited["owner"], strict=True)}
    changed = [
        f"{name.value}: {owners[name].value} → {owner.value}"
        for name, owner in chosen.items()
        if owners[name] != owner
    ]
    if may_administer(context.analyst()) and st.button("Save ownership", key="save-ownership", icon="💾"):
        if changed:
            write(settings, mappings.with_ownership(chosen), "ownership", changed)
        else:
            st.info("Nothing to save: every field has the owner it had.")
    st.dataframe(
        [{"field": name, "owner": owner, "why": why} for name, owner, why in FIXED],
        hide_index=True,
        width="stretch",
    )


context.require_app_frame("pages/mappings.py")
st.title("Mappings")
try:
    settings = context.settings()
except ImporterError as exc:
    context.show_error(exc)
    st.stop()

st.caption(
    "How LibreNMS values become NetBox objects when no NetBox object has the same name or slug. "
    f"Kept in `{settings.mapping_file}`; values match case-insensitively."
)
if not may_administer(context.analyst()):
    st.info(READ_ONLY.format(group=literal(settings.admin_group)), icon="🔒")
if st.button("Refresh", icon="🔄", help="Read NetBox and LibreNMS again"):
    netbox_index.clear()
    librenms_devices.clear()
notices = st.container()  # always there, so the tabs below keep their place (and the open tab) after a save
if flash := st.session_state.pop(FLASH, None):
    notices.success("\n".join(flash), icon="💾")

with notices:
    try:
        mappings = load_mappings(settings.mapping_file)
    except ImporterError as exc:
        context.show_error(exc)
        st.stop()
    index = load(netbox_index, settings)
    devices = load(librenms_devices, settings)
unmatched = unmatched_values(devices, index, mappings) if index is not None and devices is not None else None
empty = empty_values(devices) if devices is not None else {}

tabs = st.tabs([label for label, _, _ in TABS] + ["Role rules", "Field ownership"])
for tab, (_, table, field) in zip(tabs, TABS, strict=False):
    with tab:
        draw_table(settings, mappings, table, index)
        st.subheader("Values LibreNMS has that match nothing")
        if unmatched is None:
            st.info("Needs both LibreNMS and NetBox; see the error above.")
        else:
            draw_unmatched(settings, table, field, unmatched[table], empty.get(table, 0))
with tabs[-2]:
    draw_roles(settings, mappings, index)
with tabs[-1]:
    draw_ownership(settings, mappings)
