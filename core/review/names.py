"""The NetBox name of a device: from sysName or hostname (a setting), domain stripped, and NetBox's limit."""

from __future__ import annotations

from dataclasses import dataclass, replace

from core import defaults
from core.choices import NameSource, Severity
from core.librenms import LibreDevice
from core.review.row import Issue
from core.review.rules import DEFAULT_SYSNAMES
from core.values import is_ip


@dataclass(frozen=True, slots=True)
class Options:
    name_source: NameSource = NameSource.SYSNAME
    strip_domain: bool = True


def name_too_long(name: str) -> Issue | None:
    """The blocking issue of a name longer than NetBox allows, or None."""
    if len(name) <= defaults.NAME_MAX_LENGTH:
        return None
    return Issue(
        "name",
        Severity.BLOCKING,
        f"is {len(name)} characters; NetBox allows {defaults.NAME_MAX_LENGTH}",
        name,
        "set a shorter name for this row",
    )


def device_name(
    device: LibreDevice, options: Options, shared_sysnames: frozenset[str] = frozenset()
) -> tuple[str, list[Issue]]:
    """The NetBox name: sysName or hostname (a setting), domain stripped unless it is an IP address."""
    issues: list[Issue] = []
    name = device.hostname
    if options.name_source is NameSource.SYSNAME:
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
    too_long = name_too_long(name)
    if too_long is not None:
        issues.append(too_long)
    return name, issues


def possible_names(device: LibreDevice, options: Options) -> set[str]:
    """Every name the device may get, whichever name source is set (for targeted NetBox lookups)."""
    return {device_name(device, replace(options, name_source=source))[0] for source in NameSource}
