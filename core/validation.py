"""Validation: (LibreNMS device, NetBox index, mappings, the user's choices) → a Row with status and issues.

Pure functions, no network. `Review` holds the rows of one search and applies edits (role, rack, cluster,
kind, overrides), re-validating only the touched rows and the rows they share a conflict with.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, replace

from core import defaults
from core.mapping import Mappings
from core.models import (
    ExistingMatch,
    Issue,
    Kind,
    LibreDevice,
    MatchBy,
    Overrides,
    Ref,
    Row,
    RowStatus,
    Severity,
    Source,
    Stack,
    is_ip,
)
from core.netbox import Catalog, Existing, NetBoxIndex, Obj

# Fields whose blocking issues the analyst fixes in the grid: such a row "needs input", it is not blocked.
INPUT_FIELDS = frozenset({"role", "cluster", "rack", "name", "kind"})

VM_HARDWARE = re.compile(
    r"VMware Virtual Platform|VMware\d+,\d+|^QEMU|\bKVM\b|OpenStack|Microsoft Corporation Virtual Machine|"
    r"Xen HVM|Amazon EC2|Google Compute Engine|VirtualBox|Nutanix AHV|Parallels Virtual",
    re.IGNORECASE,
)
VM_SERIAL = re.compile(
    r"^VMware-|^0000-00\d\d-|^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE
)
VIRTUAL_APPLIANCE = re.compile(r"^FGVM|PA-VM|CSR1000V|C8000V|VSRX|\bvEOS|cEOSLab", re.IGNORECASE)
# sysNames that ship as factory defaults: never a useful device name
DEFAULT_SYSNAMES = frozenset(
    {"switch", "router", "localhost", "ubuntu", "debian", "ap", "firewall", "fortigate"}
)


@dataclass(frozen=True, slots=True)
class Options:
    name_source: str = "sysName"  # or "hostname"
    strip_domain: bool = True


# ------------------------------------------------------------------ single values


def device_name(
    device: LibreDevice, options: Options, shared_sysnames: frozenset[str] = frozenset()
) -> tuple[str, list[Issue]]:
    """The NetBox name: sysName or hostname (a setting), domain stripped unless it is an IP address."""
    issues: list[Issue] = []
    name = device.hostname
    if options.name_source == "sysName":
        sysname = device.sysname
        folded = sysname.casefold()
        if not sysname:
            pass
        elif folded in DEFAULT_SYSNAMES or folded in shared_sysnames:
            why = "a factory default" if folded in DEFAULT_SYSNAMES else "shared by other LibreNMS devices"
            issues.append(
                Issue(
                    "name", Severity.WARNING, f"sysName '{sysname}' is {why}; the hostname is used", sysname
                )
            )
        else:
            name = sysname
    if options.strip_domain and not is_ip(name) and "." in name:
        name = name.split(".", 1)[0]
    if len(name) > defaults.NAME_MAX_LENGTH:
        issues.append(
            Issue(
                "name",
                Severity.BLOCKING,
                f"is {len(name)} characters; NetBox allows {defaults.NAME_MAX_LENGTH}",
                name,
                "set a shorter name for this row",
            )
        )
    return name, issues


def detect_kind(device: LibreDevice) -> tuple[Kind, str]:
    """Device or VM, from the signals of the contract §5, strongest first; the reason in words."""
    if device.parent_id is not None:
        return Kind.VM, f"LibreNMS lists it as a guest of hypervisor device {device.parent_id}"
    if device.os == "vmware-esxi":
        return Kind.DEVICE, "VMware ESXi host (a hypervisor is physical)"
    if VM_HARDWARE.search(device.hardware):
        return Kind.VM, f"virtual hardware '{device.hardware}'"
    if VIRTUAL_APPLIANCE.search(device.hardware):
        return Kind.VM, f"virtual appliance model '{device.hardware}'"
    if device.serial and VM_SERIAL.search(device.serial):
        return Kind.VM, f"virtual machine serial '{device.serial}'"
    return Kind.DEVICE, "no virtualisation signal (physical unless you say otherwise)"


def _ref(obj: Obj, source: Source) -> Ref:
    return Ref(id=obj.id, name=obj.name, slug=obj.slug, source=source, site_id=obj.site_id)


def resolve(catalog: Catalog, value: str, mapped: str | None, *, user: str | None = None) -> Ref | None:
    """A user's choice, then the exact name/slug, then the mapping table."""
    if user:
        found = catalog.find(user)
        return _ref(found, Source.USER) if found else None
    if value:
        found = catalog.by_name.get(value.strip().casefold())
        if found:
            return _ref(found, Source.EXACT)
        found = catalog.by_slug.get(value.strip().casefold())
        if found:
            return _ref(found, Source.SLUG)
    if mapped:
        found = catalog.find(mapped) or catalog.by_extra.get(mapped.strip().casefold())
        if found:
            return _ref(found, Source.MAPPING)
    return None


