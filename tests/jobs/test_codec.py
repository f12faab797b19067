"""core.codec: a search result as JSON data and back. The review is rebuilt from its inputs with
build_review, so a loaded search has the saved one's rows, statuses, issues and choices — checked on a real
search (LibreNMS simulator, the test NetBox) and on in-memory data. And no pickle anywhere in core/."""

from __future__ import annotations

import ast
import dataclasses
import json
from pathlib import Path

import pytest

from core import codec
from core.choices import FieldType, Kind, NameSource, RowStatus
from core.librenms import DeviceFilter, LibreDevice, detect_stack
from core.mapping import Mappings, load_mappings, mappings_from_dict
from core.review import Options, build_review
from core.search import SearchResult, run_search
from core.settings import Settings
from tests.conftest import DEMO_MAPPINGS, FIXTURES, ROOT
from tests.helpers import demo_index, existing, fixture_devices


def round_trip(result: SearchResult) -> SearchResult:
    text = codec.dumps_search(result)
    assert isinstance(text, str) and json.loads(text)["format"] == codec.FORMAT
    return codec.loads_search(text.encode())


def assert_same_search(loaded: SearchResult, saved: SearchResult) -> None:
    """Every row's status, issues and choices, and every input of the review, as saved."""
    old, new = saved.review, loaded.review
    assert list(new.rows) == list(old.rows)  # the same rows, in the same order
    for key, row in old.rows.items():
        again = new.rows[key]
        assert again.status is row.status, key
        assert again.issues == row.issues, key
        assert again.choice == row.choice, key
        assert again == row, key  # and everything else the row says
    assert new.choices() == old.choices()
    assert new.counts() == old.counts()
    assert new.devices == old.devices and new.stacks == old.stacks
    assert new.mappings == old.mappings and new.options == old.options
    for name in codec.CATALOGS:
        assert list(getattr(new.index, name)) == list(getattr(old.index, name)), name
    assert new.index.existing == old.index.existing
    assert (new.index.by_librenms, new.index.by_serial) == (old.index.by_librenms, old.index.by_serial)
    assert (new.index.by_name, new.index.by_ip) == (old.index.by_name, old.index.by_ip)
    assert (new.index.base_url, new.index.default_server_key) == (
        old.index.base_url,
        old.index.default_server_key,
    )
    assert (new.index.field_type, new.index.targeted) == (old.index.field_type, old.index.targeted)
    for name in (
        "filter",
        "server_key",
        "found",
        "excluded_existing",
        "timings",
        "netbox_requests",
        "warnings",
    ):
        assert getattr(loaded, name) == getattr(saved, name), name


def edit(result: SearchResult) -> None:
    """Choices as an analyst makes them: a name, a kind, a role, a row left out."""
    review = result.review
    keys = list(review.rows)
    review.apply_override([keys[0]], name="renamed-by-analyst")
    review.apply_kind([keys[1]], Kind.VM)
    review.apply_role([keys[2]], "access-switch")
    review.apply_cluster([keys[2]], "kvm-hq")
    review.select([keys[3]], False)
    assert len(review.choices()) >= 4


# ------------------------------------------------------------------ a real search


@pytest.mark.netbox
def test_a_real_search_round_trips_with_every_row_status_issue_and_choice(
    reference_data, job_settings: Settings
) -> None:
    result = run_search(job_settings, DeviceFilter(detect_stacks=True))
    edit(result)
    assert any(row.stack for row in result.review) and len(result.review) > 30
    assert len({row.status for row in result.review}) >= 3
    assert sum(len(catalog) for catalog in (result.review.index.sites, result.review.index.roles)) > 0

    assert_same_search(round_trip(result), result)


@pytest.mark.netbox
def test_a_real_search_that_excluded_existing_devices_round_trips(
    reference_data, job_settings: Settings
) -> None:
    result = run_search(job_settings, DeviceFilter(exclude_existing=True, show_disabled=True))

    assert not any(row.status is RowStatus.EXISTS for row in result.review)
    assert_same_search(round_trip(result), result)


# ------------------------------------------------------------------ in memory


def memory_search() -> SearchResult:
    devices = fixture_devices()
    by_host = {d.hostname: d for d in devices.values()}
    first = next(iter(devices.values()))
    index = demo_index(
        existing=[
            existing(
                id=901, name="already-there", serial=first.serial, librenms_ids={"default": first.device_id}
            ),
            existing(Kind.VM, id=902, name="a-vm", primary_ips=("10.9.9.9", "2001:db8::9")),
        ],
        field_type=FieldType.JSON,
    )
    stacks = {}
    for path in sorted((FIXTURES / "inventory").glob("*.json")):
        device = by_host.get(path.stem)
        rows = json.loads(path.read_text(encoding="utf-8"))
        stack = (
            detect_stack(rows["inventory"] if isinstance(rows, dict) else rows, device.serial)
            if device
            else None
        )
        if stack is not None:
            stacks[device.key] = stack
    assert stacks
    review = build_review(
        devices.values(),
        index,
        load_mappings(DEMO_MAPPINGS),
        Options(name_source=NameSource.HOSTNAME, strip_domain=False),
        stacks,
    )
    result = SearchResult(
        review=review,
        filter=DeviceFilter(location="HQ", detect_stacks=True),
        server_key="default",
        found=len(devices),
        excluded_existing=0,
        timings={"librenms": 0.25, "netbox": 1.5},
        netbox_requests=12,
        warnings=["Inventory of LibreNMS device 7 could not be read: timeout"],
    )
    edit(result)
    return result


def test_an_in_memory_search_round_trips() -> None:
    result = memory_search()
    assert result.review.index.existing and result.review.stacks

    assert_same_search(round_trip(result), result)


