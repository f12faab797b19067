"""core.csvio.apply: an edited CSV applied to a real review (edits, rejected lines, rows matched), and
`import_csv`, the one rule of which rows a CSV imports (the Import page and `python -m core import`)."""

from __future__ import annotations

from core.choices import Kind, RowStatus, SyncField
from core.csvio import apply_csv, csv_bytes, import_csv, rows_to_csv
from core.netbox import Existing
from core.review import Review, Row, build_review
from tests.csvio.conftest import by_id, needs_only, parse, pick, site_slug, snapshot, to_text

# ------------------------------------------------------------------ round trip and edits


def test_round_trip_without_edits_changes_nothing(review: Review) -> None:
    before = snapshot(review)
    report = apply_csv(review, csv_bytes(review))
    assert report.changed == [] and report.rejected == [] and report.status_changes == {}
    assert report.unchanged == len(review) and report.not_in_csv == 0
    assert report.warnings == []
    assert snapshot(review) == before


def test_round_trip_through_import_csv_imports_what_the_review_imports(review: Review) -> None:
    before = snapshot(review)
    importable = {row.key for row in review.importable_rows()}
    report = import_csv(review, csv_bytes(review), keep_unlisted=False)
    assert report.changed == [] and report.held_back == [] and report.already_in_netbox == []
    assert snapshot(review) == before
    assert {row.key for row in review.importable_rows()} == importable


def test_edits_are_applied_exactly_and_revalidated(review: Review) -> None:
    roles = pick(
        review, lambda r: r.kind is Kind.DEVICE and needs_only(r, "role") and site_slug(r) == "hq", 3
    )
    vm = pick(review, lambda r: r.kind is Kind.VM and needs_only(r, "cluster") and site_slug(r) == "hq", 1)[0]
    ready = pick(review, lambda r: r.status is RowStatus.READY and r.kind is Kind.DEVICE, 1)[0]
    lines = by_id(parse(rows_to_csv(review)))
    for row in roles:
        lines[row.device.device_id]["role"] = "Access switch"
    lines[roles[0].device.device_id]["rack"] = "HQ-A01"
    lines[vm.device.device_id]["cluster"] = "kvm-hq"
    lines[ready.device.device_id]["import"] = "no"
    untouched = {k: r for k, r in review.rows.items() if k not in {r.key for r in [*roles, vm, ready]}}

    report = apply_csv(review, to_text(list(lines.values())))

    assert report.rejected == []
    assert dict(report.changed) == {
        roles[0].key: {"role": ("", "Access switch"), "rack": ("", "HQ-A01")},
        roles[1].key: {"role": ("", "Access switch")},
        roles[2].key: {"role": ("", "Access switch")},
        vm.key: {"cluster": ("", "kvm-hq")},
        ready.key: {"import": ("yes", "no")},
    }
    assert report.unchanged == len(review) - 5
    for row in [*roles, vm]:
        now = review.rows[row.key]
        assert now.status is RowStatus.READY, now.issues_text()
        # their lines still say import=no (as exported): the analyst's word stands after the edits
        assert not now.will_import
        assert report.status_changes[row.key] == (RowStatus.NEEDS_INPUT, RowStatus.READY)
    assert review.rows[roles[0].key].rack.name == "HQ-A01"
    assert review.rows[roles[1].key].role.name == "Access switch"
    assert review.rows[vm.key].cluster.name == "kvm-hq"
    assert review.rows[ready.key].status is RowStatus.READY
    assert not review.rows[ready.key].selected and not review.rows[ready.key].will_import
    assert {k: r for k, r in review.rows.items() if k in untouched} == untouched

    # the new state round-trips too
    assert apply_csv(review, rows_to_csv(review)).changed == []


