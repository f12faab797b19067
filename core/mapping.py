"""Mapping tables (location → site, hardware → device type, os → platform), default role rules, and
suggestions for LibreNMS values that match nothing.

One YAML file (Settings.mapping_file), editable by hand and from the Mappings page:

    sites: {"<LibreNMS location>": <site slug or name>}
    device_types: {"<LibreNMS hardware>": <device type slug, model or part number>}
    platforms: {"<LibreNMS os>": <platform slug or name>}
    roles:            # default role rules, first match wins; each key is optional, all given must match
      - {type: firewall, role: firewall}
      - {hardware: "^N9K-", role: leaf}      # hardware and os take a regular expression (case-insensitive)
      - {kind: vm, role: server}
    ownership:        # of an existing device's fields: librenms (an update may overwrite) or netbox (never)
      serial: librenms
      site: netbox

Field ownership: what the file does not say is DEFAULT_OWNERSHIP. LibreNMS owns what it measures on the
device itself (serial, platform = the OS it runs, status = whether it answers, the management address);
NetBox owns what people decide (name, site, location, rack, device type, cluster). Role, tenant, comments,
tags and custom fields other than librenms_id are always NetBox's: the review never compares nor writes
them. librenms_id is the link itself (written by link and update), and a stack's membership is shown, not
written.
"""

from __future__ import annotations

import difflib
import os
import re
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from core.choices import Kind, Owner, SyncField
from core.errors import ConfigError
from core.librenms import LibreDevice
from core.values import fold

TABLES = ("sites", "device_types", "platforms")
RULE_KEYS = ("role", "type", "os", "hardware", "kind")

# Who owns each field of an existing device that a team may give to either side (see the module docstring).
DEFAULT_OWNERSHIP: dict[SyncField, Owner] = {
    SyncField.SERIAL: Owner.LIBRENMS,
    SyncField.PLATFORM: Owner.LIBRENMS,
    SyncField.STATUS: Owner.LIBRENMS,
    SyncField.PRIMARY_IP: Owner.LIBRENMS,
    SyncField.NAME: Owner.NETBOX,
    SyncField.SITE: Owner.NETBOX,
    SyncField.LOCATION: Owner.NETBOX,
    SyncField.RACK: Owner.NETBOX,
    SyncField.DEVICE_TYPE: Owner.NETBOX,
    SyncField.CLUSTER: Owner.NETBOX,
}
# Fields that are NetBox's whatever the file says: LibreNMS has no value for them, the app never writes them.
NETBOX_ONLY = ("role", "tenant", "comments", "tags", "custom fields other than librenms_id")


@dataclass(frozen=True, slots=True)
class RoleRule:
    role: str
    type: str = ""
    os: str = ""
    hardware: str = ""
    kind: str = ""

    def matches(self, device: LibreDevice, kind: Kind) -> bool:
        if self.type and fold(self.type) != fold(device.type):
            return False
        if self.kind and fold(self.kind) != kind.value:
            return False
        if self.os and not re.search(self.os, device.os, re.IGNORECASE):
            return False
        return not (self.hardware and not re.search(self.hardware, device.hardware, re.IGNORECASE))

    def describe(self) -> str:
        conditions = [f"{k}={v}" for k in ("type", "os", "hardware", "kind") if (v := getattr(self, k))]
        return " and ".join(conditions) or "every device"

    def as_dict(self) -> dict[str, str]:
        return {k: v for k in ("type", "os", "hardware", "kind", "role") if (v := getattr(self, k))}


