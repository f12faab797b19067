"""LibreNMS REST API v0 simulator, standard library only.

Serves a fixture directory (``devices.json``, ``locations.json``, ``system.json``,
``inventory/<hostname>.json`` and optionally ``addresses/<hostname>.json``) the way a
LibreNMS 26.x instance answers, following ``docs/librenms-api.md``: Laravel's
401 before routing, the ``status``/payload/``count`` envelope, PHP's pretty-printed JSON
(``\\/`` and ``\\uXXXX`` escapes) and MySQL-like filtering (case-insensitive, ``LIKE``
wildcards, numeric coercion).

Variants: ``location_object`` (26.5 regression: ``location`` as an object) and ``legacy``
(pre-PHP-8.1: numbers as strings, boolean ``status`` and ``images/os/`` icons on GET-one).
``synthetic=N`` serves N devices derived from the fixture devices for benchmarks.

Unauthenticated control endpoints, never reachable under ``/api/v0``:

- ``GET|POST|DELETE /_sim/faults``: read, change (JSON body, any subset of ``delay``,
  ``error_rate``, ``error_status``, ``fail_next``, ``truncate_rate``, ``truncate_next``,
  ``seed``, ``path_prefix``) or reset the fault switches; with ``path_prefix`` (e.g.
  ``/api/v0/inventory``) the faults hit only the requests whose path starts with it;
- ``GET|DELETE /_sim/stats``: request counters by path, or reset them.

Usage::

    python -m devtools.librenms_sim --port 8001 --token demo-librenms-token

    with LibreNMSSimulator() as sim:
        requests.get(f"{sim.url}/api/v0/devices", headers={"X-Auth-Token": "demo-librenms-token"})

Tokens are never logged or echoed.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import ipaddress
import json
import os
import random
import re
import signal
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

Json = dict[str, Any]

DEFAULT_DATA_DIR = Path(__file__).resolve().parent / "librenms-data"
DEFAULT_TOKEN = "demo-librenms-token"
TOKEN_ENV = "LIBRENMS_TOKEN"
DEFAULT_CLI_PORT = 8001

API_PREFIX = "/api/v0"
CONTROL_PREFIX = "/_sim"
JSON_CONTENT_TYPE = "application/json"
ROUTE_NOT_FOUND = "This API route doesn't exist."

# Per-device fields the single-device endpoint does not return.
DEPENDENCY_KEYS = ("dependency_parent_id", "dependency_parent_hostname")
LEGACY_ICON_PREFIX = "images/os/"

_STATE_FILTERS: dict[str, dict[str, int]] = {
    "active": {"ignore": 0, "disabled": 0},
    "ignored": {"ignore": 1, "disabled": 0},
    "up": {"status": 1, "ignore": 0, "disabled": 0, "disable_notify": 0},
    "down": {"status": 0, "ignore": 0, "disabled": 0, "disable_notify": 0},
    "disabled": {"disabled": 1},
}
_LIKE_FILTERS = frozenset({"hostname", "display", "serial", "version", "hardware", "features", "location"})
_EXACT_FILTERS = frozenset({"device_id", "sysName", "os", "type", "location_id"})
_ORDER_PATTERN = re.compile(r"([A-Za-z_]+)(?: (asc|desc))?", re.IGNORECASE)
_DIGITS = re.compile(r"[0-9]+")
_MYSQL_NUMBER_PREFIX = re.compile(r"\s*[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_TOKEN_IN_QUERY = re.compile(r"(api_token=)[^&\s'\"]*", re.IGNORECASE)

# Management port synthesized for every device that has an IP: os -> (ifName, ifIndex, ifType).
_MGMT_PORTS: dict[str, tuple[str, int, str]] = {
    "ios": ("Vlan1", 1, "propVirtual"),
    "iosxe": ("Vlan1", 1, "propVirtual"),
    "nxos": ("mgmt0", 83886080, "ethernetCsmacd"),
    "linux": ("eth0", 2, "ethernetCsmacd"),
}
_DEFAULT_MGMT_PORT = ("Ethernet0", 1, "ethernetCsmacd")
PORT_COLUMNS = (
    "port_id",
    "device_id",
    "ifIndex",
    "ifName",
    "ifDescr",
    "ifAlias",
    "ifType",
    "ifSpeed",
    "ifMtu",
    "ifAdminStatus",
    "ifOperStatus",
    "ifPhysAddress",
    "ifVlan",
    "ifTrunk",
    "ifDuplex",
    "portName",
    "disabled",
    "ignore",
    "deleted",
)

_SYNTHETIC_IPV4_BASE = int(ipaddress.IPv4Address("10.128.0.0"))
_SYNTHETIC_OVERWRITE_IPV4_BASE = int(ipaddress.IPv4Address("100.64.0.0"))
_SYNTHETIC_IPV6_BASE = int(ipaddress.IPv6Address("2001:db8:ffff::"))
_SYNTHETIC_ENTITY_STRIDE = 100_000


# --------------------------------------------------------------------------- encoding


@dataclass(frozen=True)
class ApiResponse:
    """A complete HTTP answer: status code, body bytes and content type."""

    status: int
    body: bytes
    content_type: str = JSON_CONTENT_TYPE


def php_json(payload: Any) -> bytes:
    """Encode like PHP ``json_encode($x, JSON_PRETTY_PRINT)``: 4-space indent, ``\\/``, ``\\uXXXX``."""
    return json.dumps(payload, indent=4, ensure_ascii=True).replace("/", "\\/").encode("ascii")


def api_ok(key: str, payload: Any) -> ApiResponse:
    """LibreNMS success envelope; ``count`` only for list payloads."""
    envelope: Json = {"status": "ok", key: payload}
    if isinstance(payload, list):
        envelope["count"] = len(payload)
    return ApiResponse(HTTPStatus.OK, php_json(envelope))


def api_error(status: int, message: str) -> ApiResponse:
    """LibreNMS error envelope (no ``count``)."""
    return ApiResponse(status, php_json({"status": "error", "message": message}))


def laravel_error(status: int, message: str, *, pretty: bool = True) -> ApiResponse:
    """Laravel's own ``{"message": ...}`` body (exception handler pretty-prints, the auth guard does not)."""
    if pretty:
        body = json.dumps({"message": message}, indent=4)
    else:
        body = json.dumps({"message": message}, separators=(",", ":"))
    return ApiResponse(status, body.encode("ascii"))


