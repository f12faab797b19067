"""Every fixed vocabulary of the product, as StrEnums: pages, CSV, jobs and NetBox payloads share them.

A value here is what users read (row statuses, outcomes, job states) or what is stored (job records,
CSV cells), so renaming a member's value is a change of format.
"""

from __future__ import annotations

from enum import StrEnum


class Kind(StrEnum):
    """What a LibreNMS device becomes in NetBox."""

    DEVICE = "device"
    VM = "vm"


class RowStatus(StrEnum):
    READY = "ready"
    NEEDS_INPUT = "needs input"
    EXISTS = "exists"
    CONFLICT = "conflict"
    BLOCKED = "blocked"


class Severity(StrEnum):
    BLOCKING = "blocking"
    WARNING = "warning"


class Source(StrEnum):
    """Where a resolved value came from, shown next to it in the row details."""

    USER = "set by user"
    EXACT = "exact name"
    SLUG = "slug"
    MAPPING = "mapping table"
    PART_NUMBER = "part number"
    MODEL = "model"
    RULE = "default rule"
    CLUSTER = "from cluster"
    LIBRENMS = "LibreNMS"
    IN_LOCATION = "named in the LibreNMS location"
    RACK = "from rack"


class MatchBy(StrEnum):
    """How a LibreNMS device was found to be an existing NetBox object."""

    LIBRENMS_ID = "librenms_id"
    SERIAL = "serial"
    NAME = "name"
    PRIMARY_IP = "primary IP"


class NameSource(StrEnum):
    """Which LibreNMS field gives the NetBox name (setting NAME_SOURCE)."""

    SYSNAME = "sysName"
    HOSTNAME = "hostname"


class StackShape(StrEnum):
    """How a stack's members appear in the ENTITY-MIB inventory (docs/librenms-api.md#4-inventory-and-stacks)."""

    IOS_XE = "ios-xe"
    CLASSIC_IOS = "classic-ios"
    CHASSIS_TREE = "chassis-tree"


class FieldType(StrEnum):
    """The type of NetBox's librenms_id custom field: ours (integer), the netbox-librenms-plugin's (json)."""

    INTEGER = "integer"
    JSON = "json"
    TEXT = "text"


class Outcome(StrEnum):
    """What the import did with one row."""

    CREATED = "created"
    COMPLETED = "completed"  # NetBox had it from an earlier, interrupted run: what was missing was added
    PARTIAL = (
        "partial"  # created or updated, but a step failed (primary IP, stack master): a resume completes it
    )
    SKIPPED = "skipped"
    UPDATED = "updated"  # an existing object was linked or brought up to date
    FAILED = "failed"


class PlanAction(StrEnum):
    """What the plan of an import does with a ticked row."""

    CREATE = "create"
    SKIP = "skip"  # already in NetBox
    UPDATE = "update"  # already in NetBox: the fields LibreNMS owns that differ are written
    LINK = "link"  # already in NetBox: only its librenms_id is written
    LEAVE_OUT = "leave out"  # not ready


class Owner(StrEnum):
    """Which side a field of an existing device belongs to (the mapping file's `ownership`)."""

    LIBRENMS = "librenms"  # LibreNMS knows it best: an update may overwrite NetBox's value
    NETBOX = "netbox"  # NetBox's own: shown when it differs, never written


class SyncField(StrEnum):
    """A field of an existing NetBox device or VM that the review compares with LibreNMS."""

    NAME = "name"
    SERIAL = "serial"
    SITE = "site"
    LOCATION = "location"
    RACK = "rack"
    DEVICE_TYPE = "device_type"
    PLATFORM = "platform"
    STATUS = "status"
    PRIMARY_IP = "primary_ip"
    CLUSTER = "cluster"
    LIBRENMS_ID = "librenms_id"
    STACK = "stack"  # virtual-chassis membership, member serials and positions


class Sync(StrEnum):
    """How an existing NetBox object compares with LibreNMS."""

    IN_SYNC = "in sync"  # nothing LibreNMS owns differs
    DIFFERS = "differs"  # at least one field LibreNMS owns differs: an update would write it


class ExistingAction(StrEnum):
    """What the analyst chose to do with a row NetBox already has."""

    LEAVE = "leave"  # nothing (the default)
    LINK = "link"  # write librenms_id only, in the field's shape
    UPDATE = "update"  # write the chosen fields LibreNMS owns that differ (and librenms_id)


class JobState(StrEnum):
    """What the app shows for a job."""

    QUEUED = "queued"
    RUNNING = "running"
    FINISHED = "finished"
    STOPPED = "stopped"  # cancelled while running: what finished before is kept
    CANCELED = "canceled"  # cancelled before it started
    FAILED = "failed"
    ABANDONED = "abandoned"  # its worker died (killed, crashed, machine gone)
    EXPIRED = "expired"  # Redis no longer knows it (results expired, or Redis was reset)

    @property
    def active(self) -> bool:
        return self in (JobState.QUEUED, JobState.RUNNING)


class JobMode(StrEnum):
    """Where a job runs."""

    WORKER = "worker"
    IN_PROCESS = "in-process"


class JobKind(StrEnum):
    IMPORT = "import"
    SEARCH = "search"
    UNDO = "undo"  # the undo of an import run: a run of its own


class AuthMode(StrEnum):
    """How the app knows who uses it (setting AUTH)."""

    NETBOX = "netbox"  # sign in with a NetBox username and password (or one's own NetBox token)
    OIDC = "oidc"  # single sign-on through an OpenID Connect provider (Streamlit's st.login); writes use the service token
    NONE = "none"  # no sign-in: one user on their own machine, acting with the service token


class SignInMethod(StrEnum):
    """How an analyst signed in: what the app writes to NetBox with, and what sign-out deletes."""

    PASSWORD = "NetBox password"  # the app asked NetBox for a personal, expiring token; sign-out deletes it
    TOKEN = "own NetBox token"  # pasted by the analyst (SSO users); sign-out forgets it, NetBox keeps it
    SSO = "single sign-on"  # AUTH=oidc: identity from the provider, writes with the service token
    NONE = "no sign-in"  # AUTH=none: the service token
