"""Benchmark: what recording a run costs. Prints figures; asserts nothing.

One 'bench' NetBox, reset with the demo reference data, and the LibreNMS simulator serving synthetic
devices; the same N ready devices (primary IPs on) imported again and again, every import starting from
the same NetBox (what the previous one created is deleted after it, outside the timing). Three modes,
alternated, their order rotated each round, after one warm-up import that is not counted:

- recorded:   as a worker runs it (core.jobs.runner.execute_import): every object NetBox confirms goes to
              a real Redis store (`RedisStore.add_objects`, one RPUSH per write) and the plan to
              `RedisStore.put_plan`;
- unrecorded: record=None, on_plan=None (the run's Recorder still parses every answer, in memory);
- bare:       as unrecorded, with `Recorder.confirmed` a no-op: nothing parsed or kept (so the run also
              skips the changelog lookup that names its user).

Prints per mode the seconds (median, min–max), devices/s, NetBox requests, writes, objects recorded,
Redis commands and bytes sent; then the overhead between modes (from the medians, and per round between
adjacent runs), and the time spent inside the recording path itself, measured in-process.

    .venv/bin/python -m bench.run_record [--devices 300] [--rounds 3] [--batch 50]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest import mock

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pynetbox  # noqa: E402
import redis  # noqa: E402

import core.importer.run as import_run  # noqa: E402
from bench import benchstack  # noqa: E402
from bench.import_devices import bench_settings, ready_items  # noqa: E402
from core import keys, netbox  # noqa: E402
from core.choices import Outcome  # noqa: E402
from core.importer import ImportItem, run_import  # noqa: E402
from core.jobs.store import RedisStore  # noqa: E402
from core.runs.recorder import Recorder  # noqa: E402
from core.settings import Settings  # noqa: E402
from devtools.librenms_sim import LibreNMSSimulator  # noqa: E402

MODES = ("recorded", "unrecorded", "bare")


class Probe:
    """What one import spent in the recording path, summed over its threads (two batches in flight)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.writes = 0  # confirmed writes the session told the recorder of
        self.confirm_s = 0.0  # inside Recorder.confirmed (parse, RunObjects, sink)
        self.sink_s = 0.0  # of which in the sink (JSON + Redis RPUSH/EXPIRE)
        self.plan_s = 0.0  # in on_plan (RedisStore.put_plan)
        self.changed_by_s = 0.0  # the changelog lookup after the run (names the user)
        self.redis_commands = 0  # round trips to Redis (a pipeline is one)
        self.redis_bytes = 0  # bytes sent to Redis

    def add(self, name: str, seconds: float) -> None:
        with self.lock:
            setattr(self, name, getattr(self, name) + seconds)


PROBE = Probe()


class CountingConnection(redis.Connection):
    """A Redis connection that counts the commands and bytes it sends into PROBE."""

    def send_packed_command(self, command: Any, check_health: bool = True) -> None:
        chunks = [command] if isinstance(command, (bytes, str, memoryview)) else command
        size = sum(len(c) for c in chunks)
        with PROBE.lock:
            PROBE.redis_commands += 1
            PROBE.redis_bytes += size
        super().send_packed_command(command, check_health)


