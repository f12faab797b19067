"""Running one job, wherever it runs: an import or a search, keeping its record, its finished rows and (for
a worker) RQ's job.meta up to date; and the in-process runner, a daemon thread of the app with a heartbeat,
for when no worker listens.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from core import defaults
from core.choices import JobKind, JobMode, JobState
from core.errors import ImporterError
from core.importer import ImportItem, Locks, Progress, RowResult, run_import
from core.jobs.clock import now
from core.jobs.searches import store_search
from core.jobs.store import Store, new_record
from core.librenms import DeviceFilter
from core.runs.undo import undo_run
from core.search import run_search
from core.settings import Settings

log = logging.getLogger(__name__)

MetaSink = Callable[[Mapping[str, Any]], None]  # receives the record after each change (RQ: job.meta)


def execute_import(
    store: Store,
    job_id: str,
    settings_fn: Callable[[], Settings],
    items: Sequence[ImportItem],
    *,
    locks: Locks,
    batch_size: int | None,
    meta: MetaSink | None = None,
    resumes: str = "",
) -> dict[str, Any]:
    """Run one import: rows are appended to the results as each batch finishes, and each object NetBox
    confirms to the run's record at once, so a stopped or killed job keeps what it created; its plan and
    rows are kept for the Runs page and a resume. Returns the job's RQ result: {state, counts, error}."""
    record = store.get_record(job_id) or new_record(job_id, JobKind.IMPORT, JobMode.WORKER, total=len(items))
    record.update(state=JobState.RUNNING.value, started_at=now(), total=len(items), resumes=resumes)
    store.put_record(job_id, record)
    store.put_items(job_id, [item.to_data() for item in items])
    if meta:
        meta(record)
    keep = _Keeper()
    given = 0  # results handed over by progress
    pending: list[dict[str, Any]] = []  # results not stored yet

    def flush() -> None:
        if pending and keep.stored(store.add_results, job_id, list(pending)):
            pending.clear()

    def progress(p: Progress, finished: list[RowResult]) -> None:
        nonlocal given
        given += len(finished)
        pending.extend(r.as_dict() for r in finished)
        flush()
        record.update(done=p.done, total=p.total, current=p.current, counts=dict(p.counts))
        keep(store.put_record, job_id, record)
        if meta:
            keep(meta, record)

    def finish(state: JobState, error: str = "") -> dict[str, Any]:
        record.update(state=state.value, error=error, ended_at=now(), current="")
        keep(store.put_record, job_id, record)
        if meta:
            keep(meta, record)
        return {"state": state.value, "counts": record.get("counts", {}), "error": error}

    try:
        report = run_import(
            settings_fn(),
            items,
            progress=progress,
            should_stop=lambda: bool(keep(store.cancel_requested, job_id)),
            locks=locks,
            batch_size=batch_size or defaults.IMPORT_BATCH_SIZE,
            run_id=job_id,
            resumes=resumes,
            record=lambda objects: store.add_objects(job_id, objects),
            on_plan=lambda lines: keep(store.put_plan, job_id, lines),
        )
    except ImporterError as exc:
        return finish(JobState.FAILED, str(exc))
    pending.extend(r.as_dict() for r in report.results[given:])
    flush()
    record.update(
        done=len(report.results),
        counts=report.counts(),
        by=report.by,
        record_lost=report.record_lost or keep.failed,
    )
    state = JobState.STOPPED if report.stopped else JobState.FAILED if report.error else JobState.FINISHED
    return finish(state, report.error)


class _Keeper:
    """Stores a running import's progress, results and plan: a store that fails (Redis gone) never stops
    an import that is writing to NetBox — NetBox's changelog still has the whole run — and what could not
    be stored is tried again with the next write. `failed`: something was not stored at least once."""

    def __init__(self) -> None:
        self.failed = False

    def __call__(self, fn: Callable[..., Any], *args: Any) -> Any:
        """fn(*args); None when it fails (a cancel flag then reads as not set)."""
        try:
            return fn(*args)
        except Exception as exc:
            self._lost(exc)
            return None

    def stored(self, fn: Callable[..., Any], *args: Any) -> bool:
        """fn(*args), and whether it went through."""
        try:
            fn(*args)
        except Exception as exc:
            self._lost(exc)
            return False
        return True

    def _lost(self, exc: Exception) -> None:
        if not self.failed:
            log.warning("The run's progress could not be stored (%s); the import goes on", exc)
        self.failed = True


