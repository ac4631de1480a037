"""Typed settings, read from the environment once and validated before anything starts."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from .errors import ConfigurationError

RAZORPAY_LIVE_API = "https://api.razorpay.com"
SANDBOX_API = "http://127.0.0.1:8010"
# The sandbox's own published credentials: they only ever open the local emulator.
SANDBOX_KEY_ID = "rzp_test_SandboxKey0001"
SANDBOX_KEY_SECRET = "sandbox_key_secret"  # noqa: S105
SANDBOX_WEBHOOK_SECRET = "sandbox_webhook_secret"  # noqa: S105
# A Razorpay call lasts at most its read timeout plus the connect timeout (3.05 s); an order's
# Idempotency-Key lease must outlast that with a margin, so that no request takes over a key
# while the call of the request holding it could still be creating an order.
LEASE_MARGIN_SECONDS = 5.0
DEFAULT_PUBLIC_BASE_URL = "http://127.0.0.1:8000"


@dataclass(frozen=True)
class Settings:
    """Everything the service needs to run; see the configuration table in README.md."""

    admin_jwt_secret: str = field(repr=False)
    database_url: str | None = field(default=None, repr=False)
    migration_database_url: str | None = field(default=None, repr=False)
    data_dir: Path = Path(".data")
    razorpay_key_id: str = SANDBOX_KEY_ID
    razorpay_key_secret: str = field(default=SANDBOX_KEY_SECRET, repr=False)
    razorpay_webhook_secrets: tuple[str, ...] = field(default=(SANDBOX_WEBHOOK_SECRET,), repr=False)
    razorpay_api_base_url: str = SANDBOX_API
    # Where buyers' browsers reach this service (payment links' callback_url is built on it).
    public_base_url: str = DEFAULT_PUBLIC_BASE_URL
    razorpay_account_id: str | None = None
    capture_authorized_payments: bool = False
    refund_duplicate_payments: bool = True
    # A subscriber keeps access while Razorpay retries a failed charge (`pending`).
    subscription_access_during_pending: bool = True
    razorpay_timeout_seconds: float = 10.0
    # Keep-alive connections to Razorpay per process: one per gunicorn thread, so a worker's
    # concurrent calls never find the pool full (GUNICORN_THREADS, gunicorn.conf.py).
    razorpay_pool_size: int = 16
    order_key_lease_seconds: float = 30.0
    is_sandbox: bool = True
    jwt_audience: str = "payments-service"
    jwt_issuer: str = "payments-service"
    merchant_name: str = "Course Shop"
    worker_interval_seconds: float = 2.0
    reconcile_open_orders_after_seconds: float = 900.0
    db_pool_max: int = 10
    db_statement_timeout_ms: int = 5000
    max_request_bytes: int = 64 * 1024
    log_level: str = "INFO"
    site_token_max_lifetime_seconds: int = 60 * 60
    admin_token_max_lifetime_seconds: int = 12 * 60 * 60
    # Keep verified tokens and the sites' secrets in memory (payments_service/auth_cache.py).
    auth_cache: bool = True

    @property
    def mode(self) -> Literal["test", "live"]:
        """Razorpay's mode for these keys: live keys see live data only; the sandbox is test."""
        return "live" if self.razorpay_key_id.startswith("rzp_live_") else "test"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Build settings from ``environ`` (default: the process environment).

        Raises ConfigurationError naming the variable that is missing or malformed.
        """
        env = os.environ if environ is None else environ
        key_id, key_secret = _razorpay_keys(env)
        is_sandbox = key_id is None
        base_url = _razorpay_base_url(env, key_id)
        admin_secret = _admin_secret(env)
        timeout = _number(env, "RAZORPAY_TIMEOUT_SECONDS", 10.0)
        return cls(
            admin_jwt_secret=admin_secret,
            database_url=_get(env, "DATABASE_URL"),
            migration_database_url=_get(env, "MIGRATION_DATABASE_URL"),
            data_dir=Path(_get(env, "PAYMENTS_DATA_DIR") or ".data"),
            razorpay_key_id=key_id or SANDBOX_KEY_ID,
            razorpay_key_secret=key_secret or SANDBOX_KEY_SECRET,
            razorpay_webhook_secrets=_webhook_secrets(env, is_sandbox),
            razorpay_api_base_url=base_url,
            public_base_url=_public_base_url(env),
            razorpay_account_id=_get(env, "RAZORPAY_ACCOUNT_ID"),
            capture_authorized_payments=_flag(env, "RAZORPAY_CAPTURE_AUTHORIZED"),
            refund_duplicate_payments=_flag(env, "REFUND_DUPLICATE_PAYMENTS", default=True),
            subscription_access_during_pending=_flag(
                env, "SUBSCRIPTION_ACCESS_DURING_PENDING", default=True
            ),
            razorpay_timeout_seconds=timeout,
            razorpay_pool_size=int(_number(env, "GUNICORN_THREADS", 16)),
            order_key_lease_seconds=_lease(env, timeout),
            is_sandbox=is_sandbox,
            jwt_audience=_get(env, "JWT_AUDIENCE") or "payments-service",
            merchant_name=_get(env, "MERCHANT_NAME") or "Course Shop",
            worker_interval_seconds=_number(env, "WORKER_INTERVAL_SECONDS", 2.0),
            reconcile_open_orders_after_seconds=_number(
                env, "RECONCILE_OPEN_ORDERS_AFTER_SECONDS", 900.0
            ),
            db_pool_max=int(_number(env, "DB_POOL_MAX", 10)),
            db_statement_timeout_ms=int(_number(env, "DB_STATEMENT_TIMEOUT_MS", 5000)),
            max_request_bytes=int(_number(env, "MAX_REQUEST_BYTES", 64 * 1024)),
            log_level=(_get(env, "LOG_LEVEL") or "INFO").upper(),
            site_token_max_lifetime_seconds=_lifetime(env, "SITE_TOKEN_MAX_LIFETIME_SECONDS", 3600),
            admin_token_max_lifetime_seconds=_lifetime(
                env, "ADMIN_TOKEN_MAX_LIFETIME_SECONDS", 12 * 3600
            ),
            auth_cache=_flag(env, "AUTH_CACHE", default=True),
        )


def _admin_secret(env: Mapping[str, str]) -> str:
    admin_secret = _get(env, "ADMIN_JWT_SECRET")
    if admin_secret is None or len(admin_secret) < 32:
        raise ConfigurationError(
            "ADMIN_JWT_SECRET must be set to at least 32 characters "
            "(`make run` writes one to .env for development)"
        )
    return admin_secret


def _razorpay_keys(env: Mapping[str, str]) -> tuple[str | None, str | None]:
    key_id, key_secret = _get(env, "RAZORPAY_KEY_ID"), _get(env, "RAZORPAY_KEY_SECRET")
    if bool(key_id) != bool(key_secret):
        raise ConfigurationError(
            "RAZORPAY_KEY_ID and RAZORPAY_KEY_SECRET must be set together "
            "(or both left unset for the local sandbox)"
        )
    if key_id is not None and not key_id.startswith(("rzp_test_", "rzp_live_")):
        raise ConfigurationError("RAZORPAY_KEY_ID must start with rzp_test_ or rzp_live_")
    return key_id, key_secret


def _razorpay_base_url(env: Mapping[str, str], key_id: str | None) -> str:
    """Without keys the local sandbox, with keys Razorpay; live keys only ever over https."""
    default = SANDBOX_API if key_id is None else RAZORPAY_LIVE_API
    base_url = _url(env, "RAZORPAY_API_BASE_URL", default).rstrip("/")
    if base_url.endswith("/v1"):
        raise ConfigurationError("RAZORPAY_API_BASE_URL must not end in /v1: the SDK adds it")
    is_live = key_id is not None and key_id.startswith("rzp_live_")
    if is_live and urlsplit(base_url).scheme != "https":
        raise ConfigurationError(
            f"RAZORPAY_API_BASE_URL must be an https URL with live keys, got {base_url!r} "
            "(the sandbox is for running without keys)"
        )
    return base_url


def _public_base_url(env: Mapping[str, str]) -> str:
    """PUBLIC_BASE_URL: scheme://host[:port][/prefix], no query; kept without a trailing /."""
    value = _url(env, "PUBLIC_BASE_URL", DEFAULT_PUBLIC_BASE_URL).rstrip("/")
    parts = urlsplit(value)
    if parts.query or parts.fragment:
        raise ConfigurationError(f"PUBLIC_BASE_URL must have no query or fragment, got {value!r}")
    return value


