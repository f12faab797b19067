"""The state one import run shares between its steps and batches (which run in parallel threads)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import pynetbox

from core.errors import ImportStopped
from core.importer.results import ImportReport, Progress, RowResult
from core.librenms import LibreNMSClient
from core.review import Review
from core.settings import Settings

ProgressFn = Callable[[Progress, list[RowResult]], None]  # (progress, results finished since the last call)
StopFn = Callable[[], bool]


@dataclass
class RunContext:
    settings: Settings
    api: pynetbox.api
    review: Review
    librenms: LibreNMSClient
    report: ImportReport
    progress: ProgressFn
    should_stop: StopFn
    total: int
    tag_id: int = 0
    seen: dict[tuple[str, int], str] = field(default_factory=dict)  # updates: the reviewed object versions
    resumes: str = ""  # the run this one resumes: its own changes since the review are no one else's
    pending: list[RowResult] = field(default_factory=list)
    done: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def finish(self, result: RowResult) -> None:
        """One row is done: its result line is kept and reported with the next tick."""
        with self.lock:
            self.report.results.append(result)
            self.pending.append(result)
            self.done += 1

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Time a step of the import (core.importer.results.STAGES); batches in flight add up."""
        t0 = time.perf_counter()
        try:
            yield
        finally:
            with self.lock:
                self.report.add_time(name, time.perf_counter() - t0)

    def finished_keys(self) -> set[tuple[str, int]]:
        """The rows that have their result line already, as (server key, LibreNMS id)."""
        with self.lock:
            return {(result.server_key, result.librenms_id) for result in self.report.results}

    def report_progress(self, current: str) -> None:
        """Report progress and the result lines finished since the last report."""
        with self.lock:
            self.progress(Progress(self.done, self.total, current, self.report.counts()), self.pending)
            self.pending = []

    def tick(self, current: str) -> None:
        """Report progress; raises ImportStopped when the analyst asked to stop (a safe point)."""
        self.report_progress(current)
        if self.should_stop():
            raise ImportStopped("The import was stopped.")
