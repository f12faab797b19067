"""Imports through a real worker process (`python -m core worker`) into the real NetBox.

The devices come from this module's own LibreNMS simulator: three copies of the fixture devices, renamed for
this run (hostnames, sysNames, serials, IPs, device ids all unique to the run), so other test modules that
import fixture devices into the same NetBox never collide with these. Everything created here (devices,
VMs, virtual chassis, IPs, a platform, a user) is deleted at the end of the module.

Each test takes its own rows (copy, template) so the tests do not depend on each other's outcome.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import secrets
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pynetbox
import pytest
import redis
from rq.job import Job
from rq.serializers import JSONSerializer

from core import jobs, keys, netbox
from core.auth import sign_in, sign_out
from core.choices import JobState
from core.csvio import rows_to_csv
from core.importer import ImportItem
from core.librenms import DeviceFilter
from core.review import Review
from core.search import run_search
from core.settings import Settings
from tests.helpers import (
    GRACE,
    HQ_CLUSTER,
    POSITION,
    ROLES,
    TEMPLATES,
    Lab,
    WorkerProcess,
    owned_redis,
    password_of,
    prepared,
    running_lab,
    settings_from,
    start_worker,
    wait_for_end,
    wait_until,
    worker_env,
)

RUN = secrets.token_hex(3)
QUEUE = f"lnbi-test-import-{RUN}"
COPIES = 5


def cleanup(nb: pynetbox.api, run: str, nets: list[str]) -> None:
    """Delete what this module created: by the run's marker in names, and by its IP ranges."""
    for endpoint in (nb.dcim.virtual_chassis, nb.dcim.devices, nb.virtualization.virtual_machines):
        found = [obj for obj in endpoint.filter(q=run) if run in str(obj.name)]
        if found:
            endpoint.delete(found)
    for net in nets:
        found = list(nb.ipam.ip_addresses.filter(parent=net))
        if found:
            nb.ipam.ip_addresses.delete(found)
    # exact names only: NetBox ignores a filter it does not know and returns EVERYTHING (a `username__ic`
    # here once deleted every user, the stack's admin included)
    for endpoint, key in (
        (nb.dcim.platforms, "name"),
        (nb.users.permissions, "name"),
        (nb.users.users, "username"),
    ):
        for obj in endpoint.all():
            if run in str(getattr(obj, key, "")):
                obj.delete()


@pytest.fixture(scope="module")
def conn(stack_env: dict[str, str]) -> Iterator[redis.Redis]:
    """The stack's Redis; what this module's jobs leave there (marked with QUEUE) is removed at the end."""
    with owned_redis(stack_env["REDIS_URL"], QUEUE) as connection:
        yield connection


