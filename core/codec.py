"""The data form of a search: a SearchResult as plain JSON data and back, so nothing the product stores
needs pickle (loading a pickle runs whatever code it names).

What is written is what the review is built from, not the review itself: the devices, the NetBox index
(every catalog and existing object), the mappings, the options, the stacks, the failed stack detections
and the analyst's choices, plus
the search's own fields (filter, server key, counts, timings, warnings). Loading rebuilds the review with
`core.review.build_review`, the one way a review is made, so a loaded search has the rows, statuses and
choices of the saved one.

`loads_search` raises ValueError for anything that is not a search in this format (corrupt, foreign, or
written by a release with another FORMAT).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, fields
from typing import Any

from core.choices import FieldType, Kind, NameSource, StackShape
from core.errors import ImporterError
from core.librenms import DeviceFilter, LibreDevice, RowKey, Stack, StackMember
from core.mapping import mappings_from_dict
from core.netbox import Catalog, Existing, NetBoxIndex, Obj
from core.review import Choice, Options, Overrides, Review, build_review
from core.search import SearchResult

FORMAT = 1  # change it when a change below cannot read what the previous release wrote

# The catalogs of the index (sites, racks, device types, …): every Catalog field, so a new one is kept too.
CATALOGS = tuple(f.name for f in fields(NetBoxIndex) if f.default_factory is Catalog)


def _known(cls: type, data: Mapping[str, Any]) -> dict[str, Any]:
    """The entries of `data` that are fields of the dataclass `cls`."""
    names = {f.name for f in fields(cls)}
    return {k: v for k, v in data.items() if k in names}


# ------------------------------------------------------------------ the parts


def filter_to_data(flt: DeviceFilter) -> dict[str, Any]:
    return asdict(flt)


def filter_from_data(data: Mapping[str, Any]) -> DeviceFilter:
    """A DeviceFilter from its data; unknown names are ignored (e.g. a filter dropped in a newer release)."""
    return DeviceFilter(**_known(DeviceFilter, data))


def _device(data: Mapping[str, Any]) -> LibreDevice:
    return LibreDevice(**_known(LibreDevice, data))


def _stack_to_data(stack: Stack) -> dict[str, Any]:
    return {"shape": stack.shape.value, "members": [asdict(m) for m in stack.members]}


def _stack(data: Mapping[str, Any]) -> Stack:
    members = tuple(StackMember(**_known(StackMember, m)) for m in data["members"])
    return Stack(members=members, shape=StackShape(data["shape"]))


def _key(data: Any) -> RowKey:
    server_key, device_id = data
    return (str(server_key), int(device_id))


def _existing_to_data(item: Existing) -> dict[str, Any]:
    return {**asdict(item), "kind": item.kind.value, "primary_ips": list(item.primary_ips)}


def _existing(data: Mapping[str, Any]) -> Existing:
    values = _known(Existing, data)
    values["kind"] = Kind(values["kind"])
    values["librenms_ids"] = {str(k): int(v) for k, v in values["librenms_ids"].items()}
    values["primary_ips"] = tuple(values["primary_ips"])
    return Existing(**values)


def index_to_data(index: NetBoxIndex) -> dict[str, Any]:
    """Every catalog and existing object; the lookup tables (by_name, by_ip, …) are rebuilt on load."""
    return {
        "base_url": index.base_url,
        "default_server_key": index.default_server_key,
        "field_type": index.field_type.value,
        "targeted": index.targeted,
        "catalogs": {name: [asdict(obj) for obj in getattr(index, name)] for name in CATALOGS},
        "existing": [_existing_to_data(item) for item in index.existing],
    }


def index_from_data(data: Mapping[str, Any]) -> NetBoxIndex:
    catalogs = data["catalogs"]
    index = NetBoxIndex(
        base_url=str(data["base_url"]),
        default_server_key=str(data["default_server_key"]),
        field_type=FieldType(data["field_type"]),
        targeted=bool(data["targeted"]),
        **{name: Catalog(Obj(**_known(Obj, o)) for o in catalogs.get(name, [])) for name in CATALOGS},
    )
    for item in data["existing"]:
        index.add_existing(_existing(item))
    return index


def review_to_data(review: Review) -> dict[str, Any]:
    """What `build_review` needs to make this review again."""
    return {
        "devices": [asdict(device) for device in review.devices.values()],
        "index": index_to_data(review.index),
        "mappings": review.mappings.as_dict(),
        "options": {**asdict(review.options), "name_source": review.options.name_source.value},
        "stacks": [[*key, _stack_to_data(stack)] for key, stack in review.stacks.items()],
        "choices": [
            [*key, choice.overrides.as_dict(), choice.selected] for key, choice in review.choices().items()
        ],
        "shared_sysnames": sorted(review.shared_sysnames),
        "stack_errors": [[*key, why] for key, why in review.stack_errors.items()],
    }


def review_from_data(data: Mapping[str, Any]) -> Review:
    options = _known(Options, data["options"])
    options["name_source"] = NameSource(options["name_source"])
    return build_review(
        [_device(d) for d in data["devices"]],
        index_from_data(data["index"]),
        mappings_from_dict(data["mappings"], "the stored search's mappings"),
        Options(**options),
        {_key(entry[:2]): _stack(entry[2]) for entry in data["stacks"]},
        {
            _key(entry[:2]): Choice(Overrides.from_dict(entry[2]), selected=bool(entry[3]))
            for entry in data["choices"]
        },
        frozenset(str(name) for name in data["shared_sysnames"]),
        # absent from what an earlier release of this format wrote: no failed detection recorded
        {_key(entry[:2]): str(entry[2]) for entry in data.get("stack_errors", [])},
    )


# ------------------------------------------------------------------ a search


def search_to_data(result: SearchResult) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "filter": filter_to_data(result.filter),
        "server_key": result.server_key,
        "found": result.found,
        "excluded_existing": result.excluded_existing,
        "timings": dict(result.timings),
        "netbox_requests": result.netbox_requests,
        "warnings": list(result.warnings),
        "inventories": dict(result.inventories),
        "review": review_to_data(result.review),
    }


def search_from_data(data: Mapping[str, Any]) -> SearchResult:
    """The inverse of `search_to_data`; ValueError for anything else."""
    if not isinstance(data, Mapping) or data.get("format") != FORMAT:
        raise ValueError("not a stored search in this release's format")
    try:
        return SearchResult(
            review=review_from_data(data["review"]),
            filter=filter_from_data(data["filter"]),
            server_key=str(data["server_key"]),
            found=int(data["found"]),
            excluded_existing=int(data["excluded_existing"]),
            timings={str(k): float(v) for k, v in data["timings"].items()},
            netbox_requests=int(data["netbox_requests"]),
            warnings=[str(w) for w in data["warnings"]],
            inventories={str(k): int(v) for k, v in data.get("inventories", {}).items()},
        )
    except (KeyError, IndexError, TypeError, AttributeError, ValueError, ImporterError) as exc:
        raise ValueError(f"a stored search that cannot be read ({exc.__class__.__name__}: {exc})") from None


def dumps_search(result: SearchResult) -> str:
    """The search as JSON text (compact: a search of thousands of devices is a few megabytes)."""
    return json.dumps(search_to_data(result), separators=(",", ":"), ensure_ascii=False)


def loads_search(text: str | bytes) -> SearchResult:
    """The inverse of `dumps_search`; ValueError for anything that is not a stored search."""
    try:
        data = json.loads(text)
    except (ValueError, TypeError) as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise ValueError(f"a stored search that is not JSON ({exc.__class__.__name__})") from None
    return search_from_data(data)
