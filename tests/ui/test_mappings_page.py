"""The Mappings page through Streamlit's AppTest, run inside app.py's navigation frame, against the real test
NetBox (demo reference data), the LibreNMS simulator and a temporary copy of the demo mapping file."""

from __future__ import annotations

import re
import socket
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from streamlit.testing.v1 import AppTest

from tests.conftest import SIM_TOKEN
from tests.helpers import signed_in_app

PAGE = "pages/mappings.py"
DOCK = "Sitting on the Dock of the Bay"
LYON = "Branch Lyon - Rue de la République 42"
VALUE, OBJECT = "LibreNMS value", "NetBox object"
TIMEOUT = 60  # the first run reads LibreNMS and NetBox


@pytest.fixture
def open_page(env: dict) -> Callable[[], AppTest]:
    def run() -> AppTest:
        at = signed_in_app(TIMEOUT)
        at.switch_page(PAGE).run()
        assert not at.exception, at.exception
        return at

    return run


def editor(at: AppTest, table: str):
    (found,) = [e for e in at.data_editor if e.key and e.key.startswith(f"mappings-{table}-")]
    return found


def as_dict(frame) -> dict[str, str]:
    return dict(zip(frame[VALUE], frame[OBJECT], strict=True))


def plain(text: str) -> str:
    """Markdown as read: the page escapes LibreNMS text (`\\[`, `\\*`, …)."""
    return re.sub(r"\\(.)", r"\1", text)


def texts(at: AppTest) -> str:
    kinds = ("markdown", "caption", "error", "warning", "info", "success")
    return "\n".join(plain(str(e.value)) for kind in kinds for e in at.get(kind))


def unmatched(at: AppTest) -> list[str]:
    """The values listed under 'match nothing' ("**value** · n devices")."""
    return [plain(m.value) for m in at.markdown if " · " in m.value]


