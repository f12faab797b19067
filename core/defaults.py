"""Every default the product uses, in one place: timeouts, retries, TTLs, batch sizes, names."""

from __future__ import annotations

# LibreNMS
LIBRENMS_CONNECT_TIMEOUT = 5.0
# the device list of a large install can take tens of seconds (docs/librenms-api.md#7-size-and-speed)
LIBRENMS_READ_TIMEOUT = 90.0
LIBRENMS_RETRIES = 3
LIBRENMS_BACKOFF = 0.5  # seconds, doubled after each retry
LIBRENMS_CACHE_SECONDS = 300
INVENTORY_POOL_SIZE = 8
NETBOX_READ_POOL_SIZE = 4  # a search's independent NetBox reads at once (reference data, lookups)
# A device's inventory is read again when LibreNMS rediscovers it; kept at most this long in any case
INVENTORY_TTL_SECONDS = 30 * 24 * 3600
DEFAULT_SERVER_KEY = "default"  # the key of the one LibreNMS server set by LIBRENMS_URL alone
HEALTH_CHECK_TIMEOUT = 10.0  # the Connections page and `check`: a service slower than this is failing

# NetBox
NETBOX_TIMEOUT = 60.0
# Transient NetBox failures (5xx, connection errors, timeouts) are tried again where that is safe
# (core.netbox.retry): this many tries in all, waiting NETBOX_BACKOFF seconds before the second, doubled after.
NETBOX_ATTEMPTS = 3
NETBOX_BACKOFF = 0.5
NETBOX_PAGE_SIZE = 1000
# Below this many candidates per existing object, targeted multi-value filters beat loading everything.
TARGETED_LOOKUP_RATIO = 20
TARGETED_FILTER_CHUNK = 100  # values per multi-value filter request (URL length stays well under 8 KB)
IF_MATCH_CHUNK = 100  # objects per update PATCH: their ETags (~45 characters each) share one If-Match header
LIBRENMS_ID_FIELD = "librenms_id"
IMPORT_TAG_SLUG = "librenms-import"
IMPORT_TAG_NAME = "Imported from LibreNMS"
NAME_MAX_LENGTH = 64  # NetBox's limit on device and VM names
SERIAL_MAX_LENGTH = 50  # NetBox's limit on serial numbers
STACK_NAME_PATTERN = "{name}"  # virtual chassis name; member devices are "{name}-{position}"
STACK_MEMBER_PATTERN = "{name}-{position}"
MANAGEMENT_INTERFACE = "mgmt0"  # when LibreNMS names no port for the management address
CHANGELOG_MESSAGE = "LibreNMS import, run {run_id}"  # on every change an import makes in NetBox
RESUME_MESSAGE = "LibreNMS import, run {run_id}, resuming run {resumed}"  # so the resumed run's undo has it
UNDO_MESSAGE = "LibreNMS undo of run {undone}, run {run_id}"
BY_ANALYST = ", by {analyst}"  # appended to each of the three when someone signed in
CHANGELOG_PREFIXES = ("LibreNMS import, run ", "LibreNMS undo of run ")
CHANGELOG_PAGE = 1000  # changelog entries per request
IMPORT_BATCH_SIZE = 50
IMPORT_CONCURRENCY = 3  # batches in flight (bench/import_devices.py: 3 beat 2 on a 2-core NetBox)

# Redis / RQ
REDIS_URL = "redis://127.0.0.1:6379/2"  # NetBox uses databases 0 and 1
REDIS_TIMEOUT_SECONDS = 5.0
REDIS_CONNECT_TIMEOUT_SECONDS = 2.0
QUEUE_NAME = "librenms-import"
RESULT_TTL_SECONDS = 14 * 24 * 3600
RUN_TTL_SECONDS = 90 * 24 * 3600  # an import or undo run's record, results and plan (undo needs them)
JOB_TIMEOUT_SECONDS = 3 * 3600
JOBS_KEPT = 500  # entries of the recent-jobs index
WORKER_HEARTBEAT_GRACE = 60
# The worker heartbeats this often, while idle and while a job runs; well inside WORKER_HEARTBEAT_GRACE.
HEARTBEAT_SECONDS = max(1, WORKER_HEARTBEAT_GRACE // 4)
# A lock outlives any one batch (50 devices take seconds); a killed job's locks are released when it is seen
# abandoned or stopped, or expire after this.
LOCK_TTL_SECONDS = 600
# A running import gives its device locks their full LOCK_TTL_SECONDS again this often (core.jobs.RedisLocks):
# a long run keeps them, a killed one loses them after the TTL.
LOCK_REFRESH_SECONDS = LOCK_TTL_SECONDS // 6
RECENT_SEARCHES_KEPT = 20
POLL_INTERVAL_SECONDS = 1.0

# Sign-in
SESSION_HOURS = 8.0  # a personal token the app asks NetBox for expires after this (a working day)
TOKEN_DESCRIPTION = "LibreNMS importer sign-in"  # on the personal tokens, as NetBox's token list shows them
ADMIN_GROUP = "librenms-importer-admins"  # NetBox group whose members may do admin actions (and superusers)
# AUTH=oidc: the first of these claims the identity provider gives names the analyst (as NetBox knows them)
OIDC_USERNAME_CLAIMS = ("preferred_username", "email", "sub")
SESSION_SWEEP_SECONDS = 30  # how often the app deletes the tokens of sessions that have ended

# The app
SERVICE_STATES_SECONDS = 30  # the sidebar's service states are checked at most this often
LOCATIONS_CACHE_SECONDS = 300  # the Import page's list of LibreNMS locations
GRID_PAGE_ROWS = 5000  # rows in the Import page's grid at once; more are paged (README, Speed)
MAPPINGS_PAGE_CACHE_SECONDS = 60  # NetBox objects and LibreNMS devices on the Mappings page

# Files
MAPPING_FILE = "mappings.yaml"