def test_references_match_by_slug_and_case_and_empty_cells_clear_choices(review: Review) -> None:
    row = pick(review, lambda r: r.kind is Kind.DEVICE and needs_only(r, "role"), 1)[0]
    lines = by_id(parse(rows_to_csv(review)))
    lines[row.device.device_id]["role"] = "access-SWITCH"  # the slug, any case
    report = apply_csv(review, to_text(list(lines.values())))
    assert dict(report.changed) == {row.key: {"role": ("", "Access switch")}}
    assert review.rows[row.key].status is RowStatus.READY

    lines = by_id(parse(rows_to_csv(review)))
    assert lines[row.device.device_id]["role"] == "Access switch"
    lines[row.device.device_id]["role"] = ""  # clears the user's choice: validation decides again
    report = apply_csv(review, to_text(list(lines.values())))
    assert dict(report.changed) == {row.key: {"role": ("Access switch", "")}}
    assert review.rows[row.key].status is RowStatus.NEEDS_INPUT
    assert review.rows[row.key].overrides.role is None

    # emptying a value that validation found (not the user) changes nothing, and says so
    ruled = pick(review, lambda r: r.role is not None and r.overrides.role is None, 1)[0]
    lines = by_id(parse(rows_to_csv(review)))
    lines[ruled.device.device_id]["role"] = ""
    report = apply_csv(review, to_text(list(lines.values())))
    assert report.changed == [] and report.rejected == []
    assert any("role: an empty cell only clears" in w for w in report.warnings)


def test_kind_site_device_type_platform_and_name_overrides(review: Review) -> None:
    blocked = pick(
        review,
        lambda r: r.status is RowStatus.BLOCKED and {i.field for i in r.blocking} == {"device_type"},
        1,
    )[0]
    device = pick(review, lambda r: r.kind is Kind.DEVICE and needs_only(r, "role"), 1)[0]
    lines = by_id(parse(rows_to_csv(review)))
    lines[blocked.device.device_id]["device_type"] = "poweredge-r650"
    lines[device.device.device_id].update(
        name="renamed-by-csv", kind="VM", cluster="kvm-hq", role="server", platform="Linux"
    )
    report = apply_csv(review, to_text(list(lines.values())))
    assert report.rejected == []
    changed = dict(report.changed)
    assert changed[blocked.key] == {"device_type": ("", "PowerEdge R650")}
    assert review.rows[blocked.key].device_type.name == "PowerEdge R650"
    now = review.rows[device.key]
    assert (now.name, now.kind, now.cluster.name, now.role.name, now.platform.name) == (
        "renamed-by-csv",
        Kind.VM,
        "kvm-hq",
        "Server",
        "Linux",
    )
    assert set(changed[device.key]) == {"name", "kind", "cluster", "role", "platform"}


def test_a_name_longer_than_netbox_allows_rejects_the_line(review: Review) -> None:
    row = pick(review, lambda r: r.kind is Kind.DEVICE and needs_only(r, "role"), 1)[0]
    text = to_text(
        [{"librenms_id": str(row.device.device_id), "name": "n" * 65}], columns=("librenms_id", "name")
    )
    report = apply_csv(review, text)
    assert report.rejected == [
        (2, str(row.device.device_id), [f"name: '{'n' * 65}' is 65 characters; NetBox allows 64"])
    ]
    assert review.rows[row.key].name == row.name


# ------------------------------------------------------------------ the import cell: the analyst's last word


def one_line(row: Row, **cells: str) -> str:
    return to_text([{"librenms_id": str(row.device.device_id), **cells}], columns=("librenms_id", *cells))


def test_import_no_wins_over_an_edit_that_makes_the_row_ready(review: Review) -> None:
    row = pick(review, lambda r: r.kind is Kind.DEVICE and needs_only(r, "role"), 1)[0]
    report = apply_csv(review, one_line(row, role="Access switch", **{"import": "no"}))
    now = review.rows[row.key]
    assert now.status is RowStatus.READY and not now.selected and not now.will_import
    assert dict(report.changed) == {row.key: {"role": ("", "Access switch")}}
    assert report.warnings == [
        f"line 2: device {row.device.device_id} ({row.name}) is ready now but its import cell says no: "
        "it will not be imported"
    ]


