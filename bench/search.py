"""Benchmark: repeated searches, cold and warm, on localhost and at real latency. Prints figures; asserts
nothing.

For each size N: the 'bench' NetBox (reset) holding N/2 of the devices (so half are "exists"), the LibreNMS
simulator serving N synthetic devices (3 % stacks), and the search the page runs with stack detection:
- cold: no inventory kept yet (every stack candidate's inventory is read);
- warm: the same search again from another process's point of view: inventories come from Redis, kept per
  LibreNMS discovery (core.librenms.inventories), so only the device list is read;
- the same two with every LibreNMS request delayed by 20 ms (the simulator's delay switch);
- a sequential fetch of the same inventories, one request at a time, measured in the same run, so the cold
  figure means something on any machine.
The simulator runs in a process of its own, as a LibreNMS server would (in the benchmark's process it
would share one interpreter lock with the client it serves).

    .venv/bin/python bench/search.py [--sizes 1000 5000] [--delays 0 0.02]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import redis

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import benchstack  # noqa: E402
from core import keys, netbox  # noqa: E402
from core.librenms import DeviceFilter, LibreNMSClient, may_be_stack  # noqa: E402
from core.librenms.inventories import RedisInventories, server_id  # noqa: E402
from core.search import run_search  # noqa: E402
from core.settings import load_settings  # noqa: E402


def requests_by_kind(sim: benchstack.SimulatorProcess) -> dict[str, int]:
    kinds: dict[str, int] = {}
    for path, n in sim.stats()["by_path"].items():
        kind = "inventory" if "/inventory/" in path else path.removeprefix("/api/v0/")
        kinds[kind] = kinds.get(kind, 0) + n
    return kinds


def bench(size: int, delays: list[float]) -> None:
    stack_env = benchstack.fresh_netbox()
    benchstack.seed_devices(size // 2, step=2)  # every odd LibreNMS id is in NetBox
    conn = redis.Redis.from_url(stack_env["REDIS_URL"])
    print(f"\n== {size} LibreNMS devices, {size // 2} of them in NetBox")
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
        kept = keys.inventories_pattern(server_id(settings.librenms))
        api = netbox.connect(settings)
        flt = DeviceFilter(detect_stacks=True)
        for delay in delays:
            for key in conn.scan_iter(match=kept):
                conn.delete(key)
            sim.set_faults(delay=delay)
            figures = {}
            for run in ("cold", "warm"):
                client = LibreNMSClient(
                    settings.librenms, inventories=RedisInventories(conn)
                )  # a new process
                sim.reset_stats()
                t0 = time.perf_counter()
                result = run_search(settings, flt, librenms=client, nb_api=api)
                figures[run] = (time.perf_counter() - t0, requests_by_kind(sim), result)
            candidates = [d for d in result.review.devices.values() if may_be_stack(d)]
            client = LibreNMSClient(settings.librenms)
            t0 = time.perf_counter()
            for device in candidates:
                client.inventory(device.device_id)
            sequential = time.perf_counter() - t0
            label = f"{delay * 1000:.0f} ms per LibreNMS request" if delay else "localhost"
            print(f"-- {label}")
            for run, (seconds, kinds, result) in figures.items():
                stages = ", ".join(f"{stage} {t:.2f} s" for stage, t in result.timings.items())
                print(
                    f"  {run}: {seconds:6.2f} s end to end ({stages}); LibreNMS "
                    f"requests {kinds}; NetBox requests {result.netbox_requests}; inventories "
                    f"{result.inventories}; {len(result.review.stacks)} stacks"
                )
            cold_stacks = figures["cold"][2].timings.get("stacks", 0.0)
            print(
                f"  sequential fetch of the {len(candidates)} candidates' inventories: {sequential:6.2f} s "
                f"(cold stack detection is {sequential / cold_stacks:4.1f}x faster)"
            )
        for key in conn.scan_iter(match=kept):
            conn.delete(key)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000])
    parser.add_argument("--delays", type=float, nargs="+", default=[0.0, 0.02])
    args = parser.parse_args()
    for size in args.sizes:
        bench(size, args.delays)
    benchstack.stop()


if __name__ == "__main__":
    main()