@pytest.fixture(scope="module")
def lab(reference_data, nb: pynetbox.api, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    with running_lab(tmp_path_factory.mktemp("import-lab"), RUN, COPIES) as lab:
        try:
            yield lab
        finally:
            cleanup(nb, RUN, [str(lab.net4), str(lab.net6)])


@pytest.fixture(scope="module")
def env(stack_env: dict[str, str], lab: Lab) -> dict[str, str]:
    return worker_env(stack_env, librenms_url=lab.sim.url, queue=QUEUE, mapping=lab.mapping)


@pytest.fixture(scope="module")
def lab_settings(env: dict[str, str], lab: Lab) -> Settings:
    return settings_from(env, lab.tmp)


@pytest.fixture(scope="module")
def review(lab: Lab, lab_settings: Settings) -> Review:
    """The whole lab as the Import page shows it (stacks detected), once per module."""
    lab.review = run_search(lab_settings, DeviceFilter(detect_stacks=True)).review
    return lab.review


@pytest.fixture(scope="module")
def worker(conn: redis.Redis, env: dict[str, str], lab: Lab) -> Iterator[WorkerProcess]:
    process = start_worker(conn, env, lab.tmp / "worker")
    yield process
    process.stop()


@pytest.fixture(autouse=True)
def _no_faults(lab: Lab) -> Iterator[None]:
    yield
    lab.sim.clear_faults()


# ------------------------------------------------------------------ helpers


def items_for(lab: Lab, review: Review, copy: int, templates: list[str]) -> list[ImportItem]:
    return [prepared(lab, review, lab.row(t, copy)) for t in templates]


def field_value(review: Review, device_id: int) -> Any:
    return netbox.librenms_field_value(review.index.field_type, "default", device_id)


def objects_by_id(nb: pynetbox.api, review: Review, ids: list[int]) -> Counter:
    """How many NetBox devices and VMs carry each LibreNMS id."""
    values = [field_value(review, i) for i in ids]
    found: Counter = Counter()
    for endpoint in (nb.dcim.devices, nb.virtualization.virtual_machines):
        for obj in endpoint.filter(cf_librenms_id=values):
            value = obj.custom_fields.get("librenms_id")
            found[next(i for i, v in zip(ids, values, strict=True) if v == value)] += 1
    return found


def not_created(status: jobs.JobStatus) -> list[tuple[str, str, str]]:
    return [(r["name"], r["outcome"], r["message"]) for r in status.results if r["outcome"] != "created"]


def by_id(results: list[dict]) -> dict[int, dict]:
    return {r["librenms_id"]: r for r in results}


def ids_of(items: list[ImportItem]) -> list[int]:
    return [item.librenms_id for item in items]


def no_locks_left(conn: redis.Redis, job_id: str) -> bool:
    held = [k for k in conn.scan_iter(match=keys.locks_pattern()) if conn.get(k) == job_id.encode()]
    return not held and not conn.exists(keys.job_locks(job_id))


# ------------------------------------------------------------------ the tests


def test_the_worker_creates_devices_vms_stacks_and_primary_ips_with_every_field(
    conn: redis.Redis,
    nb: pynetbox.api,
    lab: Lab,
    review: Review,
    worker: WorkerProcess,
    lab_settings: Settings,
) -> None:
    copy = 0
    reused_ip = nb.ipam.ip_addresses.create(
        address=f"{lab.row('cx-acc01', copy).device.ip}/24", status="active", description=f"lnbi {RUN} free"
    )
    holder = nb.virtualization.virtual_machines.create(
        name=f"lnbi-holder-{RUN}", cluster=nb.virtualization.clusters.get(name=HQ_CLUSTER).id
    )
    holder_if = nb.virtualization.interfaces.create(virtual_machine=holder.id, name="eth0")
    taken_ip = nb.ipam.ip_addresses.create(
        address=f"{lab.row('br-lyon-sw01', copy).device.ip}/24",
        assigned_object_type="virtualization.vminterface",
        assigned_object_id=holder_if.id,
    )
    plain = ["esx01", "cx-acc01", "br-lyon-sw01", "ipv6-only-sw", "web01", "app01", "core-sw01", "dist-sw-b2"]
    items = items_for(lab, review, copy, plain)
    items.append(prepared(lab, review, lab.row("acc-sw-f3-01", copy), rack="IDF-3B"))
    items.append(prepared(lab, review, lab.row("db01", copy), kind="vm", cluster=HQ_CLUSTER, role="server"))

    handle = jobs.start_import(lab_settings, items)
    assert handle.mode == "worker"
    status = wait_for_end(conn, handle.job_id)

    assert status.state is JobState.FINISHED, status.error
    assert status.counts["created"] == len(items) and status.counts["failed"] == 0, not_created(status)
    results = by_id(status.results)
    assert set(results) == set(ids_of(items))
    # a plain device, with a rack chosen
    row = lab.row("acc-sw-f3-01", copy)
    template = TEMPLATES[POSITION["acc-sw-f3-01"]]
    device = nb.dcim.devices.get(results[row.device.device_id]["netbox_id"])
    assert device.name == row.name
    assert device.site.slug == "hq" and device.rack.name == "IDF-3B"
    assert device.device_type.slug == "c9200l-24p-4g" and device.role.slug == "access-switch"
    assert device.platform.slug == "cisco-ios-xe"
    assert device.serial == row.device.serial
    assert device.status.value == ("active" if template["status"] else "offline")
    assert device.custom_fields["librenms_id"] == field_value(review, row.device.device_id)
    assert "librenms-import" in [t.slug for t in device.tags]
    assert row.device.hostname in device.comments and "Imported from LibreNMS" in device.comments
    assert str(device.primary_ip4.address) == f"{row.device.ip}/24"
    assert results[row.device.device_id]["url"].endswith(f"/dcim/devices/{device.id}/")
    # without a rack
    esx = nb.dcim.devices.get(results[lab.device_id("esx01", copy)]["netbox_id"])
    assert esx.rack is None and esx.site.slug == "dc2-fra" and esx.role.slug == "hypervisor"
    assert esx.device_type.slug == "poweredge-r750"
    # VMs: cluster (and the site it implies), role, and a primary IP on a VM interface
    web = nb.virtualization.virtual_machines.get(results[lab.device_id("web01", copy)]["netbox_id"])
    assert web.name == lab.row("web01", copy).name and web.cluster.name == "esx-dc2"
    assert web.role.slug == "server" and "librenms-import" in [t.slug for t in web.tags]
    assert web.custom_fields["librenms_id"] == field_value(review, lab.device_id("web01", copy))
    assert str(web.primary_ip4.address) == f"{lab.row('web01', copy).device.ip}/24"
    app = nb.virtualization.virtual_machines.get(results[lab.device_id("app01", copy)]["netbox_id"])
    assert app.cluster.name == HQ_CLUSTER
    db = results[lab.device_id("db01", copy)]  # a device the analyst turned into a VM
    assert (
        db["kind"] == "vm"
        and nb.virtualization.virtual_machines.get(db["netbox_id"]).cluster.name == HQ_CLUSTER
    )
    # stacks: a virtual chassis, every member at its position, the master set
    for name, models in (
        ("core-sw01", ["c9300-48p", "c9300-48p", "c9300-48u"]),
        ("dist-sw-b2", ["ws-c3750x-48p-s", "ws-c3750x-24t-s"]),
    ):
        stack_row = lab.row(name, copy)
        result = results[stack_row.device.device_id]
        assert result["kind"] == "stack" and result["outcome"] == "created"
        vc = nb.dcim.virtual_chassis.get(name=stack_row.name)
        members = sorted(nb.dcim.devices.filter(virtual_chassis_id=vc.id), key=lambda d: d.vc_position)
        assert [m.vc_position for m in members] == [m.position for m in stack_row.stack.members]
        assert [m.device_type.slug for m in members] == models
        assert [m.serial for m in members] == [m.serial for m in stack_row.stack.members]
        assert vc.master.id == result["netbox_id"] == members[0].id and members[0].name == stack_row.name
        assert members[0].custom_fields["librenms_id"] == field_value(review, stack_row.device.device_id)
        assert [m.name for m in members[1:]] == [
            f"{stack_row.name}-{m.position}" for m in stack_row.stack.members[1:]
        ]
        assert all(m.role.slug == ROLES[name] and m.site.slug == "hq" for m in members)
    # primary IPs: an unassigned IP is reused; one assigned elsewhere is not taken, and that is reported
    cx = results[lab.device_id("cx-acc01", copy)]
    assert nb.dcim.devices.get(cx["netbox_id"]).primary_ip4.id == reused_ip.id
    assert any("(reused)" in note for note in cx["extra"])
    lyon = results[lab.device_id("br-lyon-sw01", copy)]
    assert lyon["outcome"] == "created" and nb.dcim.devices.get(lyon["netbox_id"]).primary_ip4 is None
    assert any("assigned to another object" in note for note in lyon["extra"])
    assert nb.ipam.ip_addresses.get(taken_ip.id).assigned_object_id == holder_if.id
    v6 = nb.dcim.devices.get(results[lab.device_id("ipv6-only-sw", copy)]["netbox_id"])
    assert v6.primary_ip6 is not None and v6.primary_ip4 is None

    # the same import again: everything is skipped, nothing new in NetBox
    before_ips = len(list(nb.ipam.ip_addresses.filter(parent=[str(lab.net4), str(lab.net6)])))
    before_vcs = len(list(nb.dcim.virtual_chassis.filter(q=RUN)))
    again = wait_for_end(conn, jobs.start_import(lab_settings, items).job_id)

    assert again.state is JobState.FINISHED
    assert again.counts["skipped"] == len(items) and again.counts["created"] == 0, again.results
    assert all(r["netbox_id"] == results[r["librenms_id"]]["netbox_id"] for r in again.results)
    assert set(objects_by_id(nb, review, ids_of(items)).values()) == {1}
    assert len(list(nb.ipam.ip_addresses.filter(parent=[str(lab.net4), str(lab.net6)]))) == before_ips
    assert len(list(nb.dcim.virtual_chassis.filter(q=RUN))) == before_vcs


def test_a_row_netbox_rejects_fails_alone_and_the_rest_of_its_batch_is_created(
    conn: redis.Redis,
    nb: pynetbox.api,
    lab: Lab,
    review: Review,
    worker: WorkerProcess,
    lab_settings: Settings,
) -> None:
    copy = 1
    dell = nb.dcim.manufacturers.get(slug="dell")
    platform = nb.dcim.platforms.create(
        name=f"Dell only {RUN}", slug=f"dell-only-{RUN}", manufacturer=dell.id
    )
    good = items_for(lab, review, copy, ["rtr-wan01", "nx-leaf01", "zrh-core-01", "lab-sw-test01"])
    bad_row = lab.row("nx-leaf02", copy)
    bad = ImportItem("default", bad_row.device.device_id, {"role": "leaf", "platform": platform.slug})

    status = wait_for_end(conn, jobs.start_import(lab_settings, [*good[:2], bad, *good[2:]]).job_id)

    assert status.state is JobState.FINISHED, status.error
    results = by_id(status.results)
    failed = results[bad_row.device.device_id]
    assert failed["outcome"] == "failed" and "platform" in failed["message"].lower()
    assert all(results[i]["outcome"] == "created" for i in ids_of(good))
    assert status.counts == {
        "created": 4,
        "completed": 0,
        "partial": 0,
        "skipped": 0,
        "updated": 0,
        "failed": 1,
    }
    counts = objects_by_id(nb, review, [*ids_of(good), bad_row.device.device_id])
    assert counts[bad_row.device.device_id] == 0 and all(counts[i] == 1 for i in ids_of(good))


def test_cancel_stops_a_running_import_and_keeps_what_it_created(
    conn: redis.Redis,
    nb: pynetbox.api,
    lab: Lab,
    review: Review,
    worker: WorkerProcess,
    lab_settings: Settings,
) -> None:
    copy = 1
    templates = ["acc-sw-wh-01", "ar-spine01", "br-lyon-sw01", "br-lyon-sw02", "br-tokyo-sw01", "cx-acc01"]
    templates += ["esx01", "fw-hq01", "mx-edge01", "acc-sw-f3-01", "ipv6-only-sw", "fw-hq02"]
    items = items_for(lab, review, copy, templates)
    lab.sim.set_faults(delay=0.3)  # a slow LibreNMS: each batch of two takes a while

    handle = jobs.start_import(lab_settings, items, batch_size=2)
    wait_until(
        lambda: jobs.job_status(conn, handle.job_id, results=False).done >= 2, timeout=60, what="a batch"
    )
    jobs.cancel(conn, handle.job_id)
    status = wait_for_end(conn, handle.job_id)

    assert status.state is JobState.STOPPED, status.error
    assert 2 <= len(status.results) < len(items) and status.done < status.total == len(items)
    created = [r for r in status.results if r["outcome"] == "created"]
    assert created and len(created) == len(status.results)
    assert all(
        objects_by_id(nb, review, [r["librenms_id"] for r in created])[r["librenms_id"]] == 1 for r in created
    )
    assert no_locks_left(conn, handle.job_id)
    lab.sim.clear_faults()

    # run it again: what the stopped job created is skipped, the rest is created, nothing twice
    again = wait_for_end(conn, jobs.start_import(lab_settings, items).job_id)
    assert again.state is JobState.FINISHED and again.counts["failed"] == 0, again.results
    second = by_id(again.results)
    assert all(second[r["librenms_id"]]["outcome"] == "skipped" for r in created)
    assert again.counts["created"] + again.counts["skipped"] == len(items)
    assert set(objects_by_id(nb, review, ids_of(items)).values()) == {1}


def test_a_worker_killed_mid_job_leaves_it_abandoned_and_a_rerun_completes_what_it_left_and_creates_the_rest(
    conn: redis.Redis,
    nb: pynetbox.api,
    lab: Lab,
    review: Review,
    worker: WorkerProcess,
    env: dict[str, str],
    lab_settings: Settings,
) -> None:
    copy = 2
    templates = ["acc-sw-wh-01", "ar-spine01", "br-lyon-sw01", "br-lyon-sw02", "br-tokyo-sw01", "cx-acc01"]
    templates += ["esx01", "mx-edge01", "acc-sw-f3-01", "ipv6-only-sw"]
    items = items_for(lab, review, copy, templates)
    doomed_queue = f"{QUEUE}-doomed"
    doomed = start_worker(conn, {**env, "QUEUE_NAME": doomed_queue}, lab.tmp / "doomed")
    lab.sim.set_faults(delay=0.3)

    handle = jobs.start_import(
        dataclasses.replace(lab_settings, queue_name=doomed_queue), items, batch_size=2
    )
    wait_until(
        lambda: jobs.job_status(conn, handle.job_id, results=False).done >= 2, timeout=60, what="a batch"
    )
    doomed.kill()

    wait_until(
        lambda: jobs.job_state(conn, handle.job_id, grace=GRACE) is JobState.ABANDONED,
        timeout=GRACE + 15,
        what="the job to show abandoned",
    )
    status = jobs.job_status(conn, handle.job_id, grace=GRACE)
    assert status.state is JobState.ABANDONED and "stopped answering" in status.error
    assert not status.active and 2 <= len(status.results) < len(items)
    assert not jobs.worker_alive(conn, doomed_queue, grace=GRACE)
    assert no_locks_left(conn, handle.job_id)  # released once seen dead: a re-run is not blocked
    first = {r["librenms_id"] for r in status.results if r["outcome"] == "created"}
    lab.sim.clear_faults()

    again = wait_for_end(conn, jobs.start_import(lab_settings, items).job_id)

    assert again.state is JobState.FINISHED and again.counts["failed"] == 0, again.results
    second = by_id(again.results)
    assert all(second[i]["outcome"] == "skipped" for i in first)
    made = {i for i, r in second.items() if r["outcome"] in ("created", "completed")}
    assert made == set(ids_of(items)) - {i for i, r in second.items() if r["outcome"] == "skipped"}
    assert set(objects_by_id(nb, review, ids_of(items)).values()) == {1}


def test_two_workers_running_overlapping_jobs_create_each_device_once(
    conn: redis.Redis,
    nb: pynetbox.api,
    lab: Lab,
    review: Review,
    worker: WorkerProcess,
    env: dict[str, str],
    lab_settings: Settings,
) -> None:
    copy = 2
    templates = ["rtr-wan01", "nx-leaf01", "nx-leaf02", "zrh-core-01", "lab-sw-test01", "fw-hq01"]
    items = items_for(lab, review, copy, templates)
    second = start_worker(conn, env, lab.tmp / "second")
    lab.sim.set_faults(delay=0.1)
    try:
        one = jobs.start_import(lab_settings, items, batch_size=2)
        two = jobs.start_import(lab_settings, list(reversed(items)), batch_size=2)
        first, other = wait_for_end(conn, one.job_id), wait_for_end(conn, two.job_id)
    finally:
        second.stop()

    assert first.state is other.state is JobState.FINISHED
    runners = {
        Job.fetch(h.job_id, connection=conn, serializer=JSONSerializer).worker_name for h in (one, two)
    }
    assert len(runners) == 2, "both workers took one job"
    created = [r["librenms_id"] for r in first.results + other.results if r["outcome"] == "created"]
    assert sorted(created) == sorted(ids_of(items)), "each device created exactly once"
    assert first.counts["failed"] == other.counts["failed"] == 0
    assert set(objects_by_id(nb, review, ids_of(items)).values()) == {1}


@pytest.fixture
def view_only_token(nb: pynetbox.api) -> Iterator[str]:
    """A NetBox user that may read everything the import reads, and add nothing."""
    user = nb.users.users.create(
        username=f"lnbi-viewer-{RUN}", password=secrets.token_urlsafe(16) + "Aa1"
    )  # NetBox wants a numeral
    types = [
        "dcim.device", "dcim.site", "dcim.location", "dcim.rack", "dcim.devicetype", "dcim.devicerole",
        "dcim.platform", "dcim.manufacturer", "dcim.virtualchassis", "dcim.interface", "ipam.ipaddress",
        "virtualization.virtualmachine", "virtualization.cluster", "virtualization.vminterface",
        "extras.tag", "extras.customfield", "tenancy.tenant",
    ]  # fmt: skip
    nb.users.permissions.create(
        name=f"lnbi-view-{RUN}", object_types=types, actions=["view"], users=[user.id]
    )
    token = nb.users.tokens.create(user=user.id, write_enabled=True)
    yield f"nbt_{token.key}.{token.token}"
    user.delete()


def test_the_worker_resumes_and_undoes_a_run_as_runs_of_their_own(
    conn: redis.Redis,
    nb: pynetbox.api,
    lab: Lab,
    review: Review,
    worker: WorkerProcess,
    lab_settings: Settings,
) -> None:
    copy = 3
    items = items_for(lab, review, copy, ["acc-sw-f3-01", "core-sw01", "web01"])
    first = wait_for_end(conn, jobs.start_import(lab_settings, items).job_id)
    assert first.counts["created"] == 3, first.results

    resume = jobs.start_resume(lab_settings, first.job_id)
    resumed = wait_for_end(conn, resume.job_id)
    undo = jobs.start_undo(lab_settings, first.job_id)
    undone = wait_for_end(conn, undo.job_id)

    assert resume.mode == undo.mode == "worker"
    assert resumed.resumes == first.job_id and resumed.counts["skipped"] == 3  # nothing was left to do
    assert undone.state is JobState.FINISHED and undone.undoes == first.job_id, undone.error
    assert undone.by == first.by == "admin"
    assert {r["kind"] for r in undone.results if r["outcome"] == "deleted"} >= {
        "device",
        "virtual machine",
        "virtual chassis",
        "interface",
        "IP address",
    }
    assert jobs.job_status(conn, first.job_id).undone_by == undo.job_id
    assert objects_by_id(nb, review, ids_of(items)) == {}


@pytest.mark.parametrize("who", ["no permission at all", "view only"])
def test_a_token_without_permission_ends_the_job_early_naming_it_and_creates_nothing(
    who: str,
    request: pytest.FixtureRequest,
    conn: redis.Redis,
    nb: pynetbox.api,
    lab: Lab,
    review: Review,
    env: dict[str, str],
    lab_settings: Settings,
    stack_env: dict[str, str],
) -> None:
    copy = 0
    items = items_for(lab, review, copy, ["rtr-wan01", "web02", "fw-hq01"])
    token = (
        stack_env["NETBOX_TOKEN_NOPERM"]
        if who == "no permission at all"
        else request.getfixturevalue("view_only_token")
    )
    queue = f"{QUEUE}-{'noperm' if who.startswith('no') else 'viewer'}"
    weak = start_worker(conn, {**env, "QUEUE_NAME": queue, "NETBOX_TOKEN": token}, lab.tmp / queue)
    try:
        status = wait_for_end(
            conn, jobs.start_import(dataclasses.replace(lab_settings, queue_name=queue), items).job_id
        )
    finally:
        weak.stop()

    assert status.state is JobState.FAILED and not status.active
    assert status.counts.get("created", 0) == 0
    if "does not let" in status.error:  # the permission check before writing (OPTIONS lists no POST)
        assert "add devices" in status.error and "add virtual machines" in status.error
        assert all(r["outcome"] == "skipped" and "not attempted" in r["message"] for r in status.results)
    else:  # NetBox refused even to read (403): the job could not start
        assert "403" in status.error and "permission" in status.error.lower()
        assert status.results == []
    if who == "view only":
        assert "does not let" in status.error
    assert token not in weak.output() and token.split(".")[-1] not in json.dumps(status.results)
    assert sum(objects_by_id(nb, review, ids_of(items)).values()) == 0


def test_the_worker_imports_as_the_signed_in_analyst_with_their_own_token(
    conn: redis.Redis,
    nb: pynetbox.api,
    lab: Lab,
    review: Review,
    worker: WorkerProcess,
    lab_settings: Settings,
) -> None:
    """The job carries the analyst's token sealed; the worker opens it with its JOB_SECRET and writes with
    it: NetBox's changelog names the analyst as the user, and the run record and the messages name them."""
    analyst = sign_in(lab_settings, "lead", password_of("lead"))
    try:
        settings = analyst.settings(lab_settings)
        handle = jobs.start_import(settings, items_for(lab, review, 4, ["acc-sw-f3-01", "web01"]))
        assert handle.mode == "worker"
        status = wait_for_end(conn, handle.job_id)
    finally:
        sign_out(lab_settings, analyst)
    assert status.counts.get("created") == 2, not_created(status)
    assert status.analyst == "lead" and status.by == "lead"
    for result in status.results:
        endpoint = "dcim.device" if result["kind"] == "device" else "virtualization.virtualmachine"
        changes = list(
            nb.core.object_changes.filter(changed_object_type=endpoint, changed_object_id=result["netbox_id"])
        )
        assert changes and {c.user_name for c in changes} == {"lead"}
        assert {c.message for c in changes} == {f"LibreNMS import, run {handle.job_id}, by lead"}


def test_without_a_worker_the_import_runs_in_the_app_with_the_same_results(
    conn: redis.Redis, nb: pynetbox.api, lab: Lab, review: Review, lab_settings: Settings
) -> None:
    copy = 2
    items = items_for(lab, review, copy, ["web01", "web02", "fgt-cloud01"])
    settings = dataclasses.replace(lab_settings, queue_name=f"{QUEUE}-nobody")

    handle = jobs.start_import(settings, items)

    assert handle.mode == "in-process"
    assert handle.note == "No worker is listening: the import runs inside the app."
    status = wait_for_end(conn, handle.job_id)
    assert status.state is JobState.FINISHED and status.mode == "in-process", status.error
    assert status.counts["created"] == 3 and [r["kind"] for r in status.results] == ["vm"] * 3
    assert all(
        r["url"].endswith(f"/virtualization/virtual-machines/{r['netbox_id']}/") for r in status.results
    )
    assert set(objects_by_id(nb, review, ids_of(items)).values()) == {1}
    # listed with the recent jobs like a worker's (other test runs may have started jobs since)
    assert handle.job_id in {job.job_id for job in jobs.recent_jobs(conn, limit=50)}


def test_cancel_stops_an_import_running_in_the_app_after_its_batch(
    conn: redis.Redis, nb: pynetbox.api, lab: Lab, review: Review, lab_settings: Settings
) -> None:
    copy = 2
    items = items_for(
        lab, review, copy, ["app01", "app02", "ci-runner01", "ci-runner02", "ad-dc01", "k8s-worker-03"]
    )
    settings = dataclasses.replace(lab_settings, queue_name=f"{QUEUE}-nobody")
    lab.sim.set_faults(delay=0.3)

    handle = jobs.start_import(settings, items, batch_size=1)
    assert handle.mode == "in-process"
    wait_until(
        lambda: jobs.job_status(conn, handle.job_id, results=False).done >= 1, timeout=60, what="a batch"
    )
    jobs.cancel(conn, handle.job_id)  # in the app: the flag, seen after the batch in hand
    status = wait_for_end(conn, handle.job_id)

    assert status.state is JobState.STOPPED and status.mode == "in-process", status.error
    assert 1 <= status.done < len(items) and len(status.results) == status.done
    assert {r["outcome"] for r in status.results} == {"created"}
    made = objects_by_id(nb, review, ids_of(items))
    assert {i for i, n in made.items() if n} == {
        r["librenms_id"] for r in status.results
    }  # nothing half-done
    assert no_locks_left(conn, handle.job_id)


def write_csv(path: Path, lines: list[dict[str, str]]) -> Path:
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(lines[0]))
        writer.writeheader()
        writer.writerows(lines)
    return path


