"""What an import reports: one result line per row, progress while it runs, the report at the end."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from core.choices import Outcome
from core.netbox import ExistingMatch
from core.review import Row


@dataclass(slots=True)
class RowResult:
    server_key: str
    librenms_id: int
    name: str
    outcome: Outcome
    kind: str = ""
    message: str = ""
    netbox_id: int | None = None
    url: str = ""
    extra: list[str] = field(default_factory=list)  # e.g. "primary IP 10.0.0.1/24", "member 2 linked"

    @classmethod
    def of(cls, row: Row, outcome: Outcome, message: str, *, kind: str = "", **details: Any) -> RowResult:
        """The result line of one row."""
        return cls(
            row.device.server_key,
            row.device.device_id,
            row.name,
            outcome,
            kind or row.kind.value,
            message=message,
            **details,
        )

    @classmethod
    def exists(cls, row: Row, match: ExistingMatch) -> RowResult:
        """Skipped: NetBox already has this device (with the link to it)."""
        return cls.of(
            row,
            Outcome.SKIPPED,
            f"already in NetBox as {match.kind.value} '{match.name}' (matched by {match.by.value})",
            kind=match.kind.value,
            netbox_id=match.id,
            url=match.url,
        )

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["outcome"] = self.outcome.value
        return out


@dataclass(slots=True)
class Progress:
    done: int
    total: int
    current: str
    counts: dict[str, int]


# where an import's time goes, in the order it happens (ImportReport.stages)
STAGES = ("re-check", "permissions", "device writes", "updates", "stacks", "addresses", "primary IPs")


@dataclass(slots=True)
class ImportReport:
    run_id: str = ""  # named in NetBox's changelog message of every change the run made
    results: list[RowResult] = field(default_factory=list)
    stopped: bool = False
    error: str = ""  # set when the whole job ended early (e.g. a missing permission)
    netbox_requests: int = 0
    seconds: float = 0.0
    objects: list[dict[str, Any]] = field(default_factory=list)  # what NetBox confirmed (core.runs.objects)
    record_lost: bool = False  # the record's store failed: NetBox's changelog has the whole run
    by: str = ""  # the NetBox user its changes are in the changelog under
    # seconds per stage (STAGES), summed over the batches in flight: with two at once they may add up to
    # more than `seconds`
    stages: dict[str, float] = field(default_factory=dict)

    def add_time(self, stage: str, seconds: float) -> None:
        self.stages[stage] = self.stages.get(stage, 0.0) + seconds

    def counts(self) -> dict[str, int]:
        counts = {o.value: 0 for o in Outcome}
        for result in self.results:
            counts[result.outcome.value] += 1
        return counts
