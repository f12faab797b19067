"""Demo reference data for NetBox: what most of the LibreNMS fixture data needs, and deliberately not all.

Idempotent (get-or-create by slug/name). Run with NETBOX_URL and NETBOX_TOKEN set:
    python -m devtools.demo_data
Left out on purpose, so the demo shows blocked and needs-input rows: a site for "Campus North…" and
"Sitting on the Dock of the Bay", device types for HPE ProLiant, APC AP8853, the Juniper virtual chassis and
CISCO2911, a cluster for the Hyper-V guest, and roles for most switches (the analyst picks them).
"""

from __future__ import annotations

import os
import sys

import pynetbox

from core.netbox import ensure_import_tag, ensure_librenms_field

SITES = [
    ("HQ Portsmouth", "hq"),
    ("DC2 Frankfurt", "dc2-fra"),
    ("Branch Lyon", "br-lyon"),
    ("Zürich Office", "zrh"),
    ("Tokyo Office", "tokyo"),
    ("Warehouse São Paulo", "wh-sao-paulo"),
    ("Lab", "lab"),  # matches the LibreNMS location "Lab" by exact name
    ("Cloud eu-central-1", "cloud-eu-central-1"),  # exact name too
]
MANUFACTURERS = ["Cisco", "Arista", "Aruba", "Juniper", "Fortinet", "Dell"]
# (manufacturer, model, slug, part number); LibreNMS hardware matches part number or model
DEVICE_TYPES = [
    ("Cisco", "C9300-48P", "c9300-48p", "C9300-48P"),
    ("Cisco", "C9300-48U", "c9300-48u", "C9300-48U"),
    ("Cisco", "C9200L-24P-4G", "c9200l-24p-4g", "C9200L-24P-4G"),
    ("Cisco", "Catalyst 2960-X 48FPD-L", "ws-c2960x-48fpd-l", "WS-C2960X-48FPD-L"),
    ("Cisco", "Catalyst 2960-X 24PS-L", "ws-c2960x-24ps-l", "WS-C2960X-24PS-L"),
    ("Cisco", "Catalyst 2960-X 24TS-L", "ws-c2960x-24ts-l", "WS-C2960X-24TS-L"),
    ("Cisco", "Catalyst 3750-X 48P", "ws-c3750x-48p-s", "WS-C3750X-48P-S"),
    ("Cisco", "Catalyst 3750-X 24T", "ws-c3750x-24t-s", "WS-C3750X-24T-S"),
    ("Cisco", "ISR4331", "isr4331", "ISR4331/K9"),
    ("Cisco", "Nexus 93180YC-FX", "n9k-c93180yc-fx", "N9K-C93180YC-FX"),
    ("Arista", "DCS-7050SX3-48YC8", "dcs-7050sx3-48yc8", "DCS-7050SX3-48YC8"),
    ("Aruba", "2530-24G-PoE+", "aruba-2530-24g-poep", "J9773A"),
    ("Aruba", "6300M 48SR5", "aruba-6300m-48sr5", "JL659A"),
    ("Juniper", "MX204", "mx204", "MX204"),
    ("Fortinet", "FortiGate 100F", "fortigate-100f", "FGT100F"),
    ("Dell", "PowerEdge R650", "poweredge-r650", ""),
    ("Dell", "PowerEdge R750", "poweredge-r750", ""),
]
PLATFORMS = [
    ("Cisco IOS", "cisco-ios"),
    ("Cisco IOS-XE", "cisco-ios-xe"),
    ("Cisco NX-OS", "cisco-nx-os"),
    ("Arista EOS", "arista-eos"),
    ("Fortinet FortiOS", "fortinet-fortios"),
    ("Aruba ProCurve", "aruba-procurve"),
    ("Aruba AOS-CX", "aruba-aos-cx"),
    ("Junos", "junos"),  # matches LibreNMS os "junos" by slug
    ("Linux", "linux"),
    ("Windows", "windows"),
    ("VMware ESXi", "vmware-esxi"),
]
# (name, slug, colour, usable for VMs)
ROLES = [
    ("Core switch", "core-switch", "f44336", False),
    ("Distribution switch", "distribution-switch", "ff9800", False),
    ("Access switch", "access-switch", "4caf50", False),
    ("Leaf", "leaf", "2196f3", False),
    ("Spine", "spine", "3f51b5", False),
    ("Router", "router", "9c27b0", False),
    ("Firewall", "firewall", "e91e63", True),
    ("PDU", "pdu", "795548", False),
    ("Hypervisor", "hypervisor", "607d8b", False),
    ("Server", "server", "009688", True),
]
# NetBox locations inside sites; a LibreNMS location that names one puts the device there
LOCATIONS = [("Row A", "row-a", "hq"), ("IDF-3B", "idf-3b", "hq"), ("Serverraum", "serverraum", "zrh")]
# (name, site slug, location slug or None)
RACKS = [
    ("HQ-A01", "hq", "row-a"),
    ("HQ-A02", "hq", "row-a"),
    ("IDF-3B", "hq", "idf-3b"),
    ("FRA-C14-R07", "dc2-fra", None),
    ("LYON-01", "br-lyon", None),
]
CLUSTER_TYPES = [
    ("VMware vSphere", "vmware-vsphere"),
    ("KVM", "kvm"),
    ("OpenStack", "openstack"),
    ("AWS", "aws"),
]
# (name, type slug, site slug)
CLUSTERS = [
    ("esx-dc2", "vmware-vsphere", "dc2-fra"),
    ("kvm-hq", "kvm", "hq"),
    ("openstack-hq", "openstack", "hq"),
    ("aws-eu-central-1", "aws", "cloud-eu-central-1"),
]


