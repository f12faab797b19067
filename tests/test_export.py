"""CSV export and import (core.export) on a real review: the simulator's 40 devices against the test NetBox.

One search per module; each test works on a fresh Review built from its devices, index and mappings, so edits
never leak between tests. Nothing is written to NetBox.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path

import pytest

from core.export import (
    BOM,
    COLUMNS,
    CsvError,
    apply_csv,
    csv_bytes,
    escape_cell,
    rows_to_csv,
    unescape_cell,
    write_csv,
)
from core.librenms import DeviceFilter
from core.models import Kind, LibreDevice, Row, RowStatus
from core.search import SearchResult, run_search
from core.settings import Settings, load_settings
from core.validation import Review
from tests.conftest import DEMO_MAPPINGS, SIM_TOKEN

SNMP_COMMUNITY = "nw-r0-c0mmunity"  # the community every fixture device carries in LibreNMS
TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


# ------------------------------------------------------------------ fixtures and helpers


@pytest.fixture(scope="module")
def module_settings(stack_env, sim, reference_data, tmp_path_factory) -> Settings:
    tmp = tmp_path_factory.mktemp("export")
    mapping = tmp / "mappings.yaml"
    mapping.write_text(DEMO_MAPPINGS.read_text(encoding="utf-8"), encoding="utf-8")
    return load_settings(
        {
            "LIBRENMS_URL": sim.url,
            "LIBRENMS_TOKEN": SIM_TOKEN,
            "NETBOX_URL": stack_env["NETBOX_URL"],
            "NETBOX_TOKEN": stack_env["NETBOX_TOKEN"],
            "REDIS_URL": stack_env["REDIS_URL"],
            "MAPPING_FILE": str(mapping),
        },
        secrets_file=tmp / "none.toml",
    )


@pytest.fixture(scope="module")
def searched(module_settings: Settings) -> SearchResult:
    return run_search(module_settings, DeviceFilter(detect_stacks=True))


def fresh_review(searched: SearchResult, extra: tuple[LibreDevice, ...] = ()) -> Review:
    base = searched.review
    return Review([*base.devices.values(), *extra], base.index, base.mappings, base.options, base.stacks)


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


# ------------------------------------------------------------------ export


def test_export_has_the_columns_and_one_line_per_row(review: Review) -> None:
    text = rows_to_csv(review, librenms_url="http://user:pw@librenms.example/api/v0/?x=1")
    lines = parse(text)

    assert tuple(csv.reader(io.StringIO(text)).__next__()) == COLUMNS
    assert len(lines) == len(review) == 39  # the 40 fixture devices, one disabled
    assert {int(line["librenms_id"]) for line in lines} == {key[1] for key in review.rows}
    for line in lines:
        row = review.rows[(line["server"], int(line["librenms_id"]))]
        assert line["hostname"] == row.device.hostname
        assert line["name"] == row.name
        assert line["kind"] == row.kind.value
        assert line["status"] == row.status.value
        assert line["issues"] == row.issues_text()
        assert line["import"] == ("yes" if row.will_import else "no")
        assert line["netbox_url"] == (row.existing.url if row.existing else "")
        # the link to LibreNMS, without the credentials or the API path of the configured URL
        assert line["librenms_url"] == f"http://librenms.example/device/device={row.device.device_id}/"
    assert sum(line["import"] == "yes" for line in lines) == len(review.importable_rows()) > 0


def test_export_lists_stack_members(review: Review) -> None:
    lines = by_id(parse(rows_to_csv(review)))
    stacked = [row for row in review if row.stack is not None]
    assert stacked, "the fixture has stacks (core-sw01, dist-sw-b2)"
    for row in stacked:
        members = lines[row.device.device_id]["stack_members"].split("|")
        assert members == [f"{m.position}:{m.serial}:{m.model}" for m in row.stack.members]
        assert members[0].startswith("1:")
    assert all(lines[row.device.device_id]["stack_members"] == "" for row in review if row.stack is None)


def test_export_carries_no_token_and_no_snmp_credential(
    review: Review, module_settings: Settings, tmp_path: Path
) -> None:
    path = tmp_path / "review.csv"
    write_csv(path, review, librenms_url=module_settings.librenms.url)
    text = path.read_bytes().decode("utf-8-sig")
    assert (
        SNMP_COMMUNITY in (Path(__file__).parent.parent / "devtools/librenms-data/devices.json").read_text()
    )
    for secret in (SIM_TOKEN, module_settings.netbox_token.get(), SNMP_COMMUNITY):
        assert secret not in text
    assert "community" not in text.casefold()


def test_csv_files_are_utf8_with_bom_and_crlf(review: Review, tmp_path: Path) -> None:
    path = tmp_path / "review.csv"
    assert write_csv(path, review) == len(review)
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    assert data == csv_bytes(review)
    text = data.decode("utf-8-sig")
    assert "Zürich Office" in text and "Warehouse São Paulo" in text
    assert text.count("\r\n") == len(review) + 1
    assert not rows_to_csv(review).startswith(BOM)


# ------------------------------------------------------------------ formula injection


@pytest.mark.parametrize(
    "value",
    ["", "abc", "'abc", "'", "''", "=1+1", "'=1+1", "''=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx", "a=b"],
)
def test_escaping_is_lossless(value: str) -> None:
    escaped = escape_cell(value)
    assert unescape_cell(escaped) == value
    assert not escaped.startswith(TRIGGERS)


def test_formula_like_values_are_neutralised_and_restored(searched: SearchResult) -> None:
    review = fresh_review(searched, EVIL)
    text = rows_to_csv(review)
    lines = by_id(parse(text))

    for line in lines.values():
        for column, cell in line.items():
            assert not cell.startswith(TRIGGERS), f"{column} cell {cell!r} would run as a formula"
    evil = lines[990001]
    assert evil["hostname"] == "'=cmd|' /C calc'!A0"
    assert evil["name"] == "'@SUM(1+1)*cmd|' /C calc'!A0"
    assert evil["hardware"] == '\'+HYPERLINK("http://evil.example")'
    assert evil["location"] == "'-2+3"
    assert lines[990002]["hostname"] == "'\tTAB"
    assert lines[990002]["name"] == "''=already quoted"  # a value that looks escaped gets one more quote
    assert unescape_cell(evil["hostname"]) == EVIL[0].hostname
    assert unescape_cell(lines[990002]["name"]) == "'=already quoted"

    # re-import: nothing changes, because the restored values equal the rows' values
    before = snapshot(review)
    report = apply_csv(review, text)
    assert report.rejected == [] and report.changed == []
    assert report.unchanged == len(review)
    assert snapshot(review) == before

    # a name typed as a formula (escaped by our export, or raw by a user) arrives as the literal text
    evil["name"] = escape_cell('=HYPERLINK("x")')
    lines[990002]["name"] = "-raw typed"
    report = apply_csv(review, to_text(list(lines.values())))
    assert report.rejected == []
    assert review.rows[("default", 990001)].name == '=HYPERLINK("x")'
    assert review.rows[("default", 990002)].name == "-raw typed"
    again = by_id(parse(rows_to_csv(review)))
    assert again[990001]["name"] == '\'=HYPERLINK("x")'


# ------------------------------------------------------------------ import: round trip and edits


def test_round_trip_without_edits_changes_nothing(review: Review) -> None:
    before = snapshot(review)
    report = apply_csv(review, csv_bytes(review))
    assert report.changed == [] and report.rejected == [] and report.status_changes == {}
    assert report.unchanged == len(review) and report.not_in_csv == 0
    assert report.warnings == []
    assert snapshot(review) == before


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
        assert now.will_import
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


# ------------------------------------------------------------------ import: rejected lines


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


# ------------------------------------------------------------------ import: file shapes


def excel_semicolon_bytes(lines: list[dict[str, str]], columns=COLUMNS, encoding="utf-8-sig") -> bytes:
    return to_text(lines, delimiter=";", columns=columns).encode(encoding)


def test_semicolon_csv_from_excel_with_bom(review: Review) -> None:
    row = pick(review, lambda r: r.kind is Kind.DEVICE and needs_only(r, "role"), 1)[0]
    lines = by_id(parse(rows_to_csv(review)))
    lines[row.device.device_id]["role"] = "Leaf"
    data = excel_semicolon_bytes(list(lines.values()))
    assert data.startswith(b"\xef\xbb\xbf") and data.count(b";") > data.count(b"\n")

    report = apply_csv(review, data)
    assert report.rejected == [] and dict(report.changed) == {row.key: {"role": ("", "Leaf")}}
    # the same as text with the BOM still in it
    assert apply_csv(fresh_review_like(review), data.decode("utf-8")).changed == report.changed


def fresh_review_like(review: Review) -> Review:
    return Review(review.devices.values(), review.index, review.mappings, review.options, review.stacks)


def test_excel_ansi_csv_sep_line_and_renamed_headers(review: Review) -> None:
    """Excel's plain "CSV" is Windows-1252; `sep=;` first line; headers in another case, columns reordered."""
    row = pick(review, lambda r: needs_only(r, "role") and r.site and any(c in r.site.name for c in "üã"), 1)[
        0
    ]
    columns = ("Role", "LibreNMS ID", "Site", "Name")
    text = "sep=;\r\n" + to_text(
        [
            {
                "Role": "Access switch" if line["librenms_id"] == str(row.device.device_id) else line["role"],
                "LibreNMS ID": line["librenms_id"],
                "Site": line["site"],
                "Name": line["name"],
            }
            for line in parse(rows_to_csv(review))
            if all(ord(c) < 256 for c in line["site"] + line["name"] + line["role"])
        ],
        delimiter=";",
        columns=columns,
    )
    report = apply_csv(review, text.encode("cp1252"))
    assert report.rejected == []
    assert dict(report.changed) == {row.key: {"role": ("", "Access switch")}}


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


@pytest.mark.parametrize(
    "text",
    ["", "\ufeff\r\n", "server,hostname,role\r\ndefault,x,Leaf\r\n"],
    ids=["empty", "bom only", "no librenms_id column"],
)
def test_unreadable_csv_raises_one_clear_error(review: Review, text: str) -> None:
    before = snapshot(review)
    with pytest.raises(CsvError) as caught:
        apply_csv(review, text)
    assert "CSV" in str(caught.value)
    assert snapshot(review) == before


def test_blank_lines_and_short_lines_are_tolerated(review: Review) -> None:
    row = pick(review, lambda r: r.kind is Kind.DEVICE and needs_only(r, "role"), 1)[0]
    text = f"librenms_id,role,import\r\n\r\n{row.device.device_id},Leaf\r\n,,\r\n"
    report = apply_csv(review, text)
    assert report.rejected == [] and dict(report.changed) == {row.key: {"role": ("", "Leaf")}}
