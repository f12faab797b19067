"""Settings: core.settings.load_settings over an environment and a secrets file (pure, no services)."""

from __future__ import annotations

from pathlib import Path

import pytest

from core import defaults
from core.choices import AuthMode, NameSource
from core.errors import ConfigError
from core.settings import LibreNMSServer, Secret, Settings, load_settings

NB_TOKEN = "nbt_k3yk3yk3yk3y.f00dfeedf00dfeedf00dfeedf00dfeedf00dfeed"
DC1_TOKEN = "dc1-t0ken-9a8b7c"
DC2_TOKEN = "dc2-t0ken-1d2e3f"

TWO_SERVERS = {
    "LIBRENMS_SERVERS": "dc1,dc-2",
    "LIBRENMS_DC1_URL": "https://nms-dc1.example.net/",
    "LIBRENMS_DC1_TOKEN": DC1_TOKEN,
    "LIBRENMS_DC_2_URL": "https://nms-dc2.example.net",
    "LIBRENMS_DC_2_TOKEN": DC2_TOKEN,
}


@pytest.fixture
def no_file(tmp_path: Path) -> Path:
    """A secrets file that does not exist: only the environment given counts."""
    return tmp_path / "absent.toml"


def secrets_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "secrets.toml"
    path.write_text(text, encoding="utf-8")
    return path


# ------------------------------------------------------------------ several LibreNMS servers


def test_librenms_servers_lists_each_server_with_its_own_url_and_token_in_order(no_file: Path) -> None:
    settings = load_settings(TWO_SERVERS, no_file)

    assert [s.key for s in settings.librenms_servers] == ["dc1", "dc-2"]
    dc1, dc2 = settings.librenms_servers
    assert dc1.url == "https://nms-dc1.example.net"  # the trailing slash is dropped
    assert dc2.url == "https://nms-dc2.example.net"
    assert dc1.token.get() == DC1_TOKEN and dc2.token.get() == DC2_TOKEN


def test_a_dash_in_a_server_key_is_an_underscore_in_its_variable_names(no_file: Path) -> None:
    dc2 = load_settings(TWO_SERVERS, no_file).server("dc-2")

    assert dc2.url == "https://nms-dc2.example.net" and dc2.token.get() == DC2_TOKEN
    assert dc2.token_setting == "LIBRENMS_DC_2_TOKEN"


def test_token_setting_names_each_servers_own_token_variable(no_file: Path) -> None:
    settings = load_settings(TWO_SERVERS, no_file)

    assert [s.token_setting for s in settings.librenms_servers] == [
        "LIBRENMS_DC1_TOKEN",
        "LIBRENMS_DC_2_TOKEN",
    ]


def test_blanks_and_empty_entries_in_librenms_servers_are_ignored(no_file: Path) -> None:
    settings = load_settings({**TWO_SERVERS, "LIBRENMS_SERVERS": " dc1 , ,dc-2, "}, no_file)

    assert [s.key for s in settings.librenms_servers] == ["dc1", "dc-2"]


def test_the_first_listed_server_is_the_default_server(no_file: Path) -> None:
    settings = load_settings({**TWO_SERVERS, "LIBRENMS_SERVERS": "dc-2,dc1"}, no_file)

    assert settings.default_server_key == "dc-2"
    assert settings.librenms.key == "dc-2"


def test_a_servers_verify_tls_falls_back_to_librenms_verify_tls(no_file: Path) -> None:
    env = {**TWO_SERVERS, "LIBRENMS_VERIFY_TLS": "false", "LIBRENMS_DC1_VERIFY_TLS": "true"}

    dc1, dc2 = load_settings(env, no_file).librenms_servers

    assert dc1.verify_tls is True  # its own setting
    assert dc2.verify_tls is False  # none of its own: the shared one


def test_servers_verify_tls_by_default(no_file: Path) -> None:
    assert [s.verify_tls for s in load_settings(TWO_SERVERS, no_file).librenms_servers] == [True, True]


def test_a_named_server_without_url_is_a_config_error_naming_the_variable(no_file: Path) -> None:
    env = {k: v for k, v in TWO_SERVERS.items() if k != "LIBRENMS_DC_2_URL"}

    with pytest.raises(ConfigError, match="LIBRENMS_DC_2_URL") as caught:
        load_settings(env, no_file)

    assert "'dc-2'" in str(caught.value)


