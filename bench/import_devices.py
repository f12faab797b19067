"""Benchmark: an import the way an analyst runs it, against the plugin's figure and NetBox's own ceiling.

The plugin's comparison: N LibreNMS devices (default 1,000, synthetic, the simulator in its own process),
of which R rows (default 100) that need only a role, S of them stacks (default 19). The analyst's search
and the edited review CSV are prepared first (not timed); no inventory is kept yet (cold). Then, each on a
freshly reset bench NetBox:
- `python -m core import --sync --csv EDITED.csv`, end to end, as a command (primary IPs on): rows/s;
- the same import in this process, through the functions the command calls (`review_csv`, `run_import`),
  timed by stage (core.importer.results.STAGES), with the requests to NetBox and LibreNMS;
- NetBox's own bulk-create ceiling: bare bulk POSTs of as many devices (name, site, type, role only;
  deleted again), so the import's rate is also printed as a ratio to it.
Prints figures; asserts nothing.

    .venv/bin/python bench/import_devices.py [--devices 1000] [--rows 100] [--stacks 19] [--batch 50] [--repeat 1]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import redis

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import benchstack  # noqa: E402
from core import defaults, keys, netbox  # noqa: E402
from core.choices import Kind, RowStatus  # noqa: E402
from core.cli.import_cmd import review_csv  # noqa: E402
from core.csvio import csv_bytes  # noqa: E402
from core.importer import ImportItem, run_import  # noqa: E402
from core.importer.results import STAGES  # noqa: E402
from core.librenms import DeviceFilter  # noqa: E402
from core.librenms.inventories import server_id  # noqa: E402
from core.review import Row  # noqa: E402
from core.search import run_search  # noqa: E402
from core.settings import Settings, load_settings  # noqa: E402


def bench_env(stack_env: dict[str, str], sim: benchstack.SimulatorProcess) -> dict[str, str]:
    """The settings of a bench import: the bench NetBox, the simulator, the demo mappings."""
    return {
        **stack_env,
        "LIBRENMS_URL": sim.url,
        "LIBRENMS_TOKEN": "bench",
        "MAPPING_FILE": str(ROOT / "devtools" / "demo-mappings.yaml"),
        "AUTH": "none",
    }


def settings_of(env: dict[str, str]) -> Settings:
    return load_settings(env, secrets_file=Path("/nonexistent"))


def chosen_rows(settings: Settings, rows: int, stacks: int) -> list[Row]:
    """The analyst's pick: a search, every row given a role, then `stacks` ready stacks and ready
    standalone devices with a management IP, `rows` in all."""
    review = run_search(settings, DeviceFilter(detect_stacks=True)).review
    review.apply_role(list(review.rows), "access-switch")
    ready = [r for r in review if r.status is RowStatus.READY and r.kind is Kind.DEVICE]
    picked = [r for r in ready if r.stack is not None][:stacks]
    picked += [r for r in ready if r.stack is None and r.device.ip][: rows - len(picked)]
    return picked


def forget_inventories(settings: Settings) -> None:
    """Cold: no inventory kept for this LibreNMS server yet."""
    conn = redis.Redis.from_url(settings.redis_url)
    for key in conn.scan_iter(match=keys.inventories_pattern(server_id(settings.librenms))):
        conn.delete(key)


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


def cli_import(env: dict[str, str], csv_path: Path, batch: int) -> float:
    """`python -m core import --sync` as a command; its seconds."""
    command = [sys.executable, "-m", "core", "import", "--sync", "--csv", str(csv_path)]
    command += ["--batch-size", str(batch)]
    t0 = time.perf_counter()
    done = subprocess.run(
        command, cwd=ROOT, env={**os.environ, **env}, stdout=subprocess.PIPE, text=True, check=False
    )
    seconds = time.perf_counter() - t0
    last = done.stdout.strip().splitlines()[-1:] or ["(no output)"]
    print(f"  command: exit {done.returncode}, {last[0]}")
    return seconds


def requests_by_kind(sim: benchstack.SimulatorProcess) -> dict[str, int]:
    kinds: dict[str, int] = {}
    for path, n in sim.stats()["by_path"].items():
        parts = path.removeprefix("/api/v0/").split("/")
        kind = (
            "inventory" if parts[0] == "inventory" else "/".join(p if not p.isdigit() else "N" for p in parts)
        )
        kinds[kind] = kinds.get(kind, 0) + n
    return kinds


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--devices", type=int, default=1000)
    parser.add_argument("--rows", type=int, default=100)
    parser.add_argument("--stacks", type=int, default=19)
    parser.add_argument("--batch", type=int, default=defaults.IMPORT_BATCH_SIZE)
    parser.add_argument("--repeat", type=int, default=1, help="run the command this many times")
    args = parser.parse_args()

    stack_env = benchstack.fresh_netbox()
    with benchstack.SimulatorProcess(args.devices) as sim, tempfile.TemporaryDirectory() as tmp:
        env = bench_env(stack_env, sim)
        settings = settings_of(env)
        rows = chosen_rows(settings, args.rows, args.stacks)
        members = sum(len(r.stack.members) for r in rows if r.stack)
        csv_path = Path(tmp) / "edited.csv"
        csv_path.write_bytes(csv_bytes(rows))
        print(
            f"\n== {args.devices} LibreNMS devices; {len(rows)} rows to import that needed only a role, "
            f"{sum(1 for r in rows if r.stack)} of them stacks ({members} member devices); batch size "
            f"{args.batch}; primary IPs on; no inventory kept yet"
        )

        devices = len(rows) - sum(1 for r in rows if r.stack) + members
        runs = []
        for attempt in range(args.repeat):
            if attempt:
                env = bench_env(benchstack.fresh_netbox(), sim)  # a reset NetBox has new tokens
            forget_inventories(settings_of(env))
            # NetBox's ceiling just before, on the same NetBox: its workers have served writes (a NetBox
            # just restarted answers its first requests slowly), and noise on the machine shows as a ratio
            ceiling = bare_bulk_rate(netbox.connect(settings_of(env)), devices, args.batch)
            runs.append(cli_import(env, csv_path, args.batch))
            print(
                f"  `python -m core import --sync`: {runs[-1]:5.1f} s, {len(rows) / runs[-1]:5.1f} rows/s; "
                f"NetBox's ceiling just before {ceiling:5.1f} devices/s, the command "
                f"{devices / runs[-1] / ceiling:4.2f}x of it"
            )
        if len(runs) > 1:
            seconds = statistics.median(runs)
            print(f"  median of {len(runs)}: {seconds:5.1f} s, {len(rows) / seconds:5.1f} rows/s")

        env = bench_env(benchstack.fresh_netbox(), sim)  # a reset NetBox has new tokens
        settings = settings_of(env)
        forget_inventories(settings)
        api = netbox.connect(settings)
        ceiling = bare_bulk_rate(api, devices, args.batch)
        sim.reset_stats()
        t0 = time.perf_counter()
        review, _report, _warnings = review_csv(settings, csv_path.read_bytes(), settings.librenms.key)
        search = time.perf_counter() - t0
        items = [ImportItem.from_row(row) for row in review.importable_rows()]
        report = run_import(settings, items, nb_api=api, batch_size=args.batch)
        seconds = time.perf_counter() - t0
        devices = sum(1 for o in report.objects if o["type"] == "dcim.device" and o["action"] == "create")
        counts = {k: v for k, v in report.counts().items() if v}
        print(f"  in this process: {seconds:5.1f} s, {len(items) / seconds:5.1f} rows/s; outcomes {counts}")
        print(f"    {'search (the CSV review)':26s} {search:6.2f} s")
        for stage in STAGES:
            print(f"    {stage:26s} {report.stages.get(stage, 0.0):6.2f} s")
        print(
            f"    NetBox requests of the import: {report.netbox_requests}; LibreNMS: {requests_by_kind(sim)}"
        )
        rate = devices / report.seconds if report.seconds else 0.0
        print(
            f"  NetBox's ceiling: {ceiling:5.1f} devices/s (bare bulk POSTs of {args.batch}); the import made "
            f"{devices} devices at {rate:5.1f}/s, {rate / ceiling:4.2f}x of it"
        )
        forget_inventories(settings)
    benchstack.stop()


if __name__ == "__main__":
    main()
