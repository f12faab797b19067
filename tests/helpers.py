"""Shared test helpers: in-memory NetBox data built by factories (pure logic is tested without a live
NetBox), real worker processes, Redis ownership (RedisJanitor), private LibreNMS labs (the fixture devices
renamed for one test module), and making a lab row ready as an analyst would."""

from __future__ import annotations

import contextlib
import dataclasses
import http.client
import http.server
import ipaddress
import itertools
import json
import os
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pynetbox
import pytest
import redis

from core import defaults, jobs, keys
from core.auth import Analyst
from core.choices import FieldType, Kind, RowStatus, SignInMethod
from core.importer import ImportItem
from core.librenms import LibreDevice, Stack, detect_stack
from core.netbox import Existing, NetBoxIndex, Obj
from core.review import Options, Review, Row, device_name
from core.settings import Secret, Settings, load_settings
from devtools import demo_data
from devtools.librenms_sim import LibreNMSSimulator, synthesize_devices
from tests.conftest import DEMO_MAPPINGS, FIXTURES, ROOT, SIM_TOKEN

RAW_DEVICES = json.loads((FIXTURES / "devices.json").read_text(encoding="utf-8"))["devices"]
NETBOX_URL = "http://netbox.test"


def fixture_devices() -> dict[int, LibreDevice]:
    """The simulator's fixture devices by device id."""
    return {d.device_id: d for d in map(LibreDevice.from_api, RAW_DEVICES)}


def fixture_stack(hostname: str, serial: str) -> Stack:
    """The stack read from a fixture device's inventory."""
    rows = json.loads((FIXTURES / "inventory" / f"{hostname}.json").read_text())["inventory"]
    stack = detect_stack(rows, serial)
    assert stack is not None
    return stack


def demo_index(
    *,
    existing: list[Existing] = (),
    field_type: FieldType = FieldType.INTEGER,
    default_server_key: str = "default",
) -> NetBoxIndex:
    """A NetBox index holding the demo reference data (devtools/demo_data.py: what `reference_data` loads
    into the test NetBox), with ids as NetBox would give them, and the `existing` objects."""
    ids = itertools.count(1)
    index = NetBoxIndex(base_url=NETBOX_URL, default_server_key=default_server_key, field_type=field_type)
    sites = {}
    for name, slug in demo_data.SITES:
        sites[slug] = Obj(next(ids), name, slug)
        index.sites.add(sites[slug])
    for _maker, model, slug, part in demo_data.DEVICE_TYPES:
        index.device_types.add(Obj(next(ids), model, slug, extra=part))
    for name, slug in demo_data.PLATFORMS:
        index.platforms.add(Obj(next(ids), name, slug))
    for name, slug, _colour, vm_role in demo_data.ROLES:
        index.roles.add(Obj(next(ids), name, slug, vm_role=vm_role))
    locations = {}
    for name, slug, site in demo_data.LOCATIONS:
        locations[slug] = Obj(next(ids), name, slug, site_id=sites[site].id)
        index.locations.add(locations[slug])
    for name, site, location in demo_data.RACKS:
        located = locations[location].id if location else None
        index.racks.add(Obj(next(ids), name, site_id=sites[site].id, location_id=located))
    for name, _type_slug, site in demo_data.CLUSTERS:
        index.clusters.add(Obj(next(ids), name, site_id=sites[site].id))
    for item in existing:
        index.add_existing(item)
    return index


def existing(
    kind: Kind = Kind.DEVICE,
    *,
    id: int,
    name: str = "",
    site_id: int | None = None,
    serial: str = "",
    librenms_ids: dict[str, int] | None = None,
    primary_ips: tuple[str, ...] = (),
    **fields: Any,
) -> Existing:
    """An existing NetBox device or VM as the index keeps it (`fields`: the other Existing fields)."""
    return Existing(kind, id, name, site_id, serial, dict(librenms_ids or {}), primary_ips, **fields)


# ------------------------------------------------------------------ jobs: worker processes, waiting, Redis
# Shared by tests/jobs and the import tests that run a real worker (`python -m core worker`).


HEARTBEAT = 1  # the test workers heartbeat every second …
GRACE = 5  # … so a worker silent for 5 s is dead
PICKLE_PREFIXES = (b"\x80\x04", b"\x80\x05")  # what a pickle (protocol 4 or 5) starts with


