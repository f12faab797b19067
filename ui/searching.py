"""The Import page's search: in the app with a progress bar, or as a background job that the page polls;
either way the result is stored (core.jobs.save_search) so recent searches can be reopened. While Redis
cannot be reached the poller says so and keeps polling; it picks the job up when Redis answers again."""

from __future__ import annotations

from datetime import datetime

import streamlit as st

from core import defaults, jobs
from core.choices import JobState
from core.errors import ImporterError, QueueUnavailable
from core.librenms import DeviceFilter
from core.search import SearchResult
from core.settings import Settings
from ui import context
from ui.importing import UNREACHABLE
from ui.review import PageState, sources
from ui.text import literal


def _show(page: PageState, result: SearchResult, search_id: str) -> None:
    page.search, page.search_id, page.picked, page.csv_report = result, search_id, set(), None
    page.grid_page = 0  # a new search starts on its first page
    page.grid_version += 1


def run_here(
    settings: Settings, flt: DeviceFilter, server_key: str, page: PageState, *, refresh: bool
) -> None:
    with st.status("Searching…", expanded=True) as status:
        bar = st.progress(0.0)
        try:
            result = sources().search(
                settings,
                flt,
                server_key,
                refresh=refresh,
                progress=lambda what, done: bar.progress(done, text=literal(what)),
            )
        except ImporterError as exc:
            status.update(label="Search failed", state="error")
            context.show_error(exc)
            st.stop()
        status.update(label=f"Found {len(result.review)} devices", state="complete", expanded=False)
    try:
        search_id = jobs.save_search(settings, result, analyst=settings.analyst)
    except ImporterError:
        search_id = ""  # Redis down: the search still shows, it just is not kept for later
    _show(page, result, search_id)


def start(settings: Settings, flt: DeviceFilter, server_key: str, page: PageState) -> None:
    try:
        handle = jobs.start_search(settings, flt, server_key)
    except ImporterError as exc:
        context.show_error(exc)
        return
    page.search_job_id, page.search_note = handle.job_id, handle.note


def follow(settings: Settings, page: PageState) -> None:
    """While a background search runs, poll it; when done, load its stored result once."""
    if not page.search_job_id:
        return

    @st.fragment(run_every=defaults.POLL_INTERVAL_SECONDS)
    def poll() -> None:
        try:
            status = jobs.job_status(settings, page.search_job_id, results=False)
            result = (
                jobs.load_search(settings, page.search_job_id) if status.state is JobState.FINISHED else None
            )
        except QueueUnavailable:  # Redis is briefly away: say so and poll again, never "expired"
            st.status(UNREACHABLE, state="running")
            return
        except ImporterError as exc:  # the finished search's result cannot be read
            page.search_job_id = ""
            st.session_state["_search_error"] = str(exc)
            st.rerun(scope="app")
        if status.active:
            box = st.status(
                f"Searching in the background… {literal(status.current)}", state="running"
            )  # stays running
            box.progress(min(status.done, 100) / 100)
            if page.search_note:
                box.caption(literal(page.search_note))
            return
        job_id, page.search_job_id = page.search_job_id, ""
        if result is not None:
            _show(page, result, job_id)
        else:
            st.session_state["_search_error"] = status.error or f"The search ended {status.state.value}."
        st.rerun(scope="app")

    poll()


def _label(entry: dict) -> str:
    when = datetime.fromtimestamp(entry["time"]).strftime("%d %b %H:%M")
    filters = ", ".join(f"{k}={v}" for k, v in entry.get("filters", {}).items()) or "all devices"
    counts = entry.get("counts", {})
    by = f" · by {entry['analyst']}" if entry.get("analyst") else ""
    return f"{when} · {filters} · {entry.get('rows', 0)} rows ({counts.get('ready', 0)} ready){by}"


def recent(settings: Settings, page: PageState) -> None:
    if error := st.session_state.pop("_search_error", None):
        st.error(literal(error))
    try:
        entries = jobs.recent_searches(settings)
    except ImporterError:
        return
    others = [e for e in entries if e["id"] != page.search_id]
    if not others:
        return
    with st.expander(f"Recent searches ({len(others)})", icon="🕘"):
        choice = st.selectbox("Search", others, format_func=_label, index=None, placeholder="Reopen a search")
        if choice is not None and st.button("Open", icon="📂"):
            try:
                _show(page, jobs.load_search(settings, choice["id"]), choice["id"])
            except ImporterError as exc:
                context.show_error(exc)
            else:
                st.rerun()