def timed(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            PROBE.add(name, time.perf_counter() - t0)

    return wrapper


@contextmanager
def instrumented(mode: str) -> Iterator[None]:
    """Recorder.confirmed counted and timed (a counting no-op in 'bare'), the changelog lookup timed."""
    original = timed("confirm_s", Recorder.confirmed)

    def confirmed(self: Recorder, *args: Any, **kwargs: Any) -> None:
        with PROBE.lock:
            PROBE.writes += 1
        if mode != "bare":
            original(self, *args, **kwargs)

    with (
        mock.patch.object(Recorder, "confirmed", confirmed),
        mock.patch.object(import_run, "_changed_by", timed("changed_by_s", import_run._changed_by)),
    ):
        yield


@dataclass
class Run:
    mode: str
    seconds: float
    cpu: float  # this process's CPU seconds (the importer, the simulator, the recording)
    created: int
    requests: int
    writes: int
    objects: int  # in the report (the Recorder's memory)
    stored: int  # in Redis (recorded mode)
    stored_bytes: int  # the run's objects as Redis holds them
    plan_bytes: int  # its plan
    probe: Probe
    outcomes: dict[str, int] = field(default_factory=dict)
    not_created: list[str] = field(default_factory=list)  # a few rows not (fully) created, to say why
    kinds: Counter[tuple[str, str]] = field(default_factory=Counter)
    error: str = ""


def one_import(settings: Settings, items: list[ImportItem], mode: str, store: RedisStore, batch: int) -> Run:
    global PROBE
    run_id = f"bench-record-{uuid.uuid4().hex[:12]}"
    kwargs: dict[str, Any] = {}
    if mode == "recorded":
        kwargs = {
            "record": timed("sink_s", lambda objs: store.add_objects(run_id, objs)),
            "on_plan": timed("plan_s", lambda lines: store.put_plan(run_id, lines)),
        }
    api = netbox.connect(settings)
    store.conn.ping()  # the connection is open before the counting starts
    PROBE = Probe()
    try:
        with instrumented(mode):
            t0, c0 = time.perf_counter(), time.process_time()
            report = run_import(
                settings, items, nb_api=api, librenms=None, batch_size=batch, run_id=run_id, **kwargs
            )
            seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
        probe, PROBE = PROBE, Probe()  # reading the record back is not the run's
        raw = store.conn.lrange(keys.job_objects(run_id), 0, -1)
        plan = store.conn.get(keys.job_plan(run_id)) or b""
    finally:
        store.conn.delete(keys.job_objects(run_id), keys.job_plan(run_id))
    return Run(
        mode=mode,
        seconds=seconds,
        cpu=cpu,
        created=report.counts().get("created", 0),
        outcomes=report.counts(),
        not_created=[
            f"{r.name}: {r.outcome.value} {r.message} {r.extra}"
            for r in report.results
            if r.outcome is not Outcome.CREATED
        ][:3],
        requests=report.netbox_requests,
        writes=probe.writes,
        objects=len(report.objects),
        stored=len(raw),
        stored_bytes=sum(len(r) for r in raw),
        plan_bytes=len(plan),
        probe=probe,
        kinds=Counter((o["type"], o["action"]) for o in report.objects),
        error=report.error,
    )


def ids(endpoint: Any) -> set[int]:
    return {r.id for r in endpoint.filter(fields="id", limit=1000)}


def clean(api: pynetbox.api, baseline: dict[str, set[int]]) -> None:
    """Delete what the import created (IPs, then devices: their interfaces go with them)."""
    there = endpoints(api)
    for name in ("ip_addresses", "devices"):
        new = sorted(ids(there[name]) - baseline[name])
        for start in range(0, len(new), 100):
            there[name].delete(new[start : start + 100])
    left = {name: len(ids(ep) - baseline[name]) for name, ep in there.items()}
    if any(left.values()):
        raise SystemExit(f"cleanup left objects behind: {left}")


def endpoints(api: pynetbox.api) -> dict[str, Any]:
    return {
        "ip_addresses": api.ipam.ip_addresses,
        "devices": api.dcim.devices,
        "interfaces": api.dcim.interfaces,
    }


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):6.1f} s ({min(values):5.1f}–{max(values):5.1f})"


def pct(a: float, b: float) -> float:
    return (a / b - 1) * 100


