"""What NetBox must have for the import: the librenms_id custom field (checked, created when allowed) and
the import tag."""

from __future__ import annotations

from dataclasses import dataclass

import pynetbox

from core import defaults
from core.choices import FieldType
from core.errors import NetBoxSetupError
from core.netbox.gateway import call

OBJECT_TYPES = ["dcim.device", "virtualization.virtualmachine"]


@dataclass(frozen=True, slots=True)
class FieldInfo:
    """The librenms_id custom field as this NetBox has it."""

    type: FieldType  # integer (ours), json (the netbox-librenms-plugin's shape) or text
    object_types: tuple[str, ...]


def librenms_field(api: pynetbox.api) -> FieldInfo | None:
    found = call(
        api,
        "read custom fields",
        lambda: list(api.extras.custom_fields.filter(name=defaults.LIBRENMS_ID_FIELD)),
    )
    if not found:
        return None
    cf = found[0]
    ftype = cf.type.value if hasattr(cf.type, "value") else str(cf.type)
    try:
        field_type = FieldType(ftype)
    except ValueError:
        raise NetBoxSetupError(
            f"NetBox's 'librenms_id' custom field has the type '{ftype}'.",
            hint="It must be Integer (or JSON, as the netbox-librenms-plugin makes it).",
        ) from None
    return FieldInfo(type=field_type, object_types=tuple(cf.object_types or ()))


MISSING_FIELD_HINT = (
    "In NetBox: Customization → Custom Fields → Add: name 'librenms_id', type Integer, object types "
    "'DCIM > Device' and 'Virtualization > Virtual machine'. Or let the app create it (needs a token that may "
    "add custom fields)."
)


def ensure_librenms_field(api: pynetbox.api, *, create: bool = True) -> FieldInfo:
    """Check that the librenms_id custom field exists on devices and VMs; create it when allowed."""
    info = librenms_field(api)
    if info is None:
        if not create:
            raise NetBoxSetupError("NetBox has no 'librenms_id' custom field.", hint=MISSING_FIELD_HINT)
        call(
            api,
            "create the librenms_id custom field",
            lambda: api.extras.custom_fields.create(
                {
                    "name": defaults.LIBRENMS_ID_FIELD,
                    "label": "LibreNMS ID",
                    "type": FieldType.INTEGER.value,
                    "object_types": OBJECT_TYPES,
                    "description": "Device id in LibreNMS (set by the LibreNMS importer)",
                    "required": False,
                }
            ),
        )
        return FieldInfo(type=FieldType.INTEGER, object_types=tuple(OBJECT_TYPES))
    missing = [t for t in OBJECT_TYPES if t not in info.object_types]
    if missing:
        raise NetBoxSetupError(
            f"The 'librenms_id' custom field is not enabled for {', '.join(missing)}.",
            hint="Add those object types to the field in NetBox (Customization → Custom Fields).",
        )
    return info


def ensure_import_tag(api: pynetbox.api) -> int:
    """The id of the tag every imported object carries (created when missing)."""
    tag = call(api, "read tags", lambda: api.extras.tags.get(slug=defaults.IMPORT_TAG_SLUG))
    if tag is None:
        tag = call(
            api,
            "create the import tag",
            lambda: api.extras.tags.create(
                {"name": defaults.IMPORT_TAG_NAME, "slug": defaults.IMPORT_TAG_SLUG, "color": "2196f3"}
            ),
        )
    return tag.id
