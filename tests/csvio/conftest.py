"""Shared by the core.csvio tests: one search of the simulator's 40 devices against the test NetBox for the
whole package; each test works on a fresh Review built from its devices, index and mappings, so edits never
leak between tests. Nothing is written to NetBox."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

import pytest

from core.choices import RowStatus
from core.csvio import BOM, COLUMNS
from core.librenms import DeviceFilter, LibreDevice
from core.review import Review, Row, build_review
from core.search import SearchResult, run_search
from core.settings import Settings
from tests.conftest import stack_settings

SNMP_COMMUNITY = "nw-r0-c0mmunity"  # the community every fixture device carries in LibreNMS
TRIGGERS = ("=", "+", "-", "@", "\t", "\r")

EVIL = (
    LibreDevice(
        device_id=990001,
        hostname="=cmd|' /C calc'!A0",
        sysname="@SUM(1+1)*cmd|' /C calc'!A0",
        hardware='+HYPERLINK("http://evil.example")',
        location="-2+3",
        os="iosxe",
    ),
    LibreDevice(device_id=990002, hostname="\tTAB", sysname="'=already quoted", hardware="\rCR", os="linux"),
)


@pytest.fixture(scope="package")
def module_settings(stack_env, sim, reference_data, tmp_path_factory) -> Settings:
    return stack_settings(stack_env, sim.url, tmp_path_factory.mktemp("csvio"))


@pytest.fixture(scope="package")
def searched(module_settings: Settings) -> SearchResult:
    return run_search(module_settings, DeviceFilter(detect_stacks=True))


def fresh_review(searched: SearchResult, extra: tuple[LibreDevice, ...] = ()) -> Review:
    base = searched.review
    return build_review(
        [*base.devices.values(), *extra], base.index, base.mappings, base.options, base.stacks
    )


def fresh_review_like(review: Review) -> Review:
    return build_review(review.devices.values(), review.index, review.mappings, review.options, review.stacks)


@pytest.fixture
def review(searched: SearchResult) -> Review:
    return fresh_review(searched)


def parse(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text.removeprefix(BOM), newline="")))


def to_text(lines: list[dict[str, str]], *, delimiter: str = ",", columns=COLUMNS) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), delimiter=delimiter, lineterminator="\r\n")
    writer.writeheader()
    for line in lines:
        writer.writerow({c: line.get(c, "") for c in columns})
    return buffer.getvalue()


def by_id(lines: list[dict[str, str]]) -> dict[int, dict[str, str]]:
    return {int(line["librenms_id"]): line for line in lines}


def pick(review: Review, predicate: Callable[[Row], bool], n: int) -> list[Row]:
    rows = [row for row in review if predicate(row)]
    if len(rows) < n:
        pytest.fail(f"the fixture data has {len(rows)} such rows, the test needs {n}")
    return rows[:n]


def needs_only(row: Row, *fields: str) -> bool:
    return row.status is RowStatus.NEEDS_INPUT and {i.field for i in row.blocking} == set(fields)


def site_slug(row: Row) -> str:
    return row.site.slug if row.site else ""


def snapshot(review: Review) -> dict:
    return {key: (row.overrides, row.selected, row.status, row.issues) for key, row in review.rows.items()}