def _get(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name, "").strip()
    return value or None


def _url(env: Mapping[str, str], name: str, default: str) -> str:
    value = _get(env, name) or default
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigurationError(f"{name} must be an http(s) URL, got {value!r}")
    return value


def _flag(env: Mapping[str, str], name: str, default: bool = False) -> bool:
    raw = (_get(env, name) or str(default)).lower()
    if raw not in ("true", "false", "1", "0", "yes", "no"):
        raise ConfigurationError(f"{name} must be true or false, got {raw!r}")
    return raw in ("true", "1", "yes")


def _number(env: Mapping[str, str], name: str, default: float) -> float:
    raw = _get(env, name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigurationError(f"{name} must be a number, got {raw!r}") from None
    if value <= 0:
        raise ConfigurationError(f"{name} must be positive, got {raw!r}")
    return value


def _lifetime(env: Mapping[str, str], name: str, default: int) -> int:
    """A token lifetime bound: whole seconds, at least a minute (what `tokens mint` can mint)."""
    value = _number(env, name, default)
    if value != int(value) or value < 60:
        raise ConfigurationError(f"{name} must be a whole number of seconds, at least 60")
    return int(value)


def _lease(env: Mapping[str, str], razorpay_timeout: float) -> float:
    lease = _number(env, "ORDER_KEY_LEASE_SECONDS", 30.0)
    if lease < razorpay_timeout + LEASE_MARGIN_SECONDS:
        raise ConfigurationError(
            f"ORDER_KEY_LEASE_SECONDS must be at least RAZORPAY_TIMEOUT_SECONDS + "
            f"{LEASE_MARGIN_SECONDS:g} ({razorpay_timeout + LEASE_MARGIN_SECONDS:g}), got "
            f"{lease:g}: a key is taken over only once its holder's Razorpay call is over"
        )
    return lease


def _webhook_secrets(env: Mapping[str, str], is_sandbox: bool) -> tuple[str, ...]:
    current = _get(env, "RAZORPAY_WEBHOOK_SECRET")
    previous = _get(env, "RAZORPAY_WEBHOOK_SECRET_PREVIOUS")
    if current is None and not is_sandbox:
        raise ConfigurationError(
            "RAZORPAY_WEBHOOK_SECRET must be set when real Razorpay keys are configured"
        )
    secrets = [current or SANDBOX_WEBHOOK_SECRET]
    if previous:
        secrets.append(previous)
    return tuple(secrets)
