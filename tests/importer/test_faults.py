"""Imports under real faults: the real test NetBox behind a fault-injecting proxy (devtools/netbox_proxy.py),
a private LibreNMS lab, run_import in this process.

What is checked: a device LibreNMS lists no addresses for still gets its polling address as primary IP (and
the result says where it came from); a failed NetBox call costs only the rows it concerns, never the job;
lookups and idempotent writes are retried; a POST whose answer was lost is never sent again blindly (the
object is looked up first), and a stack is never left behind as an empty or partial chassis.

Each test takes its own rows (copy, template) of the lab, so the tests do not depend on each other.
"""

from __future__ import annotations

import dataclasses
import re
import secrets
from collections.abc import Iterator
from typing import Any

import pynetbox
import pytest
import requests

from core import defaults, netbox
from core.choices import Outcome
from core.errors import NetBoxError
from core.importer import ImportItem, ImportReport, RowResult, run_import
from core.librenms import DeviceFilter
from core.review import Review, Row
from core.search import run_search
from core.settings import Settings
from devtools.netbox_proxy import NetBoxProxy
from tests.conftest import SIM_TOKEN
from tests.helpers import Lab, prepared, running_lab, serve_addresses, settings_from

RUN = secrets.token_hex(3)
COPIES = 7
NO_LIST = "cx-acc01"  # the lab's copy 0 of it: LibreNMS lists no addresses (/devices/:id/ip answers 404)


