"""Existing devices against the real NetBox: differences, link, update, If-Match, undo.

Each test imports its own lab copy of the access switch acc-sw-f3-01 (a plain device with a primary IP),
then changes that device in NetBox as a person would, searches again and acts on the row. Everything made
for the lab is deleted at the end of the module.
"""

from __future__ import annotations

import csv
import io
import secrets
import subprocess
import sys
import threading
from collections.abc import Iterator
from typing import Any

import pynetbox
import pytest

from core import csvio, defaults
from core.choices import Outcome, RowStatus, Sync, SyncField
from core.importer import ImportItem, run_import
from core.importer.updates import etag
from core.librenms import DeviceFilter
from core.netbox.gateway import auth_header
from core.review import Review, Row
from core.runs.changelog import run_changes
from core.runs.undo import undo_run
from core.search import run_search
from core.settings import Settings
from devtools.netbox_proxy import NetBoxProxy
from tests.helpers import HoldingProxy, Lab, prepared, running_lab, settings_from, worker_env

RUN = secrets.token_hex(3)
TEMPLATE = "acc-sw-f3-01"
COPIES = 14


@pytest.fixture(scope="module")
def lab(reference_data, nb: pynetbox.api, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    with running_lab(tmp_path_factory.mktemp("updates"), RUN, COPIES, nb=nb) as lab:
        yield lab


@pytest.fixture(scope="module")
def settings(stack_env: dict[str, str], lab: Lab) -> Settings:
    return settings_from({**stack_env, **lab.env()}, lab.tmp)


@pytest.fixture(scope="module")
def review(lab: Lab, settings: Settings) -> Review:
    lab.review = run_search(settings, DeviceFilter(detect_stacks=True)).review
    return lab.review


def imported(nb: pynetbox.api, lab: Lab, review: Review, settings: Settings, copy: int) -> Any:
    """Copy `copy` of the access switch, imported cleanly; its NetBox device."""
    report = run_import(settings, [prepared(lab, review, lab.row(TEMPLATE, copy))])
    (result,) = report.results
    assert result.outcome is Outcome.CREATED, result
    return nb.dcim.devices.get(result.netbox_id)


def again(settings: Settings, lab: Lab, copy: int, **choices: str) -> Row:
    """The row as a new search shows it, with these choices (action, update) applied."""
    key = lab.row(TEMPLATE, copy).key
    review = run_search(settings, DeviceFilter(), device_ids={key[1]}).review
    if choices:
        review.apply_override([key], **choices)
    return review.rows[key]


def write(settings: Settings, row: Row) -> Any:
    report = run_import(settings, [ImportItem.from_row(row)])
    assert not report.error, report.error
    (result,) = report.results
    return report, result


def other_platform(nb: pynetbox.api) -> Any:
    return nb.dcim.platforms.get(slug="cisco-ios")


def test_rows_whose_netbox_objects_differ_show_exactly_those_differences(nb, lab, review, settings):
    device = imported(nb, lab, review, settings, 1)
    assert again(settings, lab, 1).sync is Sync.IN_SYNC
    lab_site = device.site.id
    other_site = nb.dcim.sites.get(slug="dc2-fra")
    device.update(
        {
            "serial": "RMA-" + RUN,
            "platform": other_platform(nb).id,
            "status": "offline",
            "site": other_site.id,
            "location": None,
            "rack": None,
            "custom_fields": {"librenms_id": None},
        }
    )
    row = again(settings, lab, 1)
    assert row.status is RowStatus.EXISTS and row.existing.id == device.id
    shown = {d.field: (d.netbox, d.librenms) for d in row.differences}
    assert set(shown) == {
        SyncField.SERIAL,
        SyncField.PLATFORM,
        SyncField.STATUS,
        SyncField.SITE,
        SyncField.LIBRENMS_ID,
    } | ({SyncField.LOCATION} if row.location else set())
    assert shown[SyncField.SERIAL] == ("RMA-" + RUN, row.device.serial)
    assert shown[SyncField.PLATFORM] == ("Cisco IOS", row.platform.name)
    assert shown[SyncField.STATUS] == ("offline", "active")
    assert shown[SyncField.SITE][0] == "DC2 Frankfurt" and lab_site == row.site.id
    assert shown[SyncField.LIBRENMS_ID] == ("—", str(row.device.device_id))
    assert row.sync is Sync.DIFFERS  # serial, platform, status, librenms_id are LibreNMS's
    assert {d.field for d in row.updatable} == {
        SyncField.SERIAL,
        SyncField.PLATFORM,
        SyncField.STATUS,
        SyncField.LIBRENMS_ID,
    }


def test_link_writes_only_librenms_id_and_nothing_else(nb, lab, review, settings):
    device = imported(nb, lab, review, settings, 2)
    device.update({"serial": "OLD-" + RUN, "custom_fields": {"librenms_id": None}})
    row = again(settings, lab, 2, action="link")
    assert row.updates == (SyncField.LIBRENMS_ID,)
    report, result = write(settings, row)
    assert result.outcome is Outcome.UPDATED and result.message == "linked: librenms_id set"
    after = nb.dcim.devices.get(device.id)
    assert after.custom_fields["librenms_id"] == row.device.device_id
    assert after.serial == "OLD-" + RUN  # the serial difference is left alone
    (change,) = run_changes(nb, report.run_id)  # NetBox's changelog of the run: one change, of that field
    assert (change.type, change.object_id, change.action) == ("dcim.device", device.id, "update")
    changed = {k for k in change.after if change.before.get(k) != change.after.get(k) and k != "last_updated"}
    assert changed == {"custom_fields"}


def test_update_changes_only_the_chosen_fields_librenms_owns_and_a_second_review_is_in_sync(
    nb, lab, review, settings
):
    device = imported(nb, lab, review, settings, 3)
    other_site = nb.dcim.sites.get(slug="dc2-fra")
    device.update(
        {
            "serial": "OLD-" + RUN,
            "platform": other_platform(nb).id,
            "status": "offline",
            "site": other_site.id,
            "location": None,
            "rack": None,
        }
    )
    row = again(settings, lab, 3, action="update", update="serial,platform")
    assert row.updates == (SyncField.SERIAL, SyncField.PLATFORM)
    _, result = write(settings, row)
    assert result.outcome is Outcome.UPDATED, result
    after = nb.dcim.devices.get(device.id)
    assert after.serial == row.device.serial and after.platform.id == row.platform.id
    assert after.status.value == "offline"  # not chosen
    assert after.site.id == other_site.id  # NetBox's own
    rest = again(settings, lab, 3)
    assert {d.field for d in rest.updatable} == {SyncField.STATUS}
    _, result = write(settings, again(settings, lab, 3, action="update"))
    assert result.outcome is Outcome.UPDATED
    assert again(settings, lab, 3).sync is Sync.IN_SYNC


def test_a_field_netbox_owns_is_never_changed_even_when_asked_through_the_csv_or_a_job(
    nb, lab, review, settings
):
    device = imported(nb, lab, review, settings, 4)
    other_site = nb.dcim.sites.get(slug="dc2-fra")
    device.update({"serial": "OLD-" + RUN, "site": other_site.id, "location": None, "rack": None})
    key = lab.row(TEMPLATE, 4).key
    search = run_search(settings, DeviceFilter(), device_ids={key[1]}).review
    (line,) = csv.DictReader(io.StringIO(csvio.rows_to_csv([search.rows[key]])))
    line.update(action="update", update="site, serial")
    edited = io.StringIO()
    writer = csv.DictWriter(edited, fieldnames=list(line))
    writer.writeheader()
    writer.writerow(line)
    report = csvio.import_csv(search, edited.getvalue())
    assert report.rejected and "NetBox owns site" in "; ".join(report.rejected[0][2])
    assert not search.rows[key].will_import
    # a job that asks for it anyway (hand-made, or from an older review) writes the serial only
    row = again(settings, lab, 4, action="update", update="site,serial")
    _, result = write(settings, row)
    after = nb.dcim.devices.get(device.id)
    assert after.site.id == other_site.id and after.serial == row.device.serial
    assert result.outcome is Outcome.UPDATED and result.message == "updated: serial"


def test_an_object_changed_since_the_review_is_refused_and_the_rest_go_on(nb, lab, review, settings):
    first = imported(nb, lab, review, settings, 5)
    second = imported(nb, lab, review, settings, 6)
    for device in (first, second):
        device.update({"serial": "OLD-" + RUN})
    rows = [again(settings, lab, copy, action="update") for copy in (5, 6)]
    items = [ImportItem.from_row(row) for row in rows]
    assert all(item.seen for item in items)
    nb.dcim.devices.get(first.id).update({"comments": "edited by a person after the review"})
    report = run_import(settings, items)
    outcome = {r.netbox_id: r for r in report.results}
    assert outcome[first.id].outcome is Outcome.FAILED
    assert "changed in NetBox since the review" in outcome[first.id].message
    assert outcome[second.id].outcome is Outcome.UPDATED
    assert nb.dcim.devices.get(first.id).serial == "OLD-" + RUN
    assert nb.dcim.devices.get(second.id).serial == rows[1].device.serial


def test_netbox_refuses_through_if_match_an_edit_made_between_the_check_and_the_write(
    nb, stack_env, lab, review, settings
):
    device = imported(nb, lab, review, settings, 7)
    device.update({"serial": "OLD-" + RUN})
    row = again(settings, lab, 7, action="update")
    proxy = HoldingProxy(stack_env["NETBOX_URL"]).start()
    try:
        proxy.hold("PATCH", "/api/dcim/devices/")
        held = settings_from({**stack_env, **lab.env(), "NETBOX_URL": proxy.url}, lab.tmp)
        done: dict[str, Any] = {}
        job = threading.Thread(
            target=lambda: done.update(report=run_import(held, [ImportItem.from_row(row)]))
        )
        job.start()
        assert proxy.entered.wait(30), "the update's PATCH never came"
        nb.dcim.devices.get(device.id).update(
            {"serial": "SET-BY-A-PERSON"}
        )  # after the check, before the write
        proxy.release()
        job.join(60)
    finally:
        proxy.stop()
    (result,) = done["report"].results
    assert result.outcome is Outcome.FAILED and "changed in NetBox since the review" in result.message
    assert nb.dcim.devices.get(device.id).serial == "SET-BY-A-PERSON"


def test_undo_of_an_update_restores_every_old_value_and_the_primary_ip(nb, lab, review, settings):
    device = imported(nb, lab, review, settings, 8)
    old_ip = device.primary_ip4
    interface = nb.dcim.interfaces.create(device=device.id, name="Vlan99", type="virtual")
    other = nb.ipam.ip_addresses.create(
        address=f"{lab.net4.network_address + 250}/32",
        assigned_object_type="dcim.interface",
        assigned_object_id=interface.id,
    )
    device.update(
        {
            "serial": "OLD-" + RUN,
            "platform": other_platform(nb).id,
            "status": "offline",
            "primary_ip4": other.id,
            "custom_fields": {"librenms_id": None},
        }
    )
    before = nb.dcim.devices.get(device.id)
    row = again(settings, lab, 8, action="update")
    assert set(row.updates) == {
        SyncField.SERIAL,
        SyncField.PLATFORM,
        SyncField.STATUS,
        SyncField.PRIMARY_IP,
        SyncField.LIBRENMS_ID,
    }
    report, result = write(settings, row)
    assert result.outcome is Outcome.UPDATED, result
    moved = nb.dcim.devices.get(device.id)
    assert moved.primary_ip4.id == old_ip.id  # the LibreNMS address, on its management interface
    assert moved.serial == row.device.serial and moved.status.value == "active"
    undone = undo_run(settings, report.run_id)
    assert not undone.error and {line.outcome for line in undone.lines} == {"restored"}, undone.lines
    back = nb.dcim.devices.get(device.id)
    for name in ("serial", "custom_fields"):
        assert getattr(back, name) == getattr(before, name), name
    assert back.platform.id == before.platform.id and back.status.value == "offline"
    assert back.primary_ip4.id == other.id
    assert again(settings, lab, 8).sync is Sync.DIFFERS


def test_the_command_line_updates_what_an_edited_review_csv_asks(
    nb, stack_env, lab, review, settings, tmp_path
):
    device = imported(nb, lab, review, settings, 9)
    device.update({"serial": "OLD-" + RUN, "status": "offline"})
    env = {
        **worker_env(
            stack_env, librenms_url=lab.sim.url, queue=f"lnbi-test-updates-{RUN}", mapping=lab.mapping
        ),
        "HOME": str(tmp_path),
    }

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "core", *args]
        return subprocess.run(command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=180)

    exported = cli("validate", "--csv", str(tmp_path / "review.csv"))
    assert exported.returncode == 0, exported.stderr
    lines = list(csv.DictReader(io.StringIO((tmp_path / "review.csv").read_text("utf-8-sig"))))
    line = next(x for x in lines if int(x["librenms_id"]) == lab.device_id(TEMPLATE, 9))
    assert line["sync"] == "differs" and "serial: OLD-" in line["differences"]
    line.update(action="update", update="serial", **{"import": "yes"})
    edited = tmp_path / "edited.csv"
    with edited.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(line))
        writer.writeheader()
        writer.writerow(line)
    done = cli("import", "--csv", str(edited), "--sync")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "updated 1" in done.stdout, done.stdout
    after = nb.dcim.devices.get(device.id)
    assert after.serial == lab.row(TEMPLATE, 9).device.serial and after.status.value == "offline"


