"""Undo of an import run against the real NetBox: from NetBox's own changelog, in dependency order, never
touching what someone changed after the run; and the run shown from the changelog once Redis lost it, and
through `python -m core runs`."""

from __future__ import annotations

import os
import secrets
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pynetbox
import pytest
import redis

from core import jobs
from core.choices import Outcome
from core.importer import ImportReport, LocalLocks, run_import
from core.jobs.runner import execute_import
from core.jobs.store import LocalStore, RedisStore
from core.librenms import DeviceFilter
from core.review import Review
from core.runs.undo import undo_run
from core.runs.view import FROM_CHANGELOG, FROM_RECORD, show_run
from core.search import run_search
from core.settings import Settings
from tests.cli.conftest import run as run_cli
from tests.conftest import ROOT
from tests.helpers import (
    Lab,
    closed_port,
    owned_redis,
    prepared,
    running_lab,
    settings_from,
    wait_until,
)

RUN = secrets.token_hex(3)
MARKER = f"lnbi-test-undo-{RUN}"
TEMPLATES = ("acc-sw-f3-01", "web01", "core-sw01", "cx-acc01")  # device, VM, stack, device on a reused IP

COUNTED = (
    ("dcim", "devices"),
    ("dcim", "virtual_chassis"),
    ("dcim", "interfaces"),
    ("virtualization", "virtual_machines"),
    ("virtualization", "interfaces"),
    ("ipam", "ip_addresses"),
)


@pytest.fixture(scope="module")
def lab(reference_data, nb: pynetbox.api, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    with running_lab(tmp_path_factory.mktemp("undo"), RUN, 5, nb=nb) as lab:
        yield lab


@pytest.fixture(scope="module")
def settings(stack_env: dict[str, str], lab: Lab) -> Settings:
    return settings_from({**stack_env, **lab.env()}, lab.tmp)


@pytest.fixture(scope="module")
def review(lab: Lab, settings: Settings) -> Review:
    lab.review = run_search(settings, DeviceFilter(detect_stacks=True, show_disabled=True)).review
    return lab.review


@pytest.fixture(scope="module")
def conn(redis_url: str) -> Iterator[redis.Redis]:
    with owned_redis(redis_url, MARKER) as connection:
        yield connection


def counts(nb: pynetbox.api) -> dict[str, int]:
    return {f"{app}.{name}": getattr(getattr(nb, app), name).count() for app, name in COUNTED}


def import_copy(lab: Lab, review: Review, settings: Settings, copy: int, run_id: str) -> ImportReport:
    items = [prepared(lab, review, lab.row(t, copy)) for t in TEMPLATES]
    report = run_import(settings, items, run_id=run_id)
    assert {r.outcome for r in report.results} == {Outcome.CREATED}, report.results
    return report


def test_undo_after_a_clean_import_leaves_netbox_as_before_and_puts_a_reused_ip_back(
    nb: pynetbox.api, lab: Lab, review: Review, settings: Settings
) -> None:
    copy = 0
    free, other = (
        nb.ipam.ip_addresses.create(
            address=f"{lab.row(t, copy).device.ip}/24", status="active", description=f"{MARKER} free"
        )
        for t in ("cx-acc01", "acc-sw-f3-01")
    )
    before = counts(nb)
    report = import_copy(lab, review, settings, copy, f"{MARKER}-0")
    reused = nb.ipam.ip_addresses.get(free.id)
    assert reused.assigned_object_id is not None  # the import took the free address
    assert counts(nb) != before

    undo = undo_run(settings, report.run_id)

    assert not undo.error, undo.error
    assert counts(nb) == before
    back = nb.ipam.ip_addresses.get(free.id)
    assert back.assigned_object_id is None and back.description == f"{MARKER} free"
    outcomes = {(line.type, line.outcome) for line in undo.lines}
    assert ("ipam.ipaddress", "restored") in outcomes and ("dcim.virtualchassis", "deleted") in outcomes
    assert not {line.outcome for line in undo.lines} & {"failed", "kept"}
    assert nb.ipam.ip_addresses.get(other.id).assigned_object_id is None
    changes = list(nb.core.object_changes.filter(q=undo.run_id))
    assert changes and all(undo.run_id in c.message and report.run_id in c.message for c in changes)
    put_back = {
        c.request_id
        for c in changes
        if c.changed_object_type == "ipam.ipaddress" and c.action.value == "update"
    }
    assert len(put_back) == 1  # both reused IPs put back in one bulk request
    assert undo_run(settings, report.run_id).error  # a second undo has nothing left to do
    nb.ipam.ip_addresses.delete([free.id, other.id])


def test_undo_leaves_a_device_edited_after_the_run_whole_and_says_who_changed_it(
    nb: pynetbox.api, lab: Lab, review: Review, settings: Settings
) -> None:
    copy = 1
    report = import_copy(lab, review, settings, copy, f"{MARKER}-1")
    edited = next(r for r in report.results if r.name == lab.row("acc-sw-f3-01", copy).name)
    device = nb.dcim.devices.get(edited.netbox_id)
    device.update({"description": "changed by hand"})
    primary = device.primary_ip4.id

    undo = undo_run(settings, report.run_id)

    assert nb.dcim.devices.get(edited.netbox_id).description == "changed by hand"
    assert nb.ipam.ip_addresses.get(primary) is not None  # its IP and interface stay with it
    kept = [line for line in undo.lines if line.outcome == "kept"]
    assert {line.type for line in kept} == {"dcim.device", "dcim.interface", "ipam.ipaddress"}
    assert all("changed in NetBox after the run, by admin" in line.message for line in kept)
    stack = lab.row("core-sw01", copy)
    assert not [vc for vc in nb.dcim.virtual_chassis.filter(name=stack.name) if vc.name == stack.name]
    web = lab.row("web01", copy)
    assert not [v for v in nb.virtualization.virtual_machines.filter(name=web.name) if v.name == web.name]


def test_a_run_whose_record_redis_lost_is_shown_from_netboxs_changelog(
    conn: redis.Redis, nb: pynetbox.api, lab: Lab, review: Review, settings: Settings
) -> None:
    copy = 2
    store = RedisStore(conn)
    run_id = f"{MARKER}-2"
    items = [prepared(lab, review, lab.row(t, copy)) for t in TEMPLATES]
    report = run_import(settings, items, run_id=run_id, record=lambda objs: store.add_objects(run_id, objs))
    recorded = {(o["type"], o["id"]) for o in store.objects(run_id)}
    assert recorded == {(o["type"], o["id"]) for o in report.objects}
    assert {t for t, _ in recorded} >= {"dcim.device", "dcim.virtualchassis", "ipam.ipaddress"}
    assert all(o["request_id"] for o in store.objects(run_id))

    conn.delete(f"lnbi:job:{run_id}:objects")  # Redis lost the record
    view = show_run(conn, settings, run_id)

    assert view.source == FROM_CHANGELOG
    rebuilt = {(o.type, o.id) for o in view.objects if o.action == "create"}
    assert rebuilt >= recorded - {("extras.tag", o) for _, o in recorded}
    assert view.status.by == "admin"
    undo_run(settings, run_id)


def test_cli_runs_lists_shows_and_undoes_a_run(
    conn: redis.Redis,
    nb: pynetbox.api,
    lab: Lab,
    review: Review,
    settings: Settings,
    stack_env: dict[str, str],
    tmp_path: Path,
) -> None:
    copy = 3
    items = [prepared(lab, review, lab.row(t, copy)) for t in TEMPLATES[:2]]
    run_id = jobs.run_here(settings, items=items)
    assert jobs.job_status(conn, run_id).counts["created"] == 2
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "PYTHONPATH": str(ROOT),
        "NETBOX_URL": stack_env["NETBOX_URL"],
        "NETBOX_TOKEN": stack_env["NETBOX_TOKEN"],
        "REDIS_URL": stack_env["REDIS_URL"],
        **lab.env(),
    }

    listed = run_cli(env, "runs", cwd=tmp_path)
    shown = run_cli(env, "runs", "show", run_id, cwd=tmp_path)
    undone = run_cli(env, "runs", "undo", run_id, cwd=tmp_path)

    assert listed.returncode == 0 and run_id in listed.stdout
    assert shown.returncode == 0 and FROM_RECORD in shown.stdout
    assert lab.row("web01", copy).name in shown.stdout and "create: device" in shown.stdout
    assert undone.returncode == 0, undone.stdout + undone.stderr
    assert "deleted: device" in undone.stdout and "deleted: virtual machine" in undone.stdout
    device = lab.row("acc-sw-f3-01", copy)
    assert not [d for d in nb.dcim.devices.filter(name=device.name) if d.name == device.name]
    assert jobs.job_status(conn, run_id).undone_by
    assert LocalStore().objects(run_id) == []  # nothing of it lived only in this process


