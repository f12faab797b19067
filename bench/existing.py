"""Benchmark: reviewing and updating devices NetBox already has. Prints figures; asserts nothing.

For each size N: the 'bench' NetBox (reset) holding N/2 of the LibreNMS devices (linked by librenms_id,
seeded with another serial, no platform and no primary IP, so every matched row differs), the LibreNMS
simulator serving N synthetic devices in a process of its own, then:
- the search the page runs (stack detection on): NetBox requests in all, and per matched device;
- re-validating one edited row of a matched device (choosing its action or the fields to update), and of
  a new one (its role), timed over many random rows;
- an update of 100 matched rows (serial and platform) through the importer, in this process: seconds and
  NetBox requests, beside one bulk PATCH of the same 100 serials (what a write without If-Match costs).

    .venv/bin/python bench/existing.py [--sizes 1000 5000]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import benchstack  # noqa: E402
from core import netbox  # noqa: E402
from core.choices import RowStatus, Sync  # noqa: E402
from core.importer import ImportItem, run_import  # noqa: E402
from core.librenms import DeviceFilter, LibreNMSClient  # noqa: E402
from core.search import run_search  # noqa: E402
from core.settings import load_settings  # noqa: E402

EDITS = 500
UPDATED = 100


def _ms(times: list[float]) -> str:
    ordered = sorted(times)
    p95 = ordered[int(len(ordered) * 0.95) - 1]
    return f"median {statistics.median(ordered):.2f} ms, p95 {p95:.2f} ms, max {ordered[-1]:.2f} ms"


def bench(size: int) -> None:
    stack_env = benchstack.fresh_netbox()
    held = benchstack.seed_devices(size // 2, step=2)  # every odd LibreNMS id is in NetBox
    print(f"\n== {size} LibreNMS devices, {size // 2} of them in NetBox (NetBox holds {held} devices)")
    with benchstack.SimulatorProcess(size) as sim:
        settings = load_settings(
            {
                **stack_env,
                "LIBRENMS_URL": sim.url,
                "LIBRENMS_TOKEN": "bench",
                "MAPPING_FILE": str(ROOT / "devtools" / "demo-mappings.yaml"),
            },
            secrets_file=Path("/nonexistent"),
        )
        api = netbox.connect(settings)
        before = netbox.request_count(api)
        t0 = time.perf_counter()
        result = run_search(
            settings, DeviceFilter(detect_stacks=True), librenms=LibreNMSClient(settings.librenms), nb_api=api
        )
        seconds = time.perf_counter() - t0
        requests = netbox.request_count(api) - before
        review = result.review
        matched = [row for row in review if row.status is RowStatus.EXISTS]
        differing = [row for row in matched if row.sync is Sync.DIFFERS]
        fields = sum(len(row.differences) for row in matched)
        print(
            f"search: {seconds:.2f} s; NetBox requests {requests} for {len(matched)} matched devices "
            f"({requests / max(len(matched), 1):.3f} per matched device); {len(differing)} differ, "
            f"{fields} differing fields in all"
        )

        rng = random.Random(1)
        existing_keys = [row.key for row in matched]
        new_keys = [row.key for row in review if row.status is not RowStatus.EXISTS]
        times = []
        for i in range(EDITS):
            key = rng.choice(existing_keys)
            t0 = time.perf_counter()
            if i % 2:
                review.apply_override([key], action=rng.choice(["link", "update", "leave"]))
            else:
                review.apply_override([key], update=rng.choice(["serial", "serial,platform", ""]))
            times.append((time.perf_counter() - t0) * 1000)
        print(f"re-validate one edited matched row ({EDITS} edits): {_ms(times)}")
        times = []
        for _ in range(EDITS):
            key = rng.choice(new_keys)
            t0 = time.perf_counter()
            review.apply_role([key], rng.choice(["access-switch", "core-switch", "leaf"]))
            times.append((time.perf_counter() - t0) * 1000)
        print(f"re-validate one edited new row ({EDITS} edits): {_ms(times)}")

        chosen = [row.key for row in differing[:UPDATED]]
        review.apply_override(chosen, action="update", update="serial,platform")
        items = [ImportItem.from_row(review.rows[key]) for key in chosen]
        t0 = time.perf_counter()
        report = run_import(settings, items, librenms=LibreNMSClient(settings.librenms))
        seconds = time.perf_counter() - t0
        outcomes = report.counts()
        print(
            f"update {len(items)} rows (serial, platform): {seconds:.2f} s, {len(items) / seconds:.1f} rows/s, "
            f"NetBox requests {report.netbox_requests}; updated {outcomes['updated']}, failed "
            f"{outcomes['failed']}; stages "
            + ", ".join(f"{name} {s:.2f} s" for name, s in report.stages.items() if s)
        )
        ids = [review.rows[key].existing.id for key in chosen]
        t0 = time.perf_counter()
        api.dcim.devices.update([{"id": i, "serial": f"BULK{i}"} for i in ids])
        print(
            f"for comparison, one bulk PATCH of the same {len(ids)} serials: {time.perf_counter() - t0:.2f} s"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000])
    args = parser.parse_args()
    try:
        for size in args.sizes:
            bench(size)
    finally:
        benchstack.stop()


if __name__ == "__main__":
    main()