def _get_or_create(endpoint, lookup: dict, **fields):
    return endpoint.get(**lookup) or endpoint.create({**lookup, **fields})


def load(api: pynetbox.api) -> None:
    ensure_librenms_field(api)
    ensure_import_tag(api)
    sites = {
        slug: _get_or_create(api.dcim.sites, {"slug": slug}, name=name, status="active")
        for name, slug in SITES
    }
    makers = {
        name: _get_or_create(api.dcim.manufacturers, {"slug": name.lower()}, name=name)
        for name in MANUFACTURERS
    }
    for maker, model, slug, part in DEVICE_TYPES:
        _get_or_create(
            api.dcim.device_types,
            {"slug": slug},
            model=model,
            manufacturer=makers[maker].id,
            part_number=part,
        )
    for name, slug in PLATFORMS:
        _get_or_create(api.dcim.platforms, {"slug": slug}, name=name)
    for name, slug, colour, vm_role in ROLES:
        _get_or_create(api.dcim.device_roles, {"slug": slug}, name=name, color=colour, vm_role=vm_role)
    locations = {
        slug: _get_or_create(
            api.dcim.locations, {"slug": slug, "site_id": sites[site].id}, name=name, site=sites[site].id
        )
        for name, slug, site in LOCATIONS
    }
    for name, site, location in RACKS:
        rack = _get_or_create(api.dcim.racks, {"name": name, "site_id": sites[site].id}, site=sites[site].id)
        if location and (rack.location is None or rack.location.id != locations[location].id):
            rack.update({"location": locations[location].id})
    types = {
        slug: _get_or_create(api.virtualization.cluster_types, {"slug": slug}, name=name)
        for name, slug in CLUSTER_TYPES
    }
    for name, type_slug, site in CLUSTERS:
        _get_or_create(
            api.virtualization.clusters,
            {"name": name},
            type=types[type_slug].id,
            scope_type="dcim.site",
            scope_id=sites[site].id,
        )


def main() -> int:
    url, token = os.environ.get("NETBOX_URL"), os.environ.get("NETBOX_TOKEN")
    if not url or not token:
        print("NETBOX_URL and NETBOX_TOKEN must be set (source .stack/demo/netbox.env)", file=sys.stderr)
        return 2
    load(pynetbox.api(url, token=token))
    print(f"demo reference data loaded into {url}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
