"""LibreNMS: the API client (reads, caches), its HTTP edge and error table, the device filter, the device
values the product keeps, and stack detection from inventories. What the code relies on from the API is
written down in docs/librenms-api.md."""

from core.librenms.client import DeviceListing, InventoryBatch, LibreNMSClient, ManagementAddress, client_for
from core.librenms.device import SNMP_CREDENTIAL_KEYS, LibreDevice, RowKey
from core.librenms.filters import DeviceFilter
from core.librenms.stacks import Stack, StackDetection, StackMember, detect_stack, detect_stacks, may_be_stack

__all__ = [
    "SNMP_CREDENTIAL_KEYS",
    "DeviceFilter",
    "DeviceListing",
    "InventoryBatch",
    "LibreDevice",
    "LibreNMSClient",
    "ManagementAddress",
    "RowKey",
    "Stack",
    "StackDetection",
    "StackMember",
    "client_for",
    "detect_stack",
    "detect_stacks",
    "may_be_stack",
]
