"""The benchmarks' NetBox (the 'bench' instance of devtools/stack.sh, reset with the demo reference data)
and LibreNMS (the simulator in a process of its own)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pynetbox
import requests

from devtools import demo_data
from devtools.appserver import free_port

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


class SimulatorProcess:
    """`python -m devtools.librenms_sim --synthetic N` in its own process, driven by its control endpoints."""

    def __init__(self, size: int) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        command = [sys.executable, "-m", "devtools.librenms_sim", "--port", str(self.port), "--synthetic"]
        self.proc = subprocess.Popen([*command, str(size), "--token", "bench"], cwd=ROOT)
        deadline = time.monotonic() + 60
        while True:
            try:
                requests.get(f"{self.url}/_sim/stats", timeout=1).raise_for_status()
                break
            except requests.RequestException:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def set_faults(self, **faults: float) -> None:
        requests.post(f"{self.url}/_sim/faults", json=faults, timeout=10).raise_for_status()

    def stats(self) -> dict:
        return requests.get(f"{self.url}/_sim/stats", timeout=10).json()

    def reset_stats(self) -> None:
        requests.delete(f"{self.url}/_sim/stats", timeout=10).raise_for_status()

    def __enter__(self) -> SimulatorProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=20)
