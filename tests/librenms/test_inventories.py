"""Inventories are read from LibreNMS once per discovery, and kept where every process finds them (Redis),
or in the process when Redis cannot be reached."""

from __future__ import annotations

from collections.abc import Iterator

import pynetbox
import pytest
import redis

from core import keys
from core.choices import Outcome
from core.importer import ImportItem, run_import
from core.librenms import DeviceFilter, LibreNMSClient, client_for
from core.librenms.inventories import MemoryInventories, RedisInventories, inventory_store, server_id
from core.search import run_search
from core.settings import LibreNMSServer, Secret
from devtools.librenms_sim import LibreNMSSimulator
from tests.conftest import SIM_TOKEN
from tests.helpers import Lab, closed_port, delete_lab_objects, forget_inventories, running_lab, settings_from

STACKS = DeviceFilter(detect_stacks=True)


def inventory_requests(sim: LibreNMSSimulator) -> int:
    return sum(n for path, n in sim.stats()["by_path"].items() if "/inventory/" in path)


@pytest.fixture
def own_sim() -> Iterator[LibreNMSSimulator]:
    with LibreNMSSimulator(port=0, tokens=[SIM_TOKEN]) as sim:
        yield sim


def server_of(sim: LibreNMSSimulator) -> LibreNMSServer:
    return LibreNMSServer(key="default", url=sim.url, token=Secret(SIM_TOKEN))


@pytest.fixture
def conn(redis_url: str, own_sim: LibreNMSSimulator) -> Iterator[redis.Redis]:
    """The stack's Redis; the inventories kept here for this test's own simulator are removed after."""
    connection = redis.Redis.from_url(redis_url)
    yield connection
    connection.close()
    forget_inventories(redis_url, own_sim.url)


def test_another_process_reuses_through_redis_what_one_read_and_reads_nothing(
    own_sim: LibreNMSSimulator, conn: redis.Redis
) -> None:
    server = server_of(own_sim)
    first = LibreNMSClient(server, inventories=RedisInventories(conn)).inventories(
        LibreNMSClient(server).list_devices()
    )
    assert first.read > 0
    own_sim.reset_stats()
    other = LibreNMSClient(server, inventories=RedisInventories(conn))  # nothing in its own memory
    again = other.inventories(other.list_devices())
    assert inventory_requests(own_sim) == 0
    assert again.reused == first.read and again.rows == first.rows


def test_the_kept_entries_are_json_and_expire(own_sim: LibreNMSSimulator, conn: redis.Redis) -> None:
    client = LibreNMSClient(server_of(own_sim), inventories=RedisInventories(conn))
    (device,) = [d for d in client.list_devices() if d.device_id == 12]
    client.inventories([device])
    key = keys.inventory(server_id(client.server), 12, device.last_discovered)
    assert conn.get(key).startswith(b"[{") and 0 < conn.ttl(key) <= 30 * 24 * 3600


def test_without_redis_a_process_still_reads_each_inventory_once(own_sim: LibreNMSSimulator) -> None:
    store = inventory_store(f"redis://127.0.0.1:{closed_port()}/0")  # Redis cannot be reached
    server = server_of(own_sim)
    first = LibreNMSClient(server, inventories=store).inventories(LibreNMSClient(server).list_devices())
    own_sim.reset_stats()
    second = LibreNMSClient(server, inventories=store)
    assert second.inventories(second.list_devices()).reused == first.read
    assert inventory_requests(own_sim) == 0


@pytest.fixture
def lab(reference_data, nb: pynetbox.api, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    with running_lab(tmp_path_factory.mktemp("inventories"), nb=nb) as lab:
        yield lab


def test_importing_rows_of_a_search_reads_no_inventory_again(
    lab: Lab, stack_env: dict[str, str], nb: pynetbox.api
) -> None:
    settings = settings_from({**stack_env, **lab.env()}, lab.tmp)
    result = run_search(settings, STACKS, librenms=client_for(settings))
    assert result.inventories["read"] > 0 and result.inventories["skipped"] > 0
    row = result.review.rows[("default", lab.device_id("fw-hq01"))]
    lab.sim.reset_stats()
    try:
        report = run_import(settings, [ImportItem.from_row(row)])  # its own client, the same store
        assert [r.outcome for r in report.results] == [Outcome.CREATED], report.results
        assert inventory_requests(lab.sim) == 0
        assert run_search(settings, STACKS).inventories["read"] == 0  # the next search reads none either
    finally:
        delete_lab_objects(nb, lab)
        forget_inventories(stack_env["REDIS_URL"], lab.sim.url)


def test_a_search_says_how_many_inventories_it_read_reused_and_skipped(
    own_sim: LibreNMSSimulator, stack_env: dict[str, str], tmp_path
) -> None:
    settings = settings_from(
        {**stack_env, "LIBRENMS_URL": own_sim.url, "LIBRENMS_TOKEN": SIM_TOKEN}, tmp_path
    )
    client = LibreNMSClient(settings.librenms, inventories=MemoryInventories())
    cold = run_search(settings, STACKS, librenms=client).inventories
    warm = run_search(settings, STACKS, librenms=client).inventories
    fresh = run_search(settings, STACKS, librenms=client, refresh=True).inventories
    assert cold["read"] > 0 and cold["reused"] == 0
    assert warm == {"read": 0, "reused": cold["read"], "skipped": cold["skipped"]}
    assert fresh == cold
