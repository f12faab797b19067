"""A device whose stack detection failed (its LibreNMS inventory could not be read) is not known to be a
single chassis: its row is blocked on "stack" and stays so whatever the analyst chooses in the grid, until
a new search reads the inventory. Devices that are no stack candidates are never affected."""

from __future__ import annotations

import pytest

from core.choices import RowStatus, Severity
from core.librenms import LibreDevice, may_be_stack
from core.mapping import Mappings, load_mappings
from core.review import Review, build_review
from tests.conftest import DEMO_MAPPINGS
from tests.helpers import demo_index, fixture_devices, fixture_stack

WHY = "LibreNMS answered 500 Server Error for /inventory/12/all"


def by_host(name: str) -> LibreDevice:
    return next(d for d in fixture_devices().values() if d.hostname.split(".")[0] == name)


CORE = by_host("core-sw01")  # a 3-member stack in the fixtures, an iosxe switch: a stack candidate
SPINE = by_host("ar-spine01")  # an Arista switch: no stack candidate
WEB = by_host("web01")  # a VM


@pytest.fixture
def mappings() -> Mappings:
    return load_mappings(DEMO_MAPPINGS)


def review_of(mappings: Mappings, errors: dict, stacks: dict | None = None) -> Review:
    return build_review(
        fixture_devices().values(), demo_index(), mappings, stacks=stacks, stack_errors=errors
    )


def stack_issues(review: Review, device: LibreDevice) -> list:
    return [i for i in review.rows[device.key].issues if i.field == "stack"]


def test_a_stack_candidate_whose_inventory_failed_is_blocked_on_stack(mappings: Mappings) -> None:
    assert may_be_stack(CORE) and not may_be_stack(SPINE)
    review = review_of(mappings, {CORE.key: WHY})
    row = review.rows[CORE.key]

    (issue,) = stack_issues(review, CORE)
    assert issue.severity is Severity.BLOCKING
    assert issue.message == f"could not be read from LibreNMS: {WHY}; whether it is a stack is unknown"
    assert (
        issue.fix
        == "search again (Refresh) when LibreNMS answers; a stack imported as one device would be wrong"
    )
    assert row.status is RowStatus.BLOCKED and row.stack is None
    assert row not in review.importable_rows()
    assert review.stack_errors == {CORE.key: WHY}
    dotted = review_of(mappings, {CORE.key: WHY + "."}).rows[CORE.key]  # LibreNMS' errors end with one
    assert dotted.issues == row.issues


def test_no_choice_in_the_grid_makes_it_ready(mappings: Mappings) -> None:
    review = review_of(mappings, {CORE.key: WHY})
    assert review_of(mappings, {}).rows[CORE.key].status is RowStatus.NEEDS_INPUT  # only a role missing

    review.apply_role([CORE.key], "core-switch")
    review.apply_rack([CORE.key], None)
    row = review.rows[CORE.key]

    assert row.overrides.role == "core-switch" and not [i for i in row.blocking if i.field == "role"]
    assert row.status is RowStatus.BLOCKED and stack_issues(review, CORE)
    assert review.importable_rows() == [r for r in review.importable_rows() if r.key != CORE.key]
    assert review_of(mappings, {}).rows[CORE.key].status is RowStatus.NEEDS_INPUT


def test_devices_that_are_no_stack_candidates_are_never_affected(mappings: Mappings) -> None:
    clean = review_of(mappings, {})
    review = review_of(mappings, {SPINE.key: WHY, WEB.key: WHY})

    for device in (SPINE, WEB):
        assert review.rows[device.key] == clean.rows[device.key]
        assert not stack_issues(review, device)


def test_a_stack_that_was_read_is_not_unknown(mappings: Mappings) -> None:
    stack = fixture_stack(CORE.hostname, CORE.serial)
    review = review_of(mappings, {CORE.key: WHY}, {CORE.key: stack})

    assert review.rows[CORE.key].stack == stack and not stack_issues(review, CORE)


def test_the_other_rows_are_as_without_the_failure(mappings: Mappings) -> None:
    clean = review_of(mappings, {})
    review = review_of(mappings, {CORE.key: WHY})

    for key, row in clean.rows.items():
        if key != CORE.key:
            assert review.rows[key] == row, key
