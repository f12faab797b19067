"""Bulk creation on the real NetBox: one item NetBox refuses never sinks the others, whether it refuses it
for bad data (400) or because a constrained permission does not cover it (403 with per-item errors)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pynetbox
import pytest

from core import netbox
from core.errors import NetBoxAuthError
from tests.conftest import stack_settings

RUN = secrets.token_hex(3)
READ = ["dcim.site", "dcim.devicetype", "dcim.devicerole", "dcim.manufacturer", "extras.tag"]


@pytest.fixture(scope="module")
def lab_only_token(nb: pynetbox.api, reference_data) -> Iterator[str]:
    """A NetBox user that may add devices in the site 'lab' only (an object permission with a constraint)."""
    user = nb.users.users.create(username=f"lnbi-lab-only-{RUN}", password=secrets.token_urlsafe(16) + "Aa1")
    permissions = [
        nb.users.permissions.create(
            name=f"lnbi-read-{RUN}", object_types=READ, actions=["view"], users=[user.id]
        ),
        nb.users.permissions.create(
            name=f"lnbi-lab-devices-{RUN}",
            object_types=["dcim.device"],
            actions=["view", "add"],
            constraints={"site__slug": "lab"},
            users=[user.id],
        ),
    ]
    token = nb.users.tokens.create(user=user.id, write_enabled=True)
    yield f"nbt_{token.key}.{token.token}"
    for permission in permissions:
        permission.delete()
    user.delete()


@pytest.fixture
def made(nb: pynetbox.api) -> Iterator[list[str]]:
    names: list[str] = []
    yield names
    for name in names:
        for device in nb.dcim.devices.filter(name=name):
            device.delete()


def body(nb: pynetbox.api, site: str, name: str) -> dict:
    return {
        "name": name,
        "site": nb.dcim.sites.get(slug=site).id,
        "device_type": nb.dcim.device_types.get(slug="poweredge-r650").id,
        "role": nb.dcim.device_roles.get(slug="server").id,
    }


def test_items_a_constrained_permission_refuses_fail_alone_and_the_others_are_created(
    nb: pynetbox.api, lab_only_token: str, stack_env: dict[str, str], tmp_path, made: list[str]
) -> None:
    api = netbox.connect(stack_settings({**stack_env, "NETBOX_TOKEN": lab_only_token}, "", tmp_path))
    names = [f"lnbi-bulk-{RUN}-{i}" for i in range(3)]
    made += names
    payloads = [body(nb, "lab", names[0]), body(nb, "hq", names[1]), body(nb, "lab", names[2])]

    created, errors = netbox.bulk_create(api, api.dcim.devices, payloads, "devices")

    assert sorted(created) == [0, 2] and list(errors) == [1]
    assert "permission" in errors[1]
    assert {d.name for d in nb.dcim.devices.filter(name=names)} == {names[0], names[2]}


def test_a_token_that_may_not_add_the_kind_at_all_still_stops(
    nb: pynetbox.api, stack_env: dict[str, str], tmp_path, made: list[str]
) -> None:
    api = netbox.connect(
        stack_settings({**stack_env, "NETBOX_TOKEN": stack_env["NETBOX_TOKEN_NOPERM"]}, "", tmp_path)
    )
    name = f"lnbi-bulk-{RUN}-noperm"
    made.append(name)
    with pytest.raises(NetBoxAuthError, match="403"):
        netbox.bulk_create(api, api.dcim.devices, [body(nb, "lab", name)], "devices")
