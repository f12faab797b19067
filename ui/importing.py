"""The Import page's last section: confirm what will be created, start the job, follow it, show results.

The job runs in the RQ worker when one listens, else inside the app (core.jobs decides and says which).
While it runs, a fragment polls its state every second and reruns only itself; when it ends the whole page
reruns once to show the results (with a link to the run on the Runs page), and polling stops. While Redis cannot be reached the fragment says so and
keeps polling: the job is followed again as soon as Redis answers.

"Cancel import" stops the job at a safe point (the batches in flight finish their devices, IPs and stack
masters and report them); a worker's job also has a hard stop, which kills its work horse at once.
"""

from __future__ import annotations

import time

import pandas as pd
import streamlit as st

from core import csvio, defaults, jobs
from core.choices import JobMode
from core.errors import ImporterError, QueueUnavailable
from core.importer import ImportItem, Plan, missing_permissions, plan_rows
from core.review import Review
from core.search import revalidate
from core.settings import Settings
from ui import context
from ui.review import STATE, PageState
from ui.text import literal

UNREACHABLE = "Queue unreachable (Redis), retrying…"
PERMISSIONS = "_import_permissions"  # (analyst, needed, checked at, missing): NetBox asked once a minute
HARD_STOP = "Hard stop (kills the worker; the batch in flight may be left unfinished)"
CANCEL_HELP = "Stops after the batch in flight: its devices, IPs and stack masters are finished and reported."
HARD_STOP_HELP = (
    "Kills the worker's work horse running this import at once (the worker goes on). The batch in flight may "
    "be left unfinished: devices without their result line, IP or stack master (a re-run reports them as "
    "existing)."
)


def section(settings: Settings, review: Review, page: PageState) -> None:
    st.subheader("Import into NetBox")
    rows = review.importable_rows()
    plan = Plan.of(review, primary_ip=settings.create_primary_ip)
    try:
        status = _status(settings, page.job_id) if page.job_id else None
        running = status is not None and status.active
    except QueueUnavailable:  # the job's state is unknown right now: as if it still ran
        status, running = None, True
    creating = sum(1 for row in rows if row.will_create)
    label = (
        f"Import {creating} ready rows"
        if plan.updates == 0
        else f"Write {len(rows)} rows: create {creating}, update {plan.updates - plan.links}, link {plan.links}"
    )
    missing = _missing(settings, plan) if rows else []
    if missing:
        who = literal(settings.analyst) if settings.analyst else "The NetBox token's user"
        st.warning(
            f"NetBox does not let {'you' if settings.analyst else who} "
            + ", ".join(missing)
            + ": ask a NetBox admin for these object permissions.",
            icon="🔒",
        )
    if st.button(label, type="primary", icon="📥", disabled=not rows or running or bool(missing)):
        page.confirming = True
    if page.confirming:  # a flag, not the click: the dialog's own buttons rerun the page
        _confirm(settings, review, plan, page)
    if plan.not_ready:
        st.caption(
            f"{plan.not_ready} other row(s) are not ready (needs input, exists, conflict, blocked) "
            "and are left out."
        )
    if error := st.session_state.pop("_refresh_error", None):
        st.warning(f"The statuses could not be refreshed after the import: {literal(error)}")
    if page.job_id:
        _follow(settings, page, status)


def _missing(settings: Settings, plan: Plan) -> list[str]:
    """What NetBox refuses this session's token for this plan (asked at most once a minute for the same
    plan shape); nothing when NetBox cannot be asked now: the import's own check then tells."""
    needed = tuple(plan.permissions(primary_ip=settings.create_primary_ip))
    cached = st.session_state.get(PERMISSIONS)
    if cached and cached[:2] == (settings.analyst, needed) and time.monotonic() - cached[2] < 60:
        return cached[3]
    try:
        missing = missing_permissions(settings, plan)
    except ImporterError:
        return []
    st.session_state[PERMISSIONS] = (settings.analyst, needed, time.monotonic(), missing)
    return missing


def _dismissed() -> None:
    st.session_state[STATE].confirming = False