def execute_undo(
    store: Store,
    job_id: str,
    settings_fn: Callable[[], Settings],
    run_id: str,
    meta: MetaSink | None = None,
) -> dict[str, Any]:
    """Undo the run `run_id` as a run of its own (core.runs.undo): its lines are appended as each step
    ends, what it deletes and changes is recorded like an import's objects, and the undone run's record
    names it. Returns the job's RQ result: {state, counts, error}."""
    record = store.get_record(job_id) or new_record(job_id, JobKind.UNDO, JobMode.WORKER, total=0)
    record.update(state=JobState.RUNNING.value, started_at=now(), undoes=run_id)
    store.put_record(job_id, record)
    counts: dict[str, int] = {}

    def progress(lines: list[dict[str, Any]]) -> None:
        store.add_results(job_id, lines)
        for line in lines:
            counts[line["outcome"]] = counts.get(line["outcome"], 0) + 1
        record.update(done=sum(counts.values()), total=sum(counts.values()), counts=dict(counts))
        store.put_record(job_id, record)
        if meta:
            meta(record)

    def finish(state: JobState, error: str = "") -> dict[str, Any]:
        record.update(state=state.value, error=error, ended_at=now(), current="")
        store.put_record(job_id, record)
        if meta:
            meta(record)
        return {"state": state.value, "counts": record.get("counts", {}), "error": error}

    try:
        report = undo_run(
            settings_fn(),
            run_id,
            undo_id=job_id,
            record=lambda objects: store.add_objects(job_id, objects),
            progress=progress,
        )
    except ImporterError as exc:
        return finish(JobState.FAILED, str(exc))
    record["by"] = report.by
    failed = report.error or (
        f"{counts['failed']} object(s) could not be undone" if counts.get("failed") else ""
    )
    undone = store.get_record(run_id)
    if undone is not None and not failed:  # a failed undo can be run again: it does what is left
        undone["undone_by"] = job_id
        store.put_record(run_id, undone)
    return finish(JobState.FAILED if failed else JobState.FINISHED, failed)


def execute_search(
    store: Store,
    job_id: str,
    settings_fn: Callable[[], Settings],
    flt: DeviceFilter,
    server_key: str | None,
    meta: MetaSink | None = None,
) -> dict[str, Any]:
    """Run one search and store its result under the job id (load it with `load_search`). Returns the job's
    RQ result: {state, search_id, counts} or {state, error}."""
    record = store.get_record(job_id) or new_record(job_id, JobKind.SEARCH, JobMode.WORKER, total=100)
    record.update(state=JobState.RUNNING.value, started_at=now())
    store.put_record(job_id, record)

    def progress(what: str, fraction: float) -> None:
        record.update(current=what, done=round(fraction * 100), total=100)
        store.put_record(job_id, record)
        if meta:
            meta(record)

    try:
        settings = settings_fn()
        result = run_search(settings, flt, server_key=server_key, progress=progress)
    except ImporterError as exc:
        record.update(state=JobState.FAILED.value, error=str(exc), ended_at=now(), current="")
        store.put_record(job_id, record)
        if meta:
            meta(record)
        return {"state": JobState.FAILED.value, "error": str(exc)}
    entry = store_search(store, result, job_id, analyst=settings.analyst)
    record.update(state=JobState.FINISHED.value, ended_at=now(), counts=entry["counts"], done=100, current="")
    store.put_record(job_id, record)
    if meta:
        meta(record)
    return {"state": JobState.FINISHED.value, "search_id": job_id, "counts": entry["counts"]}


def start_thread(store: Store, job_id: str, target: Callable[[], Any]) -> threading.Thread:
    """Run `target` in a daemon thread of this process, heartbeating into `store` every HEARTBEAT_SECONDS,
    so a job whose app process died shows abandoned (core.jobs.status) instead of running forever."""
    done = threading.Event()

    def beat() -> None:
        while not done.wait(0):
            with contextlib.suppress(Exception):
                store.touch_alive(job_id)
            done.wait(defaults.HEARTBEAT_SECONDS)

    def run() -> None:
        try:
            target()
        except Exception as exc:  # a bug, not a user error: keep the job readable as failed
            log.exception("in-process job %s failed", job_id)
            with contextlib.suppress(Exception):
                record = store.get_record(job_id) or {}
                record.update(
                    state=JobState.FAILED.value, error=f"{exc.__class__.__name__}: {exc}", ended_at=now()
                )
                store.put_record(job_id, record)
        finally:
            done.set()

    store.touch_alive(job_id)
    threading.Thread(target=beat, name=f"job-heartbeat-{job_id}", daemon=True).start()
    thread = threading.Thread(target=run, name=f"job-{job_id}", daemon=True)
    thread.start()
    return thread
