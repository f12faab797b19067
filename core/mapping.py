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

from core.errors import ConfigError
from core.models import Kind, LibreDevice

TABLES = ("sites", "device_types", "platforms")


def _fold(text: str | None) -> str:
    return (text or "").strip().casefold()


@dataclass(frozen=True, slots=True)
class RoleRule:
    role: str
    type: str = ""
    os: str = ""
    hardware: str = ""
    kind: str = ""

    def matches(self, device: LibreDevice, kind: Kind) -> bool:
        if self.type and _fold(self.type) != _fold(device.type):
            return False
        if self.kind and _fold(self.kind) != kind.value:
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
        folded = {t: {_fold(k): v for k, v in getattr(self, t).items()} for t in TABLES}
        object.__setattr__(self, "_folded", folded)

    _folded: dict[str, dict[str, str]] = field(default_factory=dict, repr=False, compare=False)

    def lookup(self, table: str, value: str) -> str | None:
        """The mapped NetBox name for a LibreNMS value (case-insensitive), or None."""
        return self._folded[table].get(_fold(value)) if value else None

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

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {t: dict(getattr(self, t)) for t in TABLES}
        out["roles"] = [r.as_dict() for r in self.roles]
        return out


def _table(data: Mapping[str, Any], name: str, path: Path) -> dict[str, str]:
    table = data.get(name) or {}
    if not isinstance(table, Mapping):
        raise ConfigError(f"{path}: '{name}' must be a table of 'LibreNMS value: NetBox object'.")
    return {str(k): str(v) for k, v in table.items() if v is not None and str(v).strip()}


def load_mappings(path: Path) -> Mappings:
    """Read the mapping file; a missing file means empty tables."""
    if not path.is_file():
        return Mappings()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {exc}") from None
    if not isinstance(data, Mapping):
        raise ConfigError(f"{path} must hold the tables sites, device_types, platforms and roles.")
    rules = []
    for i, raw in enumerate(data.get("roles") or []):
        if not isinstance(raw, Mapping) or not raw.get("role"):
            raise ConfigError(f"{path}: role rule {i + 1} needs a 'role'.")
        rule = RoleRule(**{k: str(raw[k]) for k in ("role", "type", "os", "hardware", "kind") if raw.get(k)})
        for pattern in (rule.os, rule.hardware):
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ConfigError(f"{path}: role rule {i + 1} has a bad pattern {pattern!r}: {exc}") from None
        rules.append(rule)
    return Mappings(**{t: _table(data, t, path) for t in TABLES}, roles=tuple(rules))


def save_mappings(path: Path, mappings: Mappings) -> None:
    """Write atomically (a reader never sees half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = yaml.safe_dump(mappings.as_dict(), allow_unicode=True, sort_keys=False)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, path)


def suggest(value: str, names: Iterable[str], n: int = 3) -> list[str]:
    """The closest NetBox names to a LibreNMS value (difflib ratio on case-folded text, plus containment)."""
    names = list(names)
    folded = {_fold(name): name for name in names}
    target = _fold(value)
    contained = [orig for f, orig in folded.items() if f and (f in target or target in f)]
    close = difflib.get_close_matches(target, list(folded), n=n, cutoff=0.4)
    out = contained + [folded[c] for c in close if folded[c] not in contained]
    return out[:n]