def test_import_yes_ticks_the_row_and_it_is_imported_when_its_edits_make_it_ready(review: Review) -> None:
    row = pick(review, lambda r: r.kind is Kind.DEVICE and needs_only(r, "role"), 1)[0]
    review.select([row.key], False)
    report = apply_csv(review, one_line(row, role="Access switch", **{"import": "yes"}))
    assert review.rows[row.key].will_import
    assert dict(report.changed) == {row.key: {"role": ("", "Access switch"), "import": ("no", "yes")}}
    assert report.warnings == []


def test_import_yes_on_a_row_that_is_not_ready_ticks_it_and_says_why_it_is_not_imported(
    review: Review,
) -> None:
    row = pick(review, lambda r: r.kind is Kind.DEVICE and needs_only(r, "role"), 1)[0]
    review.select([row.key], False)
    report = apply_csv(review, one_line(row, **{"import": "yes"}))
    assert review.rows[row.key].selected and not review.rows[row.key].will_import
    assert report.warnings == [
        f"line 2: device {row.device.device_id} is marked import=yes but its status is 'needs input', "
        "so it will not be imported"
    ]


def test_an_empty_import_cell_leaves_the_tick_as_it_was(review: Review) -> None:
    ready = pick(review, lambda r: r.will_import, 2)
    review.select([ready[0].key], False)
    text = to_text(
        [{"librenms_id": str(r.device.device_id), "import": ""} for r in ready],
        columns=("librenms_id", "import"),
    )
    report = apply_csv(review, text)
    assert report.changed == [] and report.unchanged == 2
    assert not review.rows[ready[0].key].selected and review.rows[ready[1].key].will_import


def test_import_yes_on_a_row_already_in_netbox_is_reported_with_its_link_and_not_imported(
    review: Review,
) -> None:
    ready = pick(review, lambda r: r.will_import and r.kind is Kind.DEVICE, 1)[0]
    # NetBox as it would be had someone created the device meanwhile (nothing is written to NetBox)
    made = Existing(
        Kind.DEVICE, 990077, ready.name, ready.site.id, "", {"default": ready.device.device_id}, ()
    )
    index = review.index.with_existing([*review.index.existing, made])
    review = build_review(review.devices.values(), index, review.mappings, review.options, review.stacks)
    existing = review.rows[ready.key]
    assert existing.status is RowStatus.EXISTS and existing.existing.url.endswith("/dcim/devices/990077/")

    report = import_csv(review, one_line(existing, **{"import": "yes"}))

    assert report.already_in_netbox == [(existing.key, existing.existing.url)]
    assert existing.key not in {row.key for row in review.importable_rows()}
    (warning,) = report.warnings
    assert warning.startswith(
        f"line 2: device {existing.device.device_id} ({existing.name}) is marked import=yes"
    )
    assert existing.existing.url in warning and "already in NetBox" in warning


# ------------------------------------------------------------------ rejected lines


