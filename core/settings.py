"""Settings: environment variables (12-factor), optionally `.streamlit/secrets.toml`, into one frozen object.

Environment wins over the secrets file. Tokens are held in `Secret`, whose repr and str are masked, so a
Settings object can be printed, logged or shown without leaking them.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from core import defaults
from core.choices import AuthMode, NameSource
from core.errors import ConfigError

SECRETS_FILE = Path(".streamlit/secrets.toml")


class Secret:
    """A credential. `get()` returns it; every other way of looking at it shows a mask."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def get(self) -> str:
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __repr__(self) -> str:
        return "Secret('********')" if self._value else "Secret('')"

    __str__ = __repr__

    def masked(self) -> str:
        """What a page may show: whether a token is set, nothing of its value."""
        return "set (hidden)" if self._value else "(not set)"


@dataclass(frozen=True, slots=True)
class LibreNMSServer:
    key: str
    url: str
    token: Secret
    verify_tls: bool = True
    token_from: str = ""  # the setting the token came from (load_settings knows); else told by the key

    @property
    def token_setting(self) -> str:
        """The setting that holds this server's token, for messages."""
        if self.token_from:
            return self.token_from
        return (
            "LIBRENMS_TOKEN" if self.key == defaults.DEFAULT_SERVER_KEY else server_prefix(self.key) + "TOKEN"
        )


@dataclass(frozen=True, slots=True)
class Settings:
    librenms_servers: tuple[LibreNMSServer, ...] = ()
    netbox_url: str = ""
    netbox_token: Secret = field(default_factory=lambda: Secret(""))
    netbox_verify_tls: bool = True
    redis_url: str = defaults.REDIS_URL
    queue_name: str = defaults.QUEUE_NAME
    mapping_file: Path = Path(defaults.MAPPING_FILE)
    name_source: NameSource = NameSource.SYSNAME
    strip_domain: bool = True
    create_primary_ip: bool = True
    librenms_timeout: float = defaults.LIBRENMS_READ_TIMEOUT
    netbox_timeout: float = defaults.NETBOX_TIMEOUT
    librenms_cache_seconds: int = defaults.LIBRENMS_CACHE_SECONDS
    auth: AuthMode = AuthMode.NETBOX
    admin_group: str = defaults.ADMIN_GROUP
    job_secret: Secret = field(
        default_factory=lambda: Secret("")
    )  # shared by app and worker (core.auth.sealed)
    session_hours: float = defaults.SESSION_HOURS
    session_sweep_seconds: float = defaults.SESSION_SWEEP_SECONDS
    # Who acts: set for a signed-in analyst's session (as_analyst), never read from the environment.
    analyst: str = ""  # named in every changelog message and run record
    token_expires: float = (
        0.0  # epoch seconds: netbox_token is the analyst's own, expiring then (0: the service's)
    )

    def as_analyst(self, name: str, token: Secret | None = None, expires: float = 0.0) -> Settings:
        """These settings for one analyst: named in what they do, and writing with their own NetBox token
        (expiring at `expires`) when given, else with the service token."""
        if token:
            return replace(self, analyst=name, netbox_token=token, token_expires=expires)
        return replace(self, analyst=name)

    @property
    def personal_token(self) -> bool:
        """Whether netbox_token is an analyst's own (then a job carries it sealed: core.auth.sealed)."""
        return self.token_expires > 0

    @property
    def default_server_key(self) -> str:
        """The first server's key: an integer librenms_id field in NetBox holds that server's device ids."""
        return self.librenms_servers[0].key if self.librenms_servers else defaults.DEFAULT_SERVER_KEY

    @property
    def librenms(self) -> LibreNMSServer:
        """The first (default) LibreNMS server."""
        if not self.librenms_servers:
            raise ConfigError(
                "No LibreNMS server is configured.", hint="Set LIBRENMS_URL and LIBRENMS_TOKEN."
            )
        return self.librenms_servers[0]

    def server(self, key: str) -> LibreNMSServer:
        for server in self.librenms_servers:
            if server.key == key:
                return server
        raise ConfigError(f"No LibreNMS server with the key '{key}' is configured.")


def server_prefix(key: str) -> str:
    """The prefix of one server's settings in LIBRENMS_SERVERS: "dc-1" → "LIBRENMS_DC_1_"."""
    return f"LIBRENMS_{key.upper().replace('-', '_')}_"


def _flatten(table: Mapping[str, object], prefix: str = "") -> dict[str, object]:
    out: dict[str, object] = {}
    for key, value in table.items():
        name = f"{prefix}{key}".upper()
        if isinstance(value, Mapping):
            out.update(_flatten(value, name + "_"))
        else:
            out[name] = value
    return out


def _read_secrets(path: Path) -> dict[str, object]:
    if not path.is_file():
        return {}
    try:
        with path.open("rb") as fh:
            return _flatten(tomllib.load(fh))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None


