"""A search: filter LibreNMS devices, load the NetBox index, detect stacks, validate. One function, used by
the Import page, the background search job and `python -m core validate`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field, replace

from core import netbox
from core.librenms import DeviceFilter, LibreNMSClient
from core.mapping import Mappings, load_mappings
from core.models import LibreDevice, RowStatus
from core.settings import Settings
from core.stacks import detect_stacks
from core.validation import Options, Review, device_name

Progress = Callable[[str, float], None]  # (what is happening, fraction done 0..1)


@dataclass
class SearchResult:
    review: Review
    filter: DeviceFilter
    server_key: str
    found: int  # devices LibreNMS returned after filtering, before exclude-existing
    excluded_existing: int
    timings: dict[str, float] = field(default_factory=dict)
    netbox_requests: int = 0
    warnings: list[str] = field(default_factory=list)


def options_from(settings: Settings) -> Options:
    return Options(name_source=settings.name_source, strip_domain=settings.strip_domain)


def candidates_for(
    devices: Iterable[LibreDevice], options: Options, default_server_key: str
) -> netbox.Candidates:
    """What these devices could match in NetBox, for targeted lookups: ids, serials, every name they may
    get (from sysName or hostname), management IPs."""
    devices = list(devices)
    names = set()
    for device in devices:
        for source in ("sysName", "hostname"):
            names.add(device_name(device, replace(options, name_source=source))[0].casefold())
    return netbox.Candidates(
        librenms_ids=frozenset(d.device_id for d in devices if d.server_key == default_server_key),
        serials=frozenset(d.serial.casefold() for d in devices if d.serial),
        names=frozenset(n for n in names if n),
        ips=frozenset(d.ip for d in devices if d.ip),
    )


def run_search(
    settings: Settings,
    flt: DeviceFilter,
    *,
    server_key: str | None = None,
    librenms: LibreNMSClient | None = None,
    nb_api=None,
    mappings: Mappings | None = None,
    progress: Progress | None = None,
) -> SearchResult:
    """Fetch, index, detect, validate. Raises LibreNMSError / NetBoxError with a message for the user."""
    report = progress or (lambda _what, _done: None)
    server = settings.server(server_key) if server_key else settings.librenms
    client = librenms or LibreNMSClient(server, timeout=settings.librenms_timeout)
    api = nb_api or netbox.connect(settings)
    before = netbox.request_count(api)
    timings: dict[str, float] = {}

    report("Fetching devices from LibreNMS", 0.05)
    t0 = time.perf_counter()
    devices = client.list_devices(flt)
    timings["librenms"] = time.perf_counter() - t0

    report(f"Loading NetBox reference data for {len(devices)} devices", 0.35)
    t0 = time.perf_counter()
    default_key = settings.librenms_servers[0].key
    index = netbox.load_index(
        api,
        default_server_key=default_key,
        candidates=candidates_for(devices, options_from(settings), default_key),
    )
    timings["netbox"] = time.perf_counter() - t0

    stacks = {}
    warnings = []
    if flt.detect_stacks:
        report("Reading inventories to detect stacks", 0.6)
        t0 = time.perf_counter()
        stacks = {
            (server.key, device_id): stack for device_id, stack in detect_stacks(client, devices).items()
        }
        timings["stacks"] = time.perf_counter() - t0
        warnings += [
            f"Inventory of LibreNMS device {device_id} could not be read: {error}"
            for device_id, error in client.inventory_errors.items()
        ]

    report("Validating", 0.85)
    t0 = time.perf_counter()
    review = Review(
        devices, index, mappings or load_mappings(settings.mapping_file), options_from(settings), stacks
    )
    excluded = 0
    if flt.exclude_existing:
        excluded = review.drop(lambda row: row.status is RowStatus.EXISTS)
    timings["validation"] = time.perf_counter() - t0
    report("Done", 1.0)
    return SearchResult(
        review=review,
        filter=flt,
        server_key=server.key,
        found=len(devices),
        excluded_existing=excluded,
        timings=timings,
        netbox_requests=netbox.request_count(api) - before,
        warnings=warnings,
    )


def revalidate(settings: Settings, result: SearchResult, *, nb_api=None) -> SearchResult:
    """The same devices, stacks and choices, validated against NetBox as it is now (e.g. after an import):
    one index load, no LibreNMS request."""
    api = nb_api or netbox.connect(settings)
    old = result.review
    default_key = settings.librenms_servers[0].key
    index = netbox.load_index(
        api,
        default_server_key=default_key,
        candidates=candidates_for(old.devices.values(), old.options, default_key),
    )
    review = Review(old.devices.values(), index, old.mappings, old.options, old.stacks)
    for key, row in old.base.items():
        chosen = {name: value for name, value in asdict(row.overrides).items() if value is not None}
        if chosen:
            review.apply_override([key], **chosen)
        if not row.selected:
            review.select([key], False)
    return replace(result, review=review)
