"""Jobs: running and recent imports, their state and counts, the results of each, cancel."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core import defaults, jobs
from core.errors import ImporterError
from ui import context
from ui.importing import results_table

context.require_app_frame("pages/jobs.py")
settings = context.settings()
st.title("Jobs")

try:
    conn = jobs.connect(settings)
except ImporterError as exc:
    conn = None
    st.warning(f"{exc.message} Only imports run by this app process since it started are listed.", icon="⚠️")
if conn is not None:
    if jobs.worker_alive(conn, settings.queue_name):
        st.success(f"A worker listens on the queue '{settings.queue_name}'.", icon="🟢")
    else:
        st.info(
            f"No worker listens on '{settings.queue_name}': imports run inside the app. "
            "Start one with `python -m core worker`.",
            icon="ℹ️",
        )


@st.fragment(run_every=defaults.POLL_INTERVAL_SECONDS * 2)
def job_list() -> None:
    try:
        recent = jobs.recent_jobs(conn if conn is not None else settings, limit=50)
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
                "state": job.state.value,
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
        left, right = st.columns([4, 1])
        left.markdown(f"⏳ **{job.job_id[:8]}** {job.state.value}: {job.done} / {job.total} — {job.current}")
        if right.button("Cancel", key=f"cancel-{job.job_id}", icon="⏹️"):
            jobs.cancel(conn if conn is not None else settings, job.job_id)
            st.rerun(scope="fragment")


job_list()

st.subheader("Results of a job")
try:
    choices = {job.job_id: job for job in jobs.recent_jobs(conn if conn is not None else settings, limit=50)}
except ImporterError:
    choices = {}


def _label(job_id: str) -> str:
    job = choices[job_id]
    when = job.enqueued_at.strftime("%d %b %H:%M:%S") if job.enqueued_at else "?"
    return f"{when} · {job.state.value} · {job.done}/{job.total} · created {job.counts.get('created', 0)}"


job_id = st.selectbox("Job", list(choices), format_func=_label, index=None, placeholder="Choose a job")
if job_id:
    status = jobs.job_status(conn if conn is not None else settings, job_id)
    st.markdown(
        f"**{status.state.value}** — {status.done} / {status.total}; "
        + ", ".join(f"{k} {v}" for k, v in status.counts.items())
    )
    if status.error:
        st.error(status.error)
    results_table(status.results)
