"""Benchmark: import throughput into the local NetBox, bulk batches against one device at a time, and
against NetBox's own bulk-create ceiling.

For each mode: the 'bench' stack reset with the demo reference data, the LibreNMS simulator serving N
synthetic devices, a search, every row made ready (role set), then `run_import` with primary IPs on.
Before it, on the same NetBox, a bare bulk POST of as many devices (name, site, type, role only; deleted
again) measures what NetBox itself can create, so the import's rate is printed as a ratio to it. Prints
devices/s, NetBox requests and what was created. Asserts nothing.

    .venv/bin/python bench/import_devices.py [--devices 500] [--batch 50]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import benchstack  # noqa: E402
from core import netbox  # noqa: E402
from core.choices import Kind, RowStatus  # noqa: E402
from core.importer import ImportItem, run_import  # noqa: E402
from core.librenms import DeviceFilter  # noqa: E402
from core.search import run_search  # noqa: E402
from core.settings import Settings, load_settings  # noqa: E402
from devtools.librenms_sim import LibreNMSSimulator  # noqa: E402


def bench_settings(stack_env: dict[str, str], sim: LibreNMSSimulator) -> Settings:
    """The settings of a bench import: the bench NetBox, the simulator, the demo mappings."""
    return load_settings(
        {
            **stack_env,
            "LIBRENMS_URL": sim.url,
            "LIBRENMS_TOKEN": "bench",
            "MAPPING_FILE": str(ROOT / "devtools" / "demo-mappings.yaml"),
        },
        secrets_file=Path("/nonexistent"),
    )


def ready_items(settings: Settings, devices: int) -> list[ImportItem]:
    """`devices` rows to import: a search, every row given a role, then the first ready standalone devices
    with a management IP (only those whose hardware and site the demo data resolves are ready)."""
    review = run_search(settings, DeviceFilter(detect_stacks=True)).review
    review.apply_role(list(review.rows), "access-switch")
    rows = [
        r
        for r in review
        if r.status is RowStatus.READY and r.kind is Kind.DEVICE and r.stack is None and r.device.ip
    ][:devices]
    return [ImportItem.from_row(r) for r in rows]


def bare_bulk_rate(api, count: int, batch: int) -> float:
    """Devices per second NetBox creates from bare bulk POSTs of `batch` (deleted again afterwards)."""
    site = api.dcim.sites.get(slug="hq")
    device_type = api.dcim.device_types.get(slug="c9300-48p")
    role = api.dcim.device_roles.get(slug="access-switch")
    payloads = [
        {"name": f"bench-bare-{i}", "site": site.id, "device_type": device_type.id, "role": role.id}
        for i in range(count)
    ]
    made = []
    t0 = time.perf_counter()
    for start in range(0, count, batch):
        made += api.dcim.devices.create(payloads[start : start + batch])
    seconds = time.perf_counter() - t0
    api.dcim.devices.delete(made)
    return count / seconds


def one_run(devices: int, batch: int, label: str) -> None:
    stack_env = benchstack.fresh_netbox()
    # templates: only the physical devices whose hardware and site the demo data resolves
    with LibreNMSSimulator(tokens=["bench"], synthetic=devices * 3) as sim:
        settings = bench_settings(stack_env, sim)
        items = ready_items(settings, devices)
        api = netbox.connect(settings)
        ceiling = bare_bulk_rate(api, len(items), batch)
        t0 = time.perf_counter()
        report = run_import(settings, items, nb_api=api, librenms=None, batch_size=batch)
        seconds = time.perf_counter() - t0
    counts = report.counts()
    with_ip = sum(
        1 for r in report.results if any(e.startswith("primary IP") and "not set" not in e for e in r.extra)
    )
    print(f"\n== {label}: {len(items)} devices, batch size {batch}")
    rate = counts["created"] / seconds
    print(f"time:            {seconds:7.1f} s  ({rate:5.1f} devices/s created, with primary IPs)")
    print(
        f"NetBox's ceiling: {ceiling:5.1f} devices/s (bare bulk POSTs of {batch}, same NetBox): "
        f"the import runs at {rate / ceiling:4.2f}x of it"
    )
    print(f"outcomes:        {counts}")
    print(f"with primary IP: {with_ip}")
    print(f"NetBox requests: {report.netbox_requests}")
    if report.error:
        print(f"error: {report.error}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--devices", type=int, default=500)
    parser.add_argument("--batch", type=int, default=50)
    args = parser.parse_args()
    one_run(args.devices, args.batch, "bulk")
    one_run(args.devices, 1, "one by one")
    benchstack.stop()


if __name__ == "__main__":
    main()