def fault_response(status: int) -> ApiResponse:
    """Body for an injected failure: Laravel JSON for 403/500, a proxy HTML page otherwise."""
    if status == HTTPStatus.FORBIDDEN:
        return laravel_error(status, "This action is unauthorized.")
    if status == HTTPStatus.INTERNAL_SERVER_ERROR:
        return laravel_error(status, "Server Error")
    try:
        reason = HTTPStatus(status).phrase
    except ValueError:
        reason = "Error"
    page = (
        f"<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n"
        f"<center><h1>{status} {reason}</h1></center>\r\n<hr><center>nginx</center>\r\n"
        "</body>\r\n</html>\r\n"
    )
    return ApiResponse(status, page.encode("ascii"), "text/html")


# --------------------------------------------------------------------------- MySQL-like matching


def parse_query(raw: str) -> dict[str, str]:
    """Query parameters as Laravel sees them: trimmed, empty means absent, last value wins."""
    values: dict[str, str] = {}
    for key, value in parse_qsl(raw, keep_blank_values=True):
        value = value.strip()
        if value:
            values[key] = value
        else:
            values.pop(key, None)
    return values


def mysql_number(text: str) -> float:
    """Coerce a string the way MySQL does when comparing it with a numeric column."""
    match = _MYSQL_NUMBER_PREFIX.match(text)
    return float(match.group()) if match else 0.0


def sql_equals(value: Any, operand: str | None) -> bool:
    """``column = operand`` under a ``*_ci`` collation; a missing operand means ``IS NULL``."""
    if operand is None or value is None:
        return operand is None and value is None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value == mysql_number(operand)
    return str(value).casefold() == operand.casefold()


def like_matcher(pattern: str) -> Callable[[Any], bool]:
    """``column LIKE pattern``, case-insensitive, ``%``/``_`` as wildcards; NULL never matches."""
    regex = re.compile(
        "".join(".*" if char == "%" else "." if char == "_" else re.escape(char) for char in pattern),
        re.IGNORECASE | re.DOTALL,
    )

    def matches(value: Any) -> bool:
        return value is not None and regex.fullmatch(str(value)) is not None

    return matches


def _is_digits(text: str) -> bool:
    """PHP ``ctype_digit``: ASCII digits only, at least one."""
    return _DIGITS.fullmatch(text) is not None


def _sort_key(column: str) -> Callable[[Json], tuple[int, Any]]:
    """MySQL ordering: NULL first, strings case-insensitively."""

    def key(device: Json) -> tuple[int, Any]:
        value = device.get(column)
        if value is None:
            return (0, 0)
        return (1, value.lower() if isinstance(value, str) else value)

    return key


# --------------------------------------------------------------------------- synthetic data


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _synthetic_ip(template_ip: str, index: int) -> str:
    if ipaddress.ip_address(template_ip).version == 6:
        return str(ipaddress.IPv6Address(_SYNTHETIC_IPV6_BASE + index + 1))
    return str(ipaddress.IPv4Address(_SYNTHETIC_IPV4_BASE + index + 1))


def _suffixed(name: str, index: int) -> str:
    """``core-sw01.hq.example.net`` -> ``core-sw01-s7.hq.example.net``."""
    label, dot, rest = name.partition(".")
    return f"{label}-s{index}{dot}{rest}"


def _synthetic_hostname(template: Json, index: int) -> str:
    hostname: str = template["hostname"]
    return _synthetic_ip(hostname, index) if _is_ip(hostname) else _suffixed(hostname, index)


