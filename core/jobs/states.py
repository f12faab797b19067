"""Every RQ status as the app shows it (one JobState each), and which states are final.

STARTED, FINISHED and FAILED are refined by `core.jobs.status.job_state`: a dead worker → abandoned; a job that
stopped on its cancel flag → stopped; RQ's own abandoned-job cleanup → abandoned.
"""

from __future__ import annotations

from rq.job import JobStatus as RQStatus

from core.choices import JobState

ACTIVE_STATES = frozenset(state for state in JobState if state.active)
FINAL_STATES = frozenset(set(JobState) - ACTIVE_STATES)

RQ_STATES: dict[RQStatus, JobState] = {
    RQStatus.CREATED: JobState.QUEUED,
    RQStatus.QUEUED: JobState.QUEUED,
    RQStatus.DEFERRED: JobState.QUEUED,
    RQStatus.SCHEDULED: JobState.QUEUED,
    RQStatus.STARTED: JobState.RUNNING,
    RQStatus.FINISHED: JobState.FINISHED,
    RQStatus.STOPPED: JobState.STOPPED,
    RQStatus.CANCELED: JobState.CANCELED,
    RQStatus.FAILED: JobState.FAILED,
}


def rq_state(status: object) -> JobState | None:
    """The JobState of an RQ status, or None for a status this RQ release does not know."""
    try:
        return RQ_STATES[RQStatus(status)]
    except (ValueError, KeyError):
        return None