def test_librenms_url_is_ignored_when_librenms_servers_names_servers(no_file: Path) -> None:
    env = {**TWO_SERVERS, "LIBRENMS_URL": "https://other.example.net", "LIBRENMS_TOKEN": "other"}

    settings = load_settings(env, no_file)

    assert [s.key for s in settings.librenms_servers] == ["dc1", "dc-2"]
    assert "https://other.example.net" not in [s.url for s in settings.librenms_servers]


def test_asking_for_a_server_key_not_configured_is_a_config_error_naming_it(no_file: Path) -> None:
    settings = load_settings(TWO_SERVERS, no_file)

    with pytest.raises(ConfigError, match="'dc3'"):
        settings.server("dc3")


# ------------------------------------------------------------------ one server: LIBRENMS_URL alone


def test_librenms_url_alone_makes_one_server_with_the_key_default(no_file: Path) -> None:
    settings = load_settings(
        {
            "LIBRENMS_URL": "https://nms.example.net/",
            "LIBRENMS_TOKEN": DC1_TOKEN,
            "LIBRENMS_VERIFY_TLS": "no",
        },
        no_file,
    )

    (server,) = settings.librenms_servers
    assert (server.key, server.url, server.token.get()) == ("default", "https://nms.example.net", DC1_TOKEN)
    assert server.verify_tls is False
    assert server.token_setting == "LIBRENMS_TOKEN"
    assert settings.default_server_key == "default" and settings.librenms is server


def test_librenms_server_key_renames_the_single_server_whose_token_is_still_librenms_token(
    no_file: Path,
) -> None:
    settings = load_settings(
        {"LIBRENMS_URL": "https://nms.example.net", "LIBRENMS_TOKEN": DC1_TOKEN, "LIBRENMS_SERVER_KEY": "hq"},
        no_file,
    )

    assert [s.key for s in settings.librenms_servers] == ["hq"]
    assert settings.default_server_key == "hq"
    assert settings.server("hq").token_setting == "LIBRENMS_TOKEN"


def test_token_setting_of_a_server_built_by_hand_follows_its_key() -> None:
    assert LibreNMSServer("default", "https://a", Secret("t")).token_setting == "LIBRENMS_TOKEN"
    assert LibreNMSServer("dc-2", "https://b", Secret("t")).token_setting == "LIBRENMS_DC_2_TOKEN"


# ------------------------------------------------------------------ nothing set


def test_nothing_set_gives_the_documented_defaults_and_no_server(no_file: Path) -> None:
    settings = load_settings({}, no_file)

    assert settings.librenms_servers == ()
    assert settings.default_server_key == defaults.DEFAULT_SERVER_KEY == "default"
    assert settings.netbox_url == "" and not settings.netbox_token
    assert settings.netbox_verify_tls is True
    assert settings.redis_url == defaults.REDIS_URL
    assert settings.queue_name == defaults.QUEUE_NAME
    assert settings.mapping_file == Path(defaults.MAPPING_FILE)
    assert settings.name_source is NameSource.SYSNAME
    assert settings.strip_domain is True and settings.create_primary_ip is True
    assert settings.librenms_timeout == defaults.LIBRENMS_READ_TIMEOUT
    assert settings.netbox_timeout == defaults.NETBOX_TIMEOUT
    assert settings.librenms_cache_seconds == defaults.LIBRENMS_CACHE_SECONDS
    assert settings.auth is AuthMode.NETBOX  # sign-in is required unless switched off on purpose
    assert settings.admin_group == defaults.ADMIN_GROUP and settings.session_hours == defaults.SESSION_HOURS
    assert not settings.job_secret and not settings.analyst and not settings.personal_token


def test_sign_in_settings_are_read_and_a_bad_auth_is_a_config_error_naming_its_choices(no_file: Path) -> None:
    settings = load_settings(
        {"AUTH": "OIDC", "ADMIN_GROUP": "netops", "JOB_SECRET": "s3cret", "SESSION_HOURS": "2.5"}, no_file
    )
    assert settings.auth is AuthMode.OIDC and settings.admin_group == "netops"
    assert settings.job_secret.get() == "s3cret" and "s3cret" not in repr(settings)
    assert settings.session_hours == 2.5
    assert load_settings({"AUTH": "none"}, no_file).auth is AuthMode.NONE
    with pytest.raises(ConfigError, match="AUTH must be netbox or oidc or none"):
        load_settings({"AUTH": "ldap"}, no_file)


def test_without_a_server_asking_for_the_librenms_server_says_which_settings_to_set(no_file: Path) -> None:
    with pytest.raises(ConfigError, match="LIBRENMS_URL and LIBRENMS_TOKEN"):
        _ = load_settings({}, no_file).librenms