def _synthetic_serial(serial: str, index: int) -> str:
    """Unique per index, deterministic per (serial, index): the same input serial maps alike."""
    digest = hashlib.sha256(serial.encode()).hexdigest()[:4].upper()
    return f"{serial[:3]}{index:06X}{digest}"


def _renamed(value: str | None, template: Json, hostname: str, index: int) -> str | None:
    """sysName/display: follow the hostname when equal to it, keep ``""``/null, else suffix."""
    if not value:
        return value
    if value.lower() == template["hostname"].lower():
        return hostname
    return _suffixed(value, index)


def synthesize_devices(templates: Sequence[Json], n: int) -> list[Json]:
    """Build ``n`` devices by cycling through ``templates`` (deterministic).

    Device ``i`` (0-based) copies ``templates[i % len(templates)]`` and gets ``device_id``
    ``i + 1`` plus a unique hostname, sysName, display, serial, ip and overwrite_ip (empty or
    null values stay as they are). Each pass over the templates forms a batch in which
    ``parent_id`` and dependency parents point to the copies of the template parents; links
    to copies beyond ``n`` are dropped.
    """
    if n < 0:
        raise ValueError("n must not be negative")
    if n and not templates:
        raise ValueError("templates must not be empty")
    size = len(templates)
    position = {template["device_id"]: offset for offset, template in enumerate(templates)}

    def sibling(template_id: int, index: int) -> int | None:
        offset = position.get(template_id)
        if offset is None:
            return None
        candidate = index - index % size + offset
        return candidate if candidate < n else None

    devices: list[Json] = []
    for index in range(n):
        template = templates[index % size]
        hostname = _synthetic_hostname(template, index)
        device = dict(template)
        device["device_id"] = index + 1
        device["hostname"] = hostname
        device["sysName"] = _renamed(template["sysName"], template, hostname, index)
        device["display"] = _renamed(template.get("display"), template, hostname, index)
        if template["ip"]:
            device["ip"] = _synthetic_ip(template["ip"], index)
        if template.get("overwrite_ip"):
            device["overwrite_ip"] = str(ipaddress.IPv4Address(_SYNTHETIC_OVERWRITE_IPV4_BASE + index + 1))
        if template.get("serial"):
            device["serial"] = _synthetic_serial(template["serial"], index)
        if "parent_id" in template:
            parent = sibling(template["parent_id"], index)
            if parent is None:
                del device["parent_id"]
            else:
                device["parent_id"] = parent + 1
        if template.get("dependency_parent_id"):
            parents = [
                found
                for parent_id in str(template["dependency_parent_id"]).split(",")
                if (found := sibling(int(parent_id), index)) is not None
            ]
            device["dependency_parent_id"] = ",".join(str(parent + 1) for parent in parents) or None
            device["dependency_parent_hostname"] = (
                ",".join(_synthetic_hostname(templates[parent % size], parent) for parent in parents) or None
            )
        devices.append(device)
    return devices


def _synthesize_inventory(rows: Iterable[Json], device_id: int, index: int) -> list[Json]:
    """Template inventory rows re-owned by a synthetic device, with unique ids and serials."""
    return [
        {
            **row,
            "entPhysical_id": (index + 1) * _SYNTHETIC_ENTITY_STRIDE
            + row["entPhysical_id"] % _SYNTHETIC_ENTITY_STRIDE,
            "device_id": device_id,
            "entPhysicalSerialNum": (
                _synthetic_serial(row["entPhysicalSerialNum"], index)
                if row["entPhysicalSerialNum"]
                else row["entPhysicalSerialNum"]
            ),
        }
        for row in rows
    ]


# --------------------------------------------------------------------------- data set


def _read_payload(path: Path, key: str) -> list[Json]:
    """A fixture file holds either the full API envelope or the bare list."""
    document = json.loads(path.read_text(encoding="utf-8"))
    return document[key] if isinstance(document, dict) else document


def _read_payload_dir(directory: Path, key: str) -> dict[str, list[Json]]:
    """``<dir>/<hostname>.json`` files keyed by lower-cased hostname."""
    if not directory.is_dir():
        return {}
    return {path.stem.lower(): _read_payload(path, key) for path in sorted(directory.glob("*.json"))}


