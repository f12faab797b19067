"""Background jobs: imports and searches on RQ, with an in-process fallback that looks the same from outside.

- `queue`: starting a job (`start_import`, `start_search`; `start_resume` and `start_undo` of a run) on the queue when a live worker listens, else in
  a thread of this process; stopping one at a safe point (`cancel`: the batches in flight finish and report)
  or at once (`hard_stop`: kills a worker's work horse; the batch in flight may be left unfinished).
- `worker`: the job functions the worker runs (`import_job`, `search_job`, `undo_job`: settings come from the worker's
  own environment, so a job carries only ids, choices and a filter, never a token), `worker_alive`,
  `run_worker` (`python -m core worker`).
- `runner`: running one job wherever it runs, and the in-process thread with its heartbeat.
- `status`: reading a job back (`job_state`, `job_status`, `recent_jobs`), whoever ran it; QueueUnavailable
  while Redis cannot be reached (never `expired`: that is Redis answering it no longer knows the job).
- `states`: every RQ status as one JobState. `store`: job data in Redis or in this process.
- `locks`: a lock per LibreNMS device in Redis, refreshed while its owner runs. `searches`: stored
  searches (JSON, via core.codec).
- `connection`: Redis clients, what `conn` may be, and RQ objects with its JSON serializer.

Functions that read or write job data take `conn`: a Redis client (`connect`), a `Settings` (connected
from settings.redis_url), or None. Without Redis (None, or Settings whose Redis cannot be reached) they use
the store inside this process, where jobs started in-process without Redis live; reading any other job
while Settings' Redis cannot be reached raises QueueUnavailable.

Nothing here writes a pickle: job records, results and searches are JSON (keys in core.keys), and RQ runs
with its JSON serializer. The states, modes and kinds are core.choices' JobState, JobMode and JobKind.
"""

from core.jobs.connection import connect, connect_or_none
from core.jobs.locks import RedisLocks, release_job_locks
from core.jobs.queue import (
    JobHandle,
    cancel,
    hard_stop,
    run_here,
    run_items,
    start_import,
    start_resume,
    start_search,
    start_undo,
)
from core.jobs.searches import load_search, recent_searches, save_search
from core.jobs.status import JobStatus, job_state, job_status, recent_jobs
from core.jobs.worker import import_job, run_worker, search_job, undo_job, worker_alive

__all__ = [
    "JobHandle",
    "JobStatus",
    "RedisLocks",
    "cancel",
    "connect",
    "connect_or_none",
    "hard_stop",
    "import_job",
    "job_state",
    "job_status",
    "load_search",
    "recent_jobs",
    "recent_searches",
    "release_job_locks",
    "run_here",
    "run_items",
    "run_worker",
    "save_search",
    "search_job",
    "start_import",
    "start_resume",
    "start_search",
    "start_undo",
    "undo_job",
    "worker_alive",
]
