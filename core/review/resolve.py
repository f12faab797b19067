"""Finding the NetBox object a LibreNMS value names: the user's choice, the exact name or slug, the mapping
table; for device types also the part number and model; locations named in the LibreNMS location."""

from __future__ import annotations

from core.choices import Source
from core.mapping import Mappings
from core.netbox import Catalog, NetBoxIndex, Obj
from core.review.row import Ref
from core.values import fold


def ref(obj: Obj, source: Source) -> Ref:
    return Ref(id=obj.id, name=obj.name, slug=obj.slug, source=source, site_id=obj.site_id)


def resolve(catalog: Catalog, value: str, mapped: str | None, *, user: str | None = None) -> Ref | None:
    """A user's choice, then the exact name/slug, then the mapping table."""
    if user:
        found = catalog.find(user)
        return ref(found, Source.USER) if found else None
    if value:
        found = catalog.by_name.get(fold(value))
        if found:
            return ref(found, Source.EXACT)
        found = catalog.by_slug.get(fold(value))
        if found:
            return ref(found, Source.SLUG)
    if mapped:
        found = catalog.find(mapped) or catalog.by_extra.get(fold(mapped))
        if found:
            return ref(found, Source.MAPPING)
    return None


def resolve_device_type(
    index: NetBoxIndex, mappings: Mappings, hardware: str, user: str | None = None
) -> Ref | None:
    """Mapping table, then part number, then model (all case-insensitive)."""
    catalog = index.device_types
    if user:
        found = catalog.find(user) or catalog.by_extra.get(fold(user))
        return ref(found, Source.USER) if found else None
    mapped = mappings.lookup("device_types", hardware)
    if mapped:
        found = catalog.find(mapped) or catalog.by_extra.get(fold(mapped))
        if found:
            return ref(found, Source.MAPPING)
    key = fold(hardware)
    if not key:
        return None
    if key in catalog.by_extra:
        return ref(catalog.by_extra[key], Source.PART_NUMBER)
    if key in catalog.by_name:
        return ref(catalog.by_name[key], Source.MODEL)
    return None


def find_location(index: NetBoxIndex, site: Ref | None, text: str) -> Ref | None:
    """The NetBox location of the site whose name the LibreNMS location carries ("HQ Building 2, Floor 3,
    IDF-3B" → location "IDF-3B" of site HQ); the longest name wins. None when it names none."""
    if site is None or not text:
        return None
    hay = text.casefold()
    named = [loc for loc in index.locations if loc.site_id == site.id and loc.name.casefold() in hay]
    if not named:
        return None
    return ref(max(named, key=lambda loc: len(loc.name)), Source.IN_LOCATION)


def location_of(index: NetBoxIndex, site: Ref | None, rack: Ref | None, text: str) -> Ref | None:
    """A device in a rack stands in the rack's location (NetBox refuses any other); else the location
    its LibreNMS location names."""
    if rack is not None:
        rack_obj = index.racks.by_id.get(rack.id)
        located = (
            index.locations.by_id.get(rack_obj.location_id) if rack_obj and rack_obj.location_id else None
        )
        return ref(located, Source.RACK) if located else None
    return find_location(index, site, text)