class Dataset:
    """Read-only LibreNMS data: devices, locations, system info, inventories, addresses, ports."""

    def __init__(
        self,
        devices: list[Json],
        locations: list[Json],
        system: list[Json],
        inventories: Mapping[str, list[Json]],
        addresses: Mapping[str, list[Json]],
        origins: Mapping[int, tuple[str, int]] | None = None,
    ) -> None:
        """``origins`` maps synthetic device ids to (template hostname, synthetic index)."""
        self.devices = devices
        self.locations = locations
        self.system = system
        self._inventories = inventories
        self._addresses = addresses
        self._origins = origins
        self._by_id = {device["device_id"]: device for device in devices}
        self._by_hostname = {device["hostname"].lower(): device for device in devices}
        self._locations_by_id = {location["id"]: location for location in locations}
        # Columns usable in ``order`` (parent_id is computed in PHP, not selected from SQL).
        self.device_columns = {key.lower(): key for device in devices for key in device if key != "parent_id"}

    @classmethod
    def load(cls, data_dir: Path, synthetic: int | None = None) -> Dataset:
        """Read a fixture directory; ``synthetic`` replaces its devices with that many derived ones."""
        devices = _read_payload(data_dir / "devices.json", "devices")
        origins = None
        if synthetic is not None:
            templates = devices
            devices = synthesize_devices(templates, synthetic)
            origins = {
                device["device_id"]: (templates[index % len(templates)]["hostname"], index)
                for index, device in enumerate(devices)
            }
        return cls(
            devices=devices,
            locations=_read_payload(data_dir / "locations.json", "locations"),
            system=_read_payload(data_dir / "system.json", "system"),
            inventories=_read_payload_dir(data_dir / "inventory", "inventory"),
            addresses=_read_payload_dir(data_dir / "addresses", "addresses"),
            origins=origins,
        )

    def find_device(self, ident: str) -> Json | None:
        """All digits: device_id; otherwise the hostname, case-insensitively."""
        if _is_digits(ident):
            return self._by_id.get(int(ident))
        return self._by_hostname.get(ident.lower())

    def find_location(self, ident: str) -> Json | None:
        if _is_digits(ident):
            return self._locations_by_id.get(int(ident))
        wanted = ident.casefold()
        return next((row for row in self.locations if str(row["location"]).casefold() == wanted), None)

    def location_of(self, device: Json) -> Json | None:
        location = self._locations_by_id.get(device["location_id"])
        return dict(location) if location is not None else None

    def inventory(self, device: Json) -> list[Json]:
        if self._origins is None:
            return self._inventories.get(device["hostname"].lower(), [])
        template_hostname, index = self._origins[device["device_id"]]
        return _synthesize_inventory(
            self._inventories.get(template_hostname.lower(), []), device["device_id"], index
        )

    def ports(self, device: Json) -> list[Json]:
        """One synthesized management port for each device that has an IP."""
        if not device["ip"]:
            return []
        device_id = device["device_id"]
        if_name, if_index, if_type = _MGMT_PORTS.get(device["os"], _DEFAULT_MGMT_PORT)
        return [
            {
                "port_id": device_id * 1000 + 1,
                "device_id": device_id,
                "ifIndex": if_index,
                "ifName": if_name,
                "ifDescr": if_name,
                "ifAlias": "Management",
                "ifType": if_type,
                "ifSpeed": 1_000_000_000,
                "ifMtu": 1500,
                "ifAdminStatus": "up",
                "ifOperStatus": "up",
                "ifPhysAddress": f"02{device_id:010x}",
                "ifVlan": "1" if if_name == "Vlan1" else "",
                "ifTrunk": None,
                "ifDuplex": "fullDuplex",
                "portName": None,
                "disabled": 0,
                "ignore": 0,
                "deleted": 0,
            }
        ]

    def addresses(self, device: Json) -> list[Json]:
        """``addresses/<hostname>.json`` if present, else one address synthesized from ``ip``."""
        stored = self._addresses.get(device["hostname"].lower())
        if stored is not None:
            return stored
        ports = self.ports(device)
        if not ports or not _is_ip(device["ip"]):
            return []
        device_id, port_id = device["device_id"], ports[0]["port_id"]
        address = ipaddress.ip_address(device["ip"])
        if address.version == 4:
            return [
                {
                    "ipv4_address_id": device_id,
                    "ipv4_address": str(address),
                    "ipv4_prefixlen": 24,
                    "ipv4_network_id": device_id,
                    "port_id": port_id,
                    "context_name": None,
                }
            ]
        return [
            {
                "ipv6_address_id": device_id,
                "ipv6_address": address.exploded,
                "ipv6_compressed": address.compressed,
                "ipv6_prefixlen": 64,
                "ipv6_origin": "manual",
                "ipv6_network_id": device_id,
                "port_id": port_id,
                "context_name": None,
            }
        ]

    def device_filter(self, kind: str | None, query: str | None) -> Callable[[Json], bool] | None:
        """Predicate for ``list_devices``' ``type``/``query``; None means no filter."""
        if kind in _STATE_FILTERS:
            wanted = _STATE_FILTERS[kind]
            return lambda device: all(device.get(column) == value for column, value in wanted.items())
        if kind in _LIKE_FILTERS:
            matches = like_matcher(f"%{query or ''}%")
            return lambda device: matches(device.get(kind))
        if kind in _EXACT_FILTERS:
            return lambda device: sql_equals(device.get(kind), query)
        if kind == "mac":
            return lambda device: any(sql_equals(port["ifPhysAddress"], query) for port in self.ports(device))
        if kind in ("ipv4", "ipv6"):
            columns = ("ipv4_address",) if kind == "ipv4" else ("ipv6_address", "ipv6_compressed")
            return lambda device: any(
                sql_equals(row.get(column), query)
                for row in self.addresses(device)
                for column in columns
                if column in row
            )
        return None


