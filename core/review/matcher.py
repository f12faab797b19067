"""The one matcher: which existing NetBox object a LibreNMS device already is. Validation uses it on the
search's index; the importer uses it again under its locks, on what NetBox holds at that moment."""

from __future__ import annotations

from dataclasses import dataclass

from core.choices import Kind, MatchBy
from core.librenms import LibreDevice
from core.netbox import Existing, ExistingMatch, NetBoxIndex
from core.values import fold


@dataclass(frozen=True, slots=True)
class Match:
    """What the matcher found for one device.

    existing: the one object it is (None when none, or several).
    conflicts: the objects it matches when it matches more than one.
    taken: objects with its name in its site that are linked to another LibreNMS device (the name is taken).
    """

    existing: ExistingMatch | None = None
    conflicts: tuple[ExistingMatch, ...] = ()
    taken: tuple[ExistingMatch, ...] = ()

    @property
    def found(self) -> bool:
        """True when the device must not be created: it exists, matches several objects, or its name is taken."""
        return self.existing is not None or bool(self.conflicts) or bool(self.taken)


def find_existing(device: LibreDevice, name: str, index: NetBoxIndex, site_id: int | None = None) -> Match:
    """librenms_id first (an object linked to this device is it); else serial, name and primary IP."""
    linked = index.by_librenms.get(device.key, [])
    if len(linked) == 1:
        return Match(existing=index.match(linked[0], MatchBy.LIBRENMS_ID))
    if len(linked) > 1:
        return Match(conflicts=tuple(index.match(e, MatchBy.LIBRENMS_ID) for e in linked))
    found: dict[tuple[Kind, int], tuple[Existing, MatchBy]] = {}
    taken: list[ExistingMatch] = []
    lookups = (
        (MatchBy.SERIAL, index.by_serial.get(fold(device.serial), []) if device.serial else []),
        (MatchBy.NAME, index.by_name.get(fold(name), []) if name else []),
        (MatchBy.PRIMARY_IP, index.by_ip.get(device.ip, []) if device.ip else []),
    )
    for by, items in lookups:
        for item in items:
            other = item.librenms_ids.get(device.server_key)
            if other is not None and other != device.device_id:
                # that object is another LibreNMS device; sharing its name in its site blocks the import
                if by is MatchBy.NAME and (site_id is None or item.site_id in (None, site_id)):
                    taken.append(index.match(item, by))
                continue
            found.setdefault((item.kind, item.id), (item, by))
    matches = tuple(index.match(item, by) for item, by in found.values())
    if len(matches) == 1:
        return Match(existing=matches[0], taken=tuple(taken))
    return Match(conflicts=matches if len(matches) > 1 else (), taken=tuple(taken))
