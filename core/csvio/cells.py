"""A review row as cells: the columns of the review CSV, the one row → cells mapping (the grid uses it too),
the link to the device in LibreNMS, and the formula-injection escape that makes every cell safe to open in a
spreadsheet.

Formula injection: LibreNMS values (hostname, sysName, hardware…) come from devices and may start with
`=`, `+`, `-`, `@`, a tab or a carriage return, which a spreadsheet would run as a formula. Such a cell is
written with a leading single quote; a value that already starts with a quote followed by such a value
gets one more quote. `unescape_cell` undoes exactly that, so export → import is lossless.

Only Row fields become cells: never a token, never an SNMP credential (those never reach a Row; see
core.librenms.SNMP_CREDENTIAL_KEYS).
"""

from __future__ import annotations

from collections.abc import Mapping

from core.choices import Kind
from core.review import Ref, Row
from core.values import public_url

COLUMNS: tuple[str, ...] = (
    "server",
    "librenms_id",
    "hostname",
    "location",
    "hardware",
    "os",
    "name",
    "kind",
    "site",
    "device_type",
    "platform",
    "role",
    "rack",
    "cluster",
    "status",
    "issues",
    "import",
    "netbox_url",
    "librenms_url",
    "stack_members",
    "sync",
    "differences",
    "action",
    "update",
)
# The columns apply_csv reads back; every other column is information only and ignored on import.
EDITABLE_COLUMNS: tuple[str, ...] = (
    "name",
    "kind",
    "site",
    "device_type",
    "platform",
    "role",
    "rack",
    "cluster",
    "import",
    "action",
    "update",
)
REFERENCE_FIELDS: tuple[str, ...] = ("site", "device_type", "platform", "role", "rack", "cluster")

# What an `import` cell may say, and a `kind` cell (case-insensitive). Written: "yes"/"no", "device"/"vm".
TRUE_WORDS = frozenset({"yes", "y", "true", "1", "x"})
FALSE_WORDS = frozenset({"no", "n", "false", "0"})
KIND_WORDS = {
    "device": Kind.DEVICE,
    "vm": Kind.VM,
    "virtual machine": Kind.VM,
    "virtual_machine": Kind.VM,
    "virtual-machine": Kind.VM,
}

FORMULA_TRIGGERS = frozenset("=+-@\t\r")

LinkBase = str | Mapping[str, str]  # a LibreNMS base URL, or {server key: base URL}


# ------------------------------------------------------------------ formula injection


def _needs_quote(value: str) -> bool:
    """True for values a spreadsheet would read as a formula, and for values that look already escaped."""
    if not value:
        return False
    if value[0] in FORMULA_TRIGGERS:
        return True
    return value[0] == "'" and _needs_quote(value[1:])


def escape_cell(value: str) -> str:
    """The value as it is safe to put in a spreadsheet cell: formula-like values get a leading quote."""
    return "'" + value if _needs_quote(value) else value


def unescape_cell(value: str) -> str:
    """Undo `escape_cell` exactly (and nothing else: "'abc" stays "'abc")."""
    if value.startswith("'") and _needs_quote(value[1:]):
        return value[1:]
    return value


# ------------------------------------------------------------------ cell values


def parse_flag(text: str) -> bool:
    """An `import` cell's word as a bool; ValueError for a word that is neither yes nor no."""
    folded = text.strip().casefold()
    if folded in TRUE_WORDS:
        return True
    if folded in FALSE_WORDS:
        return False
    raise ValueError(text)


def flag_cell(value: bool) -> str:
    return "yes" if value else "no"


def _ref_cell(row: Row, name: str) -> str:
    """The object's name; when none was resolved, the user's choice as typed (so it round-trips)."""
    ref: Ref | None = getattr(row, name)
    if ref is not None:
        return ref.name
    return getattr(row.overrides, name) or ""


def librenms_link(row: Row, librenms_url: LinkBase = "") -> str:
    """The device's page in LibreNMS, from a base URL without its credentials, query or API path; empty
    without a base URL for the row's server."""
    base = librenms_url.get(row.device.server_key, "") if isinstance(librenms_url, Mapping) else librenms_url
    base = public_url(base, drop_suffix="/api/v0") if base else ""
    return f"{base}/device/device={row.device.device_id}/" if base else ""


def stack_members_text(row: Row) -> str:
    """Stack members as "1:SERIAL:MODEL|2:SERIAL:MODEL"; empty when the row is not a stack."""
    if row.stack is None:
        return ""
    return "|".join(f"{m.position}:{m.serial}:{m.model}" for m in row.stack.members)


def row_cells(row: Row, *, librenms_url: LinkBase = "") -> dict[str, str]:
    """The row as cells (unescaped), keyed by column: what the CSV writes and the grid shows."""
    device = row.device
    return {
        "server": device.server_key,
        "librenms_id": str(device.device_id),
        "hostname": device.hostname,
        "location": device.location,
        "hardware": device.hardware,
        "os": device.os,
        "name": row.name,
        "kind": row.kind.value,
        "site": _ref_cell(row, "site"),
        "device_type": _ref_cell(row, "device_type"),
        "platform": _ref_cell(row, "platform"),
        "role": _ref_cell(row, "role"),
        "rack": _ref_cell(row, "rack"),
        "cluster": _ref_cell(row, "cluster"),
        "status": row.status.value,
        "issues": row.issues_text(),
        "import": flag_cell(row.will_import),
        "netbox_url": row.existing.url if row.existing is not None else "",
        "librenms_url": librenms_link(row, librenms_url),
        "stack_members": stack_members_text(row),
        "sync": row.sync.value if row.sync else "",
        "differences": differences_text(row),
        "action": row.overrides.action.value if row.overrides.action else "",
        "update": (row.overrides.update or "").replace(",", ", "),
    }


def differences_text(row: Row) -> str:
    """An existing row's differences, "serial: OLD → NEW; site (NetBox's): A → B": those NetBox owns say so."""
    return "; ".join(
        str(d) if d.updatable else f"{d.field.value} (NetBox's): {d.netbox} → {d.librenms}"
        for d in row.differences
    )