# --------------------------------------------------------------------------- API


class LibreNMSApi:
    """Answers ``/api/v0`` requests from a :class:`Dataset`, independent of the HTTP layer."""

    def __init__(
        self, dataset: Dataset, tokens: Sequence[str], *, location_object: bool = False, legacy: bool = False
    ) -> None:
        self.tokens = tuple(token for token in tokens if token)
        if not self.tokens:
            raise ValueError("at least one non-empty API token is required")
        self.dataset = dataset
        self.location_object = location_object
        self.legacy = legacy

    def authenticated(self, headers: Mapping[str, str], query: Mapping[str, str]) -> bool:
        """X-Auth-Token, else ``?api_token=``, else ``Authorization: Bearer``."""
        token = headers.get("x-auth-token", "").strip() or query.get("api_token")
        if not token:
            scheme, _, credentials = headers.get("authorization", "").strip().partition(" ")
            token = credentials.strip() if scheme.lower() == "bearer" else None
        if not token:
            return False
        return any(hmac.compare_digest(token.encode(), accepted.encode()) for accepted in self.tokens)

    def handle(
        self, method: str, path: str, query: Mapping[str, str], headers: Mapping[str, str]
    ) -> ApiResponse:
        """Route one request. ``headers`` keys are lower-case; ``query`` comes from :func:`parse_query`."""
        if not self.authenticated(headers, query):
            return laravel_error(HTTPStatus.UNAUTHORIZED, "Unauthenticated.", pretty=False)
        if path != API_PREFIX and not path.startswith(API_PREFIX + "/"):
            return api_error(HTTPStatus.NOT_FOUND, ROUTE_NOT_FOUND)
        if method not in ("GET", "HEAD"):
            return api_error(
                HTTPStatus.METHOD_NOT_ALLOWED, f"The {method} method is not supported by the simulator."
            )
        rest = path[len(API_PREFIX) :].strip("/")
        segments = [unquote(segment) for segment in rest.split("/")] if rest else []
        if any(not segment for segment in segments):
            return api_error(HTTPStatus.NOT_FOUND, ROUTE_NOT_FOUND)
        match segments:
            case []:
                return ApiResponse(HTTPStatus.OK, php_json(self._route_map(headers.get("host", "localhost"))))
            case ["devices"]:
                return self._list_devices(query)
            case ["devices", ident]:
                return self._get_device(ident)
            case ["devices", ident, "ip"]:
                return self._device_addresses(ident)
            case ["devices", ident, "ports"]:
                return self._device_ports(ident, query)
            case ["inventory", ident]:
                return self._inventory(ident, query)
            case ["inventory", ident, "all"]:
                device = self.dataset.find_device(ident)
                return api_ok("inventory", self.dataset.inventory(device) if device else [])
            case ["resources", "locations"]:
                return self._list_locations()
            case ["location", ident]:
                location = self.dataset.find_location(ident)
                if location is None:
                    return api_error(HTTPStatus.NOT_FOUND, f"Location {ident} does not exist")
                return api_ok("get_location", location)
            case ["system"]:
                return api_ok("system", self.dataset.system)
        return api_error(HTTPStatus.NOT_FOUND, ROUTE_NOT_FOUND)

    @staticmethod
    def _route_map(host: str) -> dict[str, str]:
        base = f"http://{host}{API_PREFIX}"
        return {
            "list_devices": f"{base}/devices",
            "get_device": f"{base}/devices/{{hostname}}",
            "get_device_ip_addresses": f"{base}/devices/{{hostname}}/ip",
            "get_port_graphs": f"{base}/devices/{{hostname}}/ports",
            "get_inventory": f"{base}/inventory/{{hostname}}",
            "get_inventory_for_device": f"{base}/inventory/{{hostname}}/all",
            "list_locations": f"{base}/resources/locations",
            "get_location": f"{base}/location/{{location_id_or_name}}",
            "server_info": f"{base}/system",
        }

    def _present(self, device: Json, *, single: bool) -> Json:
        """Serializer view of a device for the configured variant."""
        out = dict(device)
        if single:
            for key in DEPENDENCY_KEYS:
                out.pop(key, None)
        if self.location_object:
            out["location"] = self.dataset.location_of(device)
        if self.legacy:
            out = {
                key: str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value
                for key, value in out.items()
            }
            if single:
                out["status"] = bool(device["status"])
                if device["icon"]:
                    out["icon"] = LEGACY_ICON_PREFIX + device["icon"]
                out["attribs"] = {}
                out["vrf_lite_cisco"] = []
        return out

    def _list_devices(self, query: Mapping[str, str]) -> ApiResponse:
        column, descending = "hostname", False
        order = query.get("order")
        if order is not None and (match := _ORDER_PATTERN.fullmatch(order)):
            resolved = self.dataset.device_columns.get(match.group(1).lower())
            if resolved is None:
                return laravel_error(HTTPStatus.INTERNAL_SERVER_ERROR, "Server Error")
            column, descending = resolved, (match.group(2) or "").lower() == "desc"
        predicate = self.dataset.device_filter(query.get("type"), query.get("query"))
        selected = [device for device in self.dataset.devices if predicate is None or predicate(device)]
        selected.sort(key=_sort_key(column), reverse=descending)
        return api_ok("devices", [self._present(device, single=False) for device in selected])

    def _get_device(self, ident: str) -> ApiResponse:
        device = self.dataset.find_device(ident)
        if device is None:
            return api_error(HTTPStatus.NOT_FOUND, f"Device {ident} does not exist")
        return api_ok("devices", [self._present(device, single=True)])

    def _device_addresses(self, ident: str) -> ApiResponse:
        device = self.dataset.find_device(ident)
        if device is None:
            return api_error(HTTPStatus.NOT_FOUND, f"Device {ident} does not exist")
        rows = self.dataset.addresses(device)
        if not rows:
            return api_error(
                HTTPStatus.NOT_FOUND, f"Device {device['device_id']} does not have any IP addresses"
            )
        return api_ok("addresses", rows)

    def _device_ports(self, ident: str, query: Mapping[str, str]) -> ApiResponse:
        device = self.dataset.find_device(ident)
        if device is None:
            return api_error(HTTPStatus.NOT_FOUND, f"Device {ident} does not exist")
        columns = [column.strip() for column in query.get("columns", "ifName").split(",")]
        invalid = [column for column in columns if column not in PORT_COLUMNS]
        if invalid:
            return api_error(HTTPStatus.BAD_REQUEST, "Invalid columns: " + ",".join(invalid))
        ports = self.dataset.ports(device)
        if not ports:
            return api_error(HTTPStatus.NOT_FOUND, "No ports found")
        return api_ok("ports", [{column: port[column] for column in columns} for port in ports])

    def _inventory(self, ident: str, query: Mapping[str, str]) -> ApiResponse:
        device = self.dataset.find_device(ident)
        if device is None:
            if _is_digits(ident):
                return api_ok("inventory", [])
            return api_error(HTTPStatus.BAD_REQUEST, "Invalid device provided")
        contained_in = query.get("entPhysicalContainedIn", "0")
        entity_class = query.get("entPhysicalClass")
        rows = [
            row
            for row in self.dataset.inventory(device)
            if sql_equals(row["entPhysicalContainedIn"], contained_in)
            and (entity_class is None or sql_equals(row["entPhysicalClass"], entity_class))
        ]
        return api_ok("inventory", rows)

    def _list_locations(self) -> ApiResponse:
        rows = [row for row in self.dataset.locations if row["location"] is not None]
        if not rows:
            return api_error(HTTPStatus.NOT_FOUND, "Locations do not exist")
        return api_ok("locations", rows)


