"""NetBox: the gateway (connect, call, translate errors), bulk writes, setup (custom field, tag),
librenms_id shapes, permission checks, and the index validation reads."""

from core.netbox.bulk import bulk_create, bulk_update
from core.netbox.failures import bulk_item_errors, describe_error_body, translate
from core.netbox.gateway import CountingSession, auth_header, base_url, call, connect, request_count, status
from core.netbox.index import Catalog, Existing, ExistingMatch, NetBoxIndex, Obj
from core.netbox.librenms_ids import librenms_field_value, parse_librenms_ids
from core.netbox.loading import Candidates, load_existing, load_index
from core.netbox.permissions import missing_permissions
from core.netbox.setup import (
    MISSING_FIELD_HINT,
    OBJECT_TYPES,
    FieldInfo,
    ensure_import_tag,
    ensure_librenms_field,
    librenms_field,
)

__all__ = [
    "MISSING_FIELD_HINT",
    "OBJECT_TYPES",
    "Candidates",
    "Catalog",
    "CountingSession",
    "Existing",
    "ExistingMatch",
    "FieldInfo",
    "NetBoxIndex",
    "Obj",
    "auth_header",
    "base_url",
    "bulk_create",
    "bulk_item_errors",
    "bulk_update",
    "call",
    "connect",
    "describe_error_body",
    "ensure_import_tag",
    "ensure_librenms_field",
    "librenms_field",
    "librenms_field_value",
    "load_existing",
    "load_index",
    "missing_permissions",
    "parse_librenms_ids",
    "request_count",
    "status",
    "translate",
]
