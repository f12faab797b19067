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


def stop() -> None:
    subprocess.run(["devtools/stack.sh", "down"], cwd=ROOT, env=ENV, check=False)