@dataclass(frozen=True, slots=True)
class Mappings:
    sites: dict[str, str] = field(default_factory=dict)
    device_types: dict[str, str] = field(default_factory=dict)
    platforms: dict[str, str] = field(default_factory=dict)
    roles: tuple[RoleRule, ...] = ()
    ownership: dict[SyncField, Owner] = field(default_factory=dict)  # what differs from DEFAULT_OWNERSHIP

    def __post_init__(self) -> None:
        folded = {t: {fold(k): v for k, v in getattr(self, t).items()} for t in TABLES}
        object.__setattr__(self, "_folded", folded)

    _folded: dict[str, dict[str, str]] = field(default_factory=dict, repr=False, compare=False)

    def lookup(self, table: str, value: str) -> str | None:
        """The mapped NetBox name for a LibreNMS value (case-insensitive), or None."""
        return self._folded[table].get(fold(value)) if value else None

    def owner(self, name: SyncField) -> Owner:
        """Who owns the field: librenms_id is the link (LibreNMS's); a stack's membership is NetBox's."""
        if name is SyncField.LIBRENMS_ID:
            return Owner.LIBRENMS
        if name is SyncField.STACK:
            return Owner.NETBOX
        return self.ownership.get(name) or DEFAULT_OWNERSHIP[name]

    def owners(self) -> dict[SyncField, Owner]:
        """Every field a team may give to either side, with its owner now."""
        return {name: self.owner(name) for name in DEFAULT_OWNERSHIP}

    def with_ownership(self, owners: Mapping[SyncField, Owner]) -> Mappings:
        """A copy with these owners (what equals the default is not kept: the file says only what differs)."""
        for name in owners:
            if name not in DEFAULT_OWNERSHIP:
                raise ValueError(f"{name} has no owner to choose")
        kept = {SyncField(k): Owner(v) for k, v in owners.items() if DEFAULT_OWNERSHIP[SyncField(k)] != v}
        return Mappings(**{t: getattr(self, t) for t in TABLES}, roles=self.roles, ownership=kept)

    def default_role(self, device: LibreDevice, kind: Kind) -> tuple[str, RoleRule] | None:
        for rule in self.roles:
            if rule.matches(device, kind):
                return rule.role, rule
        return None

    def with_entry(self, table: str, key: str, value: str | None) -> Mappings:
        """A copy with one entry set (or removed when value is None)."""
        if table not in TABLES:
            raise ValueError(f"unknown mapping table {table!r}")
        entries = dict(getattr(self, table))
        if value is None:
            entries.pop(key, None)
        else:
            entries[key] = value
        return Mappings(
            **{**{t: getattr(self, t) for t in TABLES}, table: entries},
            roles=self.roles,
            ownership=self.ownership,
        )

    def with_table(self, table: str, entries: Mapping[str, str]) -> Mappings:
        """A copy with one whole table replaced (the Mappings page saves a table at a time)."""
        if table not in TABLES:
            raise ValueError(f"unknown mapping table {table!r}")
        return Mappings(
            **{**{t: getattr(self, t) for t in TABLES}, table: dict(entries)},
            roles=self.roles,
            ownership=self.ownership,
        )

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {t: dict(getattr(self, t)) for t in TABLES}
        out["roles"] = [r.as_dict() for r in self.roles]
        if self.ownership:
            out["ownership"] = {name.value: owner.value for name, owner in self.ownership.items()}
        return out


def _table(data: Mapping[str, Any], name: str, where: str) -> dict[str, str]:
    table = data.get(name) or {}
    if not isinstance(table, Mapping):
        raise ConfigError(f"{where}: '{name}' must be a table of 'LibreNMS value: NetBox object'.")
    return {str(k): str(v) for k, v in table.items() if v is not None and str(v).strip()}


def load_mappings(path: Path) -> Mappings:
    """Read the mapping file; a missing file means empty tables."""
    if not path.is_file():
        return Mappings()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {exc}") from None
    return mappings_from_dict(data, str(path))


def mappings_from_dict(data: Any, where: str = "mappings") -> Mappings:
    """Mappings from their data form (what the YAML file holds, or `Mappings.as_dict()`), checked by the
    rules of the mapping file; `where` names the source in errors (ConfigError)."""
    if not isinstance(data, Mapping):
        raise ConfigError(f"{where} must hold the tables sites, device_types, platforms and roles.")
    rules = []
    for i, raw in enumerate(data.get("roles") or []):
        if not isinstance(raw, Mapping) or not raw.get("role"):
            raise ConfigError(f"{where}: role rule {i + 1} needs a 'role'.")
        unknown = sorted(str(k) for k in raw if k not in RULE_KEYS)
        if unknown:  # ignoring a misspelt condition would make the rule match every device
            raise ConfigError(
                f"{where}: role rule {i + 1} has unknown key(s) {', '.join(unknown)}; "
                f"use {', '.join(RULE_KEYS)}."
            )
        rule = RoleRule(**{k: str(raw[k]) for k in RULE_KEYS if raw.get(k)})
        if rule.kind and fold(rule.kind) not in {k.value for k in Kind}:
            raise ConfigError(
                f"{where}: role rule {i + 1} has kind {rule.kind!r}; use {' or '.join(k.value for k in Kind)}."
            )
        for pattern in (rule.os, rule.hardware):
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ConfigError(
                    f"{where}: role rule {i + 1} has a bad pattern {pattern!r}: {exc}"
                ) from None
        rules.append(rule)
    return Mappings(
        **{t: _table(data, t, where) for t in TABLES}, roles=tuple(rules), ownership=_ownership(data, where)
    )


