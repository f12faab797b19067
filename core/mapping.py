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

from core.choices import Kind
from core.errors import ConfigError
from core.librenms import LibreDevice
from core.values import fold

TABLES = ("sites", "device_types", "platforms")
RULE_KEYS = ("role", "type", "os", "hardware", "kind")


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

    def __post_init__(self) -> None:
        folded = {t: {fold(k): v for k, v in getattr(self, t).items()} for t in TABLES}
        object.__setattr__(self, "_folded", folded)

    _folded: dict[str, dict[str, str]] = field(default_factory=dict, repr=False, compare=False)

    def lookup(self, table: str, value: str) -> str | None:
        """The mapped NetBox name for a LibreNMS value (case-insensitive), or None."""
        return self._folded[table].get(fold(value)) if value else None

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
        return Mappings(**{**{t: getattr(self, t) for t in TABLES}, table: entries, "roles": self.roles})

    def with_table(self, table: str, entries: Mapping[str, str]) -> Mappings:
        """A copy with one whole table replaced (the Mappings page saves a table at a time)."""
        if table not in TABLES:
            raise ValueError(f"unknown mapping table {table!r}")
        return Mappings(
            **{**{t: getattr(self, t) for t in TABLES}, table: dict(entries), "roles": self.roles}
        )

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {t: dict(getattr(self, t)) for t in TABLES}
        out["roles"] = [r.as_dict() for r in self.roles]
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
    return Mappings(**{t: _table(data, t, where) for t in TABLES}, roles=tuple(rules))


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