def test_the_filter_and_the_mappings_have_data_forms() -> None:
    flt = DeviceFilter(os="iosxe", show_disabled=True)
    assert codec.filter_from_data(json.loads(json.dumps(codec.filter_to_data(flt)))) == flt
    assert codec.filter_from_data({**dataclasses.asdict(flt), "gone_in_this_release": 1}) == flt
    mappings = load_mappings(DEMO_MAPPINGS)
    assert mappings_from_dict(json.loads(json.dumps(mappings.as_dict()))) == mappings


@pytest.mark.parametrize(
    "text",
    [
        b"\x80\x05\x95",  # a pickle
        "[1, 2]",
        '{"format": 999}',
        '{"format": 1}',
        '{"format": 1, "review": {"devices": [{"hostname": "no id"}]}}',
    ],
)
def test_what_is_not_a_stored_search_is_a_value_error(text: str | bytes) -> None:
    with pytest.raises(ValueError):
        codec.loads_search(text)


def test_mappings_that_break_the_file_rules_are_refused_in_a_stored_search_too() -> None:
    data = codec.search_to_data(memory_search())
    data["review"]["mappings"]["roles"] = [{"role": "x", "colour": "red"}]

    with pytest.raises(ValueError, match="unknown key"):
        codec.search_from_data(data)


# ------------------------------------------------------------------ no pickle in the product


def test_no_module_of_core_uses_pickle() -> None:
    for path in sorted((ROOT / "core").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or "", *(alias.name for alias in node.names)]
            elif isinstance(node, ast.Name | ast.Attribute):
                names = [node.id if isinstance(node, ast.Name) else node.attr]
            bad = {
                n
                for n in names
                if n.split(".")[0] in {"pickle", "cPickle", "dill", "PickleSerializer", "DefaultSerializer"}
            }
            assert not bad, f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', '?')} uses {bad}"


RQ_CALLS = {
    "Queue",
    "Worker",
    "SimpleWorker",
    "fetch",
    "fetch_many",
    "all",
    "find_by_key",
    "send_stop_job_command",
    "cancel_job",
    "requeue_job",
    "create",
}


def test_every_rq_object_core_makes_passes_the_json_serializer() -> None:
    """Queue(...), Worker(...), Job.fetch(...), Worker.all/find_by_key(...), send_stop_job_command(...):
    RQ falls back to pickle wherever the serializer is left out."""
    found = []
    for path in sorted((ROOT / "core").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        rq_names = {
            alias.asname or alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "rq"
            for alias in node.names
        }
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            if isinstance(func, ast.Name) and func.id in rq_names and func.id in RQ_CALLS:
                called = func.id
            elif (
                isinstance(func, ast.Attribute)
                and isinstance(func.value, ast.Name)
                and func.value.id in rq_names
                and func.attr in RQ_CALLS
            ):
                called = f"{func.value.id}.{func.attr}"
            else:
                continue
            found.append(f"{path.relative_to(ROOT)}:{node.lineno} {called}")
            assert any(k.arg == "serializer" for k in node.keywords), f"{found[-1]} without serializer="
    assert len(found) >= 5, found  # Queue, Worker, Job.fetch, Worker.all, Worker.find_by_key, stop-job


def test_the_codec_lives_outside_core_jobs_and_needs_neither_redis_nor_rq() -> None:
    tree = ast.parse((ROOT / "core" / "codec.py").read_text(encoding="utf-8"))
    modules = {
        (node.module or "") if isinstance(node, ast.ImportFrom) else alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    assert not {m for m in modules if m.split(".")[0] in {"redis", "rq"} or m.startswith("core.jobs")}
    assert Path(codec.__file__).parent.name == "core"


def test_a_row_whose_sysname_was_shared_with_a_dropped_existing_device_keeps_its_name() -> None:
    shared = [
        LibreDevice(1, "a.example.net", sysname="SW-SHARED", serial="S1"),
        LibreDevice(2, "b.example.net", sysname="SW-SHARED", serial="S2"),
    ]
    index = demo_index(existing=[existing(id=5, name="a", serial="S1", librenms_ids={"default": 1})])
    review = build_review(shared, index, Mappings())
    assert review.drop(lambda row: row.status is RowStatus.EXISTS) == 1
    result = SearchResult(review, DeviceFilter(exclude_existing=True), "default", 2, 1)

    assert_same_search(round_trip(result), result)


def test_a_failed_stack_detection_round_trips_and_keeps_the_row_blocked() -> None:
    result = memory_search()
    review = result.review
    candidate = next(d for d in review.devices.values() if d.hostname.startswith("br-lyon-sw01."))
    assert candidate.key not in review.stacks and candidate.key not in review.choices()
    why = "LibreNMS answered 500 Server Error for /inventory/44/all"
    failed = build_review(
        review.devices.values(),
        review.index,
        review.mappings,
        review.options,
        review.stacks,
        review.choices(),
        review.shared_sysnames,
        {candidate.key: why},
    )
    assert failed.rows[candidate.key].status is RowStatus.BLOCKED
    saved = dataclasses.replace(result, review=failed)

    loaded = round_trip(saved)

    assert_same_search(loaded, saved)
    assert loaded.review.stack_errors == {candidate.key: why}
    assert "stack" in [i.field for i in loaded.review.rows[candidate.key].blocking]


def test_a_stored_search_without_failed_stack_detections_loads_with_none() -> None:
    data = codec.search_to_data(memory_search())
    del data["review"]["stack_errors"]  # as the release before this key wrote it

    assert codec.search_from_data(data).review.stack_errors == {}