def test_netbox_checks_each_object_of_a_bulk_patch_against_the_if_match_list_and_writes_all_or_none(nb):
    """The fact of NetBox 4.7 the update design rests on (core.importer.updates): a bulk PATCH whose
    If-Match lists the version of each object is written; one stale version refuses it whole."""
    site = nb.dcim.sites.get(slug="lab")
    made = nb.dcim.devices.create(
        [
            {
                "name": f"if-match-{RUN}-{i}",
                "site": site.id,
                "device_type": nb.dcim.device_types.get(slug="c9300-48p").id,
                "role": nb.dcim.device_roles.get(slug="access-switch").id,
            }
            for i in range(2)
        ]
    )
    try:
        url = f"{nb.base_url}/dcim/devices/"
        tags = [etag(str(d.last_updated)) for d in made]
        stale = etag("2000-01-01T00:00:00+00:00")

        def patch(if_match: list[str], serial: str) -> int:
            headers = {**auth_header(nb), "Accept": "application/json", "If-Match": ", ".join(if_match)}
            body = [{"id": d.id, "serial": serial} for d in made]
            return nb.http_session.patch(url, json=body, headers=headers).status_code

        assert patch([tags[0], stale], "REFUSED") == 412
        assert {nb.dcim.devices.get(d.id).serial for d in made} == {""}  # neither was written
        assert patch(tags, "WRITTEN") == 200
        assert {nb.dcim.devices.get(d.id).serial for d in made} == {"WRITTEN"}
    finally:
        nb.dcim.devices.delete([d.id for d in made])


