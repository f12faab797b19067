"""A search: filter LibreNMS devices, load the NetBox index, detect stacks, build the review. One pipeline,
used by the Import page, the background search job, the importer's fresh check and the command line.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field, replace

from core import netbox
from core.choices import RowStatus
from core.librenms import DeviceFilter, LibreDevice, LibreNMSClient, RowKey, client_for, detect_stacks
from core.mapping import Mappings, load_mappings
from core.review import Choice, Options, Review, build_review, possible_names
from core.settings import Settings

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
    inventories: dict[str, int] = field(default_factory=dict)  # stack detection: read, reused, skipped


def options_from(settings: Settings) -> Options:
    return Options(name_source=settings.name_source, strip_domain=settings.strip_domain)


def candidates_for(
    devices: Iterable[LibreDevice], options: Options, default_server_key: str
) -> netbox.Candidates:
    """What these devices could match in NetBox, for targeted lookups: ids, serials, every name they may
    get (from sysName or hostname), management IPs."""
    devices = list(devices)
    names = {name.casefold() for device in devices for name in possible_names(device, options)}
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
    device_ids: Collection[int] | None = None,
    choices: Mapping[RowKey, Choice] | None = None,
    refresh: bool = False,
) -> SearchResult:
    """Fetch, index, detect, validate. `device_ids` keeps only those devices (the importer and the CLI
    review just the rows they import); `choices` are the analyst's, replayed on the new rows; `refresh`
    reads every candidate's inventory again (else one read per LibreNMS discovery is reused).
    Raises LibreNMSError / NetBoxError with a message for the user."""
    report = progress or (lambda _what, _done: None)
    server = settings.server(server_key) if server_key else settings.librenms
    client = librenms or client_for(settings, server)
    api = nb_api or netbox.connect(settings)
    before = netbox.request_count(api)
    timings: dict[str, float] = {}
    warnings: list[str] = []
    options = options_from(settings)

    report("Fetching devices from LibreNMS", 0.05)
    t0 = time.perf_counter()
    listing = client.read_devices(flt)
    devices = listing.devices
    if device_ids is not None:
        wanted = set(device_ids)
        devices = [d for d in devices if d.device_id in wanted]
    if listing.skipped:
        warnings.append(
            f"{listing.skipped} LibreNMS device object(s) without a usable device_id were left out"
        )
    timings["librenms"] = time.perf_counter() - t0

    report(f"Loading NetBox reference data for {len(devices)} devices", 0.35)
    t0 = time.perf_counter()
    default_key = settings.default_server_key
    index = netbox.load_index(
        api, default_server_key=default_key, candidates=candidates_for(devices, options, default_key)
    )
    timings["netbox"] = time.perf_counter() - t0

    stacks, stack_errors, inventories = {}, {}, {}
    if flt.detect_stacks:
        report("Reading inventories to detect stacks", 0.6)
        t0 = time.perf_counter()
        detection = detect_stacks(client, devices, refresh=refresh)
        inventories = detection.counts()
        stacks = {(server.key, device_id): stack for device_id, stack in detection.stacks.items()}
        # not known to be single chassis: their rows are blocked until a search reads them
        stack_errors = {(server.key, device_id): error for device_id, error in detection.errors.items()}
        timings["stacks"] = time.perf_counter() - t0
        warnings += [
            f"Inventory of LibreNMS device {device_id} could not be read: {error}"
            for device_id, error in detection.errors.items()
        ]

    report("Validating", 0.85)
    t0 = time.perf_counter()
    review = build_review(
        devices,
        index,
        mappings or load_mappings(settings.mapping_file),
        options,
        stacks,
        choices,
        stack_errors=stack_errors,
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
        inventories=inventories,
    )


def revalidate(settings: Settings, result: SearchResult, *, nb_api=None) -> SearchResult:
    """The same devices, stacks (and failed stack detections) and choices, validated against NetBox as it is
    now (e.g. after an import): one index load, no LibreNMS request."""
    api = nb_api or netbox.connect(settings)
    old = result.review
    default_key = settings.default_server_key
    index = netbox.load_index(
        api,
        default_server_key=default_key,
        candidates=candidates_for(old.devices.values(), old.options, default_key),
    )
    review = build_review(
        old.devices.values(),
        index,
        old.mappings,
        old.options,
        old.stacks,
        old.choices(),
        old.shared_sysnames,
        old.stack_errors,
    )
    return replace(result, review=review)
