"""Mapping tables and role rules: the YAML file, lookups, rules, edits and suggestions (pure, no services)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from core.choices import Kind
from core.errors import ConfigError
from core.librenms import LibreDevice
from core.mapping import Mappings, RoleRule, load_mappings, save_mappings, suggest
from devtools.demo_data import SITES

TOKYO = "東京オフィス 3F サーバー室"


def device(**fields) -> LibreDevice:
    return LibreDevice(device_id=1, hostname="dev1.example.net", **fields)


@pytest.fixture
def sample() -> Mappings:
    return Mappings(
        sites={TOKYO: "tokyo", "Zürich Büro, Löwenstrasse 11": "zrh", "yes": "hq", "[1,2]: x": "lab"},
        device_types={"J9773A 2530-24G-PoEP": "aruba-2530-24g-poep"},
        platforms={"iosxe": "cisco-ios-xe"},
        roles=(
            RoleRule(role="firewall", type="firewall"),
            RoleRule(role="leaf", hardware="^N9K-", kind="device"),
        ),
    )


# ------------------------------------------------------------------ the file


def test_save_then_load_gives_the_same_mappings(tmp_path: Path, sample: Mappings) -> None:
    path = tmp_path / "mappings.yaml"
    save_mappings(path, sample)
    assert load_mappings(path) == sample


def test_saved_file_keeps_unicode_keys_readable(tmp_path: Path, sample: Mappings) -> None:
    path = tmp_path / "mappings.yaml"
    save_mappings(path, sample)
    assert TOKYO in path.read_text(encoding="utf-8")


def test_save_replaces_the_file_and_leaves_no_temporary_file(tmp_path: Path, sample: Mappings) -> None:
    path = tmp_path / "mappings.yaml"
    path.write_text("sites: {old: hq}\n", encoding="utf-8")
    save_mappings(path, sample)
    assert load_mappings(path).sites == sample.sites
    assert [p.name for p in tmp_path.iterdir()] == ["mappings.yaml"]


def test_failed_save_keeps_the_old_file_and_leaves_no_temporary_file(
    tmp_path: Path, sample: Mappings, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "mappings.yaml"
    path.write_text("sites: {old: hq}\n", encoding="utf-8")

    def disk_full(*_args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("core.mapping.os.replace", disk_full)
    with pytest.raises(OSError):
        save_mappings(path, sample)
    assert path.read_text(encoding="utf-8") == "sites: {old: hq}\n"
    assert [p.name for p in tmp_path.iterdir()] == ["mappings.yaml"]


def test_save_creates_missing_directories(tmp_path: Path, sample: Mappings) -> None:
    path = tmp_path / "conf" / "mappings.yaml"
    save_mappings(path, sample)
    assert load_mappings(path) == sample


def test_missing_file_means_empty_mappings(tmp_path: Path) -> None:
    assert load_mappings(tmp_path / "nope.yaml") == Mappings()


def test_empty_file_means_empty_mappings(tmp_path: Path) -> None:
    path = tmp_path / "mappings.yaml"
    path.write_text("", encoding="utf-8")
    assert load_mappings(path) == Mappings()


def test_bad_yaml_is_a_config_error_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "mappings.yaml"
    path.write_text("sites: {hq: [unclosed\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=re.escape(str(path))):
        load_mappings(path)


def test_file_that_is_not_a_table_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "mappings.yaml"
    path.write_text("- just\n- a list\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=re.escape(str(path))):
        load_mappings(path)


def test_table_that_is_not_a_mapping_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "mappings.yaml"
    path.write_text("sites: [hq, lab]\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="'sites'"):
        load_mappings(path)


def test_rule_with_a_bad_regular_expression_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "mappings.yaml"
    path.write_text("roles:\n  - {type: network, role: x}\n  - {hardware: '^N9K-(', role: leaf}\n")
    with pytest.raises(ConfigError, match=r"mappings\.yaml: role rule 2 has a bad pattern"):
        load_mappings(path)


def test_rule_without_a_role_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "mappings.yaml"
    path.write_text("roles:\n  - {type: network}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="role rule 1 needs a 'role'"):
        load_mappings(path)


def test_rule_with_a_misspelt_condition_is_a_config_error(tmp_path: Path) -> None:
    # ignoring 'hardwre' would leave {role: leaf}: a rule that silently gives every device the role leaf
    path = tmp_path / "mappings.yaml"
    path.write_text("roles:\n  - {hardwre: '^N9K-', role: leaf}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="hardwre"):
        load_mappings(path)


def test_rule_with_an_unknown_kind_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "mappings.yaml"
    path.write_text("roles:\n  - {kind: virtual, role: server}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="virtual"):
        load_mappings(path)


def test_demo_mapping_file_loads() -> None:
    demo = load_mappings(Path(__file__).resolve().parent.parent / "devtools" / "demo-mappings.yaml")
    assert demo.lookup("sites", TOKYO) == "tokyo"
    assert [r.role for r in demo.roles] == ["firewall", "pdu", "hypervisor", "server"]


# ------------------------------------------------------------------ lookups and rules


def test_lookup_ignores_case_and_surrounding_spaces(sample: Mappings) -> None:
    assert sample.lookup("device_types", "  j9773a 2530-24g-poep ") == "aruba-2530-24g-poep"


def test_lookup_of_an_unmapped_or_empty_value_is_none(sample: Mappings) -> None:
    assert sample.lookup("sites", "Atlantis") is None
    assert sample.lookup("sites", "") is None


@pytest.mark.parametrize(
    ("rule", "matching", "other"),
    [
        (RoleRule("firewall", type="firewall"), device(type="FIREWALL"), device(type="network")),
        (RoleRule("router", os="^ios"), device(os="IOSXE"), device(os="nxos")),
        (
            RoleRule("leaf", hardware="^N9K-"),
            device(hardware="n9k-C93180YC-FX"),
            device(hardware="C9300-48P"),
        ),
    ],
    ids=["type", "os", "hardware"],
)
def test_rule_matches_on_its_condition(rule: RoleRule, matching: LibreDevice, other: LibreDevice) -> None:
    assert rule.matches(matching, Kind.DEVICE)
    assert not rule.matches(other, Kind.DEVICE)


def test_rule_matches_on_kind() -> None:
    rule = RoleRule("server", kind="vm")
    assert rule.matches(device(), Kind.VM)
    assert not rule.matches(device(), Kind.DEVICE)


def test_rule_needs_every_condition_it_names() -> None:
    rule = RoleRule("leaf", hardware="^N9K-", kind="device")
    assert not rule.matches(device(hardware="N9K-C93180YC-FX"), Kind.VM)


def test_type_condition_is_exact_not_a_pattern() -> None:
    assert not RoleRule("x", type="fire").matches(device(type="firewall"), Kind.DEVICE)


def test_first_matching_rule_wins() -> None:
    mappings = Mappings(roles=(RoleRule("firewall", type="firewall"), RoleRule("server", kind="vm")))
    role, rule = mappings.default_role(device(type="firewall"), Kind.VM)
    assert role == "firewall"
    assert rule is mappings.roles[0]


def test_no_matching_rule_gives_no_role() -> None:
    mappings = Mappings(roles=(RoleRule("firewall", type="firewall"),))
    assert mappings.default_role(device(type="network"), Kind.DEVICE) is None


def test_rule_describes_its_conditions() -> None:
    assert RoleRule("leaf", hardware="^N9K-", kind="device").describe() == "hardware=^N9K- and kind=device"


# ------------------------------------------------------------------ edits


def test_with_entry_adds_a_mapping_in_a_copy(sample: Mappings) -> None:
    changed = sample.with_entry("sites", "Lab 2", "lab")
    assert changed.lookup("sites", "lab 2") == "lab"
    assert sample.lookup("sites", "Lab 2") is None


def test_with_entry_none_removes_a_mapping(sample: Mappings) -> None:
    assert sample.with_entry("sites", TOKYO, None).lookup("sites", TOKYO) is None


def test_with_entry_keeps_the_other_tables_and_rules(sample: Mappings) -> None:
    changed = sample.with_entry("platforms", "junos", "junos")
    assert changed.lookup("platforms", "junos") == "junos"
    assert (changed.sites, changed.device_types, changed.roles) == (
        sample.sites,
        sample.device_types,
        sample.roles,
    )


def test_with_entry_rejects_an_unknown_table(sample: Mappings) -> None:
    with pytest.raises(ValueError, match="roles"):
        sample.with_entry("roles", "x", "y")


# ------------------------------------------------------------------ suggestions

SITE_NAMES = [name for name, _slug in SITES]


@pytest.mark.parametrize(
    ("location", "best"),
    [
        ("Branch Lyon - Rue de la République 42", "Branch Lyon"),  # the name is inside the location
        ("Warehouse Sao Paulo", "Warehouse São Paulo"),  # close spelling
        ("zurich office", "Zürich Office"),
        ("LAB", "Lab"),
    ],
)
def test_suggest_puts_the_closest_netbox_name_first(location: str, best: str) -> None:
    assert suggest(location, SITE_NAMES)[0] == best


def test_suggest_returns_at_most_n_names() -> None:
    assert len(suggest("Office", SITE_NAMES, n=2)) == 2


def test_suggest_finds_nothing_for_an_unrelated_value() -> None:
    assert suggest("Sitting on the Dock of the Bay", SITE_NAMES) == []


def test_suggest_finds_nothing_for_an_empty_value() -> None:
    assert suggest("", SITE_NAMES) == []
