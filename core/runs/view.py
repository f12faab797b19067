"""A run as the Runs page and `python -m core runs` show it: its record (who, when, rows, counts, state),
plan, result lines and the NetBox objects it made or changed. The objects come from the run's record in
Redis; when Redis no longer has them (a restart, the record expired) they are rebuilt from NetBox's
changelog, where every change names its run, and the view says so."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pynetbox

from core import jobs, netbox
from core.choices import JobKind, JobState
from core.errors import NetBoxError
from core.jobs.connection import Conn, redis_errors
from core.jobs.status import JobStatus, locate
from core.runs.changelog import objects_of, run_changes
from core.runs.objects import RunObject
from core.settings import Settings

RUN_KINDS = (JobKind.IMPORT.value, JobKind.UNDO.value)
FROM_RECORD = "the run's record"
FROM_CHANGELOG = "NetBox's changelog (the run's record is gone from Redis)"


@dataclass
class RunView:
    status: JobStatus
    objects: list[RunObject] = field(default_factory=list)
    plan: list[dict[str, Any]] = field(default_factory=list)
    source: str = FROM_RECORD  # where `objects` came from
    note: str = ""  # e.g. that NetBox's changelog could not be read

    @property
    def run_id(self) -> str:
        return self.status.job_id

    @property
    def can_undo(self) -> bool:
        """An import that has ended (finished, stopped, failed, killed) and was not undone yet."""
        return (
            self.status.kind == JobKind.IMPORT.value
            and not self.status.active
            and not self.status.undone_by
            and any(o.action != "delete" for o in self.objects)
        )

    @property
    def can_resume(self) -> bool:
        """An import that ended before every row was done, or with rows failed or partial."""
        s = self.status
        unfinished = s.counts.get("failed", 0) + s.counts.get("partial", 0)
        ended_early = s.state in (JobState.STOPPED, JobState.FAILED, JobState.ABANDONED) or s.done < s.total
        return (
            s.kind == JobKind.IMPORT.value
            and not s.active
            and not s.undone_by
            and (unfinished or ended_early)
        )


def list_runs(conn: Conn, limit: int = 50) -> list[JobStatus]:
    """The most recent import and undo runs, newest first. Raises QueueUnavailable."""
    return jobs.recent_jobs(conn, limit, kind=RUN_KINDS)


def show_run(conn: Conn, settings: Settings, run_id: str, *, nb_api: pynetbox.api | None = None) -> RunView:
    """One run, whole. Raises QueueUnavailable while Redis cannot be reached; a run Redis no longer knows
    is shown from NetBox's changelog (state `expired`)."""
    status = jobs.job_status(conn, run_id)
    with redis_errors():
        _, store = locate(conn, run_id)
        recorded = store.objects(run_id)
        plan = store.plan(run_id)
    view = RunView(status, [RunObject.from_dict(o) for o in recorded], plan)
    wrote = sum(status.counts.get(o, 0) for o in ("created", "completed", "partial", "deleted", "restored"))
    if recorded or status.active or not (wrote or status.state is JobState.EXPIRED):
        return view  # nothing to look up in NetBox: the record is whole, or the run wrote nothing
    try:
        api = nb_api or netbox.connect(settings)
        changes = run_changes(api, run_id)
    except NetBoxError as exc:
        view.note = f"NetBox's changelog could not be read: {exc}"
        return view
    if changes:
        view.objects = objects_of(changes)
        view.source = FROM_CHANGELOG
        if not status.by:
            view.status.by = changes[0].user
    return view
