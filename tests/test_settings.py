"""Configuration from the environment: sandbox by default, the real OA with all four keys."""

import pytest

from bot.settings import Settings, SettingsError

REAL = {
    "ZALO_APP_ID": "1",
    "ZALO_APP_SECRET": "s",
    "ZALO_OA_SECRET_KEY": "k",
    "ZALO_REFRESH_TOKEN": "r",
}


def test_no_credentials_means_the_embedded_sandbox_on_loopback() -> None:
    settings = Settings.from_env({})
    assert settings.sandbox and settings.host == "127.0.0.1" and settings.port == 8080
    assert settings.zalo_app_id == "sandbox-app"
    assert settings.zalo_api_base == "http://127.0.0.1:8080/sandbox/openapi"


def test_all_four_credentials_switch_to_the_real_api() -> None:
    settings = Settings.from_env(REAL)
    assert not settings.sandbox
    assert settings.zalo_api_base == "https://openapi.zalo.me"
    assert settings.zalo_oauth_base == "https://oauth.zaloapp.com"


def test_some_credentials_but_not_all_is_an_error_naming_the_missing_ones() -> None:
    with pytest.raises(SettingsError, match="ZALO_REFRESH_TOKEN"):
        Settings.from_env({k: v for k, v in REAL.items() if k != "ZALO_REFRESH_TOKEN"})


def test_replay_window_default_is_wider_than_zalos_retry_schedule() -> None:
    # Zalo retries after 30 s, 5, 15, 30 min and 1 h: the last retry comes ~2 h late.
    assert Settings.from_env({}).replay_window_seconds >= 3 * 3600


def test_secrets_are_not_in_the_repr() -> None:
    assert "sandbox-secret" not in repr(Settings.from_env({}))


def test_a_malformed_port_is_a_clear_error() -> None:
    with pytest.raises(SettingsError, match="PORT"):
        Settings.from_env({"PORT": "eighty"})


def test_documented_variables_are_read() -> None:
    settings = Settings.from_env(
        {
            "PORT": "9000",
            "CITIZENBOT_DATA_DIR": "/tmp/x",
            "ZALO_REPLAY_WINDOW_SECONDS": "7200",
            "CITIZENBOT_MAX_CONCURRENT_EVENTS": "2",
            "CITIZENBOT_API_TOKEN": "t0k",
            "CITIZENBOT_DOSSIER_TEMPLATE_ID": "tpl-1",
            "ZALO_TIMEOUT_SECONDS": "3",
        }
    )
    assert (settings.port, str(settings.data_dir), settings.replay_window_seconds) == (
        9000,
        "/tmp/x",
        7200,
    )
    assert (
        settings.max_concurrent_events,
        settings.api_token,
        settings.dossier_template_id,
        settings.zalo_timeout_seconds,
    ) == (2, "t0k", "tpl-1", 3.0)


def test_queue_bound_and_rate_limits_are_read() -> None:
    settings = Settings.from_env(
        {
            "CITIZENBOT_MAX_QUEUED_EVENTS": "100",
            "CITIZENBOT_USER_MESSAGE_LIMIT": "10/30",
            "CITIZENBOT_API_REQUEST_LIMIT": "off",
            "CITIZENBOT_ADMIN_REQUEST_LIMIT": "100/60",
            "CITIZENBOT_AUTH_FAILURE_LIMIT": "5/900",
            "CITIZENBOT_TRUSTED_PROXIES": "10.0.0.1, 10.0.0.2",
        }
    )
    assert settings.max_queued_events == 100
    assert settings.user_message_limit == (10, 30.0)
    assert settings.api_request_limit[0] == 0  # off
    assert settings.admin_request_limit == (100, 60.0)
    assert settings.auth_failure_limit == (5, 900.0)
    assert settings.trusted_proxies == ("10.0.0.1", "10.0.0.2")


def test_a_malformed_rate_limit_is_a_clear_error() -> None:
    with pytest.raises(SettingsError, match="CITIZENBOT_USER_MESSAGE_LIMIT"):
        Settings.from_env({"CITIZENBOT_USER_MESSAGE_LIMIT": "20 per minute"})
    with pytest.raises(SettingsError, match="CITIZENBOT_MAX_QUEUED_EVENTS"):
        Settings.from_env({"CITIZENBOT_MAX_QUEUED_EVENTS": "0"})


def test_engine_addresses_default_to_the_embedded_files_and_are_checked() -> None:
    assert Settings.from_env({}).database_url == ""
    assert Settings.from_env({}).redis_url == ""
    given = Settings.from_env(
        {
            "CITIZENBOT_DATABASE_URL": "postgresql://bot@db/citizenbot",
            "CITIZENBOT_REDIS_URL": "redis://r:6379/0",
        }
    )
    assert (given.database_url, given.redis_url) == (
        "postgresql://bot@db/citizenbot",
        "redis://r:6379/0",
    )
    assert "postgresql" not in repr(given)  # addresses may carry passwords
    with pytest.raises(
        SettingsError, match="CITIZENBOT_DATABASE_URL must start with postgresql://"
    ):
        Settings.from_env({"CITIZENBOT_DATABASE_URL": "mysql://bot@db/x"})