# --------------------------------------------------------------------------- faults and stats


@dataclass(frozen=True)
class FaultDecision:
    """What to do to one request."""

    delay: float = 0.0
    error_status: int | None = None
    truncate: bool = False


_FAULT_DEFAULTS: Json = {
    "delay": 0.0,
    "error_rate": 0.0,
    "error_status": 500,
    "fail_next": 0,
    "truncate_rate": 0.0,
    "truncate_next": 0,
    "seed": None,
    "path_prefix": None,  # the faults apply only to request paths starting with it (None: every path)
}


def _validated_fault(key: str, value: Any) -> Any:
    if key not in _FAULT_DEFAULTS:
        raise ValueError(f"unknown fault switch: {key}")
    if key == "seed":
        if value is None or (isinstance(value, int) and not isinstance(value, bool)):
            return value
        raise ValueError("seed must be an integer or null")
    if key == "path_prefix":
        if value is None or (isinstance(value, str) and value.startswith("/")):
            return value or None
        raise ValueError("path_prefix must be a path starting with / or null")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{key} must be a number")
    if key in ("fail_next", "truncate_next", "error_status"):
        if value != int(value):
            raise ValueError(f"{key} must be an integer")
        value = int(value)
    if key == "error_status" and not 400 <= value <= 599:
        raise ValueError("error_status must be between 400 and 599")
    if key in ("error_rate", "truncate_rate") and not 0 <= value <= 1:
        raise ValueError(f"{key} must be between 0 and 1")
    if value < 0:
        raise ValueError(f"{key} must not be negative")
    return float(value) if key in ("delay", "error_rate", "truncate_rate") else value