def wait_until(
    predicate: Callable[[], Any], timeout: float = 30.0, interval: float = 0.1, what: str = ""
) -> Any:
    """Poll until predicate() is truthy; returns its value, fails the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what or predicate}")
        time.sleep(interval)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def worker_env(
    stack_env: dict[str, str],
    *,
    librenms_url: str,
    queue: str,
    mapping: Path,
    netbox_token: str | None = None,
) -> dict[str, str]:
    """The environment of a worker process: only what the product reads, like a container would have."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(ROOT),
        "LIBRENMS_URL": librenms_url,
        "LIBRENMS_TOKEN": SIM_TOKEN,
        "NETBOX_URL": stack_env["NETBOX_URL"],
        "NETBOX_TOKEN": netbox_token or stack_env["NETBOX_TOKEN"],
        "REDIS_URL": stack_env["REDIS_URL"],
        "QUEUE_NAME": queue,
        "MAPPING_FILE": str(mapping),
        "JOB_SECRET": stack_env.get("JOB_SECRET", ""),  # opens the analysts' sealed tokens
    }


def settings_from(env: dict[str, str], tmp: Path) -> Settings:
    return load_settings(env, secrets_file=tmp / "no-secrets.toml")


@dataclasses.dataclass
class WorkerProcess:
    proc: subprocess.Popen
    log: Path
    queue: str

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def horses(self) -> list[int]:
        """Pids of the work horses (RQ forks one per job; it runs in its own process group)."""
        found = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.proc.pid:
                found.append(int(stat.parent.name))
        return found

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()
        self.proc.wait(timeout=15)

    def kill(self) -> None:
        """SIGKILL the worker and its work horse, as an OOM killer or a lost machine would."""
        for pid in [*self.horses(), self.proc.pid]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.proc.wait(timeout=15)


def start_worker(conn: redis.Redis, env: dict[str, str], tmp: Path, *, name: str = "") -> WorkerProcess:
    """`python -m core worker` in its own process, and wait until it heartbeats on its queue."""
    tmp.mkdir(parents=True, exist_ok=True)
    log = tmp / f"worker-{name or secrets.token_hex(3)}.log"
    args = [sys.executable, "-m", "core", "worker", "--heartbeat", str(HEARTBEAT)]
    if name:
        args += ["--name", name]
    with log.open("wb") as out:
        proc = subprocess.Popen(args, env=env, cwd=tmp, stdout=out, stderr=subprocess.STDOUT)
    worker = WorkerProcess(proc, log, env["QUEUE_NAME"])

    def ready() -> bool:
        if proc.poll() is not None:
            pytest.fail(f"the worker exited with {proc.returncode}:\n{worker.output()}")
        return jobs.worker_alive(conn, env["QUEUE_NAME"], grace=GRACE)

    wait_until(ready, timeout=30, what="the worker's first heartbeat")
    return worker


def wait_for_end(conn: Any, job_id: str, timeout: float = 90.0) -> jobs.JobStatus:
    """Poll like the app does until the job is no longer queued or running."""

    def ended() -> jobs.JobStatus | None:
        status = jobs.job_status(conn, job_id, results=False, grace=GRACE)
        return None if status.active else status

    wait_until(ended, timeout=timeout, interval=0.2, what=f"job {job_id} to end")
    return jobs.job_status(conn, job_id, grace=GRACE)


def raw_redis_bytes(conn: redis.Redis, key: str | bytes) -> bytes:
    """Every byte stored under a key, whatever its type, with RQ's zlib-compressed job data inflated."""
    kind = conn.type(key)
    values: list[bytes] = []
    if kind == b"hash":
        for field_name, value in conn.hgetall(key).items():
            values += [field_name, value]
            if field_name == b"data":
                with contextlib.suppress(zlib.error):  # a hash that is not an RQ job's
                    values.append(zlib.decompress(value))
    elif kind == b"string":
        values.append(conn.get(key))
    elif kind == b"list":
        values += conn.lrange(key, 0, -1)
    elif kind == b"set":
        values += list(conn.smembers(key))
    elif kind == b"zset":
        values += [member for member, _ in conn.zrange(key, 0, -1, withscores=True)]
    elif kind == b"stream":  # RQ's results
        for _entry, entry_fields in conn.xrange(key):
            values += [*entry_fields.keys(), *entry_fields.values()]
    return b"\n".join(values)