def read_results(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_bytes().decode("utf-8-sig"))))


def test_cli_import_applies_the_edited_csv_and_follows_the_worker_job(
    conn: redis.Redis, nb: pynetbox.api, lab: Lab, review: Review, worker: WorkerProcess, env: dict[str, str]
) -> None:
    copy = 0
    router, firewall = lab.row("mx-edge01", copy), lab.row("fw-hq02", copy)  # mx-edge01 needs a role
    refused, later = lab.row("nx-leaf01", copy), lab.row("nx-leaf02", copy)
    lines = list(csv.DictReader(io.StringIO(rows_to_csv(review))))
    for line in lines:  # the whole review, as exported; the analyst marks three rows and edits two
        line["import"] = "no"
        device_id = int(line["librenms_id"])
        if device_id in (router.device.device_id, firewall.device.device_id):
            line["import"] = "yes"
        if device_id == router.device.device_id:
            line["role"] = "router"
        if device_id == refused.device.device_id:
            line["import"], line["role"] = "yes", "no-such-role"
        if device_id == later.device.device_id:
            line["role"] = "leaf"  # ready by this edit, but import=no: not imported
    edited = write_csv(lab.tmp / "edited.csv", lines)
    out = lab.tmp / "results.csv"

    def cli(path: Path, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "core", "import", "--csv", str(path), "--results", str(out), *args],
            env=env,
            cwd=lab.tmp,
            capture_output=True,
            text=True,
            timeout=180,
        )

    done = cli(edited, "--wait")

    assert done.returncode == 1, done.stdout + done.stderr  # 1: a line was rejected
    assert f"librenms_id {refused.device.device_id} rejected" in done.stderr
    assert "2 row(s) to import" in done.stdout, done.stdout + done.stderr
    assert "import finished: created 2, skipped 0, failed 0" in done.stdout
    written = read_results(out)
    assert sorted(int(r["librenms_id"]) for r in written) == sorted(
        [router.device.device_id, firewall.device.device_id]
    )
    assert {r["outcome"] for r in written} == {"created"} and all(
        r["url"].startswith("http") for r in written
    )
    made = {int(r["librenms_id"]): int(r["netbox_id"]) for r in written}
    assert nb.dcim.devices.get(made[router.device.device_id]).role.slug == "router"
    counts = objects_by_id(nb, review, [refused.device.device_id, later.device.device_id])
    assert sum(counts.values()) == 0
    assert env["NETBOX_TOKEN"] not in done.stdout + done.stderr

    header = list(lines[0])
    again = [
        dict(line)
        for line in lines
        if int(line["librenms_id"]) in (router.device.device_id, later.device.device_id)
    ]
    for line in again:
        line["import"] = "yes"
    second = cli(write_csv(lab.tmp / "again.csv", again), "--sync")  # in this process: no worker, no Redis

    assert second.returncode == 0, second.stdout + second.stderr
    assert list(again[0]) == header
    assert "import finished: created 1, skipped 1, failed 0" in second.stdout
    outcomes = {int(r["librenms_id"]): r["outcome"] for r in read_results(out)}
    assert outcomes == {router.device.device_id: "skipped", later.device.device_id: "created"}


def test_cli_results_csv_is_safe_for_spreadsheets(tmp_path: Path) -> None:
    from core.csvio import write_results

    path = tmp_path / "out.csv"
    write_results(path, [{"server_key": "default", "librenms_id": 1, "name": "=HYPERLINK(1)", "outcome": "failed",
                           "message": "+1", "extra": ["-x", "@y"]}])  # fmt: skip

    (line,) = read_results(path)
    assert line["name"] == "'=HYPERLINK(1)" and line["message"] == "'+1" and line["details"] == "'-x; @y"
