"""The Runs page's words and tables: what kind of run a run is, one line per run, a run's plan and the NetBox
objects it made or changed (with links), and what each action on a run does, said before it is done.

Everything LibreNMS or NetBox named (devices, objects, users) goes into tables, which show text as text."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import pandas as pd

from core.choices import JobKind, Outcome
from core.jobs import JobStatus
from core.runs.objects import RunObject, object_url

# An import's outcomes, then an undo's (core.runs.undo): one column each in the list of runs.
OUTCOMES = (*(o.value for o in Outcome), "deleted", "restored", "kept")
ALWAYS_SHOWN = (Outcome.CREATED.value, Outcome.SKIPPED.value, Outcome.FAILED.value)


def short(run_id: str) -> str:
    """A run id as the page names it next to another run: its first 8 characters."""
    return run_id[:8]


def kind_label(status: JobStatus) -> str:
    """'import', 'import resuming 1a2b3c4d' or 'undo of 1a2b3c4d'."""
    if status.kind == JobKind.UNDO.value:
        return f"undo of {short(status.undoes)}"
    if status.resumes:
        return f"import resuming {short(status.resumes)}"
    return status.kind


def state_label(status: JobStatus) -> str:
    if status.stopping:
        return "stopping"
    return status.state.value + (f", undone by {short(status.undone_by)}" if status.undone_by else "")


def when(moment: datetime | None) -> str:
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S") if moment else ""


def runs_frame(runs: list[JobStatus]) -> pd.DataFrame:
    """One line per run: when, id, kind, who, rows done / total, a count per outcome (created, skipped and
    failed always; the others when a listed run has one), state."""
    outcomes = [o for o in OUTCOMES if o in ALWAYS_SHOWN or any(run.counts.get(o) for run in runs)]
    return pd.DataFrame(
        [
            {
                "started": when(run.enqueued_at),
                "run": run.job_id,
                "kind": kind_label(run),
                "by": run.analyst or run.by,
                "rows": f"{run.done} / {run.total}",
                **{outcome: run.counts.get(outcome, 0) for outcome in outcomes},
                "state": state_label(run),
                "ran in": run.mode,
            }
            for run in runs
        ],
        columns=["started", "run", "kind", "by", "rows", *outcomes, "state", "ran in"],
    )


def run_label(status: JobStatus | None, run_id: str) -> str:
    """How the run picker names a run: what stays true of it (not its state, which moves on)."""
    if status is None:
        return run_id
    by = f" · by {status.by}" if status.by else ""
    return f"{when(status.enqueued_at)} · {kind_label(status)} · {short(run_id)}{by}"


def live_links(results: list[dict]) -> list[dict]:
    """Result lines without a link to what they say is deleted (NetBox no longer has its page)."""
    return [r | {"url": ""} if r.get("outcome") == "deleted" else r for r in results]


def plan_frame(plan: list[dict]) -> pd.DataFrame:
    """The run's plan: per row, each object it creates with its fields, or why the row is skipped."""
    return pd.DataFrame(
        [
            {
                "row": line.get("name", ""),
                "action": line.get("action", ""),
                "object": line.get("object", ""),
                "name": line.get("object_name", ""),
                "fields": line.get("fields", ""),
                "note": line.get("note") or line.get("reason", ""),
                "url": line.get("url", ""),
            }
            for line in plan
        ],
        columns=["row", "action", "object", "name", "fields", "note", "url"],
    )


def objects_frame(objects: list[RunObject], netbox_url: str) -> pd.DataFrame:
    """What the run wrote, write by write: action, what, name, id, NetBox's request id and a link (none for
    an object the run deleted: NetBox no longer has its page)."""
    deleted = {(o.type, o.id) for o in objects if o.action == "delete"}
    return pd.DataFrame(
        [
            {
                "action": obj.action,
                "object": obj.label,
                "name": obj.name,
                "id": obj.id,
                "request": obj.request_id,
                "url": "" if (obj.type, obj.id) in deleted else object_url(netbox_url, obj.type, obj.id),
            }
            for obj in objects
        ],
        columns=["action", "object", "name", "id", "request", "url"],
    )


class Action(StrEnum):
    UNDO = "undo"
    RESUME = "resume"
    CANCEL = "cancel"
    HARD_STOP = "hard stop"


@dataclass(frozen=True, slots=True)
class Confirmation:
    title: str
    text: str
    go: str  # the button that does it


def confirmation(action: Action, run_id: str, objects: Sequence[RunObject] = ()) -> Confirmation:
    """What the action will do to the run, in words, for its confirmation."""
    run = short(run_id)
    if action is Action.UNDO:
        made = sum(1 for o in objects if o.action == "create")
        changed = len({(o.type, o.id) for o in objects if o.action == "update"})
        return Confirmation(
            f"Undo run {run}?",
            f"The undo deletes what this run created ({made} object(s)) and puts back what it changed "
            f"(up to {changed} object(s)). Objects changed in NetBox since the run are left as they are, "
            "with the whole device or stack they belong to, and listed. The undo is a run of its own.",
            "Undo this run",
        )
    if action is Action.RESUME:
        return Confirmation(
            f"Resume run {run}?",
            "Imports this run's rows again, as a new run: what it left unfinished (a missing primary IP or "
            "stack master) is completed, the rows it did not get to are imported, and what NetBox has is "
            "skipped, never duplicated. The run's undo covers what the resume makes.",
            "Resume this run",
        )
    if action is Action.CANCEL:
        return Confirmation(
            f"Stop run {run}?",
            "The run stops at its next safe point: the batch in flight finishes its devices, IPs and stack "
            "masters and reports them; nothing is killed.",
            "Stop after the batch in flight",
        )
    return Confirmation(
        f"Hard stop run {run}?",
        "Kills the worker's work horse running this run at once (the worker goes on). The batch in flight "
        "may be left unfinished: objects without their result line, IP or stack master; a resume of the run "
        "completes them.",
        "Kill it now",
    )