def rq_job_hash(conn: redis.Redis, job_id: str) -> dict[str, bytes]:
    """`HGETALL rq:job:<id>` as stored, with the `data` field inflated (RQ zlib-compresses it)."""
    raw = {name.decode(): value for name, value in conn.hgetall(f"rq:job:{job_id}").items()}
    if "data" in raw:
        raw["data"] = zlib.decompress(raw["data"])
    return raw


class RedisJanitor:
    """What tests made in a shared Redis database, and removing only that: never FLUSHDB, the database is
    the app's (and other runs may use it at the same time).

    Owned: every key whose name contains one of `tokens`: the run's `marker` (which every queue, worker and
    lock owner the tests name carries; make it contain letters that are not hex digits, so no job id of
    someone else contains it) and the ids of the jobs and searches the tests made (`own`, or `watch`ed
    through core.jobs). Also the owned ids in the recent-jobs index and the recent searches, the device
    locks held by an owned id, the RQ jobs found in owned queues and registries, and the workers registered
    on owned queues. The recent searches of others that the product drops while the tests save theirs (it
    keeps RECENT_SEARCHES_KEPT) are put back with their results.
    """

    def __init__(self, conn: redis.Redis, marker: str) -> None:
        assert len(marker) >= 16 and not set(marker) <= set("0123456789abcdef-"), "a marker no id contains"
        self.conn = conn
        self.marker = marker
        self.tokens: set[str] = {marker}
        listing = conn.lrange(keys.recent_searches(), 0, -1)
        self._searches_before: list[tuple[bytes, dict[str, Any], bytes | None, int]] = []
        for raw in listing:
            entry = json.loads(raw)
            key = keys.search_result(entry["id"])
            self._searches_before.append((raw, entry, conn.dump(key), conn.pttl(key)))

    def own(self, *ids: str) -> None:
        # a token is matched inside key names: a short one (say, an empty registry member) would own them all
        self.tokens.update(i for i in ids if len(i) >= 16)

    def watch(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Own the id of every job started and search saved through core.jobs while `monkeypatch` lasts."""
        for name in ("start_import", "start_search", "start_undo", "start_resume"):
            started = getattr(jobs, name)

            def start(*args: Any, _start: Callable = started, **kwargs: Any) -> Any:
                handle = _start(*args, **kwargs)
                self.own(handle.job_id)
                return handle

            monkeypatch.setattr(jobs, name, start)
        ran = jobs.run_here

        def here(*args: Any, **kwargs: Any) -> str:
            run_id = ran(*args, **kwargs)
            self.own(run_id)
            return run_id

        monkeypatch.setattr(jobs, "run_here", here)
        saved = jobs.save_search

        def save(*args: Any, **kwargs: Any) -> str:
            search_id = saved(*args, **kwargs)
            self.own(search_id)
            return search_id

        monkeypatch.setattr(jobs, "save_search", save)

    def owns(self, name: str | bytes) -> bool:
        """Whether a key name, an id or a lock value is the tests': it contains one of the tokens."""
        text = name.decode(errors="replace") if isinstance(name, bytes) else name
        return any(token in text for token in self.tokens)

    def cleanup(self) -> None:
        conn = self.conn
        names = list(conn.scan_iter(count=1000))
        extra: set[bytes] = set()
        for name in names:  # RQ jobs in owned queues and registries, workers registered on owned queues
            if not (name.startswith(b"rq:") and self.marker.encode() in name):
                continue
            kind = conn.type(name)
            if kind == b"list":
                self.own(*(m.decode().split(":")[0] for m in conn.lrange(name, 0, -1)))
            elif kind == b"zset":
                self.own(*(m.decode().split(":")[0] for m in conn.zrange(name, 0, -1)))
            elif kind == b"set" and name.startswith(b"rq:workers:"):
                extra.update(conn.smembers(name))
        doomed = {name for name in names if self.owns(name)} | extra
        for name in conn.scan_iter(match=keys.locks_pattern(), count=1000):
            value = conn.get(name)
            if value is not None and self.owns(value):
                doomed.add(name)
        with conn.pipeline() as pipe:
            for name in doomed:
                pipe.delete(name)
            for member in conn.zrange(keys.jobs_index(), 0, -1):
                if self.owns(member):
                    pipe.zrem(keys.jobs_index(), member)
            for index in ("rq:queues", "rq:workers"):
                for member in conn.smembers(index):
                    if self.owns(member) or member in extra:
                        pipe.srem(index, member)
            pipe.execute()
        self._restore_searches()

    def _restore_searches(self) -> None:
        conn = self.conn
        listing = keys.recent_searches()
        current = [(raw, json.loads(raw)) for raw in conn.lrange(listing, 0, -1)]
        kept = [(raw, entry) for raw, entry in current if not self.owns(entry["id"])]
        present = {entry["id"] for _, entry in kept}
        for raw, entry, dumped, pttl in self._searches_before:
            if entry["id"] in present or self.owns(entry["id"]):
                continue
            key = keys.search_result(entry["id"])
            if dumped is not None and not conn.exists(key):
                conn.restore(key, max(pttl, 0), dumped)
            if conn.exists(key):
                kept.append((raw, entry))
        kept.sort(key=lambda item: item[1].get("time", 0), reverse=True)
        kept = kept[: defaults.RECENT_SEARCHES_KEPT]
        if [raw for raw, _ in kept] == [raw for raw, _ in current]:
            return
        with conn.pipeline() as pipe:
            pipe.delete(listing)
            if kept:
                pipe.rpush(listing, *(raw for raw, _ in kept))
            pipe.execute()


# ------------------------------------------------------------------ a private lab: the fixture devices renamed
# A LibreNMS simulator of its own for one test module: the fixture devices (`copies` times) with hostnames,
# sysNames, serials, IPs and device ids unique to one run, so no two modules import the same device into the
# shared NetBox, and a module's cleanup can tell its own objects from everyone else's.


TEMPLATES: list[dict] = RAW_DEVICES  # the fixture devices, in the order the lab copies them


def template_name(template: dict) -> str:
    """core-sw01 for core-sw01.hq.example.net; devices known by IP go by their sysName."""
    try:
        ipaddress.ip_address(template["hostname"])
    except ValueError:
        return template["hostname"].split(".")[0].casefold()
    return template["sysName"].split(".")[0].casefold()


POSITION = {template_name(t): i for i, t in enumerate(TEMPLATES)}


@dataclasses.dataclass
class Lab:
    run: str
    sim: LibreNMSSimulator
    devices: dict[int, dict]  # device id -> device object as the simulator serves it
    net4: ipaddress.IPv4Network
    net6: ipaddress.IPv6Network
    mapping: Path
    tmp: Path
    review: Review | None = None

    def device(self, template: str, copy: int = 0) -> dict:
        """The lab's copy of a fixture device ('esx01', 'acc-sw-f3-01': see template_name), as served."""
        index = copy * len(TEMPLATES) + POSITION[template.casefold()]
        return next(d for d in self.devices.values() if d["_index"] == index)

    def device_id(self, template: str, copy: int = 0) -> int:
        return self.device(template, copy)["device_id"]

    def name(self, template: str, copy: int = 0) -> str:
        """The NetBox name of that device with the default settings (sysName, domain stripped)."""
        return device_name(LibreDevice.from_api(self.device(template, copy)), Options())[0]

    def row(self, template: str, copy: int) -> Row:
        assert self.review is not None
        return self.review.rows[("default", self.device_id(template, copy))]

    def env(self) -> dict[str, str]:
        """The app's LibreNMS and mapping settings for this lab."""
        return {"LIBRENMS_URL": self.sim.url, "LIBRENMS_TOKEN": SIM_TOKEN, "MAPPING_FILE": str(self.mapping)}

    def owns_ip(self, address: str) -> bool:
        """Whether an IP (with or without a mask) is in this lab's networks, where its devices' IPs are."""
        host = ipaddress.ip_interface(address).ip
        return host in self.net4 or host in self.net6

    def names(self) -> set[str]:
        """The NetBox name of every lab device (default settings)."""
        return {device_name(LibreDevice.from_api(d), Options())[0] for d in self.devices.values()}

    def owns(self, obj: Any, names: set[str] | None = None) -> bool:
        """Whether a NetBox device, VM or virtual chassis was made for one of this lab's devices: its
        librenms_id is one of the lab's device ids, or its name is a lab device's name (a stack member's
        "<name>-<position>"). Lab names carry "-<run>-", so no one else's object qualifies."""
        custom = getattr(obj, "custom_fields", None) or {}
        value = custom.get("librenms_id")
        for device_id in value.values() if isinstance(value, dict) else [value]:
            if str(device_id).isdigit() and int(device_id) in self.devices:
                return True
        name = str(getattr(obj, "name", "") or "")
        if f"-{self.run}-" not in name:
            return False
        names = self.names() if names is None else names
        base, _, position = name.rpartition("-")
        return name in names or (position.isdigit() and base in names)


def _host(index: int) -> int:
    """The offset in the lab's IPv4 network of device `index`'s address: never a .0 or .255, which NetBox
    refuses on an interface as the /24's network or broadcast address (LibreNMS' address lists say /24)."""
    return (index // 254) * 256 + index % 254 + 1


def build_data(
    dst: Path, run: str, copies: int
) -> tuple[dict[int, dict], ipaddress.IPv4Network, ipaddress.IPv6Network]:
    """The fixture devices `copies` times, renamed for this run; inventories rewritten to match."""
    base = random.randrange(10_000_000, 2_000_000_000, 10_000)
    net4 = ipaddress.IPv4Network(f"10.{random.randint(160, 250)}.{random.randint(0, 15) * 16}.0/20")
    net6 = ipaddress.IPv6Network(f"2001:db8:{random.randint(0x1000, 0xFFFE):x}::/64")
    devices = synthesize_devices(TEMPLATES, copies * len(TEMPLATES))
    (dst / "inventory").mkdir(parents=True)
    for name in ("locations.json", "system.json"):
        shutil.copy(FIXTURES / name, dst / name)
    served: dict[int, dict] = {}
    for index, device in enumerate(devices):
        template = TEMPLATES[index % len(TEMPLATES)]
        for name in ("hostname", "sysName", "display"):
            if device.get(name):
                device[name] = device[name].replace(f"-s{index}", f"-{run}-{index}", 1)
        device["device_id"] = base + index + 1
        if device.get("parent_id"):
            device["parent_id"] += base
        if device.get("dependency_parent_id"):
            parents = str(device["dependency_parent_id"]).split(",")
            device["dependency_parent_id"] = ",".join(str(base + int(p)) for p in parents)
        if device.get("ip"):
            net = net6 if ":" in device["ip"] else net4
            device["ip"] = str(
                net.network_address + _host(index) if net is net4 else net.network_address + index + 1
            )
            if template["hostname"] == template["ip"]:
                device["hostname"] = device["ip"]
        if device.get("overwrite_ip"):
            device["overwrite_ip"] = device["ip"]
        serial = template.get("serial")
        if serial:
            if serial.startswith("VMware-"):
                device["serial"] = f"VMware-{run}-{index}"
            elif serial.startswith("0000-00"):
                device["serial"] = f"0000-0007-{run}-{index}"
            elif len(serial) == 36 and serial.count("-") == 4:
                device["serial"] = str(uuid.uuid4())
            else:
                device["serial"] = f"{serial[:3]}{run.upper()}{index:04d}"
        inventory = FIXTURES / "inventory" / f"{template['hostname']}.json"
        if inventory.is_file():
            rows = json.loads(inventory.read_text(encoding="utf-8"))
            rows = rows["inventory"] if isinstance(rows, dict) else rows
            serials = {serial: device["serial"]} if serial else {}
            for row in rows:
                row["device_id"] = device["device_id"]
                old = row.get("entPhysicalSerialNum")
                if old:
                    new = f"{old[:3]}{run.upper()}{index:04d}M{len(serials)}"
                    row["entPhysicalSerialNum"] = serials.setdefault(old, new)
            (dst / "inventory" / f"{device['hostname']}.json").write_text(
                json.dumps({"status": "ok", "inventory": rows}), encoding="utf-8"
            )
        served[device["device_id"]] = {**device, "_index": index}
    (dst / "devices.json").write_text(json.dumps({"status": "ok", "devices": devices}), encoding="utf-8")
    return served, net4, net6


def start_lab(tmp: Path, run: str | None = None, copies: int = 1) -> Lab:
    """Build a lab's data under `tmp` (a fresh directory), copy the demo mappings there, and start its
    simulator (SIM_TOKEN). The caller stops `lab.sim`; `running_lab` does both and cleans NetBox up."""
    run = run or secrets.token_hex(3)
    devices, net4, net6 = build_data(tmp / "librenms", run, copies)
    mapping = tmp / "mappings.yaml"
    mapping.write_text(DEMO_MAPPINGS.read_text(encoding="utf-8"), encoding="utf-8")
    sim = LibreNMSSimulator(data_dir=tmp / "librenms", tokens=[SIM_TOKEN]).start()
    return Lab(run, sim, devices, net4, net6, mapping, tmp)


@contextlib.contextmanager
def running_lab(
    tmp: Path, run: str | None = None, copies: int = 1, *, nb: pynetbox.api | None = None
) -> Iterator[Lab]:
    """A started lab for a `with` block or a fixture; at the end its simulator stops and, given `nb`, what
    was made in NetBox for the lab's devices is deleted (delete_lab_objects), nothing else."""
    lab = start_lab(tmp, run, copies)
    try:
        yield lab
    finally:
        try:
            if nb is not None:
                delete_lab_objects(nb, lab)
        finally:
            lab.sim.stop()


def delete_lab_objects(nb: pynetbox.api, lab: Lab) -> None:
    """Delete the NetBox devices, VMs, virtual chassis and IPs made for this lab's devices (Lab.owns,
    Lab.owns_ip), and nothing of anyone else's. Every candidate NetBox returns is checked here again: NetBox
    ignores a filter it does not know and then returns everything."""
    addresses = [d["ip"] for d in lab.devices.values() if d.get("ip")]
    ips = []
    for chunk in range(0, len(addresses), 50):
        found = nb.ipam.ip_addresses.filter(address=addresses[chunk : chunk + 50])
        ips += [ip for ip in found if lab.owns_ip(str(ip.address))]
    if ips:  # first: deleting a device deletes the IPs on its interfaces
        nb.ipam.ip_addresses.delete(ips)
    ids, names = sorted(lab.devices), lab.names()
    for endpoint in (nb.dcim.virtual_chassis, nb.dcim.devices, nb.virtualization.virtual_machines):
        candidates = {obj.id: obj for obj in endpoint.filter(q=lab.run)}
        if endpoint is not nb.dcim.virtual_chassis:
            for chunk in range(0, len(ids), 50):
                with contextlib.suppress(pynetbox.RequestError):  # a librenms_id field of another type
                    found = endpoint.filter(cf_librenms_id=ids[chunk : chunk + 50])
                    candidates.update({obj.id: obj for obj in found})
        doomed = [obj for obj in candidates.values() if lab.owns(obj, names)]
        if doomed:
            endpoint.delete(doomed)


# ------------------------------------------------------------------ a proxy in front of NetBox that holds requests
# To stop a worker at a known point of an import (after its devices are created, before their IPs): the
# worker's NETBOX_URL is the proxy's, and the proxy holds the requests it is told to until released.


_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "content-length"}


class HoldingProxy:
    """An HTTP proxy for NetBox on a free local port (`url`). Requests whose method and path start match
    `hold()` wait until `release()` (at most `max_hold` seconds); `entered` is set when the first arrives."""

    def __init__(self, target: str, *, max_hold: float = 60.0) -> None:
        parsed = urllib.parse.urlsplit(target)
        self.target_host, self.target_port = parsed.hostname or "127.0.0.1", parsed.port or 80
        self.max_hold = max_hold
        self.held: list[tuple[str, str]] = []  # (method, path) seen while holding
        self.entered = threading.Event()
        self._gate = threading.Event()
        self._gate.set()
        self._rule: tuple[str, str] | None = None
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_args: Any) -> None:
                pass

            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                rule = proxy._rule
                if rule and self.command == rule[0] and self.path.startswith(rule[1]):
                    proxy.held.append((self.command, self.path))
                    proxy.entered.set()
                    proxy._gate.wait(proxy.max_hold)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
                upstream = http.client.HTTPConnection(proxy.target_host, proxy.target_port, timeout=120)
                try:
                    upstream.request(self.command, self.path, body=body, headers=headers)
                    response = upstream.getresponse()
                    data = response.read()
                    self.send_response(response.status, response.reason)
                    for name, value in response.getheaders():
                        if name.lower() not in _HOP_BY_HOP:
                            self.send_header(name, value)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:  # the client went away (e.g. its process was killed) while held
                    self.close_connection = True
                finally:
                    upstream.close()

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = do_OPTIONS = do_HEAD = _forward

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> HoldingProxy:
        self._thread.start()
        return self

    def hold(self, method: str, path_prefix: str) -> None:
        self.entered.clear()
        self.held.clear()
        self._gate.clear()
        self._rule = (method, path_prefix)

    def release(self) -> None:
        self._rule = None
        self._gate.set()

    def stop(self) -> None:
        self.release()
        self._server.shutdown()
        self._server.server_close()


