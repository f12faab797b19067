"""Benchmark: search + validation at scale. Prints figures; asserts nothing.

For each size N: a NetBox (the 'bench' stack, reset) holding N devices (every tenth linked by librenms_id
to a LibreNMS device), the LibreNMS simulator serving N synthetic devices, then the search pipeline the
page runs (fetch, NetBox index, stack detection, validation). Reported: LibreNMS fetch time, NetBox index
time and request count, stack detection, validation time, end-to-end time, peak Python memory, and the
time to re-validate one edited row.

    .venv/bin/python bench/validate.py [--sizes 1000 5000]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import benchstack  # noqa: E402
from core import netbox  # noqa: E402
from core.librenms import DeviceFilter, LibreNMSClient  # noqa: E402
from core.search import run_search  # noqa: E402
from core.settings import load_settings  # noqa: E402
from devtools.librenms_sim import LibreNMSSimulator  # noqa: E402


def bench(size: int) -> None:
    stack_env = benchstack.fresh_netbox()
    t0 = time.perf_counter()
    count = benchstack.seed_devices(size, every=10)  # every tenth linked by librenms_id
    seeded = time.perf_counter() - t0

    with LibreNMSSimulator(tokens=["bench"], synthetic=size) as sim:
        settings = load_settings(
            {
                **stack_env,
                "LIBRENMS_URL": sim.url,
                "LIBRENMS_TOKEN": "bench",
                "MAPPING_FILE": str(ROOT / "devtools" / "demo-mappings.yaml"),
            },
            secrets_file=Path("/nonexistent"),
        )
        client = LibreNMSClient(settings.librenms)
        t0 = time.perf_counter()
        devices = client.list_devices()
        fetch = time.perf_counter() - t0
        client.clear_cache()

        api = netbox.connect(settings)
        sim.reset_stats()
        t0 = time.perf_counter()
        result = run_search(settings, DeviceFilter(detect_stacks=True), librenms=client, nb_api=api)
        total = time.perf_counter() - t0
        inventory_requests = sum(v for k, v in sim.stats()["by_path"].items() if "/inventory/" in k)
        # memory in a second, cold run (a new client keeps no inventory): tracemalloc slows Python down too
        # much to time under it
        tracemalloc.start()
        run_search(settings, DeviceFilter(detect_stacks=True), librenms=LibreNMSClient(settings.librenms))
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()

    review = result.review
    keys = list(review.rows)
    rng = random.Random(1)
    roles = ["access-switch", "core-switch", "leaf"]
    edit_times = []
    for _ in range(300):
        key = rng.choice(keys)
        t0 = time.perf_counter()
        review.apply_role([key], rng.choice(roles))
        edit_times.append((time.perf_counter() - t0) * 1000)

    counts = {s.value: n for s, n in review.counts().items()}
    print(f"\n== {size} LibreNMS devices, NetBox holding {count} devices (seeded in {seeded:.1f} s)")
    print(f"LibreNMS fetch (list, {len(devices)} devices):   {fetch:6.2f} s")
    print(f"search end-to-end:                       {total:6.2f} s")
    for stage, seconds in result.timings.items():
        print(f"  {stage:<12}                           {seconds:6.2f} s")
    print(f"NetBox requests for the whole search:    {result.netbox_requests:6d}")
    print(
        f"LibreNMS inventory requests (stacks):    {inventory_requests:6d}  ({len(review.stacks)} stacks found)"
    )
    print(f"peak Python memory during the search:    {peak / 2**20:6.1f} MiB")
    print(
        f"re-validate one edited row: median {statistics.median(edit_times):.2f} ms, "
        f"p95 {sorted(edit_times)[int(len(edit_times) * 0.95)]:.2f} ms, max {max(edit_times):.2f} ms"
    )
    print(f"statuses: {counts}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000])
    args = parser.parse_args()
    for size in args.sizes:
        bench(size)
    benchstack.stop()


if __name__ == "__main__":
    main()