def test_rejected_lines_apply_nothing_of_themselves(review: Review) -> None:
    hq = pick(review, lambda r: r.kind is Kind.DEVICE and needs_only(r, "role") and site_slug(r) == "hq", 3)
    vm = pick(review, lambda r: r.kind is Kind.VM and needs_only(r, "cluster"), 1)[0]
    ready_vm = pick(review, lambda r: r.kind is Kind.VM and r.status is RowStatus.READY, 1)[0]
    valid = pick(review, lambda r: r.kind is Kind.DEVICE and needs_only(r, "role") and r not in hq, 1)[0]
    lines = by_id(parse(rows_to_csv(review)))
    edits = [
        (hq[0], {"role": "Astronaut"}),  # unknown role
        (hq[1], {"role": "Access switch", "rack": "FRA-C14-R07"}),  # valid role + rack of another site
        (hq[2], {"role": "Access switch", "kind": "router", "import": "maybe"}),  # bad kind, bad import
        (vm, {"cluster": "kvm-hq", "rack": "HQ-A01"}),  # a rack on a VM
        (ready_vm, {"role": "Access switch"}),  # not a VM role
        (valid, {"role": "Core switch", "cluster": "kvm-hq"}),  # a cluster on a device
    ]
    for row, changes in edits:
        lines[row.device.device_id].update(changes)
    edited = {row.device.device_id for row, _ in edits}
    plain = [line for line in lines.values() if int(line["librenms_id"]) not in edited]
    ordered = list(lines.values())
    ordered.append({**plain[0], "librenms_id": "999999"})  # unknown id
    ordered.append({**plain[1], "librenms_id": "not-a-number"})
    ordered.append(dict(plain[2]))  # the same device twice
    n = len(ordered) + 1  # the last line's number (line 1 is the header)
    before = snapshot(review)

    report = apply_csv(review, to_text(ordered))

    assert report.changed == []
    assert snapshot(review) == before
    line_of = {int(line["librenms_id"]): n for n, line in enumerate(ordered[:-3], start=2)}
    reasons = {(line, ident): " / ".join(why) for line, ident, why in report.rejected}
    assert len(reasons) == len(edits) + 3

    def why(row: Row) -> str:
        return reasons[(line_of[row.device.device_id], str(row.device.device_id))]

    assert "role: 'Astronaut' is not a NetBox device role" in why(hq[0])
    assert "rack: 'FRA-C14-R07' belongs to site 'DC2 Frankfurt', not 'HQ Portsmouth'" in why(hq[1])
    assert "kind: 'router'" in why(hq[2]) and "import: 'maybe'" in why(hq[2])
    assert "a virtual machine has no rack" in why(vm)
    assert "role: 'Access switch' cannot be used for virtual machines" in why(ready_vm)
    assert "only virtual machines have a cluster" in why(valid)
    assert reasons[(n - 2, "999999")].startswith("librenms_id: no row for LibreNMS device 999999")
    assert "is not a device id" in reasons[(n - 1, "not-a-number")]
    duplicate = plain[2]["librenms_id"]
    assert f"(first on line {line_of[int(duplicate)]})" in reasons[(n, duplicate)]
    # the valid role of a rejected line is not applied either
    assert review.rows[hq[1].key].role is None and review.rows[hq[1].key].status is RowStatus.NEEDS_INPUT


def test_import_csv_does_not_import_a_ready_row_whose_line_was_rejected(review: Review) -> None:
    ready_vm = pick(review, lambda r: r.kind is Kind.VM and r.will_import, 1)[0]
    other = pick(review, lambda r: r.will_import and r.key != ready_vm.key, 1)[0]
    lines = by_id(parse(rows_to_csv(review)))
    lines[ready_vm.device.device_id].update(role="Access switch")  # not a VM role: the line is rejected
    report = import_csv(review, to_text(list(lines.values())))
    assert [ident for _, ident, _ in report.rejected] == [str(ready_vm.device.device_id)]
    assert report.held_back == [ready_vm.key]
    assert review.rows[ready_vm.key].overrides == ready_vm.overrides  # nothing of the line applied
    importable = {row.key for row in review.importable_rows()}
    assert ready_vm.key not in importable and other.key in importable


def test_import_csv_does_not_import_a_device_whose_lines_disagree(review: Review) -> None:
    ready = pick(review, lambda r: r.will_import, 1)[0]
    line = {"librenms_id": str(ready.device.device_id), "import": "yes"}
    report = import_csv(review, to_text([line, {**line, "import": "no"}], columns=("librenms_id", "import")))
    assert [(n, ident) for n, ident, _ in report.rejected] == [(3, str(ready.device.device_id))]
    assert report.held_back == [ready.key]
    assert not review.rows[ready.key].will_import
    assert report.warnings == []  # the rejection says why