def serve_addresses(lab: Lab, addresses: dict[int, list[dict]]) -> None:
    """Give the lab's LibreNMS stored address lists (device id -> `/devices/:id/ip` rows; [] makes it answer
    404 "does not have any IP addresses") and restart its simulator on a new port: read `lab.env()` and
    `lab.sim.url` after this."""
    directory = lab.tmp / "librenms" / "addresses"
    directory.mkdir(exist_ok=True)
    for device_id, rows in addresses.items():
        path = directory / f"{lab.devices[device_id]['hostname']}.json"
        path.write_text(json.dumps({"status": "ok", "addresses": rows}), encoding="utf-8")
    lab.sim.stop()
    lab.sim = LibreNMSSimulator(data_dir=lab.tmp / "librenms", tokens=[SIM_TOKEN]).start()


# The choices an analyst makes to get a lab row ready (tests/importer): a role for a device, a cluster for a VM.
ROLES = {"core-sw01": "core-switch", "dist-sw-b2": "distribution-switch"}  # other devices: access-switch
HQ_CLUSTER = "kvm-hq"


def prepared(lab: Lab, review: Review, row: Row, **overrides: str) -> ImportItem:
    """The row made ready as an analyst would (a role for a device, a cluster for a VM), as a job item."""
    if "kind" in overrides:
        review.apply_kind([row.key], overrides.pop("kind"))
    if overrides:
        review.apply_override([row.key], **overrides)
    row = review.rows[row.key]
    if row.kind is Kind.DEVICE and row.role is None:
        template = TEMPLATES[lab.devices[row.device.device_id]["_index"] % len(TEMPLATES)]
        review.apply_role([row.key], ROLES.get(template_name(template), "access-switch"))
    elif row.kind is Kind.VM and row.cluster is None:
        review.apply_cluster([row.key], HQ_CLUSTER)
    row = review.rows[row.key]
    assert row.status is RowStatus.READY, f"{row.name}: {row.status.value}: {row.issues_text()}"
    return ImportItem.from_row(row)