@pytest.fixture(scope="module")
def lab(reference_data, nb: pynetbox.api, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    with running_lab(tmp_path_factory.mktemp("faults"), RUN, COPIES, nb=nb) as lab:
        serve_addresses(lab, {lab.device_id(NO_LIST, 0): []})
        yield lab


@pytest.fixture(scope="module")
def proxy(stack_env: dict[str, str]) -> Iterator[NetBoxProxy]:
    with NetBoxProxy(stack_env["NETBOX_URL"]) as running:
        yield running


@pytest.fixture(scope="module")
def settings(stack_env: dict[str, str], lab: Lab, proxy: NetBoxProxy) -> Settings:
    """The product's settings with NetBox behind the proxy."""
    return settings_from({**stack_env, **lab.env(), "NETBOX_URL": proxy.url}, lab.tmp)


@pytest.fixture(scope="module")
def review(lab: Lab, settings: Settings) -> Review:
    lab.review = run_search(settings, DeviceFilter(detect_stacks=True, show_disabled=True)).review
    return lab.review


@pytest.fixture(autouse=True)
def _fresh(proxy: NetBoxProxy, lab: Lab, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No rule and an empty log before each test; short waits between retries."""
    proxy.reset()
    monkeypatch.setattr(defaults, "NETBOX_BACKOFF", 0.05)
    yield
    proxy.reset()
    lab.sim.clear_faults()


# ------------------------------------------------------------------ helpers


def run(settings: Settings, items: list[ImportItem], **options: Any) -> dict[int, RowResult]:
    """run_import in this process; the job itself must end normally. Results by LibreNMS id."""
    report: ImportReport = run_import(settings, items, **options)
    assert not report.error and not report.stopped, report.error
    assert len(report.results) == len(items), report.results
    return {result.librenms_id: result for result in report.results}


def chassis(nb: pynetbox.api, name: str) -> list:
    return [vc for vc in nb.dcim.virtual_chassis.filter(name=name) if vc.name == name]


def members(nb: pynetbox.api, vc_id: int) -> list:
    return sorted(nb.dcim.devices.filter(virtual_chassis_id=vc_id), key=lambda d: d.vc_position)


def devices_named(nb: pynetbox.api, names: list[str]) -> list:
    return [d for d in nb.dcim.devices.filter(name=names) if d.name in names]


def member_names(row: Row) -> list[str]:
    assert row.stack is not None
    return [row.name if m is row.stack.master else f"{row.name}-{m.position}" for m in row.stack.members]


def assert_stack_whole(nb: pynetbox.api, row: Row, result: RowResult) -> None:
    """The row's one chassis, with every member once, the master set."""
    assert result.outcome is Outcome.CREATED, result
    (vc,) = chassis(nb, row.name)
    found = members(nb, vc.id)
    assert [d.name for d in found] == member_names(row)
    assert vc.master is not None and vc.master.id == result.netbox_id == found[0].id
    assert len(devices_named(nb, member_names(row))) == len(member_names(row))  # none twice


def assert_no_stack_left(nb: pynetbox.api, row: Row) -> None:
    assert chassis(nb, row.name) == []
    assert devices_named(nb, member_names(row)) == []


def serial_rule(row: Row) -> str:
    """A regex for the members' lookup by serial of this stack (its second member's serial: the re-check's
    own lookup carries only the rows' serials, case-folded)."""
    assert row.stack is not None
    return rf"/api/dcim/devices/\?.*serial={re.escape(row.stack.members[1].serial)}(&|$)"


def primary_lines(result: RowResult) -> list[str]:
    return [line for line in result.extra if "primary IP" in line]


# ------------------------------------------------------------------ primary IP from LibreNMS' polling address


def test_a_device_librenms_lists_no_addresses_for_gets_its_polling_address_and_one_without_any_says_so(
    nb: pynetbox.api, lab: Lab, review: Review, settings: Settings
) -> None:
    copy = 0
    unlisted, listed = lab.row(NO_LIST, copy), lab.row("acc-sw-f3-01", copy)
    bare = lab.row("newdevice-staging", copy)
    assert unlisted.device.ip and listed.device.ip and not bare.device.ip
    answer = requests.get(
        f"{lab.sim.url}/api/v0/devices/{unlisted.device.device_id}/ip",
        headers={"X-Auth-Token": SIM_TOKEN},
        timeout=10,
    )
    assert answer.status_code == 404 and "does not have any IP addresses" in answer.json()["message"]
    items = [
        prepared(lab, review, unlisted),
        prepared(lab, review, listed),
        prepared(lab, review, bare, site="hq", device_type="c9300-48p"),
    ]

    results = run(settings, items)

    assert {r.outcome for r in results.values()} == {Outcome.CREATED}, results
    device = nb.dcim.devices.get(results[unlisted.device.device_id].netbox_id)
    assert device.primary_ip4 is not None and str(device.primary_ip4.address) == f"{unlisted.device.ip}/32"
    iface = nb.dcim.interfaces.get(device.primary_ip4.assigned_object_id)
    assert iface.device.id == device.id and iface.name == defaults.MANAGEMENT_INTERFACE
    (line,) = primary_lines(results[unlisted.device.device_id])
    assert line.startswith(f"primary IP {unlisted.device.ip}/32 (created)")
    assert "polling address" in line and "lists no addresses" in line
    # the usual case says so too: the address list's prefix and port
    (line,) = primary_lines(results[listed.device.device_id])
    assert line.startswith(f"primary IP {listed.device.ip}/24 (created)") and "address list" in line
    assert str(nb.dcim.devices.get(results[listed.device.device_id].netbox_id).primary_ip4.address).endswith(
        "/24"
    )
    # no address at all
    assert primary_lines(results[bare.device.device_id]) == [
        "no primary IP: LibreNMS has no address for this device"
    ]
    assert nb.dcim.devices.get(results[bare.device.device_id].netbox_id).primary_ip4 is None


# ------------------------------------------------------------------ lookups: retried, and contained per row


def test_a_member_lookup_that_fails_once_is_retried_and_the_stack_is_created_whole(
    nb: pynetbox.api, lab: Lab, review: Review, settings: Settings, proxy: NetBoxProxy
) -> None:
    row = lab.row("core-sw01", 1)
    rule = proxy.add_rule("GET", serial_rule(row), status=500, times=1)

    results = run(settings, [prepared(lab, review, row)])

    assert rule.hits == 1 and proxy.count("GET", serial_rule(row)) == 2
    assert_stack_whole(nb, row, results[row.device.device_id])


def test_a_member_lookup_that_keeps_failing_fails_only_its_stack_and_the_batch_goes_on(
    nb: pynetbox.api, lab: Lab, review: Review, settings: Settings, proxy: NetBoxProxy
) -> None:
    copy = 2
    doomed, other, plain = lab.row("core-sw01", copy), lab.row("dist-sw-b2", copy), lab.row("esx01", copy)
    rule = proxy.add_rule("GET", serial_rule(doomed), status=500, times=None)

    results = run(settings, [prepared(lab, review, r) for r in (doomed, other, plain)])

    failed = results[doomed.device.device_id]
    assert failed.outcome is Outcome.FAILED
    assert "look up" in failed.message and "serial" in failed.message and "500" in failed.message
    assert rule.hits >= defaults.NETBOX_ATTEMPTS  # every try of the lookup
    assert_no_stack_left(nb, doomed)
    assert_stack_whole(nb, other, results[other.device.device_id])
    assert results[plain.device.device_id].outcome is Outcome.CREATED


# ------------------------------------------------------------------ chassis and members: no empty chassis, none twice


def test_a_chassis_whose_answer_was_lost_after_netbox_created_it_is_found_not_created_again(
    nb: pynetbox.api, lab: Lab, review: Review, settings: Settings, proxy: NetBoxProxy
) -> None:
    row = lab.row("dist-sw-b2", 3)
    rule = proxy.add_rule("POST", r"^/api/dcim/virtual-chassis/$", action="drop")

    results = run(settings, [prepared(lab, review, row)])

    assert rule.hits == 1
    assert proxy.count("POST", r"^/api/dcim/virtual-chassis/$") == 1  # never sent twice
    assert_stack_whole(nb, row, results[row.device.device_id])


def test_members_netbox_refuses_with_500_leave_no_chassis_and_the_row_fails_saying_why(
    nb: pynetbox.api, lab: Lab, review: Review, settings: Settings, proxy: NetBoxProxy
) -> None:
    copy = 3
    row, plain = lab.row("core-sw01", copy), lab.row("esx01", copy)
    rule = proxy.add_rule("POST", r"^/api/dcim/devices/$", body=r'"virtual_chassis"', status=500, times=None)

    results = run(settings, [prepared(lab, review, row), prepared(lab, review, plain)])

    failed = results[row.device.device_id]
    assert failed.outcome is Outcome.FAILED and rule.hits == defaults.NETBOX_ATTEMPTS
    assert "member" in failed.message and "500" in failed.message, failed.message
    assert_no_stack_left(nb, row)
    assert results[plain.device.device_id].outcome is Outcome.CREATED


def test_members_whose_answer_was_lost_after_netbox_created_them_are_found_not_created_again(
    nb: pynetbox.api, lab: Lab, review: Review, settings: Settings, proxy: NetBoxProxy
) -> None:
    row = lab.row("core-sw01", 4)
    rule = proxy.add_rule("POST", r"^/api/dcim/devices/$", action="drop", body=r'"virtual_chassis"')

    results = run(settings, [prepared(lab, review, row)])

    assert rule.hits == 1 and proxy.count("POST", r"^/api/dcim/devices/$") == 1
    assert_stack_whole(nb, row, results[row.device.device_id])


def test_members_whose_answer_came_after_the_read_timeout_are_found_not_created_again(
    nb: pynetbox.api, lab: Lab, review: Review, settings: Settings, proxy: NetBoxProxy
) -> None:
    """A raw timeout inside stack creation: NetBox committed the members, the client gave up waiting."""
    row = lab.row("dist-sw-b2", 4)
    quick = dataclasses.replace(settings, netbox_timeout=6.0)
    rule = proxy.add_rule("POST", r"^/api/dcim/devices/$", action="stall", delay=9, body=r'"virtual_chassis"')

    results = run(quick, [prepared(lab, review, row)])

    assert rule.hits == 1 and proxy.count("POST", r"^/api/dcim/devices/$") == 1
    assert_stack_whole(nb, row, results[row.device.device_id])


def test_a_batchs_stacks_take_one_request_per_step_and_a_member_netbox_refuses_costs_only_its_stack(
    nb: pynetbox.api, lab: Lab, review: Review, settings: Settings, proxy: NetBoxProxy
) -> None:
    copy = 6
    doomed, other = lab.row("core-sw01", copy), lab.row("dist-sw-b2", copy)
    third = lab.row("core-sw01", 5)
    assert doomed.stack and other.stack and third.stack and doomed.site is not None
    # a device a person made has the name of one of `doomed`'s members (another serial: not that member)
    taken = member_names(doomed)[1]
    squatter = nb.dcim.devices.create(
        name=taken,
        site=doomed.site.id,
        device_type=nb.dcim.device_types.get(slug="c9300-48p").id,
        role=nb.dcim.device_roles.get(slug="access-switch").id,
    )
    try:
        results = run(settings, [prepared(lab, review, r) for r in (doomed, other, third)], concurrency=1)
    finally:
        squatter.delete()

    failed = results[doomed.device.device_id]
    assert failed.outcome is Outcome.FAILED and "stack not created" in failed.message
    assert f"member {doomed.stack.members[1].position} '{taken}' could not be created" in failed.message
    assert_no_stack_left(nb, doomed)  # its chassis and the members NetBox took are gone again
    assert_stack_whole(nb, other, results[other.device.device_id])
    assert_stack_whole(nb, third, results[third.device.device_id])
    # one chassis POST, one members POST (the refused one sent again without its stack's bad member),
    # one masters PATCH for the three stacks
    assert proxy.count("POST", r"^/api/dcim/virtual-chassis/$") == 1
    assert proxy.count("POST", r"^/api/dcim/devices/$") == 2
    assert proxy.count("PATCH", r"^/api/dcim/virtual-chassis/$") == 1


# ------------------------------------------------------------------ primary IPs: contained per row


def test_failed_ip_lookups_reuse_and_primary_ip_patches_cost_only_those_rows_primary_ips(
    nb: pynetbox.api, lab: Lab, review: Review, settings: Settings, proxy: NetBoxProxy
) -> None:
    copy = 5
    lookup, patched, retried, reused = (
        lab.row(t, copy) for t in ("acc-sw-f3-01", "cx-acc01", "br-lyon-sw01", "ar-spine01")
    )
    free = nb.ipam.ip_addresses.create(address=f"{reused.device.ip}/24", status="active")
    attempts = defaults.NETBOX_ATTEMPTS
    # the import's own lookup (the re-check before writing looks IPs up too, with other fields)
    ip_rule = (
        rf"^/api/ipam/ip-addresses/\?(?=.*address={re.escape(lookup.device.ip)}(&|$))"
        r"(?=.*fields=id%2Caddress%2Cassigned_object_type%2Cassigned_object_id)"
    )
    proxy.add_rule("GET", ip_rule, status=500, times=None)
    proxy.add_rule("PATCH", r"^/api/dcim/devices/$", status=500, times=attempts)  # `patched`: every try
    once = proxy.add_rule("PATCH", r"^/api/dcim/devices/$", status=502, times=1)  # `retried`: the first
    proxy.add_rule("PATCH", r"^/api/ipam/ip-addresses/$", status=500, times=None)  # `reused`

    results = run(
        settings,
        [prepared(lab, review, r) for r in (lookup, patched, retried, reused)],
        batch_size=1,
        concurrency=1,
    )

    assert results[retried.device.device_id].outcome is Outcome.CREATED
    for row, why in ((lookup, "look up"), (patched, "set primary IPs"), (reused, "assign")):
        result = results[row.device.device_id]
        assert result.outcome is Outcome.PARTIAL, result  # created, unfinished: a repair completes it
        (line,) = primary_lines(result)
        assert line.startswith(f"primary IP {row.device.ip}/24 not set: ") and why in line and "500" in line
        assert nb.dcim.devices.get(result.netbox_id).primary_ip4 is None
    assert once.hits == 1
    retried_device = nb.dcim.devices.get(results[retried.device.device_id].netbox_id)
    assert str(retried_device.primary_ip4.address) == f"{retried.device.ip}/24"
    assert nb.ipam.ip_addresses.get(free.id).assigned_object_id is None


# ------------------------------------------------------------------ the retry rule itself, on the wire


@pytest.fixture
def api(settings: Settings) -> pynetbox.api:
    """The product's NetBox API (its session, with the retry rule), through the proxy."""
    return netbox.connect(settings)


def test_gets_and_patches_are_retried_on_5xx_and_dropped_connections(
    nb: pynetbox.api, api: pynetbox.api, proxy: NetBoxProxy
) -> None:
    proxy.add_rule("GET", r"/api/status/", status=503, times=1)
    proxy.add_rule("GET", r"/api/status/", action="drop", times=1)
    assert netbox.status(api)["netbox-version"]
    assert proxy.count("GET", r"/api/status/") == 3
    proxy.add_rule("GET", r"/api/status/", status=500, times=None)
    with pytest.raises(NetBoxError, match="500"):
        netbox.status(api)
    assert proxy.count("GET", r"/api/status/") == 3 + defaults.NETBOX_ATTEMPTS

    tag = nb.extras.tags.create(name=f"lnbi-{RUN}-patch", slug=f"lnbi-{RUN}-patch")
    try:
        proxy.add_rule("PATCH", r"^/api/extras/tags/$", action="drop", times=1)  # NetBox did it, unseen
        api.extras.tags.update([{"id": tag.id, "description": "retried"}])
        assert proxy.count("PATCH", r"^/api/extras/tags/$") == 2
        assert nb.extras.tags.get(tag.id).description == "retried"
    finally:
        tag.delete()


def test_a_post_is_never_sent_again_by_the_session_after_a_5xx_or_a_lost_answer(
    nb: pynetbox.api, api: pynetbox.api, proxy: NetBoxProxy
) -> None:
    slug = f"lnbi-{RUN}-post"
    try:
        for rule in ({"status": 500}, {"action": "drop"}):
            proxy.reset()
            proxy.add_rule("POST", r"^/api/extras/tags/$", **rule)
            with pytest.raises((pynetbox.RequestError, requests.ConnectionError)):
                api.extras.tags.create(name=slug, slug=slug)  # the caller looks up, see the stack tests
            assert proxy.count("POST", r"^/api/extras/tags/$") == 1
    finally:
        for tag in nb.extras.tags.filter(slug=slug):
            tag.delete()