class FaultInjector:
    """Thread-safe fault switches; :meth:`draw` decides the fate of each API request."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._settings: Json = dict(_FAULT_DEFAULTS)
        self._rng = random.Random()

    def update(self, changes: Mapping[str, Any]) -> None:
        """Apply any subset of the switches; all-or-nothing on validation errors."""
        validated = {key: _validated_fault(key, value) for key, value in changes.items()}
        with self._lock:
            self._settings.update(validated)
            if "seed" in validated:
                self._rng = random.Random(validated["seed"])

    def reset(self) -> None:
        with self._lock:
            self._settings = dict(_FAULT_DEFAULTS)
            self._rng = random.Random()

    def snapshot(self) -> Json:
        with self._lock:
            return dict(self._settings)

    def draw(self, path: str = "") -> FaultDecision:
        """The fate of one request to `path`: no fault when a ``path_prefix`` is set and does not match."""
        with self._lock:
            settings = self._settings
            prefix = settings["path_prefix"]
            if prefix is not None and not path.startswith(prefix):
                return FaultDecision()
            delay, status = settings["delay"], settings["error_status"]
            if settings["fail_next"] > 0:
                settings["fail_next"] -= 1
                return FaultDecision(delay, error_status=status)
            if settings["truncate_next"] > 0:
                settings["truncate_next"] -= 1
                return FaultDecision(delay, truncate=True)
            if settings["error_rate"] and self._rng.random() < settings["error_rate"]:
                return FaultDecision(delay, error_status=status)
            if settings["truncate_rate"] and self._rng.random() < settings["truncate_rate"]:
                return FaultDecision(delay, truncate=True)
            return FaultDecision(delay)


class RequestStats:
    """Thread-safe request counters by path (query string excluded)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_path: Counter[str] = Counter()

    def record(self, path: str) -> None:
        with self._lock:
            self._by_path[path] += 1

    def reset(self) -> None:
        with self._lock:
            self._by_path.clear()

    def snapshot(self) -> Json:
        with self._lock:
            return {"requests": self._by_path.total(), "by_path": dict(self._by_path)}


# --------------------------------------------------------------------------- HTTP layer


