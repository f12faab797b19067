"""One validator per field of a row. Each takes what it needs (the device, the index, the mappings, the
user's choice, the values decided before it) and returns the value and the issues it found."""

from __future__ import annotations

from core.choices import Kind, Severity, Source
from core.librenms import LibreDevice, Stack, may_be_stack
from core.mapping import Mappings
from core.netbox import NetBoxIndex
from core.review.kind import detect_kind
from core.review.matcher import Match
from core.review.names import Options, device_name, name_too_long
from core.review.resolve import ref, resolve, resolve_device_type
from core.review.row import Issue, Ref
from core.review.rules import NO_PLATFORM_OS

MAP_ON_PAGE = "on the Mappings page"


def name(
    device: LibreDevice, options: Options, shared_sysnames: frozenset[str], chosen: str | None
) -> tuple[str, list[Issue]]:
    if chosen:
        too_long = name_too_long(chosen)
        return chosen, [too_long] if too_long else []
    return device_name(device, options, shared_sysnames)


def kind(device: LibreDevice, chosen: Kind | None) -> tuple[Kind, str]:
    if chosen:
        return chosen, "set by user"
    return detect_kind(device)


def site(
    device: LibreDevice, index: NetBoxIndex, mappings: Mappings, chosen: str | None
) -> tuple[Ref | None, list[Issue]]:
    """From the user, or the LibreNMS location (exact name, slug, mapping). A VM's site is its cluster's."""
    found = resolve(index.sites, device.location, mappings.lookup("sites", device.location), user=chosen)
    if chosen and found is None:
        return None, [
            Issue("site", Severity.BLOCKING, "is not a NetBox site", chosen, "pick an existing site")
        ]
    return found, []


def missing_site(device: LibreDevice) -> Issue:
    fix = f"map this location to a site {MAP_ON_PAGE}, or set the site for this row"
    if not device.location:
        return Issue("site", Severity.BLOCKING, "LibreNMS has no location for it", "", fix)
    return Issue("site", Severity.BLOCKING, "matches no NetBox site", device.location, fix)


def cluster(
    index: NetBoxIndex, site_ref: Ref | None, chosen: str | None
) -> tuple[Ref | None, Ref | None, list[Issue]]:
    """A VM's cluster: the user's, or the only cluster of its site. Returns (cluster, the VM's site, issues):
    a VM takes its cluster's site."""
    issues: list[Issue] = []
    found = resolve(index.clusters, "", None, user=chosen)
    if chosen and found is None:
        issues.append(Issue("cluster", Severity.BLOCKING, "is not a NetBox cluster", chosen, "pick one"))
    elif found is None and site_ref is not None:
        at_site = [c for c in index.clusters if c.site_id == site_ref.id]
        if len(at_site) == 1:
            found = ref(at_site[0], Source.RULE)
    if found is None and not chosen:
        issues.append(
            Issue("cluster", Severity.BLOCKING, "a VM needs a cluster", "", "choose the VM's cluster")
        )
    if found is not None and found.site_id is not None:
        cluster_site = index.sites.by_id.get(found.site_id)
        if site_ref is not None and site_ref.id != found.site_id:
            label = cluster_site.name if cluster_site else found.site_id
            issues.append(
                Issue("site", Severity.WARNING, f"the VM takes the cluster's site '{label}'", site_ref.name)
            )
        if cluster_site is not None:
            site_ref = ref(cluster_site, Source.CLUSTER)
    return found, site_ref, issues


def device_type(
    device: LibreDevice,
    index: NetBoxIndex,
    mappings: Mappings,
    stack: Stack | None,
    chosen: str | None,
) -> tuple[Ref | None, tuple[Ref | None, ...], list[Issue]]:
    """The device type, and each stack member's (by its model)."""
    issues: list[Issue] = []
    found = resolve_device_type(index, mappings, device.hardware, chosen)
    if found is None:
        seen = chosen or device.hardware
        issues.append(
            Issue(
                "device_type",
                Severity.BLOCKING,
                "matches no NetBox device type" if seen else "LibreNMS reports no hardware",
                seen,
                f"map this hardware to a device type {MAP_ON_PAGE}, or set it for this row",
            )
        )
    if stack is None:
        return found, (), issues
    member_types = tuple(resolve_device_type(index, mappings, m.model) for m in stack.members)
    for member, mtype in zip(stack.members, member_types, strict=True):
        if mtype is None:
            issues.append(
                Issue(
                    "stack",
                    Severity.BLOCKING,
                    f"member {member.position} ({member.serial}): model matches no NetBox device type",
                    member.model,
                    f"add the device type or map the model {MAP_ON_PAGE}",
                )
            )
    return found, member_types, issues


