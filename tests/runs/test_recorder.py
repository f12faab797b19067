"""The run's record as NetBox confirms each write, and how undo groups objects: without NetBox (the
behaviour against the real NetBox is in test_undo.py and tests/importer/test_repair.py)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import requests

from core.runs.changelog import Change, names_run, objects_of
from core.runs.objects import type_of_path
from core.runs.recorder import Recorder
from core.runs.undo import _kept_groups, _net_effect

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def answer(body: object) -> requests.Response:
    response = requests.Response()
    response.status_code = 201
    response._content = json.dumps(body).encode()
    return response


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("/api/dcim/devices/", "dcim.device"),
        ("/api/dcim/devices/7/", "dcim.device"),
        ("/netbox/api/virtualization/virtual-machines/", "virtualization.virtualmachine"),
        ("/api/virtualization/interfaces/", "virtualization.vminterface"),
        ("/api/dcim/virtual-chassis/", "dcim.virtualchassis"),
        ("/api/ipam/ip-addresses/", "ipam.ipaddress"),
        ("/api/dcim/sites/", ""),
    ],
)
def test_each_written_endpoint_is_recorded_under_netboxs_object_type(path: str, kind: str) -> None:
    assert type_of_path(path) == kind


def test_a_bulk_create_and_a_bulk_delete_are_recorded_object_by_object_with_the_request_id() -> None:
    stored: list[list[dict]] = []
    recorder = Recorder(stored.append)
    created = [{"id": 5, "name": "sw1"}, {"id": 6, "name": "sw2"}]
    recorder.confirmed("POST", "/api/dcim/devices/", "req-1", created, answer(created))
    recorder.confirmed("DELETE", "/api/dcim/devices/", "req-2", [{"id": 6}], answer(None))
    recorder.confirmed(
        "DELETE", "/api/ipam/ip-addresses/9/", "req-4", {"changelog_message": "m"}, answer(None)
    )
    recorder.confirmed("POST", "/api/dcim/sites/", "req-3", {}, answer({"id": 1, "name": "x"}))

    assert [(o.id, o.name, o.action, o.request_id) for o in recorder.objects] == [
        (5, "sw1", "create", "req-1"),
        (6, "sw2", "create", "req-1"),
        (6, "", "delete", "req-2"),
        (9, "", "delete", "req-4"),  # a single DELETE: the id is in its URL, the body has only the message
    ]
    assert [len(batch) for batch in stored] == [2, 1, 1]  # one store call per confirmed write
    assert stored[0][0]["type"] == "dcim.device"


def test_a_store_that_fails_never_stops_the_run_and_the_record_says_it_is_incomplete() -> None:
    def broken(_objects: list[dict]) -> None:
        raise ConnectionError("Redis is gone")

    recorder = Recorder(broken)
    recorder.confirmed(
        "POST", "/api/ipam/ip-addresses/", "r", {}, answer({"id": 9, "address": "10.0.0.1/32"})
    )

    assert recorder.lost and [o.name for o in recorder.objects] == ["10.0.0.1/32"]


def change(n: int, action: str, kind: str, object_id: int, message: str, **after: object) -> Change:
    return Change(
        n,
        T0 + timedelta(seconds=n),
        action,
        kind,
        object_id,
        f"{kind}:{object_id}",
        "",
        "ann",
        message,
        {},
        dict(after),
    )


RUN = "LibreNMS import, run abc123"


def run_changes() -> list[Change]:
    return [
        change(1, "create", "dcim.device", 1, RUN),
        change(2, "create", "dcim.interface", 10, RUN, device=1),
        change(3, "create", "ipam.ipaddress", 100, RUN, assigned_object_id=10),
        change(4, "create", "dcim.virtualchassis", 50, RUN),
        change(5, "create", "dcim.device", 2, RUN, virtual_chassis=50),
        change(6, "create", "dcim.device", 3, RUN, virtual_chassis=50),
        change(7, "create", "dcim.device", 4, RUN),
        change(8, "create", "dcim.virtualchassis", 60, RUN),  # a stack the run rolled back
        change(9, "delete", "dcim.virtualchassis", 60, RUN),
        change(10, "create", "extras.tag", 1, RUN),
    ]


def test_a_change_made_after_the_run_keeps_its_whole_group_and_nothing_else() -> None:
    objects = _net_effect(run_changes())
    later = [
        change(20, "update", "ipam.ipaddress", 100, "", dns_name="x"),  # someone edits the IP
        change(21, "update", "dcim.device", 3, "fixed by hand"),  # and a stack member
    ]

    kept = _kept_groups(objects, later)

    assert set(kept) == {
        ("dcim.device", 1),
        ("dcim.interface", 10),
        ("ipam.ipaddress", 100),
        ("dcim.virtualchassis", 50),
        ("dcim.device", 2),
        ("dcim.device", 3),
    }
    assert "changed in NetBox after the run, by ann" in kept[("dcim.device", 2)]
    assert ("dcim.device", 4) in objects and ("dcim.device", 4) not in kept
    assert ("dcim.virtualchassis", 60) not in objects  # made and removed by the run itself
    assert ("extras.tag", 1) not in objects  # shared by every run: never undone


def test_the_record_rebuilt_from_the_changelog_has_each_object_once_and_only_this_runs_messages() -> None:
    rebuilt = {(o.type, o.id): o.action for o in objects_of(run_changes())}

    assert rebuilt[("dcim.virtualchassis", 60)] == "delete"
    assert rebuilt[("dcim.device", 1)] == "create" and len(rebuilt) == 9
    assert names_run("LibreNMS import, run x1, resuming run abc123", "abc123")
    assert names_run("LibreNMS undo of run abc123, run u9", "abc123")
    assert not names_run("edited abc123 by hand", "abc123")