def resolve_device_type(
    index: NetBoxIndex, mappings: Mappings, hardware: str, user: str | None = None
) -> Ref | None:
    """Mapping table, then part number, then model (all case-insensitive)."""
    catalog = index.device_types
    if user:
        found = catalog.find(user) or catalog.by_extra.get(user.strip().casefold())
        return _ref(found, Source.USER) if found else None
    mapped = mappings.lookup("device_types", hardware)
    if mapped:
        found = catalog.find(mapped) or catalog.by_extra.get(mapped.strip().casefold())
        if found:
            return _ref(found, Source.MAPPING)
    key = hardware.strip().casefold()
    if not key:
        return None
    if key in catalog.by_extra:
        return _ref(catalog.by_extra[key], Source.PART_NUMBER)
    if key in catalog.by_name:
        return _ref(catalog.by_name[key], Source.MODEL)
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
    return _ref(max(named, key=lambda loc: len(loc.name)), Source.IN_LOCATION)


def _location(index: NetBoxIndex, site: Ref | None, rack: Ref | None, text: str) -> Ref | None:
    """A device in a rack stands in the rack's location (NetBox refuses any other); else the location
    its LibreNMS location names."""
    if rack is not None:
        rack_obj = index.racks.by_id.get(rack.id)
        located = (
            index.locations.by_id.get(rack_obj.location_id) if rack_obj and rack_obj.location_id else None
        )
        return _ref(located, Source.RACK) if located else None
    return find_location(index, site, text)


