"""Runs: every import and undo, newest first (who, rows, a count per outcome, state). Open one, or link to it
with ?run=<id>, to see its plan, its result lines and the NetBox objects it made or changed (and where that
record comes from); resume an unfinished import, undo one, stop a running one. Each action first says what
it will do and waits for a yes; a run it starts is opened at once and followed until it ends. A run belongs
to the analyst who started it: others see it, and only they or an admin act on it (core.auth.may_act_on).

The list polls every two seconds and an open active run every second, each rerunning only itself; when the
run ends the page reruns once. While Redis cannot be reached they say so and keep polling."""

from __future__ import annotations

import streamlit as st

from core import defaults, jobs
from core.auth import may_act_on
from core.choices import JobKind, JobMode
from core.errors import ImporterError, QueueUnavailable
from core.runs.view import RunView, list_runs, show_run
from ui import context
from ui.importing import CANCEL_HELP, HARD_STOP, HARD_STOP_HELP, UNREACHABLE, results_table
from ui.runs import (
    Action,
    confirmation,
    kind_label,
    live_links,
    objects_frame,
    plan_frame,
    run_label,
    runs_frame,
    short,
    state_label,
    when,
)
from ui.text import literal

PAGE = "pages/runs.py"
RUN = "run"  # the run picker's key, and the query parameter that opens a run
OPEN_NEXT = "_runs_open"  # the run to open at the next rerun: the one an action just started
STARTED = "_runs_started"  # (run id, note) of the run an action started, said above it
CONFIRMING = "_runs_confirming"  # (action, run id) waiting for a yes

context.require_app_frame(PAGE)
settings = context.settings()
st.title("Runs")

try:
    conn = jobs.connect(settings)
except ImporterError as exc:
    conn = None
    st.warning(
        f"{literal(exc.message)} Only runs made by this app process since it started are listed.", icon="⚠️"
    )
if conn is not None:
    try:
        listening = jobs.worker_alive(conn, settings.queue_name)
    except QueueUnavailable:
        listening = False
    if listening:
        st.success(f"A worker listens on the queue '{literal(settings.queue_name)}'.", icon="🟢")
    else:
        st.info(
            f"No worker listens on '{literal(settings.queue_name)}': runs go inside the app. "
            "Start one with `python -m core worker`.",
            icon="ℹ️",
        )
where = conn if conn is not None else settings


def mine(status: jobs.JobStatus) -> bool:
    """Whether this session's analyst may act on the run: theirs, or they are an admin."""
    return may_act_on(context.analyst(), status.analyst)


def ask(action: Action, run_id: str) -> None:
    """Open the confirmation of `action` on the run (drawn at the end of this page run)."""
    st.session_state[CONFIRMING] = (action.value, run_id)


@st.fragment(run_every=defaults.POLL_INTERVAL_SECONDS * 2)
def run_list() -> None:
    try:
        runs = list_runs(where, limit=50)
    except QueueUnavailable:  # Redis is briefly away: say so and poll again
        st.warning(UNREACHABLE, icon="⏳")
        return
    except ImporterError as exc:
        context.show_error(exc)
        return
    if not runs:
        st.info("No import has run yet.")
        return
    st.dataframe(
        runs_frame(runs),
        hide_index=True,
        width="stretch",
        column_config={
            "kind": st.column_config.TextColumn(width="medium"),
            "state": st.column_config.TextColumn(width="medium"),
        },
    )
    for run in (r for r in runs if r.active):
        left, cancel, kill = st.columns([4, 1, 2])
        state = "stopping after the batch in flight" if run.stopping else run.state.value
        left.text(
            f"⏳ {short(run.job_id)} {kind_label(run)} {state}: {run.done} / {run.total} — {run.current}"
        )
        if not mine(run):
            cancel.caption(f"{run.analyst or 'an admin'}'s run")
            continue
        if cancel.button(
            "Cancel", key=f"cancel-{run.job_id}", icon="⏹️", help=CANCEL_HELP, disabled=run.stopping
        ):
            ask(Action.CANCEL, run.job_id)
            st.rerun(scope="app")  # the confirmation is the page's
        if run.mode == JobMode.WORKER and kill.button(
            HARD_STOP, key=f"kill-{run.job_id}", icon="⚠️", help=HARD_STOP_HELP
        ):
            ask(Action.HARD_STOP, run.job_id)
            st.rerun(scope="app")


@st.fragment(run_every=defaults.POLL_INTERVAL_SECONDS)
def follow(run_id: str) -> None:
    """An active run's progress and result lines so far; the whole page reruns once when it ends."""
    try:
        status = jobs.job_status(where, run_id)
    except QueueUnavailable:  # Redis is briefly away: say so and poll again, never "expired"
        st.status(UNREACHABLE, expanded=False, state="running")
        return
    if not status.active:
        st.rerun(scope="app")  # the whole run shows; polling stops
    doing = "Undoing…" if status.kind == JobKind.UNDO.value else "Importing…"
    what = "Stopping after the batch in flight…" if status.stopping else doing
    box = st.status(f"{what} {status.done} / {status.total}", expanded=True, state="running")
    box.progress(status.done / status.total if status.total else 0.0)
    with box:
        st.text(f"Now: {status.current or '…'}")
        results_table(live_links(status.results))