@contextlib.contextmanager
def owned_redis(redis_url: str, marker: str) -> Iterator[redis.Redis]:
    """A client on the stack's Redis for a test module: the jobs and searches started through core.jobs
    meanwhile, and every key carrying `marker`, are removed at the end (RedisJanitor), nothing else."""
    connection = redis.Redis.from_url(redis_url)
    janitor = RedisJanitor(connection, marker)
    try:
        with pytest.MonkeyPatch.context() as patch:
            janitor.watch(patch)
            yield connection
    finally:
        janitor.cleanup()
        connection.close()


def password_of(username: str) -> str:
    """The password devtools/stack.sh gives each of the test stack's NetBox users."""
    return f"{username}-local-only"


def signed_in_app(timeout: float, analyst: Analyst | None = None) -> Any:
    """app.py as a new browser session sees it (Streamlit's AppTest), signed in as `analyst`; by default an
    admin who pasted their own token: the stack's superuser token the tests' environment names (NETBOX_TOKEN).
    """
    from streamlit.testing.v1 import AppTest

    from ui.auth import ANALYST

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=timeout)
    at.session_state[ANALYST] = analyst or Analyst(
        username="admin",
        method=SignInMethod.TOKEN,
        is_admin=True,
        token=Secret(os.environ.get("NETBOX_TOKEN", "")),
        expires=time.time() + 3600,
    )
    return at


def forget_inventories(
    redis_url: str, server_url: str, server_key: str = defaults.DEFAULT_SERVER_KEY
) -> None:
    """Drop the inventories kept in Redis for one LibreNMS server (core.librenms.inventories), so the next
    search reads them from LibreNMS; nobody else's are touched."""
    from core.librenms.inventories import server_id
    from core.settings import LibreNMSServer

    server = LibreNMSServer(key=server_key, url=server_url, token=Secret(""))
    conn = redis.Redis.from_url(redis_url)
    try:
        for key in conn.scan_iter(match=keys.inventories_pattern(server_id(server))):
            conn.delete(key)
    finally:
        conn.close()