def _ownership(data: Mapping[str, Any], where: str) -> dict[SyncField, Owner]:
    raw = data.get("ownership") or {}
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where}: 'ownership' must be a table of 'field: librenms or netbox'.")
    owners = {o.value for o in Owner}
    choosable = ", ".join(f.value for f in DEFAULT_OWNERSHIP)
    out: dict[SyncField, Owner] = {}
    for key, value in raw.items():
        name = str(key).strip()
        if name in NETBOX_ONLY or name == "role":
            raise ConfigError(
                f"{where}: ownership of '{name}': NetBox always owns it; choose among {choosable}."
            )
        if name not in {f.value for f in DEFAULT_OWNERSHIP}:
            raise ConfigError(f"{where}: ownership of unknown field '{name}'; choose among {choosable}.")
        if str(value).strip().casefold() not in owners:
            raise ConfigError(f"{where}: ownership of '{name}' is {value!r}; use librenms or netbox.")
        owner = Owner(str(value).strip().casefold())
        if owner is not DEFAULT_OWNERSHIP[SyncField(name)]:
            out[SyncField(name)] = owner
    return out


def save_mappings(path: Path, mappings: Mappings) -> None:
    """Write atomically (a reader never sees half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = yaml.safe_dump(mappings.as_dict(), allow_unicode=True, sort_keys=False)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)  # no half-written temporary file left beside the real one
        raise


def suggest(value: str, names: Iterable[str], n: int = 3) -> list[str]:
    """The closest NetBox names to a LibreNMS value (difflib ratio on case-folded text, plus containment)."""
    names = list(names)
    folded = {fold(name): name for name in names}
    target = fold(value)
    if not target:  # every name 'contains' the empty string
        return []
    contained = [orig for f, orig in folded.items() if f and (f in target or target in f)]
    close = difflib.get_close_matches(target, list(folded), n=n, cutoff=0.4)
    out = contained + [folded[c] for c in close if folded[c] not in contained]
    return out[:n]


# ------------------------------------------------------------------ editing a table


def _cell(value: object) -> str:
    """A grid cell as text: missing cells (None, pandas NaN) are empty."""
    return value.strip() if isinstance(value, str) else ""


def table_from_rows(rows: Iterable[tuple[object, object]]) -> tuple[dict[str, str], list[str]]:
    """Rows of (LibreNMS value, NetBox object) as edited in a grid → (the table, problems in words).

    Wholly empty rows are ignored; a half-filled row or a value listed twice (case-insensitively, as
    lookups are) is a problem. The caller saves nothing while there are problems.
    """
    entries: dict[str, str] = {}
    seen: dict[str, str] = {}
    problems: list[str] = []
    for raw_key, raw_target in rows:
        key, target = _cell(raw_key), _cell(raw_target)
        if not key and not target:
            continue
        if not key:
            problems.append(f"A row mapping to '{target}' has no LibreNMS value.")
            continue
        if not target:
            problems.append(f"'{key}' has no NetBox object: pick one or delete the row.")
            continue
        if fold(key) in seen:
            problems.append(f"'{key}' is listed twice (values match case-insensitively): keep one row.")
            continue
        seen[fold(key)] = key
        entries[key] = target
    return entries, problems


@dataclass(frozen=True, slots=True)
class TableChange:
    """What saving a table changes, for the report after a save."""

    added: dict[str, str] = field(default_factory=dict)
    changed: dict[str, tuple[str, str]] = field(default_factory=dict)  # key → (old, new)
    removed: dict[str, str] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.added or self.changed or self.removed)

    def describe(self) -> list[str]:
        """One line per change, e.g. `added 'Lab 2' → lab`."""
        return [
            *(f"added '{k}' → {v}" for k, v in self.added.items()),
            *(f"changed '{k}': {old} → {new}" for k, (old, new) in self.changed.items()),
            *(f"removed '{k}' (was {v})" for k, v in self.removed.items()),
        ]


def diff_table(old: Mapping[str, str], new: Mapping[str, str]) -> TableChange:
    return TableChange(
        added={k: v for k, v in new.items() if k not in old},
        changed={k: (old[k], v) for k, v in new.items() if k in old and old[k] != v},
        removed={k: v for k, v in old.items() if k not in new},
    )