def test_an_update_whose_answer_was_lost_after_netbox_wrote_it_is_reported_updated_once(
    nb, stack_env, lab, review, settings, monkeypatch
):
    device = imported(nb, lab, review, settings, 10)
    device.update({"serial": "OLD-" + RUN})
    row = again(settings, lab, 10, action="update")
    monkeypatch.setattr(defaults, "NETBOX_BACKOFF", 0.05)
    with NetBoxProxy(stack_env["NETBOX_URL"]) as proxy:
        proxy.add_rule("PATCH", r"^/api/dcim/devices/$", action="drop", times=1)  # written, answer lost
        faulty = settings_from({**stack_env, **lab.env(), "NETBOX_URL": proxy.url}, lab.tmp)
        report = run_import(faulty, [ImportItem.from_row(row)])
        patches = proxy.count("PATCH", r"^/api/dcim/devices/$")
    (result,) = report.results
    assert result.outcome is Outcome.UPDATED, result
    assert patches == 2  # the session sent it again; NetBox refused it (412: it had changed, by us)
    assert nb.dcim.devices.get(device.id).serial == row.device.serial
    assert [(o["type"], o["id"], o["action"]) for o in report.objects] == [
        ("dcim.device", device.id, "update")
    ]
    assert len(run_changes(nb, report.run_id)) == 1  # written once


