from __future__ import annotations

import pytest

from payments_service.errors import ConfigurationError
from payments_service.settings import RAZORPAY_LIVE_API, SANDBOX_API, Settings

ADMIN = {"ADMIN_JWT_SECRET": "a" * 40}


def test_no_keys_means_sandbox_mode_against_the_local_sandbox() -> None:
    settings = Settings.from_env(ADMIN)
    assert settings.is_sandbox
    assert settings.razorpay_api_base_url == SANDBOX_API
    assert settings.database_url is None


def test_real_keys_go_to_razorpay_and_never_the_sandbox() -> None:
    settings = Settings.from_env(
        {
            **ADMIN,
            "RAZORPAY_KEY_ID": "rzp_test_abcdefghijklmn",
            "RAZORPAY_KEY_SECRET": "s3cret",
            "RAZORPAY_WEBHOOK_SECRET": "whsec",
        }
    )
    assert not settings.is_sandbox
    assert settings.razorpay_api_base_url == RAZORPAY_LIVE_API
    assert settings.razorpay_key_id == "rzp_test_abcdefghijklmn"


def test_base_url_can_point_explicit_keys_at_a_test_double() -> None:
    settings = Settings.from_env(
        {
            **ADMIN,
            "RAZORPAY_KEY_ID": "rzp_test_abcdefghijklmn",
            "RAZORPAY_KEY_SECRET": "s3cret",
            "RAZORPAY_WEBHOOK_SECRET": "whsec",
            "RAZORPAY_API_BASE_URL": "http://127.0.0.1:9999/",
        }
    )
    assert settings.razorpay_api_base_url == "http://127.0.0.1:9999"


def test_an_order_key_lease_outlasts_any_razorpay_call() -> None:
    assert Settings.from_env(ADMIN).order_key_lease_seconds == 30
    longer = {"RAZORPAY_TIMEOUT_SECONDS": "30", "ORDER_KEY_LEASE_SECONDS": "35"}
    assert Settings.from_env({**ADMIN, **longer}).order_key_lease_seconds == 35


def test_secrets_stay_out_of_the_repr() -> None:
    settings = Settings.from_env({**ADMIN, "DATABASE_URL": "postgresql://u:pw@h/db"})
    assert "pw@" not in repr(settings)
    assert "a" * 40 not in repr(settings)


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({}, "ADMIN_JWT_SECRET"),
        ({**ADMIN, "ADMIN_JWT_SECRET": "short"}, "ADMIN_JWT_SECRET"),
        ({**ADMIN, "RAZORPAY_KEY_ID": "rzp_test_abcdefghijklmn"}, "RAZORPAY_KEY_SECRET"),
        ({**ADMIN, "RAZORPAY_KEY_ID": "key", "RAZORPAY_KEY_SECRET": "s"}, "RAZORPAY_KEY_ID"),
        (
            {**ADMIN, "RAZORPAY_KEY_ID": "rzp_live_fake", "RAZORPAY_KEY_SECRET": "s"},
            "RAZORPAY_WEBHOOK_SECRET",
        ),
        ({**ADMIN, "RAZORPAY_API_BASE_URL": "api.razorpay.com"}, "RAZORPAY_API_BASE_URL"),
        (
            {**ADMIN, "RAZORPAY_API_BASE_URL": "https://api.razorpay.com/v1"},
            "RAZORPAY_API_BASE_URL",
        ),
        ({**ADMIN, "RAZORPAY_TIMEOUT_SECONDS": "soon"}, "RAZORPAY_TIMEOUT_SECONDS"),
        ({**ADMIN, "DB_POOL_MAX": "0"}, "DB_POOL_MAX"),
        ({**ADMIN, "SITE_TOKEN_MAX_LIFETIME_SECONDS": "30"}, "SITE_TOKEN_MAX_LIFETIME_SECONDS"),
        ({**ADMIN, "ADMIN_TOKEN_MAX_LIFETIME_SECONDS": "1.5"}, "ADMIN_TOKEN_MAX_LIFETIME"),
        ({**ADMIN, "ADMIN_TOKEN_MAX_LIFETIME_SECONDS": "forever"}, "ADMIN_TOKEN_MAX_LIFETIME"),
        ({**ADMIN, "ORDER_KEY_LEASE_SECONDS": "14"}, "ORDER_KEY_LEASE_SECONDS"),
        (
            {**ADMIN, "RAZORPAY_TIMEOUT_SECONDS": "30", "ORDER_KEY_LEASE_SECONDS": "30"},
            "ORDER_KEY_LEASE_SECONDS",
        ),
    ],
)
def test_bad_configuration_fails_fast_naming_the_variable(env: dict[str, str], named: str) -> None:
    with pytest.raises(ConfigurationError, match=named):
        Settings.from_env(env)


def test_migrations_can_have_their_own_database_url_kept_out_of_the_repr() -> None:
    settings = Settings.from_env(
        {
            **ADMIN,
            "DATABASE_URL": "postgresql://u:pooled@ep-x-pooler.neon.tech/db",
            "MIGRATION_DATABASE_URL": "postgresql://u:direct@ep-x.neon.tech/db",
        }
    )
    assert settings.migration_database_url == "postgresql://u:direct@ep-x.neon.tech/db"
    assert "direct@" not in repr(settings)
    assert Settings.from_env(ADMIN).migration_database_url is None


def test_live_keys_are_never_sent_over_plain_http_not_even_to_a_sandbox() -> None:
    live = {
        **ADMIN,
        "RAZORPAY_KEY_ID": "rzp_live_abcdefghijklmn",
        "RAZORPAY_KEY_SECRET": "s3cret",
        "RAZORPAY_WEBHOOK_SECRET": "whsec",
    }
    assert Settings.from_env(live).razorpay_api_base_url == RAZORPAY_LIVE_API
    with pytest.raises(ConfigurationError, match="RAZORPAY_API_BASE_URL must be an https URL"):
        Settings.from_env({**live, "RAZORPAY_API_BASE_URL": "http://sandbox:8010"})


def test_token_lifetimes_are_bounded_by_default_and_configurable() -> None:
    default = Settings.from_env(ADMIN)
    assert default.site_token_max_lifetime_seconds == 3600
    assert default.admin_token_max_lifetime_seconds == 12 * 3600

    chosen = Settings.from_env(
        {
            **ADMIN,
            "SITE_TOKEN_MAX_LIFETIME_SECONDS": "300",
            "ADMIN_TOKEN_MAX_LIFETIME_SECONDS": "3600",
        }
    )
    assert chosen.site_token_max_lifetime_seconds == 300
    assert chosen.admin_token_max_lifetime_seconds == 3600
