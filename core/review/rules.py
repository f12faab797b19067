"""The fixed rules of validation: which signals mean a VM, which sysNames are no name, which fields the
analyst fixes in the grid, which LibreNMS os values have no platform to map."""

from __future__ import annotations

import re

# Fields whose blocking issues the analyst fixes in the grid: such a row "needs input", it is not blocked.
INPUT_FIELDS = frozenset({"role", "cluster", "rack", "name", "kind"})

# Device-vs-VM signals (docs/librenms-api.md#6-virtual-machines)
VM_HARDWARE = re.compile(
    r"VMware Virtual Platform|VMware\d+,\d+|^QEMU|\bKVM\b|OpenStack|Microsoft Corporation Virtual Machine|"
    r"Xen HVM|Amazon EC2|Google Compute Engine|VirtualBox|Nutanix AHV|Parallels Virtual",
    re.IGNORECASE,
)
VM_SERIAL = re.compile(
    r"^VMware-|^0000-00\d\d-|^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE
)
VIRTUAL_APPLIANCE = re.compile(r"^FGVM|PA-VM|CSR1000V|C8000V|VSRX|\bvEOS|cEOSLab", re.IGNORECASE)
HYPERVISOR_OS = "vmware-esxi"  # a hypervisor is physical, whatever its hardware string says

# sysNames that ship as factory defaults: never a useful device name
DEFAULT_SYSNAMES = frozenset(
    {"switch", "router", "localhost", "ubuntu", "debian", "ap", "firewall", "fortigate"}
)

# LibreNMS os values for devices it only pings or cannot identify: no platform is set, and none is missing
NO_PLATFORM_OS = frozenset({"ping", "generic"})