def stack_unknown(device: LibreDevice, stack: Stack | None, why: str | None) -> list[Issue]:
    """A stack candidate whose inventory could not be read is not known to be one chassis: blocked until a
    search reads it (the grid cannot fix that; a stack created as one device would be wrong)."""
    if not why or stack is not None or not may_be_stack(device):
        return []
    return [
        Issue(
            "stack",
            Severity.BLOCKING,
            f"could not be read from LibreNMS: {why.strip().rstrip('.')}; whether it is a stack is unknown",
            "",
            "search again (Refresh) when LibreNMS answers; a stack imported as one device would be wrong",
        )
    ]


def platform(
    device: LibreDevice, index: NetBoxIndex, mappings: Mappings, chosen: str | None
) -> tuple[Ref | None, list[Issue]]:
    found = resolve(index.platforms, device.os, mappings.lookup("platforms", device.os), user=chosen)
    if found is None and device.os and device.os not in NO_PLATFORM_OS:
        return None, [
            Issue(
                "platform",
                Severity.WARNING,
                "matches no NetBox platform; none will be set",
                device.os,
                f"map this os to a platform {MAP_ON_PAGE}",
            )
        ]
    return found, []


def role(
    device: LibreDevice, index: NetBoxIndex, mappings: Mappings, row_kind: Kind, chosen: str | None
) -> tuple[Ref | None, list[Issue]]:
    """The user's role, else the first default rule that matches; a VM needs a role marked for VMs."""
    found: Ref | None = None
    if chosen:
        found = resolve(index.roles, "", None, user=chosen)
        if found is None:
            return None, [Issue("role", Severity.BLOCKING, "is not a NetBox role", chosen, "pick a role")]
    else:
        rule = mappings.default_role(device, row_kind)
        obj = index.roles.find(rule[0]) if rule is not None else None
        if obj is None:
            return None, [Issue("role", Severity.BLOCKING, "no role chosen yet", "", "choose a role")]
        found = ref(obj, Source.RULE)
    obj = index.roles.by_id.get(found.id)
    if row_kind is Kind.VM and obj is not None and not obj.vm_role:
        return found, [
            Issue(
                "role",
                Severity.BLOCKING,
                "cannot be used for virtual machines",
                found.name,
                "pick a role marked 'VM role' in NetBox",
            )
        ]
    return found, []


def rack(index: NetBoxIndex, site_ref: Ref | None, chosen: str | None) -> tuple[Ref | None, list[Issue]]:
    """The user's rack (devices only), which must stand in the row's site."""
    if not chosen:
        return None, []
    found = index.find_rack(chosen, site_ref.id if site_ref else None)
    if found is None:
        return None, [Issue("rack", Severity.BLOCKING, "is not a NetBox rack", chosen, "pick a rack")]
    issues = []
    if site_ref is not None and found.site_id != site_ref.id:
        other = index.sites.by_id.get(found.site_id) if found.site_id is not None else None
        issues.append(
            Issue(
                "rack",
                Severity.BLOCKING,
                f"belongs to site '{other.name if other else '?'}', not '{site_ref.name}'",
                found.name,
                f"pick a rack of {site_ref.name}",
            )
        )
    return ref(found, Source.USER), issues


def existing(match: Match, row_name: str, row_kind: Kind) -> tuple[list[Issue], list[Issue]]:
    """Issues of the match, as (those listed first: why the row cannot be imported at all — a name taken by
    another LibreNMS device's object, several objects; those listed last: another kind)."""
    first = [
        Issue(
            "name",
            Severity.BLOCKING,
            f"NetBox {other.kind.value} '{other.name}' has this name but is linked to another LibreNMS device",
            row_name,
            "set another name for this row",
        )
        for other in match.taken
    ]
    last = []
    if match.conflicts:
        listed = ", ".join(f"{c.kind.value} '{c.name}' (by {c.by.value}: {c.url})" for c in match.conflicts)
        first.insert(
            0,
            Issue(
                "existing",
                Severity.BLOCKING,
                f"matches several NetBox objects: {listed}",
                "",
                "merge or rename them in NetBox, or set librenms_id on the right one",
            ),
        )
    elif match.existing is not None and match.existing.kind is not row_kind:
        last.append(
            Issue(
                "kind",
                Severity.WARNING,
                f"exists in NetBox as a {match.existing.kind.value}, LibreNMS looks like a {row_kind.value}",
            )
        )
    return first, last
