"""The importer: what a job carries (items), the plan, the run (re-check under locks, bulk writes, stacks,
primary IPs) and what it reports."""

from core.importer.context import ProgressFn, StopFn
from core.importer.items import ImportItem
from core.importer.locks import LocalLocks, Locks
from core.importer.plan import Plan, PlannedObject, RowPlan, plan_rows
from core.importer.precheck import missing_permissions, refusal
from core.importer.results import ImportReport, Progress, RowResult
from core.importer.run import run_import

__all__ = [
    "ImportItem",
    "ImportReport",
    "LocalLocks",
    "Locks",
    "Plan",
    "PlannedObject",
    "Progress",
    "ProgressFn",
    "RowPlan",
    "RowResult",
    "StopFn",
    "missing_permissions",
    "plan_rows",
    "refusal",
    "run_import",
]
