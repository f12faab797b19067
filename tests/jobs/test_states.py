"""core.jobs.states: every RQ status as one JobState."""

from __future__ import annotations

from rq.job import JobStatus as RQStatus

from core.choices import JobState
from core.jobs.states import ACTIVE_STATES, FINAL_STATES, RQ_STATES, rq_state


def test_every_rq_status_maps_to_one_job_state() -> None:
    assert set(RQ_STATES) == set(RQStatus)
    assert set(RQ_STATES.values()) <= set(JobState)
    assert set(JobState) == FINAL_STATES | ACTIVE_STATES


def test_active_and_final_states_split_every_state_and_agree_with_job_state_active() -> None:
    assert not ACTIVE_STATES & FINAL_STATES
    assert {s for s in JobState if s.active} == ACTIVE_STATES == {JobState.QUEUED, JobState.RUNNING}


def test_a_status_rq_does_not_know_has_no_state() -> None:
    assert rq_state("started") is JobState.RUNNING
    assert rq_state(RQStatus.CANCELED) is JobState.CANCELED
    assert rq_state("exploded") is None