def _bool(value: object, name: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"1", "true", "yes", "on"}:
        return True
    if text in {"0", "false", "no", "off", ""}:
        return False
    raise ConfigError(f"{name} must be true or false, not '{value}'.")


def _float(value: object, name: str) -> float:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be a number of seconds, not '{value}'.") from None


def load_settings(env: Mapping[str, str] | None = None, secrets_file: Path | None = None) -> Settings:
    """Build Settings from `env` (default: os.environ) over the secrets file.

    Several LibreNMS servers: LIBRENMS_SERVERS="dc1,dc2" with LIBRENMS_DC1_URL / LIBRENMS_DC1_TOKEN and so on;
    LIBRENMS_URL / LIBRENMS_TOKEN alone make the server with the key "default".
    """
    values: dict[str, object] = dict(_read_secrets(secrets_file or SECRETS_FILE))
    values.update(os.environ if env is None else env)

    def get(name: str, default: object = "") -> object:
        value = values.get(name, default)
        return default if value is None else value

    verify = _bool(get("LIBRENMS_VERIFY_TLS", True), "LIBRENMS_VERIFY_TLS")
    servers: list[LibreNMSServer] = []
    keys = [k.strip() for k in str(get("LIBRENMS_SERVERS", "")).split(",") if k.strip()]
    for key in keys:
        prefix = server_prefix(key)
        url = str(get(prefix + "URL")).rstrip("/")
        if not url:
            raise ConfigError(f"LIBRENMS_SERVERS names '{key}' but {prefix}URL is not set.")
        servers.append(
            LibreNMSServer(
                key=key,
                url=url,
                token=Secret(str(get(prefix + "TOKEN"))),
                verify_tls=_bool(get(prefix + "VERIFY_TLS", verify), prefix + "VERIFY_TLS"),
                token_from=prefix + "TOKEN",
            )
        )
    if not servers and get("LIBRENMS_URL"):
        servers.append(
            LibreNMSServer(
                key=str(get("LIBRENMS_SERVER_KEY", defaults.DEFAULT_SERVER_KEY)),
                url=str(get("LIBRENMS_URL")).rstrip("/"),
                token=Secret(str(get("LIBRENMS_TOKEN"))),
                verify_tls=verify,
                token_from="LIBRENMS_TOKEN",
            )
        )
    try:
        name_source = NameSource(str(get("NAME_SOURCE", NameSource.SYSNAME)))
    except ValueError:
        raise ConfigError(
            f"NAME_SOURCE must be {' or '.join(NameSource)}, not '{get('NAME_SOURCE')}'."
        ) from None
    try:
        auth = AuthMode(str(get("AUTH", AuthMode.NETBOX)).strip().lower())
    except ValueError:
        raise ConfigError(f"AUTH must be {' or '.join(AuthMode)}, not '{get('AUTH')}'.") from None
    return Settings(
        librenms_servers=tuple(servers),
        netbox_url=str(get("NETBOX_URL")).rstrip("/"),
        netbox_token=Secret(str(get("NETBOX_TOKEN"))),
        netbox_verify_tls=_bool(get("NETBOX_VERIFY_TLS", True), "NETBOX_VERIFY_TLS"),
        redis_url=str(get("REDIS_URL", defaults.REDIS_URL)),
        queue_name=str(get("QUEUE_NAME", defaults.QUEUE_NAME)),
        mapping_file=Path(str(get("MAPPING_FILE", defaults.MAPPING_FILE))),
        name_source=name_source,
        strip_domain=_bool(get("STRIP_DOMAIN", True), "STRIP_DOMAIN"),
        create_primary_ip=_bool(get("CREATE_PRIMARY_IP", True), "CREATE_PRIMARY_IP"),
        librenms_timeout=_float(get("LIBRENMS_TIMEOUT", defaults.LIBRENMS_READ_TIMEOUT), "LIBRENMS_TIMEOUT"),
        netbox_timeout=_float(get("NETBOX_TIMEOUT", defaults.NETBOX_TIMEOUT), "NETBOX_TIMEOUT"),
        librenms_cache_seconds=int(
            _float(get("LIBRENMS_CACHE_SECONDS", defaults.LIBRENMS_CACHE_SECONDS), "LIBRENMS_CACHE_SECONDS")
        ),
        auth=auth,
        admin_group=str(get("ADMIN_GROUP", defaults.ADMIN_GROUP)).strip(),
        job_secret=Secret(str(get("JOB_SECRET"))),
        session_hours=_float(get("SESSION_HOURS", defaults.SESSION_HOURS), "SESSION_HOURS"),
        session_sweep_seconds=_float(
            get("SESSION_SWEEP_SECONDS", defaults.SESSION_SWEEP_SECONDS), "SESSION_SWEEP_SECONDS"
        ),
    )
