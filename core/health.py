"""Service checks for the Connections page and `python -m core check`: reachable or not, why, version."""

from __future__ import annotations

from dataclasses import dataclass

import redis

from core import defaults, netbox
from core.errors import ImporterError
from core.librenms import LibreNMSClient
from core.settings import Settings
from core.values import public_url


@dataclass(frozen=True, slots=True)
class ServiceState:
    name: str
    ok: bool
    detail: str
    version: str = ""
    missing_field: bool = False  # NetBox lacks the librenms_id custom field (the app can create it)


def check_librenms(settings: Settings) -> list[ServiceState]:
    if not settings.librenms_servers:
        return [ServiceState("LibreNMS", False, "not configured: set LIBRENMS_URL and LIBRENMS_TOKEN")]
    states = []
    for server in settings.librenms_servers:
        label = f"LibreNMS ({server.key})" if len(settings.librenms_servers) > 1 else "LibreNMS"
        try:
            system = LibreNMSClient(server, timeout=defaults.HEALTH_CHECK_TIMEOUT, retries=0).system()
        except ImporterError as exc:
            states.append(ServiceState(label, False, str(exc)))
        else:
            states.append(
                ServiceState(label, True, f"reachable at {server.url}", str(system.get("local_ver", "")))
            )
    return states


def check_netbox(settings: Settings) -> ServiceState:
    if not settings.netbox_url:
        return ServiceState("NetBox", False, "not configured: set NETBOX_URL and NETBOX_TOKEN")
    try:
        api = netbox.connect(settings)
        info = netbox.status(api)
        field = netbox.librenms_field(api)
    except ImporterError as exc:
        return ServiceState("NetBox", False, str(exc))
    version = str(info.get("netbox-version", ""))
    if field is None:
        return ServiceState(
            "NetBox",
            False,
            f"reachable, but it has no 'librenms_id' custom field. {netbox.MISSING_FIELD_HINT}",
            version,
            missing_field=True,
        )
    return ServiceState(
        "NetBox", True, f"reachable at {settings.netbox_url}; librenms_id field: {field.type}", version
    )


def create_librenms_field(settings: Settings) -> None:
    """Create the librenms_id custom field (integer, devices and VMs); raises NetBoxError when not allowed."""
    netbox.ensure_librenms_field(netbox.connect(settings), create=True)


def check_redis(settings: Settings) -> ServiceState:
    try:
        conn = redis.Redis.from_url(
            settings.redis_url,
            socket_connect_timeout=defaults.REDIS_CONNECT_TIMEOUT_SECONDS,
            socket_timeout=defaults.REDIS_TIMEOUT_SECONDS,
        )
        info = conn.info("server")
    except (redis.RedisError, ValueError) as exc:
        return ServiceState(
            "Redis", False, f"cannot be reached at {public_url(settings.redis_url)}: {exc.__class__.__name__}"
        )
    return ServiceState(
        "Redis", True, f"reachable at {public_url(settings.redis_url)}", str(info.get("redis_version", ""))
    )


def check_all(settings: Settings) -> list[ServiceState]:
    return [*check_librenms(settings), check_netbox(settings), check_redis(settings)]