def test_every_setting_is_read_from_the_environment(no_file: Path) -> None:
    settings = load_settings(
        {
            "NETBOX_URL": "https://netbox.example.net/",
            "NETBOX_TOKEN": NB_TOKEN,
            "NETBOX_VERIFY_TLS": "off",
            "REDIS_URL": "redis://cache:6379/5",
            "QUEUE_NAME": "imports",
            "MAPPING_FILE": "/etc/lnbi/mappings.yaml",
            "NAME_SOURCE": "hostname",
            "STRIP_DOMAIN": "0",
            "CREATE_PRIMARY_IP": "No",
            "LIBRENMS_TIMEOUT": "12.5",
            "NETBOX_TIMEOUT": "7",
            "LIBRENMS_CACHE_SECONDS": "45",
        },
        no_file,
    )

    assert settings.netbox_url == "https://netbox.example.net"
    assert settings.netbox_token.get() == NB_TOKEN
    assert settings.netbox_verify_tls is False
    assert (settings.redis_url, settings.queue_name) == ("redis://cache:6379/5", "imports")
    assert settings.mapping_file == Path("/etc/lnbi/mappings.yaml")
    assert settings.name_source is NameSource.HOSTNAME
    assert settings.strip_domain is False and settings.create_primary_ip is False
    assert (settings.librenms_timeout, settings.netbox_timeout) == (12.5, 7.0)
    assert settings.librenms_cache_seconds == 45 and isinstance(settings.librenms_cache_seconds, int)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        *[("1", True), ("true", True), (" YES ", True), ("On", True)],
        *[("0", False), ("false", False), ("No", False), ("off", False), ("", False)],
    ],
)
def test_boolean_settings_accept_the_usual_spellings(no_file: Path, text: str, expected: bool) -> None:
    assert load_settings({"STRIP_DOMAIN": text}, no_file).strip_domain is expected


def test_without_env_the_process_environment_and_the_streamlit_secrets_file_are_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".streamlit").mkdir()
    (tmp_path / ".streamlit" / "secrets.toml").write_text('QUEUE_NAME = "from-the-file"\n', encoding="utf-8")
    monkeypatch.setenv("NETBOX_URL", "https://from-os-environ.example.net")
    monkeypatch.delenv("QUEUE_NAME", raising=False)

    settings = load_settings()

    assert settings.netbox_url == "https://from-os-environ.example.net"
    assert settings.queue_name == "from-the-file"


# ------------------------------------------------------------------ the secrets file


def test_the_secrets_file_gives_settings_the_environment_does_not(tmp_path: Path) -> None:
    path = secrets_file(tmp_path, f'NETBOX_URL = "https://netbox.example.net"\nNETBOX_TOKEN = "{NB_TOKEN}"\n')

    settings = load_settings({"QUEUE_NAME": "from-env"}, path)

    assert settings.netbox_url == "https://netbox.example.net"
    assert settings.netbox_token.get() == NB_TOKEN
    assert settings.queue_name == "from-env"


def test_the_environment_wins_over_the_secrets_file(tmp_path: Path) -> None:
    path = secrets_file(
        tmp_path,
        'NETBOX_URL = "https://from-file.example.net"\n[librenms]\nurl = "https://nms-file.example.net"\n',
    )

    settings = load_settings(
        {"NETBOX_URL": "https://from-env.example.net", "LIBRENMS_URL": "https://nms-env.example.net"}, path
    )

    assert settings.netbox_url == "https://from-env.example.net"
    assert settings.librenms.url == "https://nms-env.example.net"


def test_nested_tables_of_the_secrets_file_are_flattened_into_setting_names(tmp_path: Path) -> None:
    path = secrets_file(
        tmp_path,
        "\n".join(
            [
                'librenms_servers = "dc1"',
                "[librenms]",
                "verify_tls = false",
                "[librenms.dc1]",
                'url = "https://nms-dc1.example.net"',
                f'token = "{DC1_TOKEN}"',
                "[netbox]",
                'url = "https://netbox.example.net"',
                "timeout = 30",
                "",
            ]
        ),
    )

    settings = load_settings({}, path)

    (dc1,) = settings.librenms_servers  # LIBRENMS_SERVERS, LIBRENMS_DC1_URL, LIBRENMS_DC1_TOKEN
    assert (dc1.key, dc1.url, dc1.token.get()) == ("dc1", "https://nms-dc1.example.net", DC1_TOKEN)
    assert dc1.verify_tls is False  # LIBRENMS_VERIFY_TLS, a TOML boolean
    assert settings.netbox_url == "https://netbox.example.net"  # NETBOX_URL
    assert settings.netbox_timeout == 30.0  # NETBOX_TIMEOUT, a TOML integer