def test_a_virtual_machine_is_updated_like_a_device(nb, lab, review, settings):
    report = run_import(settings, [prepared(lab, review, lab.row("web01", 1))])
    (made,) = report.results
    assert made.outcome is Outcome.CREATED, made
    vm = nb.virtualization.virtual_machines.get(made.netbox_id)
    vm.update({"serial": "OLD-" + RUN, "status": "offline"})
    key = lab.row("web01", 1).key
    search = run_search(settings, DeviceFilter(), device_ids={key[1]}).review
    search.apply_override([key], action="update")
    row = search.rows[key]
    assert set(row.updates) == {SyncField.SERIAL, SyncField.STATUS}, row.differences
    _, result = write(settings, row)
    assert result.outcome is Outcome.UPDATED and result.kind == "vm", result
    after = nb.virtualization.virtual_machines.get(vm.id)
    assert after.serial == row.device.serial and after.status.value == "active"


def test_undo_of_an_update_leaves_an_object_someone_changed_since_and_says_who(nb, lab, review, settings):
    device = imported(nb, lab, review, settings, 11)
    device.update({"serial": "OLD-" + RUN})
    report, result = write(settings, again(settings, lab, 11, action="update"))
    assert result.outcome is Outcome.UPDATED
    nb.dcim.devices.get(device.id).update({"comments": "checked on site"})  # a person, after the run
    undone = undo_run(settings, report.run_id)
    (line,) = undone.lines
    assert line.outcome == "kept" and "changed in NetBox after the run" in line.message, line
    assert nb.dcim.devices.get(device.id).serial == lab.row(TEMPLATE, 11).device.serial  # not put back


