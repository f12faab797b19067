"""The benchmarks' NetBox: the 'bench' instance of devtools/stack.sh, reset with the demo reference data."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pynetbox

from devtools import demo_data

ROOT = Path(__file__).resolve().parent.parent
ENV = {**os.environ, "STACK": "bench"}


def stack(*args: str) -> str:
    """Run devtools/stack.sh on the bench instance; its stdout (errors go to the terminal)."""
    out = subprocess.run(
        ["devtools/stack.sh", *args], cwd=ROOT, env=ENV, stdout=subprocess.PIPE, text=True, check=True
    )
    return out.stdout


def fresh_netbox() -> dict[str, str]:
    """Reset the bench NetBox from the migrated snapshot, load the demo data; its settings (URL, tokens)."""
    stack("reset")
    lines = (ROOT / ".stack" / "bench" / "netbox.env").read_text().splitlines()
    settings = dict(line.split("=", 1) for line in lines if "=" in line and not line.startswith("#"))
    demo_data.load(pynetbox.api(settings["NETBOX_URL"], token=settings["NETBOX_TOKEN"]))
    return settings


SEED = """
from dcim.models import Device, DeviceRole, DeviceType, Site
site = Site.objects.get(slug="hq")
dtype = DeviceType.objects.get(slug="c9300-48p")
role = DeviceRole.objects.get(slug="access-switch")
Device.objects.bulk_create(
    [Device(name=f"nb-seed-{{i}}", site=site, device_type=dtype, role=role, serial=f"SEED{{i:07d}}",
            custom_field_data={{"librenms_id": {step} * i + 1 if i % {every} == 0 else None}})
     for i in range({count})],
    batch_size=1000,
)
print(Device.objects.count())
"""


def seed_devices(count: int, *, every: int = 1, step: int = 1) -> str:
    """`count` devices straight into the bench NetBox's database (site hq, a C9300, access switch); every
    `every`-th device i is linked to the LibreNMS device `step * i + 1`. Returns how many NetBox holds."""
    return stack("shell", "-c", SEED.format(count=count, every=every, step=step)).strip().splitlines()[-1]


def stop() -> None:
    subprocess.run(["devtools/stack.sh", "down"], cwd=ROOT, env=ENV, check=False)
