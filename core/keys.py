"""Redis keys: the one place they are formatted. Every key starts with `PREFIX` ("lnbi:").

RQ keeps its own keys (`rq:job:<id>`, `rq:queue:<name>`, `rq:worker:<name>`, …) for the jobs themselves,
written with RQ's JSON serializer (a job's `data` and `meta` are JSON); these are the product's own,
written by core.jobs. Nothing under either is a pickle.

| key                              | type        | what                                              | TTL                    |
|----------------------------------|-------------|---------------------------------------------------|------------------------|
| `lnbi:job:<id>`                  | string JSON | the job's record: kind, mode, state, progress,    | RESULT_TTL_SECONDS     |
|                                  |             | counts, error, times (imports and searches)       |                        |
| `lnbi:job:<id>:results`          | list JSON   | one RowResult per finished row, appended as they  | RESULT_TTL_SECONDS     |
|                                  |             | finish (a stopped or killed job keeps them)       |                        |
| `lnbi:job:<id>:objects`         | list JSON   | an import or undo run's record: each NetBox       | RUN_TTL_SECONDS        |
|                                  |             | object it made, changed or deleted, appended when |                        |
|                                  |             | NetBox confirmed it (core.runs.recorder)          |                        |
| `lnbi:job:<id>:plan`             | string JSON | the run's plan: per row what it creates or skips  | RUN_TTL_SECONDS        |
| `lnbi:job:<id>:items`            | string JSON | the run's rows (ids and choices), for its resume  | RUN_TTL_SECONDS        |
| `lnbi:job:<id>:cancel`           | string      | cancel flag: the job stops at its next batch      | JOB_TIMEOUT_SECONDS    |
| `lnbi:job:<id>:alive`            | string      | heartbeat of a job running inside the app         | WORKER_HEARTBEAT_GRACE |
| `lnbi:job:<id>:locks`            | set         | the lock keys the job holds now                   | LOCK_TTL_SECONDS       |
| `lnbi:jobs`                      | sorted set  | recent jobs: job id scored by enqueue time        | trimmed to             |
|                                  |             |                                                   | RESULT_TTL_SECONDS     |
| `lnbi:lock:<server>:<device id>` | string      | lock per LibreNMS device; value = the job id      | LOCK_TTL_SECONDS,      |
|                                  |             | (the owner renews both lock keys every            | renewed while the job  |
|                                  |             | LOCK_REFRESH_SECONDS while it runs)               | runs                   |
| `lnbi:search:<id>`               | string JSON | a core.search.SearchResult as core.codec writes   | RESULT_TTL_SECONDS     |
|                                  |             | it: the review's inputs, rebuilt on load          |                        |
| `lnbi:searches`                  | list JSON   | recent searches, newest first: id, filters, time, | RECENT_SEARCHES_KEPT   |
|                                  |             | counts (older ones and their results dropped)     | entries                |
| `lnbi:inventory:<server>:<device id>:<discovered>` | string JSON | a device's stack rows of its      | INVENTORY_TTL_SECONDS  |
|                                  |             | ENTITY-MIB inventory as LibreNMS last discovered  |                        |
|                                  |             | it (core.librenms.inventories); <server> is a     |                        |
|                                  |             | digest of the server's URL and key                |                        |
"""

from __future__ import annotations

PREFIX = "lnbi:"


def job(job_id: str) -> str:
    """The job's record (JSON)."""
    return f"{PREFIX}job:{job_id}"


def job_results(job_id: str) -> str:
    """The job's finished rows (a list of JSON RowResults)."""
    return f"{PREFIX}job:{job_id}:results"


def job_objects(job_id: str) -> str:
    """The run's record: the NetBox objects it made, changed or deleted (a list of JSON RunObjects)."""
    return f"{PREFIX}job:{job_id}:objects"


def job_plan(job_id: str) -> str:
    """The run's plan (JSON)."""
    return f"{PREFIX}job:{job_id}:plan"


def job_items(job_id: str) -> str:
    """The run's rows as ImportItem data (JSON): what its resume imports again."""
    return f"{PREFIX}job:{job_id}:items"


def job_cancel(job_id: str) -> str:
    """The job's cancel flag."""
    return f"{PREFIX}job:{job_id}:cancel"


def job_alive(job_id: str) -> str:
    """The heartbeat of a job running inside the app (not in a worker)."""
    return f"{PREFIX}job:{job_id}:alive"


def job_locks(job_id: str) -> str:
    """The set of lock keys the job holds."""
    return f"{PREFIX}job:{job_id}:locks"


def jobs_index() -> str:
    """Recent jobs: a sorted set of job ids scored by enqueue time (epoch seconds)."""
    return f"{PREFIX}jobs"


def lock(server_key: str, librenms_id: int) -> str:
    """The lock on one LibreNMS device while a job creates it."""
    return f"{PREFIX}lock:{server_key}:{int(librenms_id)}"


def locks_pattern() -> str:
    """A SCAN pattern matching every device lock."""
    return f"{PREFIX}lock:*"


def search_result(search_id: str) -> str:
    """A stored search (a SearchResult as JSON, core.codec)."""
    return f"{PREFIX}search:{search_id}"


def recent_searches() -> str:
    """Recent searches, newest first (a list of JSON summaries)."""
    return f"{PREFIX}searches"


def inventory(server: str, device_id: int, discovered: str) -> str:
    """A device's inventory as LibreNMS discovered it at `discovered` (JSON); `server`: a digest naming the
    LibreNMS server (core.librenms.inventories.server_id), so no server's data is read for another's."""
    return f"{PREFIX}inventory:{server}:{device_id}:{discovered}"


def inventories_pattern(server: str) -> str:
    """A SCAN pattern matching every inventory kept for one LibreNMS server (`server` as for `inventory`)."""
    return f"{PREFIX}inventory:{server}:*"