def show(run_id: str) -> RunView | None:
    try:
        view = show_run(where, settings, run_id)
    except QueueUnavailable:
        follow(run_id)  # says Redis is unreachable, and shows the run once it answers
        return None
    except ImporterError as exc:
        context.show_error(exc)
        return None
    status = view.status
    started = st.session_state.get(STARTED)
    if started and started[0] == run_id:
        st.success(f"Started run {run_id}.", icon="▶️")
        if started[1]:
            st.info(literal(started[1]), icon="ℹ️")
    st.markdown(f"**{kind_label(status)}** · {state_label(status)} · {status.done} / {status.total} rows")
    ended = f", ended {when(status.ended_at)}" if status.ended_at else ""
    who = status.analyst or status.by or "unknown"
    st.text(f"Run {run_id} by {who}, started {when(status.enqueued_at)}{ended}")
    if any(status.counts.values()):
        st.caption(", ".join(f"{outcome} {n}" for outcome, n in status.counts.items() if n))
    if status.error:
        st.error("The run reports an error:", icon="⚠️")
        st.text(status.error)

    offered = [(Action.RESUME, "▶️", view.can_resume), (Action.UNDO, "↩️", view.can_undo)]
    buttons = [(action, icon) for action, icon, ok in offered if ok and mine(status)]
    if not mine(status) and any(ok for _, _, ok in offered):
        st.caption(f"Only {literal(who)} or an admin can resume or undo this run.")
    for column, (action, icon) in zip(st.columns(6), buttons, strict=False):
        if column.button(action.value.capitalize(), icon=icon, key=action.value, width="stretch"):
            ask(action, run_id)

    st.markdown("##### Plan")
    if view.plan:
        st.dataframe(
            plan_frame(view.plan),
            hide_index=True,
            width="stretch",
            column_config={"url": st.column_config.LinkColumn("NetBox", display_text="open ↗")},
        )
    else:
        st.caption("No plan: an undo works from NetBox's changelog." if status.undoes else "No plan kept.")
    st.markdown("##### Results")
    if status.active:
        follow(run_id)
    elif status.results:
        results_table(live_links(status.results))
    else:
        st.caption("No result lines.")
    st.markdown("##### NetBox objects")
    st.caption(f"From {view.source}.")
    if view.note:
        st.warning("Not every object could be listed:", icon="⚠️")
        st.text(view.note)
    if view.objects:
        st.dataframe(
            objects_frame(view.objects, settings.netbox_url),
            hide_index=True,
            width="stretch",
            column_config={"url": st.column_config.LinkColumn("NetBox", display_text="open ↗")},
        )
    else:
        st.caption("None: the run made or changed nothing in NetBox.")
    return view


def _dismissed() -> None:
    st.session_state.pop(CONFIRMING, None)


def confirm(action: Action, run_id: str, view: RunView | None) -> None:
    """The action's confirmation: what it does; only its yes starts it."""
    objects = view.objects if view is not None and view.run_id == run_id else []
    words = confirmation(action, run_id, objects)

    def body() -> None:
        st.write(words.text)
        go, back = st.columns(2)
        if go.button(words.go, type="primary", width="stretch"):
            _dismissed()
            act(action, run_id)
        if back.button("Back", width="stretch"):
            _dismissed()
            st.rerun()

    st.dialog(words.title, width="large", on_dismiss=_dismissed)(body)()


def act(action: Action, run_id: str) -> None:
    try:
        if not mine(jobs.job_status(where, run_id, results=False)):
            st.error("Only the analyst who started this run, or an admin, can do that.", icon="🔒")
            return
        if action is Action.CANCEL:
            jobs.cancel(where, run_id)
        elif action is Action.HARD_STOP:
            jobs.hard_stop(where, run_id)
        else:
            start = jobs.start_undo if action is Action.UNDO else jobs.start_resume
            handle = start(settings, run_id)
            st.session_state[OPEN_NEXT] = handle.job_id
            st.session_state[STARTED] = (handle.job_id, handle.note)
    except ImporterError as exc:
        context.show_error(exc)
        return
    st.rerun()  # the list and the run show what the action did


run_list()

st.subheader("A run")
try:
    known = {run.job_id: run for run in list_runs(where, limit=50)}
except ImporterError:
    known = {}
if opening := st.session_state.pop(OPEN_NEXT, None):
    st.session_state[RUN] = opening
elif RUN not in st.session_state and st.query_params.get(RUN):
    st.session_state[RUN] = st.query_params[RUN]
options = list(known)
if (chosen := st.session_state.get(RUN)) and chosen not in known:
    options.insert(0, chosen)
run_id = st.selectbox(
    "Run",
    options,
    key=RUN,
    index=None,
    format_func=lambda i: run_label(known.get(i), i),
    placeholder="Choose a run",
)
view = None
if run_id:
    st.query_params[RUN] = run_id  # a link to this page opens this run
    view = show(run_id)
elif RUN in st.query_params:
    del st.query_params[RUN]

if pending := st.session_state.get(CONFIRMING):
    confirm(Action(pending[0]), pending[1], view)
