"""The fault matrix of an import run, against the real NetBox behind the fault-injecting proxy
(devtools/netbox_proxy.py), a private LibreNMS lab and, for kills, a real worker process.

For each write an import makes (device, VM, virtual chassis, stack members, chassis master, interface, IP,
primary IP) and each way it can go wrong — NetBox answers 500 every time, NetBox commits and the
connection drops before the answer, the worker is SIGKILLed just before the write — the faulted run never
reports a row fully created that it left unfinished, and after one repair (the same import run again)
NetBox holds exactly what a clean import of the same rows gives: every field, interface, IP, primary IP
and chassis, nothing twice.

Each case imports its own lab copy of the same three rows (a device, a VM, a 3-member stack); the clean
reference is copy 0, and states are compared with each copy's names, serials, addresses and ids replaced
by placeholders.
"""

from __future__ import annotations

import dataclasses
import json
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pynetbox
import pytest
import redis

from core import defaults, jobs
from core.choices import Outcome
from core.importer import ImportItem, RowResult, run_import
from core.jobs.store import RedisStore
from core.librenms import DeviceFilter
from core.review import Review, Row
from core.search import run_search
from core.settings import Settings
from devtools.netbox_proxy import NetBoxProxy
from tests.helpers import (
    Lab,
    WorkerProcess,
    owned_redis,
    prepared,
    running_lab,
    settings_from,
    start_worker,
    wait_until,
    worker_env,
)

RUN = secrets.token_hex(3)
QUEUE = f"lnbi-test-repair-{RUN}"
TEMPLATES = ("acc-sw-f3-01", "web01", "core-sw01")  # a device, a VM, a stack of 3

# The writes of an import, in order, as (method, path regex, body regex) the proxy matches.
WRITES = {
    "device": ("POST", r"^/api/dcim/devices/$", r"^(?!.*virtual_chassis)"),
    "vm": ("POST", r"^/api/virtualization/virtual-machines/$", ""),
    "chassis": ("POST", r"^/api/dcim/virtual-chassis/$", ""),
    "members": ("POST", r"^/api/dcim/devices/$", r"virtual_chassis"),
    "master": ("PATCH", r"^/api/dcim/virtual-chassis/$", ""),
    "interface": ("POST", r"^/api/(dcim|virtualization)/interfaces/$", ""),
    "ip": ("POST", r"^/api/ipam/ip-addresses/$", ""),
    "primary ip": ("PATCH", r"^/api/(dcim/devices|virtualization/virtual-machines)/$", ""),
}
CASES = [(write, fault) for fault in ("error", "drop") for write in WRITES]
KILLS = list(WRITES)
COPIES = 1 + len(CASES) + len(KILLS)


