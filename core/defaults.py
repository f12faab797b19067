"""Every default the product uses, in one place: timeouts, retries, TTLs, batch sizes, names."""

from __future__ import annotations

# LibreNMS
LIBRENMS_CONNECT_TIMEOUT = 5.0
LIBRENMS_READ_TIMEOUT = 90.0  # the device list of a large install can take tens of seconds (contract §6)
LIBRENMS_RETRIES = 3
LIBRENMS_BACKOFF = 0.5  # seconds, doubled after each retry
LIBRENMS_CACHE_SECONDS = 300
INVENTORY_POOL_SIZE = 8
DEFAULT_SERVER_KEY = "default"

# NetBox
NETBOX_TIMEOUT = 60.0
NETBOX_PAGE_SIZE = 1000
# Below this many candidates per existing object, targeted multi-value filters beat loading everything.
TARGETED_LOOKUP_RATIO = 20
TARGETED_FILTER_CHUNK = 100  # values per multi-value filter request (URL length stays well under 8 KB)
LIBRENMS_ID_FIELD = "librenms_id"
IMPORT_TAG_SLUG = "librenms-import"
IMPORT_TAG_NAME = "Imported from LibreNMS"
NAME_MAX_LENGTH = 64
STACK_NAME_PATTERN = "{name}"  # virtual chassis name; member devices are "{name}-{position}"
STACK_MEMBER_PATTERN = "{name}-{position}"
IMPORT_BATCH_SIZE = 50
IMPORT_CONCURRENCY = 2  # batches in flight: NetBox serves one bulk POST on one core; this machine has 2

# Redis / RQ
REDIS_URL = "redis://127.0.0.1:6379/2"  # NetBox uses databases 0 and 1
QUEUE_NAME = "librenms-import"
RESULT_TTL_SECONDS = 14 * 24 * 3600
JOB_TIMEOUT_SECONDS = 3 * 3600
WORKER_HEARTBEAT_GRACE = 60
RECENT_SEARCHES_KEPT = 20
POLL_INTERVAL_SECONDS = 1.0

# Files
MAPPING_FILE = "mappings.yaml"