def saved(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def test_tables_show_the_demo_mappings(open_page):
    at = open_page()
    assert [t.label for t in at.tabs] == [
        "Locations → sites",
        "Hardware → device types",
        "OS → platforms",
        "Role rules",
        "Field ownership",
    ]
    sites = editor(at, "sites")
    assert sites.editing_mode == "dynamic"
    table = as_dict(sites.value)
    assert table["HQ Building 2, Floor 3, IDF-3B"] == "hq"
    assert len(table) == 7
    assert as_dict(editor(at, "platforms").value)["nxos"] == "cisco-nx-os"
    assert len(editor(at, "device_types").value) == 5
    (roles,) = [d.value for d in at.dataframe if "when" in d.value.columns]  # the read-only role rules
    assert list(roles["role"]) == ["firewall", "pdu", "hypervisor", "server"]
    assert "edited in the mapping file" in texts(at)
    (fixed,) = [d.value for d in at.dataframe if "why" in d.value.columns]  # owners that are no choice
    assert dict(zip(fixed["field"], fixed["owner"], strict=True))["role"] == "netbox"


def test_adding_a_row_and_saving_writes_the_file(open_page, mapping_file: Path):
    at = open_page()
    at.session_state[editor(at, "sites").key] = {
        "edited_rows": {},
        "added_rows": [{VALUE: DOCK, OBJECT: "lab"}],
        "deleted_rows": [],
    }
    at.button(key="save-sites").click().run()
    assert not at.exception
    assert saved(mapping_file)["sites"][DOCK] == "lab"
    assert saved(mapping_file)["sites"]["HQ Building 2, Floor 3, IDF-3B"] == "hq"  # the rest is kept
    assert saved(mapping_file)["roles"][0] == {"type": "firewall", "role": "firewall"}
    assert f"added '{DOCK}' → lab" in plain(at.success[0].value)
    # the page shows the new table, and the value no longer matches nothing
    assert DOCK in list(editor(at, "sites").value[VALUE])
    assert f"**{DOCK}** · 1 device" not in unmatched(at)


def test_an_admin_gives_a_field_to_netbox_and_the_file_keeps_only_what_differs_from_the_defaults(
    open_page, mapping_file: Path
):
    at = open_page()
    owners = editor(at, "ownership").value
    assert dict(zip(owners["field"], owners["owner"], strict=True))["serial"] == "librenms"
    serial = list(owners["field"]).index("serial")
    at.session_state[editor(at, "ownership").key] = {
        "edited_rows": {serial: {"owner": "netbox"}},
        "added_rows": [],
        "deleted_rows": [],
    }
    at.button(key="save-ownership").click().run()
    assert not at.exception
    assert saved(mapping_file)["ownership"] == {"serial": "netbox"}
    assert "serial: librenms → netbox" in plain(at.success[0].value)


def test_editing_and_deleting_rows_is_reported(open_page, mapping_file: Path):
    at = open_page()
    platforms = editor(at, "platforms").value
    ios = list(platforms[VALUE]).index("ios")
    nxos = list(platforms[VALUE]).index("nxos")
    at.session_state[editor(at, "platforms").key] = {
        "edited_rows": {ios: {OBJECT: "cisco-ios-xe"}},
        "added_rows": [],
        "deleted_rows": [nxos],
    }
    at.button(key="save-platforms").click().run()
    assert not at.exception
    platforms_saved = saved(mapping_file)["platforms"]
    assert platforms_saved["ios"] == "cisco-ios-xe"
    assert "nxos" not in platforms_saved
    report = plain(at.success[0].value)
    assert "changed 'ios': cisco-ios → cisco-ios-xe" in report
    assert "removed 'nxos'" in report


def test_a_netbox_object_that_does_not_exist_is_refused(open_page, mapping_file: Path):
    before = mapping_file.read_bytes()
    at = open_page()
    at.session_state[editor(at, "sites").key] = {
        "edited_rows": {},
        "added_rows": [{VALUE: DOCK, OBJECT: "atlantis"}],
        "deleted_rows": [],
    }
    at.button(key="save-sites").click().run()
    assert not at.exception
    assert mapping_file.read_bytes() == before
    assert any("Nothing was saved" in e.value and "atlantis" in e.value for e in at.error)


def test_a_half_filled_row_is_refused(open_page, mapping_file: Path):
    before = mapping_file.read_bytes()
    at = open_page()
    at.session_state[editor(at, "device_types").key] = {
        "edited_rows": {},
        "added_rows": [{VALUE: "HPE ProLiant DL380 Gen10"}],
        "deleted_rows": [],
    }
    at.button(key="save-device_types").click().run()
    assert not at.exception
    assert mapping_file.read_bytes() == before
    assert any("has no NetBox object" in e.value for e in at.error)


def test_the_unmatched_list_shows_the_dock_of_the_bay(open_page):
    at = open_page()
    listed = unmatched(at)
    assert f"**{DOCK}** · 1 device" in listed
    assert "**HPE ProLiant DL380 Gen10** · 1 device" in listed
    assert any(v.startswith("**Campus North") for v in listed)
    assert "Values LibreNMS has that match nothing" in [h.value for h in at.subheader]
    assert "have no location in LibreNMS" in texts(at)  # empty locations: a count, not a value


def test_one_click_maps_a_suggestion_and_writes_the_file(open_page, mapping_file: Path):
    data = saved(mapping_file)
    del data["sites"][LYON]
    mapping_file.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    at = open_page()
    (button,) = [b for b in at.button if b.label == "Map to Branch Lyon"]
    button.click().run()
    assert not at.exception
    assert saved(mapping_file)["sites"][LYON] == "br-lyon"
    assert not [b for b in at.button if b.label == "Map to Branch Lyon"]
    assert LYON in list(editor(at, "sites").value[VALUE])


def test_netbox_down_shows_an_error_not_an_exception(monkeypatch: pytest.MonkeyPatch, open_page):
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("NETBOX_URL", f"http://127.0.0.1:{port}")
    at = open_page()
    assert not at.exception
    assert any("cannot be reached" in e.value for e in at.error)
    # no table is editable without NetBox to check against; field ownership needs no NetBox
    assert [e.key for e in at.data_editor] == ["mappings-ownership-0"]
    assert len(editor_free_tables(at)) >= 3


def editor_free_tables(at: AppTest) -> list:
    return [d for d in at.dataframe if d.editing_mode == "read_only"]


def test_bad_yaml_shows_an_error_not_an_exception(open_page, mapping_file: Path):
    mapping_file.write_text("sites: [unclosed\n", encoding="utf-8")
    at = open_page()
    assert not at.exception
    assert any("is not valid YAML" in e.value for e in at.error)


def test_tokens_are_never_shown(open_page, env: dict):
    at = open_page()
    shown = texts(at) + "\n".join(str(d.value.to_dict()) for d in at.dataframe)
    assert env["NETBOX_TOKEN"] not in shown
    assert SIM_TOKEN not in shown


def test_without_a_mapping_file_the_tables_are_empty_and_a_save_creates_it(open_page, mapping_file: Path):
    mapping_file.unlink()
    at = open_page()
    assert len(editor(at, "platforms").value) == 0
    at.session_state[editor(at, "platforms").key] = {
        "edited_rows": {},
        "added_rows": [{VALUE: "apc", OBJECT: "linux"}],
        "deleted_rows": [],
    }
    at.button(key="save-platforms").click().run()
    assert not at.exception
    assert saved(mapping_file) == {
        "sites": {},
        "device_types": {},
        "platforms": {"apc": "linux"},
        "roles": [],
    }


def test_refresh_reads_again_without_losing_the_page(open_page):
    at = open_page()
    next(b for b in at.button if b.label == "Refresh").click().run()
    assert not at.exception
    assert f"**{DOCK}** · 1 device" in unmatched(at)