def summary(runs: list[Run], rounds: int) -> None:
    by = {m: [r for r in runs if r.mode == m] for m in MODES}
    med = {m: statistics.median(r.seconds for r in rs) for m, rs in by.items()}
    cpu = {m: statistics.median(r.cpu for r in rs) for m, rs in by.items()}
    first = by["recorded"][0]
    print(f"\n== {len(runs)} imports ({rounds} rounds), outcomes of each: {first.outcomes}")
    print(
        f"{'mode':<11} {'seconds: median (min–max)':<27} {'devices/s':>9} {'CPU s':>6} {'NetBox req':>10} "
        f"{'writes':>6} {'objects':>7} {'in Redis':>8} {'Redis cmds':>10} {'Redis bytes':>11}"
    )
    for mode, rs in by.items():
        r = rs[0]
        print(
            f"{mode:<11} {spread([x.seconds for x in rs]):<27} {r.created / med[mode]:9.1f} {cpu[mode]:6.1f} "
            f"{r.requests:10d} {r.writes:6d} {r.objects:7d} {r.stored:8d} "
            f"{r.probe.redis_commands:10d} {r.probe.redis_bytes:11,d}"
        )
    for line in first.not_created:
        print(f"  not created: {line}")
    print(f"objects recorded, by type and action: {dict(sorted(first.kinds.items()))}")
    print(
        f"what Redis holds of one run: objects {first.stored_bytes:,d} bytes "
        f"({first.stored_bytes / max(first.stored, 1):.0f} per object), plan {first.plan_bytes:,d} bytes"
    )

    print(
        "\noverhead in wall time (median vs median; per round, adjacent runs: min … max); CPU of this process"
    )
    for a, b in (("recorded", "unrecorded"), ("recorded", "bare"), ("unrecorded", "bare")):
        per_round = [pct(x.seconds, y.seconds) for x, y in zip(by[a], by[b], strict=True)]
        print(
            f"  {a} vs {b}:{'':<{22 - len(a) - len(b)}} {pct(med[a], med[b]):+6.1f} %   "
            f"({min(per_round):+6.1f} … {max(per_round):+6.1f} %)   CPU {cpu[a] - cpu[b]:+5.2f} s"
        )

    print("\ntime inside the recording path, measured in-process (median over runs, summed over threads)")
    base = med["bare"]
    for mode in ("recorded", "unrecorded"):
        rs = by[mode]

        def m(name: str, rs: list[Run] = rs) -> float:
            return statistics.median(getattr(r.probe, name) for r in rs)

        inside = m("confirm_s") + m("plan_s") + m("changed_by_s")
        print(
            f"  {mode:<10}: Recorder.confirmed {m('confirm_s') * 1000:7.1f} ms "
            f"(of which sink {m('sink_s') * 1000:6.1f} ms, {m('sink_s') * 1000 / rs[0].writes:.2f} ms/write), "
            f"put_plan {m('plan_s') * 1000:5.1f} ms, changelog lookup {m('changed_by_s') * 1000:5.1f} ms"
            f"  = {inside * 1000:6.1f} ms, {inside / base * 100:.2f} % of the bare import"
        )
    for r in runs:
        if r.error:
            print(f"error ({r.mode}): {r.error}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--devices", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch", type=int, default=50)
    args = parser.parse_args()

    stack_env = benchstack.fresh_netbox()
    store = RedisStore(redis.Redis.from_url(stack_env["REDIS_URL"], connection_class=CountingConnection))
    cleanup_api = pynetbox.api(stack_env["NETBOX_URL"], token=stack_env["NETBOX_TOKEN"])
    baseline = {name: ids(ep) for name, ep in endpoints(cleanup_api).items()}
    runs: list[Run] = []
    # templates: only the physical devices whose hardware and site the demo data resolves
    with LibreNMSSimulator(tokens=["bench"], synthetic=args.devices * 3) as sim:
        settings = bench_settings(stack_env, sim)
        items = ready_items(settings, args.devices)
        print(f"{len(items)} devices, batch size {args.batch}; warm-up import (not counted)")
        one_import(settings, items, "unrecorded", store, args.batch)
        clean(cleanup_api, baseline)
        for n in range(args.rounds):
            for mode in MODES[n % 3 :] + MODES[: n % 3]:
                run = one_import(settings, items, mode, store, args.batch)
                clean(cleanup_api, baseline)
                runs.append(run)
                print(
                    f"round {n + 1} {mode:<10} {run.seconds:6.1f} s  {run.created} created  "
                    f"{run.requests} requests  {run.objects} objects  {run.probe.redis_bytes:,d} Redis bytes"
                )
    summary(runs, args.rounds)
    benchstack.stop()


if __name__ == "__main__":
    main()
