"""The local stack (devtools/stack.sh) brings up a real NetBox we can write to, with a token that may not."""

from __future__ import annotations

import os
import subprocess
import uuid

import pynetbox
import pytest

from tests.conftest import ROOT


def test_superuser_token_can_create_and_delete_a_device(nb: pynetbox.api) -> None:
    suffix = uuid.uuid4().hex[:8]
    site = nb.dcim.sites.create(name=f"stack-test-{suffix}", slug=f"stack-test-{suffix}")
    maker = nb.dcim.manufacturers.create(name=f"maker-{suffix}", slug=f"maker-{suffix}")
    dtype = nb.dcim.device_types.create(
        model=f"model-{suffix}", slug=f"model-{suffix}", manufacturer=maker.id
    )
    role = nb.dcim.device_roles.create(name=f"role-{suffix}", slug=f"role-{suffix}", color="ff0000")
    device = nb.dcim.devices.create(name=f"dev-{suffix}", site=site.id, device_type=dtype.id, role=role.id)
    try:
        assert nb.dcim.devices.get(device.id).name == f"dev-{suffix}"
    finally:
        device.delete()
        for obj in (role, dtype, maker, site):
            obj.delete()
    assert nb.dcim.devices.get(name=f"dev-{suffix}") is None


def test_token_without_permissions_gets_403(stack_env: dict[str, str]) -> None:
    noperm = pynetbox.api(stack_env["NETBOX_URL"], token=stack_env["NETBOX_TOKEN_NOPERM"])
    with pytest.raises(pynetbox.RequestError) as err:
        list(noperm.dcim.devices.all())
    assert err.value.req.status_code == 403


def test_unknown_token_gets_403_not_401(stack_env: dict[str, str]) -> None:
    stranger = pynetbox.api(
        stack_env["NETBOX_URL"], token="nbt_abcdefabcdef.0123456789012345678901234567890123456789"
    )
    with pytest.raises(pynetbox.RequestError) as err:
        stranger.status()
    assert err.value.req.status_code == 403


def test_stack_up_twice_is_harmless_and_keeps_the_tokens(nb: pynetbox.api, stack_env: dict[str, str]) -> None:
    result = subprocess.run(
        ["devtools/stack.sh", "up"],
        cwd=ROOT,
        env={**os.environ, "STACK": "test"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert stack_env["NETBOX_TOKEN"] not in result.stdout + result.stderr
    assert nb.status()["netbox-version"].startswith("4.7")