def test_a_job_carries_the_reviewed_version_of_an_update_and_nothing_more():
    item = ImportItem("default", 7, {"name": "x", "action": "update"}, "2026-12-01T10:00:00.5Z")
    assert ImportItem.from_data(item.to_data()) == item
    assert "seen" not in ImportItem("default", 8).to_data()  # a row to create has no version to carry


def test_a_primary_ip_update_never_takes_an_address_assigned_to_another_object(nb, lab, review, settings):
    device = imported(nb, lab, review, settings, 12)
    address = device.primary_ip4
    device.update({"primary_ip4": None})
    other = nb.dcim.devices.create(
        name=f"holder-{RUN}", site=device.site.id, device_type=device.device_type.id, role=device.role.id
    )
    try:
        port = nb.dcim.interfaces.create(device=other.id, name="eth0", type="virtual")
        nb.ipam.ip_addresses.get(address.id).update(
            {"assigned_object_type": "dcim.interface", "assigned_object_id": port.id}
        )
        row = again(settings, lab, 12, action="update")
        assert row.updates == (SyncField.PRIMARY_IP,)
        _, result = write(settings, row)
        assert result.outcome is Outcome.FAILED and "assigned to another object" in result.message, result
        assert nb.dcim.devices.get(device.id).primary_ip4 is None
        assert nb.ipam.ip_addresses.get(address.id).assigned_object_id == port.id
    finally:
        nb.ipam.ip_addresses.get(address.id).delete()
        other.delete()


def test_a_resume_finishes_an_update_its_run_left_without_the_primary_ip(
    nb, stack_env, lab, review, settings, monkeypatch
):
    device = imported(nb, lab, review, settings, 13)
    address = device.primary_ip4
    device.update({"serial": "OLD-" + RUN, "primary_ip4": None})
    row = again(settings, lab, 13, action="update")
    assert set(row.updates) == {SyncField.SERIAL, SyncField.PRIMARY_IP}
    items = [ImportItem.from_row(row)]
    monkeypatch.setattr(defaults, "NETBOX_BACKOFF", 0.05)
    with NetBoxProxy(stack_env["NETBOX_URL"]) as proxy:
        proxy.add_rule(
            "PATCH", r"^/api/dcim/devices/$", action="error", status=500, body="primary_ip4", times=None
        )
        faulty = settings_from({**stack_env, **lab.env(), "NETBOX_URL": proxy.url}, lab.tmp)
        first = run_import(faulty, items)
    (result,) = first.results
    assert result.outcome is Outcome.PARTIAL and "not set" in "; ".join(result.extra), result
    assert nb.dcim.devices.get(device.id).serial == row.device.serial  # its fields were written
    # the same items (with the version reviewed before the first run), resuming it: its own write is no one
    # else's change, and what is left (the primary IP) is done
    resumed = run_import(settings, items, resumes=first.run_id)
    (result,) = resumed.results
    assert result.outcome is Outcome.UPDATED and result.message == "updated: primary_ip", result
    assert nb.dcim.devices.get(device.id).primary_ip4.id == address.id
