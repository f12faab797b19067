"""The one way a review is built: (devices, NetBox index, stacks, mappings, options, the analyst's choices,
the failed stack detections) → a Review. The search, the re-validation after an import, the importer's fresh check, the command line and
a stored search coming back all call `build_review`."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping

from core.librenms import LibreDevice, RowKey, Stack
from core.mapping import Mappings
from core.netbox import NetBoxIndex
from core.review.names import Options
from core.review.review import Review
from core.review.row import Choice


def build_review(
    devices: Iterable[LibreDevice],
    index: NetBoxIndex,
    mappings: Mappings,
    options: Options = Options(),
    stacks: Mapping[RowKey, Stack] | None = None,
    choices: Mapping[RowKey, Choice] | None = None,
    shared_sysnames: frozenset[str] | None = None,
    stack_errors: Mapping[RowKey, str] | None = None,
) -> Review:
    """Validate every device with its choices (none: validation decides), then the cross-row conflicts.
    Choices of devices that are not among `devices` are ignored. `shared_sysnames` (case-folded sysNames
    that several LibreNMS devices carry, which never name a device) defaults to those among `devices`; a
    review rebuilt from an earlier one passes that one's, so rows dropped since do not rename others.
    `stack_errors`: the devices whose stack detection failed (their inventory could not be read) and why;
    such a row, if it may be a stack, is blocked until a search reads its inventory."""
    devices = list(devices)
    if shared_sysnames is None:
        shared_sysnames = sysnames_shared_by(devices)
    return Review(
        devices, index, mappings, options, stacks or {}, choices or {}, shared_sysnames, stack_errors or {}
    )


def sysnames_shared_by(devices: Iterable[LibreDevice]) -> frozenset[str]:
    """The case-folded sysNames more than one of these devices carries."""
    counts = Counter(d.sysname.casefold() for d in devices if d.sysname)
    return frozenset(s for s, n in counts.items() if n > 1)