def test_a_librenms_table_in_the_secrets_file_is_librenms_url_and_token(tmp_path: Path) -> None:
    path = secrets_file(tmp_path, f'[librenms]\nurl = "https://nms.example.net"\ntoken = "{DC2_TOKEN}"\n')

    server = load_settings({}, path).librenms

    assert (server.key, server.url, server.token.get()) == ("default", "https://nms.example.net", DC2_TOKEN)


def test_a_secrets_file_that_is_not_toml_is_a_config_error_naming_the_file(tmp_path: Path) -> None:
    path = secrets_file(tmp_path, "NETBOX_URL = https://netbox.example.net\n")  # unquoted string

    with pytest.raises(ConfigError, match="not valid TOML") as caught:
        load_settings({}, path)

    assert str(path) in str(caught.value)


# ------------------------------------------------------------------ bad values


def test_an_unknown_name_source_is_a_config_error_naming_the_setting_and_its_choices(no_file: Path) -> None:
    with pytest.raises(ConfigError, match="NAME_SOURCE") as caught:
        load_settings({"NAME_SOURCE": "fqdn"}, no_file)

    message = str(caught.value)
    assert "'fqdn'" in message and "sysName" in message and "hostname" in message


@pytest.mark.parametrize(
    "name", ["STRIP_DOMAIN", "CREATE_PRIMARY_IP", "NETBOX_VERIFY_TLS", "LIBRENMS_VERIFY_TLS"]
)
def test_a_boolean_that_is_not_true_or_false_is_a_config_error_naming_the_setting(
    no_file: Path, name: str
) -> None:
    with pytest.raises(ConfigError, match=rf"^{name} must be true or false, not 'maybe'"):
        load_settings({name: "maybe"}, no_file)


def test_a_servers_own_verify_tls_that_is_not_a_boolean_is_a_config_error_naming_it(no_file: Path) -> None:
    with pytest.raises(ConfigError, match=r"^LIBRENMS_DC_2_VERIFY_TLS must be true or false, not 'maybe'"):
        load_settings({**TWO_SERVERS, "LIBRENMS_DC_2_VERIFY_TLS": "maybe"}, no_file)


@pytest.mark.parametrize("name", ["LIBRENMS_TIMEOUT", "NETBOX_TIMEOUT", "LIBRENMS_CACHE_SECONDS"])
def test_a_duration_that_is_not_a_number_is_a_config_error_naming_the_setting(
    no_file: Path, name: str
) -> None:
    with pytest.raises(ConfigError, match=rf"^{name} must be a number of seconds, not 'fast'"):
        load_settings({name: "fast"}, no_file)


def test_a_bad_value_in_the_secrets_file_is_a_config_error_naming_the_flattened_setting(
    tmp_path: Path,
) -> None:
    path = secrets_file(tmp_path, '[netbox]\nverify_tls = "maybe"\n')

    with pytest.raises(ConfigError, match=r"^NETBOX_VERIFY_TLS must be true or false"):
        load_settings({}, path)


# ------------------------------------------------------------------ tokens never shown


def test_a_settings_objects_repr_and_str_never_show_a_token(no_file: Path) -> None:
    settings = load_settings({**TWO_SERVERS, "NETBOX_TOKEN": NB_TOKEN}, no_file)

    shown = [
        repr(settings),
        str(settings),
        f"{settings}",
        repr(settings.librenms_servers),
        str(settings.librenms),
    ]
    for text in shown:
        for token in (NB_TOKEN, DC1_TOKEN, DC2_TOKEN, NB_TOKEN.split(".")[-1]):
            assert token not in text
    assert "Secret('********')" in repr(settings)  # the token fields are there, masked
    assert settings.netbox_token.get() == NB_TOKEN  # and the value is still there for the clients


def test_a_secret_is_masked_every_way_but_get_and_says_only_whether_it_is_set() -> None:
    secret = Secret(DC1_TOKEN)

    assert DC1_TOKEN not in repr(secret) + str(secret) + f"{secret}" + secret.masked()
    assert secret.masked() == "set (hidden)" and Secret("").masked() == "(not set)"
    assert repr(Secret("")) == "Secret('')"  # an unset token is told apart from a set one
    assert secret.get() == DC1_TOKEN
    assert bool(secret) and not Secret("")
    assert secret == Secret(DC1_TOKEN) != Secret(DC2_TOKEN)


def test_a_default_settings_object_shows_its_empty_token_as_unset() -> None:
    assert "netbox_token=Secret('')" in repr(Settings())