def _control_json(status: int, payload: Any) -> ApiResponse:
    return ApiResponse(status, json.dumps(payload, indent=2).encode("ascii"))


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self,
        address: tuple[str, int],
        api: LibreNMSApi,
        faults: FaultInjector,
        stats: RequestStats,
        verbose: bool,
    ) -> None:
        self.api = api
        self.faults = faults
        self.stats = stats
        self.verbose = verbose
        super().__init__(address, _Handler)

    def control(self, method: str, path: str, body: bytes) -> ApiResponse:
        """The unauthenticated ``/_sim`` endpoints."""
        match method, path.rstrip("/"):
            case "GET", "/_sim/faults":
                return _control_json(HTTPStatus.OK, self.faults.snapshot())
            case "POST", "/_sim/faults":
                try:
                    changes = json.loads(body or b"{}")
                    if not isinstance(changes, dict):
                        raise ValueError("body must be a JSON object")
                    self.faults.update(changes)
                except ValueError as exc:
                    return _control_json(HTTPStatus.BAD_REQUEST, {"error": str(exc)})
                return _control_json(HTTPStatus.OK, self.faults.snapshot())
            case "DELETE", "/_sim/faults":
                self.faults.reset()
                return _control_json(HTTPStatus.OK, self.faults.snapshot())
            case "GET", "/_sim/stats":
                return _control_json(HTTPStatus.OK, self.stats.snapshot())
            case "DELETE", "/_sim/stats":
                self.stats.reset()
                return _control_json(HTTPStatus.OK, self.stats.snapshot())
        return _control_json(HTTPStatus.NOT_FOUND, {"error": "unknown control endpoint"})

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Client disconnects and the like: one line when verbose, never a traceback."""
        if self.verbose:
            sys.stderr.write(f"connection error: {sys.exception().__class__.__name__}\n")


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in two writes: without it, 40 ms per answer
    server_version = "LibreNMS-simulator"

    def do_GET(self) -> None:
        self._dispatch()

    do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    def _read_body(self) -> bytes:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = 0
        if self.headers.get("Transfer-Encoding"):
            self.close_connection = True
        return self.rfile.read(length) if length > 0 else b""

    def _dispatch(self) -> None:
        body = self._read_body()
        url = urlsplit(self.path)
        path = url.path
        if path == CONTROL_PREFIX or path.startswith(CONTROL_PREFIX + "/"):
            self._send(self.server.control(self.command, path, body))
            return
        self.server.stats.record(path)
        decision = self.server.faults.draw(path)
        if decision.delay:
            time.sleep(decision.delay)
        if decision.error_status is not None:
            self._send(fault_response(decision.error_status))
            return
        headers = {key.lower(): value for key, value in self.headers.items()}
        try:
            response = self.server.api.handle(self.command, path, parse_query(url.query), headers)
        except Exception:  # mirrors Laravel's generic handler, debug off
            response = laravel_error(HTTPStatus.INTERNAL_SERVER_ERROR, "Server Error")
        if decision.truncate:
            response = replace(response, body=response.body[: len(response.body) // 2])
        self._send(response)

    def _send(self, response: ApiResponse) -> None:
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        self.send_header("Cache-Control", "no-cache, private")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Stock error page and log line, minus the message: it may quote a request line with a token."""
        super().send_error(code, None, explain)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Method, path without query string, status: never the token."""
        path = urlsplit(getattr(self, "path", "")).path  # unset when the request line is malformed
        self.log_message('"%s %s" %s', self.command or "-", path or "-", code)

    def log_message(self, format: str, *args: Any) -> None:
        if not self.server.verbose:
            return
        message = _TOKEN_IN_QUERY.sub(r"\1***", format % args)
        for token in self.server.api.tokens:
            message = message.replace(token, "***")
        sys.stderr.write(f"{self.log_date_time_string()} {message}\n")


# --------------------------------------------------------------------------- public API


def _default_tokens() -> list[str]:
    return [os.environ.get(TOKEN_ENV) or DEFAULT_TOKEN]


class LibreNMSSimulator:
    """A LibreNMS API server on a daemon thread, for tests, benchmarks and demos.

    ``port=0`` picks a free port; :attr:`url` is the base URL without ``/api/v0``.
    ``faults`` takes the same keys as ``POST /_sim/faults``.
    """

    def __init__(
        self,
        data_dir: str | os.PathLike[str] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        tokens: Iterable[str] | None = None,
        location_object: bool = False,
        legacy: bool = False,
        synthetic: int | None = None,
        faults: Mapping[str, Any] | None = None,
        verbose: bool = False,
    ) -> None:
        dataset = Dataset.load(Path(data_dir) if data_dir is not None else DEFAULT_DATA_DIR, synthetic)
        accepted = (
            [tokens] if isinstance(tokens, str) else list(tokens) if tokens is not None else _default_tokens()
        )
        self._api = LibreNMSApi(dataset, accepted, location_object=location_object, legacy=legacy)
        self._faults = FaultInjector()
        if faults:
            self._faults.update(faults)
        self._stats = RequestStats()
        self._address = (host, port)
        self._verbose = verbose
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the simulator is not running")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> LibreNMSSimulator:
        if self._server is None:
            self._server = _Server(self._address, self._api, self._faults, self._stats, self._verbose)
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                kwargs={"poll_interval": 0.1},
                name="librenms-sim",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None or self._thread is None:
            return
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
        self._server = self._thread = None

    def set_faults(self, **changes: Any) -> None:
        self._faults.update(changes)

    def clear_faults(self) -> None:
        self._faults.reset()

    def stats(self) -> Json:
        return self._stats.snapshot()

    def reset_stats(self) -> None:
        self._stats.reset()

    def __enter__(self) -> LibreNMSSimulator:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


# --------------------------------------------------------------------------- CLI


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m devtools.librenms_sim", description="LibreNMS API v0 simulator"
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=DEFAULT_CLI_PORT, help="0 picks a free port")
    parser.add_argument(
        "--data", type=Path, default=None, help=f"data directory (default {DEFAULT_DATA_DIR})"
    )
    parser.add_argument(
        "--token",
        dest="tokens",
        action="append",
        help=f"accepted API token, repeatable (default ${TOKEN_ENV} or {DEFAULT_TOKEN!r})",
    )
    parser.add_argument("--location-object", action="store_true", help="serve location as an object (26.5)")
    parser.add_argument("--legacy", action="store_true", help="pre-PHP-8.1 types")
    parser.add_argument(
        "--synthetic", type=int, metavar="N", help="serve N devices derived from the fixtures"
    )
    parser.add_argument("--delay", type=float, metavar="S", help="seconds to wait before each answer")
    parser.add_argument("--error-rate", type=float, metavar="R", help="share of requests failing (0..1)")
    parser.add_argument(
        "--error-status", type=int, metavar="CODE", help="status of injected failures (default 500)"
    )
    parser.add_argument("--truncate-rate", type=float, metavar="R", help="share of bodies cut in half (0..1)")
    parser.add_argument("--seed", type=int, help="random seed for the fault rates")
    parser.add_argument(
        "--fault-path", metavar="PREFIX", help="inject faults only on paths starting with PREFIX"
    )
    parser.add_argument("--verbose", action="store_true", help="log method, path and status to stderr")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse_args(argv)
    faults = {
        key: value
        for key, value in {
            "delay": args.delay,
            "error_rate": args.error_rate,
            "error_status": args.error_status,
            "truncate_rate": args.truncate_rate,
            "seed": args.seed,
            "path_prefix": args.fault_path,
        }.items()
        if value is not None
    }
    simulator = LibreNMSSimulator(
        data_dir=args.data,
        host=args.host,
        port=args.port,
        tokens=args.tokens,
        location_object=args.location_object,
        legacy=args.legacy,
        synthetic=args.synthetic,
        faults=faults,
        verbose=args.verbose,
    )
    stopping = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    with simulator:
        print(f"LibreNMS simulator on {simulator.url}", flush=True)
        stopping.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