class RedisDyingAfterFirstObject(RedisStore):
    """A run's store on a private redis-server that is killed right after it stored the run's first
    NetBox object: Redis gone in the middle of an import, at a known point."""

    def __init__(self, proc: subprocess.Popen, port: int) -> None:
        super().__init__(redis.Redis(port=port, socket_timeout=2))
        self.proc = proc

    def add_objects(self, job_id: str, objects: list) -> None:
        super().add_objects(job_id, objects)
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


def test_an_import_whose_redis_dies_mid_run_finishes_and_is_undone_from_netboxs_changelog_alone(
    nb: pynetbox.api, lab: Lab, review: Review, settings: Settings, tmp_path: Path
) -> None:
    copy = 4
    port = closed_port()
    proc = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
    )
    try:
        wait_until(lambda: redis.Redis(port=port).ping(), timeout=20, what="a private redis-server")
        store = RedisDyingAfterFirstObject(proc, port)
        items = [prepared(lab, review, lab.row(t, copy)) for t in TEMPLATES]
        run_id = f"{MARKER}-redis-gone"

        result = execute_import(store, run_id, lambda: settings, items, locks=LocalLocks(), batch_size=None)

        assert proc.poll() is not None  # Redis died while the import was writing
    finally:
        if proc.poll() is None:
            proc.kill()
    assert result["state"] == "finished" and result["counts"]["created"] == len(items), result
    names = [lab.row(t, copy).name for t in TEMPLATES if t != "web01"]
    devices = [d for d in nb.dcim.devices.filter(name=names) if d.name in names]
    assert len(devices) == len(names) and all(d.primary_ip4 for d in devices)

    undo = undo_run(settings, run_id)  # nothing of the run is left in Redis: NetBox's changelog has it

    assert not undo.error and not {line.outcome for line in undo.lines} & {"failed", "kept"}
    assert not [d for d in nb.dcim.devices.filter(name=names) if d.name in names]
