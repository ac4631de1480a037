"""Settings of a sandbox instance: credentials, webhook targets and simulated behaviour."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any

WEBHOOK_DELIVERY_MODES = ("async", "sync", "off")
REFUND_OUTCOMES = ("processed", "pending")
SECRET_FIELDS = frozenset({"key_secret", "webhook_secret"})

_TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
_FALSE_WORDS = frozenset({"0", "false", "no", "off"})


class ConfigError(ValueError):
    """A configuration value is missing, of the wrong type or out of range."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(f"{field_name}: {message}")
        self.field_name = field_name
        self.message = message


@dataclass
class SandboxConfig:
    """Everything a sandbox instance is told; mutable at run time through the control API.

    ``merchant_balance`` is the merchant's balance available for refunds, in subunits: every
    refund draws it down (a failed refund gives it back) and a refund larger than it fails with
    Razorpay's "invalid request sent", as on a test account with no balance.
    """

    key_id: str = "rzp_test_SandboxKey0001"
    key_secret: str = "sandbox_key_secret"  # noqa: S105 - well-known sandbox credential
    webhook_secret: str = "sandbox_webhook_secret"  # noqa: S105 - well-known sandbox credential
    account_id: str = "acc_Sandbox0000001"
    webhook_urls: list[str] = field(default_factory=list)
    webhook_delivery: str = "async"
    auto_capture: bool = True
    latency_ms: int = 0
    merchant_balance: int = 10_000_000_00
    refund_outcome: str = "processed"

    def __post_init__(self) -> None:
        for config_field in fields(self):
            _check_value(config_field.name, getattr(self, config_field.name))

    def public_view(self) -> dict[str, Any]:
        """Return every setting except the secrets, as JSON-ready values."""
        view = asdict(self)
        for name in SECRET_FIELDS:
            view.pop(name)
        return view

    def update(self, changes: Mapping[str, Any]) -> None:
        """Apply a partial update; all values are checked before any is applied.

        Raises ConfigError for unknown fields, secrets, or invalid values.
        """
        known = {config_field.name for config_field in fields(self)}
        for name, value in changes.items():
            if name not in known:
                raise ConfigError(name, "is not a sandbox setting")
            if name in SECRET_FIELDS:
                raise ConfigError(name, "secrets cannot be changed at run time")
            _check_value(name, value)
        for name, value in changes.items():
            setattr(self, name, list(value) if name == "webhook_urls" else value)

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> SandboxConfig:
        """Build a config from SANDBOX_* variables; unset variables keep their defaults."""
        values: dict[str, Any] = {}
        for variable, name in (
            ("SANDBOX_KEY_ID", "key_id"),
            ("SANDBOX_KEY_SECRET", "key_secret"),
            ("SANDBOX_WEBHOOK_SECRET", "webhook_secret"),
        ):
            if environ.get(variable):
                values[name] = environ[variable]
        if environ.get("SANDBOX_WEBHOOK_URL"):
            urls = environ["SANDBOX_WEBHOOK_URL"].split(",")
            values["webhook_urls"] = [url.strip() for url in urls if url.strip()]
        if environ.get("SANDBOX_LATENCY_MS"):
            values["latency_ms"] = parse_int("latency_ms", environ["SANDBOX_LATENCY_MS"])
        if environ.get("SANDBOX_AUTO_CAPTURE"):
            values["auto_capture"] = parse_bool("auto_capture", environ["SANDBOX_AUTO_CAPTURE"])
        return cls(**values)


def parse_int(name: str, text: str) -> int:
    """Parse a decimal integer setting given as text."""
    try:
        return int(text)
    except ValueError:
        raise ConfigError(name, f"expected an integer, got {text!r}") from None


def parse_bool(name: str, text: str) -> bool:
    """Parse a boolean setting given as text (1/0, true/false, yes/no, on/off)."""
    word = text.strip().lower()
    if word in _TRUE_WORDS:
        return True
    if word in _FALSE_WORDS:
        return False
    raise ConfigError(name, f"expected true or false, got {text!r}")


def _check_value(name: str, value: Any) -> None:
    """Raise ConfigError unless ``value`` is acceptable for the setting ``name``."""
    if name in ("key_id", "key_secret", "webhook_secret", "account_id"):
        if not isinstance(value, str) or not value:
            raise ConfigError(name, "must be a non-empty string")
    elif name == "webhook_urls":
        if not isinstance(value, list) or not all(isinstance(url, str) for url in value):
            raise ConfigError(name, "must be a list of URLs")
    elif name == "webhook_delivery":
        _check_choice(name, value, WEBHOOK_DELIVERY_MODES)
    elif name == "refund_outcome":
        _check_choice(name, value, REFUND_OUTCOMES)
    elif name == "auto_capture":
        if not isinstance(value, bool):
            raise ConfigError(name, "must be true or false")
    elif name in ("latency_ms", "merchant_balance") and (
        isinstance(value, bool) or not isinstance(value, int) or value < 0
    ):
        raise ConfigError(name, "must be a non-negative integer")


def _check_choice(name: str, value: Any, choices: tuple[str, ...]) -> None:
    """Raise ConfigError unless ``value`` is one of ``choices``."""
    if value not in choices:
        raise ConfigError(name, f"must be one of {', '.join(choices)}")
