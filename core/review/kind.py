"""Device or virtual machine, from the signals LibreNMS gives (docs/librenms-api.md#6-virtual-machines)."""

from __future__ import annotations

from core.choices import Kind
from core.librenms import LibreDevice
from core.review.rules import HYPERVISOR_OS, VIRTUAL_APPLIANCE, VM_HARDWARE, VM_SERIAL


def detect_kind(device: LibreDevice) -> tuple[Kind, str]:
    """Device or VM, strongest signal first; the reason in words."""
    if device.parent_id is not None:
        return Kind.VM, f"LibreNMS lists it as a guest of hypervisor device {device.parent_id}"
    if device.os == HYPERVISOR_OS:
        return Kind.DEVICE, "VMware ESXi host (a hypervisor is physical)"
    if VM_HARDWARE.search(device.hardware):
        return Kind.VM, f"virtual hardware '{device.hardware}'"
    if VIRTUAL_APPLIANCE.search(device.hardware):
        return Kind.VM, f"virtual appliance model '{device.hardware}'"
    if device.serial and VM_SERIAL.search(device.serial):
        return Kind.VM, f"virtual machine serial '{device.serial}'"
    return Kind.DEVICE, "no virtualisation signal (physical unless you say otherwise)"
