"""Jobs: running and recent imports, their state and counts, the results of each; cancel one at a safe
point, or hard-stop a worker's job."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core import defaults, jobs
from core.choices import JobMode
from core.errors import ImporterError, QueueUnavailable
from ui import context
from ui.importing import CANCEL_HELP, HARD_STOP, HARD_STOP_HELP, UNREACHABLE, results_table

context.require_app_frame("pages/jobs.py")
settings = context.settings()
st.title("Jobs")

try:
    conn = jobs.connect(settings)
except ImporterError as exc:
    conn = None
    st.warning(f"{exc.message} Only imports run by this app process since it started are listed.", icon="⚠️")
if conn is not None:
    try:
        listening = jobs.worker_alive(conn, settings.queue_name)
    except QueueUnavailable:
        listening = False
    if listening:
        st.success(f"A worker listens on the queue '{settings.queue_name}'.", icon="🟢")
    else:
        st.info(
            f"No worker listens on '{settings.queue_name}': imports run inside the app. "
            "Start one with `python -m core worker`.",
            icon="ℹ️",
        )
where = conn if conn is not None else settings


def _stop(job_id: str, *, hard: bool) -> None:
    try:
        if hard:
            jobs.hard_stop(where, job_id)
        else:
            jobs.cancel(where, job_id)
    except QueueUnavailable as exc:
        context.show_error(exc)


@st.fragment(run_every=defaults.POLL_INTERVAL_SECONDS * 2)
def job_list() -> None:
    try:
        recent = jobs.recent_jobs(where, limit=50)
    except QueueUnavailable:  # Redis is briefly away: say so and poll again
        st.warning(UNREACHABLE, icon="⏳")
        return
    except ImporterError as exc:
        context.show_error(exc)
        return
    if not recent:
        st.info("No import has run yet.")
        return
    table = pd.DataFrame(
        [
            {
                "started": job.enqueued_at.strftime("%Y-%m-%d %H:%M:%S") if job.enqueued_at else "",
                "state": "stopping" if job.stopping else job.state.value,
                "progress": f"{job.done} / {job.total}",
                "created": job.counts.get("created", 0),
                "skipped": job.counts.get("skipped", 0),
                "failed": job.counts.get("failed", 0),
                "ran in": job.mode,
                "job": job.job_id,
            }
            for job in recent
        ]
    )
    st.dataframe(table, hide_index=True, width="stretch")
    active = [job for job in recent if job.active]
    for job in active:
        left, cancel, kill = st.columns([4, 1, 2])
        state = "stopping after the batch in flight" if job.stopping else job.state.value
        left.markdown(f"⏳ **{job.job_id[:8]}** {state}: {job.done} / {job.total} — {job.current}")
        if cancel.button(
            "Cancel", key=f"cancel-{job.job_id}", icon="⏹️", help=CANCEL_HELP, disabled=job.stopping
        ):
            _stop(job.job_id, hard=False)
            st.rerun()  # the list shows the job as stopping (or stopped) at once
        if job.mode == JobMode.WORKER and kill.button(
            HARD_STOP, key=f"kill-{job.job_id}", icon="⚠️", help=HARD_STOP_HELP
        ):
            _stop(job.job_id, hard=True)
            st.rerun()  # the list shows the job as stopping (or stopped) at once


job_list()

st.subheader("Results of a job")
try:
    choices = {job.job_id: job for job in jobs.recent_jobs(where, limit=50)}
except ImporterError:
    choices = {}


def _label(job_id: str) -> str:
    job = choices[job_id]
    when = job.enqueued_at.strftime("%d %b %H:%M:%S") if job.enqueued_at else "?"
    return f"{when} · {job.state.value} · {job.done}/{job.total} · created {job.counts.get('created', 0)}"


job_id = st.selectbox("Job", list(choices), format_func=_label, index=None, placeholder="Choose a job")
if job_id:
    try:
        status = jobs.job_status(where, job_id)
    except QueueUnavailable as exc:
        context.show_error(exc)
        st.stop()
    st.markdown(
        f"**{status.state.value}** — {status.done} / {status.total}; "
        + ", ".join(f"{k} {v}" for k, v in status.counts.items())
    )
    if status.error:
        st.error(status.error)
    results_table(status.results)
