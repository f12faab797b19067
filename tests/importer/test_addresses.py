"""Management addresses NetBox will not put on an interface (a network ID, an IPv4 broadcast address): the
importer knows before writing, so the device is created without its primary IP and the row is not left
unfinished for a repair that would fail the same way. The rule is checked against the real NetBox."""

from __future__ import annotations

import secrets

import pynetbox
import pytest

from core.importer.addresses import unassignable

CASES = [
    ("10.128.0.255/24", "broadcast address"),
    ("10.128.0.0/24", "network ID"),
    ("10.128.0.3/30", "broadcast address"),
    ("10.128.0.1/31", ""),
    ("10.128.0.0/31", ""),
    ("10.128.0.255/32", ""),
    ("10.128.0.254/24", ""),
    ("2001:db8::/64", "network ID"),
    ("2001:db8::ffff:ffff:ffff:ffff/64", ""),
    ("2001:db8::/127", ""),
    ("2001:db8::1/64", ""),
]


@pytest.mark.parametrize(("cidr", "what"), CASES)
def test_an_address_netbox_will_not_assign_says_why_and_names_its_prefix(cidr: str, what: str) -> None:
    why = unassignable(cidr)
    if what:
        assert what in why and cidr.split("/")[0] in why and "LibreNMS" in why
    else:
        assert why == ""


def test_the_rule_agrees_with_netbox_on_every_case(nb: pynetbox.api, reference_data) -> None:
    device = nb.dcim.devices.create(
        name=f"addr-rule-{secrets.token_hex(3)}",
        site=nb.dcim.sites.get(slug="hq").id,
        device_type=nb.dcim.device_types.get(slug="c9300-48p").id,
        role=nb.dcim.device_roles.get(slug="access-switch").id,
    )
    try:
        iface = nb.dcim.interfaces.create(device=device.id, name="mgmt0", type="virtual")
        for cidr, what in CASES:
            try:
                ip = nb.ipam.ip_addresses.create(
                    address=cidr, assigned_object_type="dcim.interface", assigned_object_id=iface.id
                )
            except pynetbox.RequestError as exc:
                assert what and exc.req.status_code == 400 and what.split()[0] in str(exc.error), (cidr, exc)
            else:
                ip.delete()
                assert not what, f"NetBox took {cidr}"
    finally:
        device.delete()