@st.dialog("Import into NetBox?", width="large", on_dismiss=_dismissed)
def _confirm(settings: Settings, review: Review, plan: Plan, page: PageState) -> None:
    st.markdown(
        "This will create in NetBox:\n\n"
        f"- **{plan.devices}** devices\n"
        f"- **{plan.vms}** virtual machines\n"
        f"- **{plan.stacks}** stacks (virtual chassis) with **{plan.stack_members}** member devices\n"
        f"- **{plan.ips}** primary IPs, each on a management interface"
        + (
            f"\n\nand change **{plan.updates}** devices and VMs it has already "
            f"(**{plan.links}** only linked: librenms_id), **{plan.moved_ips}** of them moving their primary IP"
            if plan.updates
            else ""
        )
    )
    st.caption(
        "Every row is checked again against NetBox first: what exists by then is skipped, never duplicated. "
        "An object changed in NetBox since this review is not updated (NetBox checks its version)."
    )
    rows = review.importable_rows()
    plans = plan_rows(rows, primary_ip=settings.create_primary_ip)
    with st.expander("What each row creates or changes, field by field", icon="🧾"):
        st.dataframe(
            [
                {
                    "row": row_plan.name,
                    "object": obj.what,
                    "name": obj.name,
                    "fields": ", ".join(f"{name}={value}" for name, value in obj.fields),
                    "note": obj.note,
                }
                for row_plan in plans
                for obj in row_plan.objects
            ],
            hide_index=True,
            width="stretch",
        )
        st.download_button(
            "Download the plan as CSV",
            data=lambda: csvio.plan_csv_bytes(plans),
            file_name="librenms-netbox-plan.csv",
            mime="text/csv",
            icon="⬇️",
        )
    go, cancel = st.columns(2)
    if go.button("Import", type="primary", width="stretch"):
        page.confirming = False
        items = [ImportItem.from_row(row) for row in rows]
        try:
            handle = jobs.start_import(settings, items)
        except ImporterError as exc:
            context.show_error(exc)
            return
        page.job_id, page.job_note = handle.job_id, handle.note
        st.rerun()
    if cancel.button("Cancel", width="stretch"):
        page.confirming = False
        st.rerun()


def _status(settings: Settings, job_id: str) -> jobs.JobStatus:
    """The job's status; raises QueueUnavailable while Redis cannot be reached."""
    return jobs.job_status(settings, job_id)


def _stop(settings: Settings, job_id: str, *, hard: bool) -> None:
    try:
        if hard:
            jobs.hard_stop(settings, job_id)
        else:
            jobs.cancel(settings, job_id)
    except QueueUnavailable as exc:
        context.show_error(exc)


def _follow(settings: Settings, page: PageState, status: jobs.JobStatus | None) -> None:
    """Follow the job: `status` is its state at this run, None when Redis could not be reached."""
    if page.job_note:
        st.info(literal(page.job_note), icon="ℹ️")

    @st.fragment(run_every=defaults.POLL_INTERVAL_SECONDS)
    def progress() -> None:
        try:
            status = _status(settings, page.job_id)
        except QueueUnavailable:  # Redis is briefly away: say so and poll again, never "expired"
            st.status(UNREACHABLE, expanded=False, state="running")
            return
        if not status.active:
            st.rerun(scope="app")  # the whole page shows the results; polling stops
        # not `with st.status(...)`: leaving the block would mark it complete while the job still runs
        what = "Stopping after the batch in flight…" if status.stopping else "Importing…"
        box = st.status(f"{what} {status.done} / {status.total}", expanded=True, state="running")
        box.progress(status.done / status.total if status.total else 0.0)
        counts = status.counts
        box.text(  # the device being imported, as LibreNMS names it: plain text
            f"Now: {status.current or '…'} — created {counts.get('created', 0)}, "
            f"updated {counts.get('updated', 0)}, skipped {counts.get('skipped', 0)}, "
            f"failed {counts.get('failed', 0)}"
        )
        left, right = box.columns(2)
        if left.button("Cancel import", icon="⏹️", help=CANCEL_HELP, disabled=status.stopping):
            _stop(settings, page.job_id, hard=False)
        if status.mode == JobMode.WORKER and right.button(HARD_STOP, icon="⚠️", help=HARD_STOP_HELP):
            _stop(settings, page.job_id, hard=True)

    if status is None or status.active:
        progress()
        return
    if page.refreshed_for != page.job_id:
        page.refreshed_for = page.job_id
        _refresh_statuses(settings, page)
        st.rerun()  # the grid above was drawn before the import ended
    _results(status)


def _refresh_statuses(settings: Settings, page: PageState) -> None:
    """After an import, the grid shows NetBox as it is now: imported rows become 'exists'."""
    if page.search is None:
        return
    try:
        page.search = revalidate(settings, page.search)
    except ImporterError as exc:
        st.session_state["_refresh_error"] = str(exc)
        return
    page.grid_version += 1


def _results(status: jobs.JobStatus) -> None:
    counts = status.counts
    text = (
        f"Import {status.state.value}: created {counts.get('created', 0)}, "
        + (f"updated {counts['updated']}, " if counts.get("updated") else "")
        + f"skipped {counts.get('skipped', 0)}, failed {counts.get('failed', 0)}"
    )
    state = {"finished": "complete"}.get(status.state.value, "error")
    with st.status(text, state=state, expanded=True):
        if status.error:
            st.error(literal(status.error))
        results_table(status.results)
    st.page_link(
        "pages/runs.py",
        label=f"Run {status.job_id[:8]} on the Runs page: its plan, the NetBox objects it made, undo",
        icon="🗂️",
        query_params={"run": status.job_id},
    )


def results_table(results: list[dict]) -> None:
    """One line per imported row: outcome, what, NetBox's words, and a link to the object."""
    if not results:
        return
    frame = pd.DataFrame(results)
    frame["details"] = frame["extra"].map(lambda extra: "; ".join(extra or []))
    st.dataframe(
        frame[["outcome", "name", "kind", "message", "details", "url"]],
        hide_index=True,
        width="stretch",
        column_config={"url": st.column_config.LinkColumn("NetBox", display_text="open ↗")},
    )