@pytest.fixture(scope="module")
def lab(reference_data, nb: pynetbox.api, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    with running_lab(tmp_path_factory.mktemp("repair"), RUN, COPIES, nb=nb) as lab:
        yield lab


@pytest.fixture(scope="module")
def proxy(stack_env: dict[str, str]) -> Iterator[NetBoxProxy]:
    with NetBoxProxy(stack_env["NETBOX_URL"]) as running:
        yield running


@pytest.fixture(scope="module")
def settings(stack_env: dict[str, str], lab: Lab, proxy: NetBoxProxy) -> Settings:
    return settings_from({**stack_env, **lab.env(), "NETBOX_URL": proxy.url, "QUEUE_NAME": QUEUE}, lab.tmp)


@pytest.fixture(scope="module")
def review(lab: Lab, settings: Settings) -> Review:
    lab.review = run_search(settings, DeviceFilter(detect_stacks=True, show_disabled=True)).review
    return lab.review


@pytest.fixture(scope="module")
def conn(redis_url: str) -> Iterator[redis.Redis]:
    with owned_redis(redis_url, QUEUE) as connection:
        yield connection


@pytest.fixture(scope="module")
def reference(nb: pynetbox.api, lab: Lab, review: Review, settings: Settings) -> dict[str, Any]:
    """What a clean import of copy 0 gives, with the copy's own values as placeholders."""
    results = import_copy(lab, review, settings, 0)
    assert {r.outcome for r in results.values()} == {Outcome.CREATED}, results
    return state(nb, lab, 0)


@pytest.fixture(autouse=True)
def _fresh(proxy: NetBoxProxy, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    proxy.reset()
    monkeypatch.setattr(defaults, "NETBOX_BACKOFF", 0.05)
    yield
    proxy.reset()


# ------------------------------------------------------------------ helpers


def rows(lab: Lab, copy: int) -> list[Row]:
    return [lab.row(t, copy) for t in TEMPLATES]


def items(lab: Lab, review: Review, copy: int) -> list[ImportItem]:
    return [prepared(lab, review, row) for row in rows(lab, copy)]


def import_copy(lab: Lab, review: Review, settings: Settings, copy: int) -> dict[str, RowResult]:
    report = run_import(settings, items(lab, review, copy))
    assert not report.error, report.error
    return {result.name: result for result in report.results}


def _ref(obj: Any) -> Any:
    return getattr(obj, "name", None) or getattr(obj, "slug", None) if obj is not None else None


def _device(nb: pynetbox.api, d: Any, kind: str) -> dict[str, Any]:
    interfaces = (
        nb.dcim.interfaces.filter(device_id=d.id)
        if kind == "device"
        else nb.virtualization.interfaces.filter(virtual_machine_id=d.id)
    )
    object_type = "dcim.interface" if kind == "device" else "virtualization.vminterface"
    ports = []
    for iface in sorted(interfaces, key=lambda i: i.name):
        ips = nb.ipam.ip_addresses.filter(assigned_object_type=object_type, assigned_object_id=iface.id)
        ports.append(
            {
                "name": iface.name,
                "type": getattr(getattr(iface, "type", None), "value", None),
                "description": iface.description,
                "ips": sorted((str(ip.address), ip.status.value, [t.slug for t in ip.tags]) for ip in ips),
            }
        )
    primary = d.primary_ip4 or d.primary_ip6
    out = {
        "name": d.name,
        "serial": d.serial,
        "status": d.status.value,
        "site": _ref(getattr(d, "site", None)),
        "cluster": _ref(getattr(d, "cluster", None)),
        "role": _ref(getattr(d, "role", None)),
        "type": _ref(getattr(d, "device_type", None)),
        "platform": _ref(getattr(d, "platform", None)),
        "rack": _ref(getattr(d, "rack", None)),
        "position": getattr(d, "vc_position", None),
        "tags": sorted(t.slug for t in d.tags),
        "librenms_id": d.custom_fields.get("librenms_id"),
        "primary": str(primary.address) if primary else None,
        "interfaces": ports,
    }
    return out


def state(nb: pynetbox.api, lab: Lab, copy: int) -> dict[str, Any]:
    """The NetBox objects of a copy's rows, with its own values replaced by placeholders: comparable
    between copies. Counts every object by name and address, so one made twice shows."""
    found: dict[str, Any] = {}
    replace: dict[str, str] = {}
    for row in rows(lab, copy):
        label = row.name.split("-" + lab.run)[0]
        replace[row.name] = f"<{label}>"
        replace[row.device.ip] = f"<{label} ip>"
        replace[str(row.device.device_id)] = f"<{label} id>"
        if row.device.serial:
            replace[row.device.serial] = f"<{label} serial>"
        if row.stack is not None:
            for m in row.stack.members:
                replace[m.serial] = f"<{label} serial {m.position}>"
        names = [row.name] + ([f"{row.name}-{m.position}" for m in row.stack.members] if row.stack else [])
        devices = [d for d in nb.dcim.devices.filter(name=names) if d.name in names]
        vms = [v for v in nb.virtualization.virtual_machines.filter(name=row.name) if v.name == row.name]
        chassis = [vc for vc in nb.dcim.virtual_chassis.filter(name=row.name) if vc.name == row.name]
        addresses = [ip for ip in nb.ipam.ip_addresses.filter(address=row.device.ip)]
        found[label] = {
            "devices": sorted((_device(nb, d, "device") for d in devices), key=lambda x: x["name"]),
            "vms": [_device(nb, v, "vm") for v in vms],
            "chassis": [
                {
                    "name": vc.name,
                    "master": _ref(vc.master),
                    "members": vc.member_count,
                    "comments": vc.comments,
                }
                for vc in chassis
            ],
            "addresses": len(addresses),
        }
    order = sorted(replace, key=len, reverse=True)  # longest first: a name holds shorter values

    def placeholders(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: placeholders(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [placeholders(v) for v in value]
        if isinstance(value, int) and not isinstance(value, bool) and str(value) in replace:
            return replace[str(value)]
        if isinstance(value, str):
            for old in order:
                value = value.replace(old, replace[old])
        return value

    return placeholders(json.loads(json.dumps(found)))


def assert_never_claims_unfinished(
    results: dict[str, RowResult], now: dict[str, Any], reference: dict[str, Any]
) -> None:
    """A row the faulted run reports fully created is complete in NetBox."""
    for result in results.values():
        label = result.name.split("-" + RUN)[0]
        if result.outcome is Outcome.CREATED:
            assert now[label] == reference[label], f"{result.name} reported created but is unfinished"


def tally(results: dict[str, RowResult]) -> str:
    return ", ".join(f"{name.split('-' + RUN)[0]} {r.outcome.value}" for name, r in sorted(results.items()))


def repair_and_compare(
    nb: pynetbox.api, lab: Lab, review: Review, settings: Settings, copy: int, reference: dict[str, Any]
) -> dict[str, RowResult]:
    again = import_copy(lab, review, settings, copy)
    assert {r.outcome for r in again.values()} <= {Outcome.CREATED, Outcome.COMPLETED, Outcome.SKIPPED}, again
    assert state(nb, lab, copy) == reference, again
    return again


# ------------------------------------------------------------------ NetBox fails a write, or commits it unseen


@pytest.mark.parametrize(("write", "fault"), CASES, ids=[f"{f}-{w}".replace(" ", "-") for w, f in CASES])
def test_a_fault_on_each_write_is_repaired_to_exactly_what_a_clean_import_gives(
    nb: pynetbox.api,
    lab: Lab,
    review: Review,
    settings: Settings,
    proxy: NetBoxProxy,
    reference: dict[str, Any],
    write: str,
    fault: str,
) -> None:
    copy = 1 + CASES.index((write, fault))
    method, path, body = WRITES[write]
    rule = proxy.add_rule(method, path, action=fault, body=body, times=None)

    faulted = import_copy(lab, review, settings, copy)

    assert rule.hits >= 1, f"the {write} write was never made"
    proxy.reset()
    assert_never_claims_unfinished(faulted, state(nb, lab, copy), reference)
    if fault == "error":  # NetBox never saw the write: at least one row says it is not done
        assert {r.outcome for r in faulted.values()} & {Outcome.FAILED, Outcome.PARTIAL}, faulted
    again = repair_and_compare(nb, lab, review, settings, copy, reference)
    print(
        f"matrix: {fault} on {write}: first run {tally(faulted)}; repair {tally(again)}"
    )  # the note's table
    if fault == "error":  # what the faulted run left is made or completed now, and says so
        for name, result in faulted.items():
            if result.outcome in (Outcome.FAILED, Outcome.PARTIAL):
                assert again[name].outcome in (Outcome.CREATED, Outcome.COMPLETED), again[name]


# ------------------------------------------------------------------ the worker killed just before each write


def recorded(conn: redis.Redis, run_id: str) -> set[tuple[str, str]]:
    return {(o["type"], o["action"]) for o in RedisStore(conn).objects(run_id)}


@pytest.fixture(scope="module")
def worker_settings(settings: Settings) -> Settings:
    return dataclasses.replace(settings, queue_name=QUEUE)


@pytest.mark.parametrize("write", KILLS, ids=[w.replace(" ", "-") for w in KILLS])
def test_a_worker_killed_before_each_write_is_repaired_to_exactly_what_a_clean_import_gives(
    conn: redis.Redis,
    nb: pynetbox.api,
    lab: Lab,
    review: Review,
    settings: Settings,
    worker_settings: Settings,
    stack_env: dict[str, str],
    proxy: NetBoxProxy,
    reference: dict[str, Any],
    tmp_path: Path,
    write: str,
) -> None:
    copy = 1 + len(CASES) + KILLS.index(write)
    env = worker_env(
        {**stack_env, "NETBOX_URL": proxy.url}, librenms_url=lab.sim.url, queue=QUEUE, mapping=lab.mapping
    )
    worker: WorkerProcess = start_worker(conn, env, tmp_path)
    method, path, body = WRITES[write]
    held = proxy.add_rule(method, path, action="reset", body=body, delay=30, times=1)
    try:
        handle = jobs.start_import(worker_settings, items(lab, review, copy))
        wait_until(lambda: held.hits >= 1, timeout=60, what=f"the {write} write")
        if write != "device":  # the other batches in flight go on meanwhile: a device NetBox confirmed
            wait_until(  # is in the run's record while the run still runs, not only once it ends
                lambda: ("dcim.device", "create") in recorded(conn, handle.job_id),
                timeout=30,
                what="a device in the run's record",
            )
        worker.kill()
    finally:
        worker.stop()
    proxy.reset()
    status = jobs.job_status(conn, handle.job_id)
    claimed = {r["name"] for r in status.results if r["outcome"] == Outcome.CREATED.value}
    now = state(nb, lab, copy)
    for name in claimed:
        label = name.split("-" + RUN)[0]
        assert now[label] == reference[label], f"{name} reported created but is unfinished"
    if write != "device":  # what NetBox confirmed before the kill is in the run's record, kill or not
        assert ("dcim.device", "create") in recorded(conn, handle.job_id)
    jobs.release_job_locks(conn, handle.job_id)  # a killed job's locks: released once it is seen dead

    again = repair_and_compare(nb, lab, review, settings, copy, reference)
    first = {r["name"].split("-" + RUN)[0]: r["outcome"] for r in status.results}
    print(f"matrix: kill before {write}: first run {first or 'no line'}; repair {tally(again)}")