def find_existing(
    device: LibreDevice, name: str, index: NetBoxIndex, site_id: int | None = None
) -> tuple[ExistingMatch | None, list[ExistingMatch], list[ExistingMatch]]:
    """librenms_id → serial → name → primary IP.

    Returns (the one match or None, the objects it matches when more than one, objects of the same name in
    the same site that are linked to another LibreNMS device: the name is taken).
    """
    linked = index.by_librenms.get(device.key, [])
    if len(linked) == 1:
        return index.match(linked[0], MatchBy.LIBRENMS_ID), [], []
    if len(linked) > 1:
        return None, [index.match(e, MatchBy.LIBRENMS_ID) for e in linked], []
    found: dict[tuple[Kind, int], tuple[Existing, MatchBy]] = {}
    taken: list[ExistingMatch] = []
    lookups = (
        (MatchBy.SERIAL, index.by_serial.get(device.serial.casefold(), []) if device.serial else []),
        (MatchBy.NAME, index.by_name.get(name.casefold(), []) if name else []),
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
    matches = [index.match(item, by) for item, by in found.values()]
    if len(matches) == 1:
        return matches[0], [], taken
    return None, matches, taken


# ------------------------------------------------------------------ one row


def validate_device(
    device: LibreDevice,
    index: NetBoxIndex,
    mappings: Mappings,
    options: Options = Options(),
    overrides: Overrides = Overrides(),
    stack: Stack | None = None,
    *,
    selected: bool = True,
    shared_sysnames: frozenset[str] = frozenset(),
) -> Row:
    """Validate one device on its own (cross-row conflicts are added by `Review`)."""
    issues: list[Issue] = []

    if overrides.name:
        name = overrides.name
        if len(name) > defaults.NAME_MAX_LENGTH:
            issues.append(
                Issue("name", Severity.BLOCKING, f"is longer than {defaults.NAME_MAX_LENGTH}", name)
            )
    else:
        name, name_issues = device_name(device, options, shared_sysnames)
        issues += name_issues

    if overrides.kind:
        kind, kind_reason = overrides.kind, "set by user"
    else:
        kind, kind_reason = detect_kind(device)

    # site: from the user, the location (exact name, slug, mapping), or the cluster for VMs
    site = resolve(
        index.sites, device.location, mappings.lookup("sites", device.location), user=overrides.site
    )
    if overrides.site and site is None:
        issues.append(
            Issue("site", Severity.BLOCKING, "is not a NetBox site", overrides.site, "pick an existing site")
        )

    cluster: Ref | None = None
    if kind is Kind.VM:
        cluster = resolve(index.clusters, "", None, user=overrides.cluster)
        if overrides.cluster and cluster is None:
            issues.append(
                Issue("cluster", Severity.BLOCKING, "is not a NetBox cluster", overrides.cluster, "pick one")
            )
        elif cluster is None and site is not None:
            at_site = [c for c in index.clusters if c.site_id == site.id]
            if len(at_site) == 1:
                cluster = _ref(at_site[0], Source.RULE)
        if cluster is None and not overrides.cluster:
            issues.append(
                Issue("cluster", Severity.BLOCKING, "a VM needs a cluster", "", "choose the VM's cluster")
            )
        if cluster is not None and cluster.site_id is not None:
            cluster_site = index.sites.by_id.get(cluster.site_id)
            if site is not None and site.id != cluster.site_id:
                issues.append(
                    Issue(
                        "site",
                        Severity.WARNING,
                        f"the VM takes the cluster's site '{cluster_site.name if cluster_site else cluster.site_id}'",
                        site.name,
                    )
                )
            if cluster_site is not None:
                site = _ref(cluster_site, Source.CLUSTER)
    elif site is None and not overrides.site:
        fix = "map this location to a site on the Mappings page, or set the site for this row"
        if not device.location:
            issues.append(Issue("site", Severity.BLOCKING, "LibreNMS has no location for it", "", fix))
        else:
            issues.append(Issue("site", Severity.BLOCKING, "matches no NetBox site", device.location, fix))

    device_type: Ref | None = None
    member_types: tuple[Ref | None, ...] = ()
    if kind is Kind.DEVICE:
        device_type = resolve_device_type(index, mappings, device.hardware, overrides.device_type)
        if device_type is None:
            seen = overrides.device_type or device.hardware
            issues.append(
                Issue(
                    "device_type",
                    Severity.BLOCKING,
                    "matches no NetBox device type" if seen else "LibreNMS reports no hardware",
                    seen,
                    "map this hardware to a device type on the Mappings page, or set it for this row",
                )
            )
        if stack is not None:
            member_types = tuple(resolve_device_type(index, mappings, m.model) for m in stack.members)
            for member, mtype in zip(stack.members, member_types, strict=True):
                if mtype is None:
                    issues.append(
                        Issue(
                            "stack",
                            Severity.BLOCKING,
                            f"member {member.position} ({member.serial}): model matches no NetBox device type",
                            member.model,
                            "add the device type or map the model on the Mappings page",
                        )
                    )

    platform = resolve(
        index.platforms, device.os, mappings.lookup("platforms", device.os), user=overrides.platform
    )
    if platform is None and device.os and device.os not in {"ping", "generic"}:
        issues.append(
            Issue(
                "platform",
                Severity.WARNING,
                "matches no NetBox platform; none will be set",
                device.os,
                "map this os to a platform on the Mappings page",
            )
        )

    role: Ref | None = None
    if overrides.role:
        role = resolve(index.roles, "", None, user=overrides.role)
        if role is None:
            issues.append(
                Issue("role", Severity.BLOCKING, "is not a NetBox role", overrides.role, "pick a role")
            )
    else:
        rule = mappings.default_role(device, kind)
        if rule is not None:
            found = index.roles.find(rule[0])
            if found is not None:
                role = _ref(found, Source.RULE)
        if role is None:
            issues.append(Issue("role", Severity.BLOCKING, "no role chosen yet", "", "choose a role"))
    if role is not None and kind is Kind.VM:
        obj = index.roles.by_id.get(role.id)
        if obj is not None and obj.extra != "vm":
            issues.append(
                Issue(
                    "role",
                    Severity.BLOCKING,
                    "cannot be used for virtual machines",
                    role.name,
                    "pick a role marked 'VM role' in NetBox",
                )
            )

    rack: Ref | None = None
    if overrides.rack and kind is Kind.DEVICE:
        found = index.find_rack(overrides.rack, site.id if site else None)
        if found is None:
            issues.append(
                Issue("rack", Severity.BLOCKING, "is not a NetBox rack", overrides.rack, "pick a rack")
            )
        else:
            rack = _ref(found, Source.USER)
            if site is not None and found.site_id != site.id:
                site_name = (
                    index.sites.by_id[found.site_id].name if found.site_id in index.sites.by_id else "?"
                )
                issues.append(
                    Issue(
                        "rack",
                        Severity.BLOCKING,
                        f"belongs to site '{site_name}', not '{site.name}'",
                        found.name,
                        f"pick a rack of {site.name}",
                    )
                )

    existing, conflicts, taken = find_existing(device, name, index, site.id if site else None)
    for other in taken:
        issues.insert(
            0,
            Issue(
                "name",
                Severity.BLOCKING,
                f"NetBox {other.kind.value} '{other.name}' has this name but is linked to another LibreNMS device",
                name,
                "set another name for this row",
            ),
        )
    if conflicts:
        listed = ", ".join(f"{c.kind.value} '{c.name}' (by {c.by.value})" for c in conflicts)
        issues.insert(
            0,
            Issue(
                "existing",
                Severity.BLOCKING,
                f"matches several NetBox objects: {listed}",
                "",
                "merge or rename them in NetBox, or set librenms_id on the right one",
            ),
        )
    elif existing is not None and existing.kind is not kind:
        issues.append(
            Issue(
                "kind",
                Severity.WARNING,
                f"exists in NetBox as a {existing.kind.value}, LibreNMS looks like a {kind.value}",
            )
        )

    status = _status(issues, existing, bool(conflicts))
    return Row(
        device=device,
        name=name,
        kind=kind,
        kind_reason=kind_reason,
        status=status,
        issues=tuple(issues),
        site=site,
        location=_location(index, site, rack, device.location) if kind is Kind.DEVICE else None,
        device_type=device_type,
        platform=platform,
        role=role,
        rack=rack,
        cluster=cluster,
        existing=existing,
        stack=stack,
        member_types=member_types,
        overrides=overrides,
        selected=selected,
    )


def _status(issues: Iterable[Issue], existing: ExistingMatch | None, conflict: bool) -> RowStatus:
    if conflict:
        return RowStatus.CONFLICT
    if existing is not None:
        return RowStatus.EXISTS
    blocking = [i for i in issues if i.severity is Severity.BLOCKING]
    if any(i.field not in INPUT_FIELDS for i in blocking):
        return RowStatus.BLOCKED
    if blocking:
        return RowStatus.NEEDS_INPUT
    return RowStatus.READY


# ------------------------------------------------------------------ a whole search


class Review:
    """The rows of one search, keyed by (server key, device id), with edits that re-validate in memory.

    Cross-row conflicts: two rows matching one NetBox object, or two rows that would get the same name in the
    same site. A row's own validation is cached; an edit re-validates that row, then re-applies conflicts to
    the rows that share a claim with it (before or after the edit).
    """

    def __init__(
        self,
        devices: Iterable[LibreDevice],
        index: NetBoxIndex,
        mappings: Mappings,
        options: Options = Options(),
        stacks: dict[tuple[str, int], Stack] | None = None,
    ) -> None:
        self.index, self.mappings, self.options = index, mappings, options
        self.devices = {d.key: d for d in devices}
        self.stacks = stacks or {}
        counts = Counter(d.sysname.casefold() for d in self.devices.values() if d.sysname)
        self.shared_sysnames = frozenset(s for s, n in counts.items() if n > 1)
        self.base: dict[tuple[str, int], Row] = {}
        self.rows: dict[tuple[str, int], Row] = {}
        self._claims: dict[tuple, set[tuple[str, int]]] = {}
        for key in self.devices:
            self._set_base(key, self._validate(key, Overrides(), True))
        for key in self.devices:
            self._refresh(key)

    # -- internals
    def _validate(self, key: tuple[str, int], overrides: Overrides, selected: bool) -> Row:
        return validate_device(
            self.devices[key],
            self.index,
            self.mappings,
            self.options,
            overrides,
            self.stacks.get(key),
            selected=selected,
            shared_sysnames=self.shared_sysnames,
        )

    @staticmethod
    def _claims_of(row: Row) -> list[tuple]:
        claims: list[tuple] = []
        if not row.selected:  # a row that will not be imported claims nothing ("deselect one of them")
            return claims
        if row.existing is not None:
            claims.append(("object", row.existing.kind, row.existing.id))
        elif row.status is not RowStatus.CONFLICT:
            # NetBox names are unique per site for devices and per cluster for VMs
            scope = row.cluster if row.kind is Kind.VM else row.site
            if scope is not None:
                claims.append(("name", row.kind, scope.id, row.name.casefold()))
        return claims

    def _set_base(self, key: tuple[str, int], row: Row) -> set[tuple[str, int]]:
        touched = {key}
        old = self.base.get(key)
        if old is not None:
            for claim in self._claims_of(old):
                holders = self._claims.get(claim, set())
                holders.discard(key)
                touched |= holders
        self.base[key] = row
        for claim in self._claims_of(row):
            holders = self._claims.setdefault(claim, set())
            holders.add(key)
            touched |= holders
        return touched

    def _refresh(self, key: tuple[str, int]) -> None:
        row = self.base[key]
        others: set[tuple[str, int]] = set()
        for claim in self._claims_of(row):
            others |= self._claims.get(claim, set()) - {key}
        if not others:
            self.rows[key] = row
            return
        names = ", ".join(sorted(self.devices[k].hostname for k in others))
        what = (
            "the same NetBox object"
            if row.existing is not None
            else f"the name '{row.name}' in the same site"
        )
        issue = Issue(
            "existing" if row.existing else "name",
            Severity.BLOCKING,
            f"another row claims {what}: {names}",
            "",
            "deselect one of them or rename it",
        )
        self.rows[key] = replace(row, status=RowStatus.CONFLICT, issues=(issue, *row.issues))

    def _edit(self, keys: Iterable[tuple[str, int]], **changes: object) -> list[tuple[str, int]]:
        touched: set[tuple[str, int]] = set()
        for key in keys:
            if key not in self.devices:
                raise KeyError(f"no row for LibreNMS device {key[1]} on server '{key[0]}'")
            current = self.base[key]
            row = self._validate(key, current.overrides.with_(**changes), current.selected)
            touched |= self._set_base(key, row)
        for key in touched:
            self._refresh(key)
        return sorted(touched)

    # -- public edits: each re-validates the rows it touches and returns their keys
    def apply_role(self, keys: Iterable[tuple[str, int]], role: str | None) -> list[tuple[str, int]]:
        return self._edit(keys, role=role or None)

    def apply_rack(self, keys: Iterable[tuple[str, int]], rack: str | None) -> list[tuple[str, int]]:
        return self._edit(keys, rack=rack or None)

    def apply_cluster(self, keys: Iterable[tuple[str, int]], cluster: str | None) -> list[tuple[str, int]]:
        return self._edit(keys, cluster=cluster or None)

    def apply_kind(self, keys: Iterable[tuple[str, int]], kind: Kind | str | None) -> list[tuple[str, int]]:
        return self._edit(keys, kind=Kind(kind) if kind else None)

    def apply_override(
        self, keys: Iterable[tuple[str, int]], **overrides: str | None
    ) -> list[tuple[str, int]]:
        """Any of name, site, device_type, platform (and the four above)."""
        return self._edit(keys, **{k: (v or None) for k, v in overrides.items()})

    def select(self, keys: Iterable[tuple[str, int]], selected: bool = True) -> list[tuple[str, int]]:
        """Mark rows for import (or not). Only ready rows are imported, whatever their mark.

        A deselected row gives up its claims, so the rows it was in conflict with are refreshed too.
        """
        touched: set[tuple[str, int]] = set()
        for key in keys:
            touched |= self._set_base(key, replace(self.base[key], selected=selected))
        for key in touched:
            self._refresh(key)
        return sorted(touched)

    def drop(self, predicate) -> int:
        """Remove the rows for which predicate(row) is true (e.g. 'exclude existing'); returns how many."""
        gone = [key for key, row in self.rows.items() if predicate(row)]
        touched: set[tuple[str, int]] = set()
        for key in gone:
            for claim in self._claims_of(self.base[key]):
                holders = self._claims.get(claim, set())
                holders.discard(key)
                touched |= holders
            del self.rows[key], self.base[key], self.devices[key]
        for key in touched - set(gone):  # rows dropped together may have shared a claim
            self._refresh(key)
        return len(gone)

    # -- views
    def __iter__(self):
        return iter(self.rows.values())

    def __len__(self) -> int:
        return len(self.rows)

    def counts(self) -> dict[RowStatus, int]:
        found = Counter(row.status for row in self.rows.values())
        return {status: found.get(status, 0) for status in RowStatus}

    def importable_rows(self) -> list[Row]:
        return [row for row in self.rows.values() if row.will_import]