def test_rows_not_in_the_csv_are_kept_by_the_page_and_left_out_by_the_command_line(review: Review) -> None:
    listed, unlisted = pick(review, lambda r: r.will_import, 2)
    page = import_csv(review, one_line(listed, **{"import": "yes"}))
    assert page.not_in_csv == len(review) - 1
    assert {listed.key, unlisted.key} <= {row.key for row in review.importable_rows()}

    cli = import_csv(review, one_line(listed, **{"import": "yes"}), keep_unlisted=False)
    assert cli.not_in_csv == len(review) - 1
    assert [row.key for row in review.importable_rows()] == [listed.key]


def test_server_column_is_optional_and_matched_when_present(review: Review) -> None:
    row = pick(review, lambda r: r.kind is Kind.DEVICE and needs_only(r, "role"), 1)[0]
    columns = ("librenms_id", "role")
    text = to_text([{"librenms_id": str(row.device.device_id), "role": "Router"}], columns=columns)
    report = apply_csv(review, text)
    assert dict(report.changed) == {row.key: {"role": ("", "Router")}}
    assert report.not_in_csv == len(review) - 1

    other = to_text(
        [{"server": "dc9", "librenms_id": str(row.device.device_id), "role": "Leaf"}],
        columns=("server", *columns),
    )
    report = apply_csv(review, other)
    assert report.changed == []
    assert report.rejected == [
        (
            2,
            str(row.device.device_id),
            [
                f"librenms_id: no row for LibreNMS device {row.device.device_id} on server 'dc9' in this review"
            ],
        )
    ]


# ------------------------------------------------------------------ existing rows: action and update


def _matched(review: Review, serial: str = "OLD-SERIAL") -> tuple[Review, Row]:
    """The review again, with one ready device in NetBox (in memory) under an old serial and no link."""
    ready = pick(review, lambda r: r.will_import and r.kind is Kind.DEVICE and r.device.serial, 1)[0]
    made = Existing(Kind.DEVICE, 990078, ready.name, ready.site.id, serial, {}, ())
    index = review.index.with_existing([*review.index.existing, made])
    review = build_review(review.devices.values(), index, review.mappings, review.options, review.stacks)
    return review, review.rows[ready.key]


def test_a_csv_sets_the_action_and_fields_of_an_existing_row_and_exports_them_back(review: Review) -> None:
    review, row = _matched(review)
    assert parse(rows_to_csv([row]))[0]["sync"] == "differs"
    report = import_csv(review, one_line(row, action="update", update="Serial"))
    assert report.rejected == [] and report.warnings == []
    now = review.rows[row.key]
    assert now.will_update and now.updates == (SyncField.SERIAL, SyncField.LIBRENMS_ID)
    assert dict(report.changed)[row.key]["action"] == ("", "update")
    (line,) = parse(rows_to_csv([now]))
    assert (line["action"], line["update"], line["import"]) == ("update", "serial", "yes")
    assert "serial: OLD-SERIAL → " in line["differences"]
    again = apply_csv(review, one_line(now))  # the exported line brought back changes nothing
    assert again.changed == [] and again.rejected == []


def test_a_csv_line_that_asks_to_update_a_field_netbox_owns_or_acts_on_a_new_row_is_rejected(
    review: Review,
) -> None:
    review, row = _matched(review)
    new = pick(review, lambda r: r.will_create, 1)[0]
    report = import_csv(
        review,
        to_text(
            [
                {**parse(rows_to_csv([row]))[0], "action": "update", "update": "site, serial"},
                {**parse(rows_to_csv([new]))[0], "action": "link"},
            ]
        ),
    )
    reasons = {line: "; ".join(why) for line, _, why in report.rejected}
    assert "NetBox owns site" in reasons[2] and "is for a row NetBox already has" in reasons[3]
    assert review.rows[row.key].overrides.action is None and not review.rows[row.key].will_import
