"""Settings of a sandbox instance: credentials, webhook targets and simulated behaviour."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any

WEBHOOK_DELIVERY_MODES = ("async", "sync", "off")
REFUND_OUTCOMES = ("processed", "pending")
SECRET_FIELDS = frozenset({"key_secret", "webhook_secret"})
RATE_FIELDS = frozenset(
    {"webhook_drop_rate", "api_failure_rate", "api_timeout_rate", "api_late_answer_rate"}
)
MAX_WEBHOOK_DUPLICATES = 10
MAX_WAIT_MS = 60_000
PUBLIC_URL_PATTERN = re.compile(r"^https?://[^/?#\s]+(/[^?#\s]*)?$")

_TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
_FALSE_WORDS = frozenset({"0", "false", "no", "off"})

Checker = Callable[[str, Any], None]
Parser = Callable[[str, str], Any]


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

    The chaos knobs, all off by default, make the sandbox misbehave the way Razorpay can:

    * ``webhook_duplicates``: each event goes out this many times (1-10), copies back to back,
      each with the same event id, body and signature.
    * ``webhook_shuffle``: the events of one action (``payment.authorized``,
      ``payment.captured``, ``order.paid``) go out in a random order, in every delivery mode.
    * ``webhook_delay_ms``: the background thread waits this long before each delivery (each
      copy, each URL). ``async`` mode only: ``sync`` mode ignores it, so that sync stays
      deterministic and API calls are slowed only by ``latency_ms``.
    * ``webhook_drop_rate``: the share of events (0-1) never sent to any URL; they are still
      listed by ``GET /_sandbox/events``, and ``GET /_sandbox/webhooks`` marks them dropped.
    * ``api_failure_rate``: the share of ``/v1`` calls (0-1) answered with Razorpay's 500
      ``SERVER_ERROR`` or a 502/504 ``GATEWAY_ERROR`` instead of being served.
    * ``api_timeout_rate``: the share of ``/v1`` calls (0-1) that hang for ``api_timeout_ms``
      (at most 60 s) and then answer 504 ``GATEWAY_ERROR``, so a client with a shorter read
      timeout sees a timeout and one without sees a gateway error.
    * ``api_late_answer_rate``: the share of ``/v1`` calls (0-1) that are served at once
      (an order is created, a refund made) but answered only after ``api_timeout_ms``, so a
      client with a shorter read timeout loses the answer to a call that did happen.
    * ``seed``: seeds the instance's random generator, making the choices above repeatable;
      ``None`` seeds it from the operating system. Setting it or ``POST /_sandbox/reset``
      restarts the sequence.

    ``public_url`` is the sandbox's address as people's browsers reach it, the base of the
    payment links' ``short_url``; empty (the default) takes the address the create call was
    sent to, which is right unless the service reaches the sandbox by another name (Docker).

    Failures, timeouts and late answers are chosen by one draw per authenticated call, so
    their shares add up (when they sum past 1, failures take theirs first, then timeouts);
    wrong credentials always get 401. A failed or timed-out call never reaches a handler, so
    it changes nothing. Checkout pages and the ``/_sandbox`` routes never fail.
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
    webhook_duplicates: int = 1
    webhook_shuffle: bool = False
    webhook_delay_ms: int = 0
    webhook_drop_rate: float = 0.0
    api_failure_rate: float = 0.0
    api_timeout_rate: float = 0.0
    api_timeout_ms: int = 30_000
    api_late_answer_rate: float = 0.0
    seed: int | None = None
    public_url: str = ""

    def __post_init__(self) -> None:
        for config_field in fields(self):
            value = getattr(self, config_field.name)
            _check_value(config_field.name, value)
            setattr(self, config_field.name, _stored(config_field.name, value))

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
            setattr(self, name, _stored(name, value))

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
        for name, parse in TUNABLE_SETTINGS.items():
            text = environ.get(environment_variable(name))
            if text:
                values[name] = parse(name, text)
        return cls(**values)


def environment_variable(name: str) -> str:
    """The variable a tunable setting is read from: ``seed`` -> ``SANDBOX_SEED``."""
    return f"SANDBOX_{name.upper()}"


def parse_int(name: str, text: str) -> int:
    """Parse a decimal integer setting given as text."""
    try:
        return int(text)
    except ValueError:
        raise ConfigError(name, f"expected an integer, got {text!r}") from None


def parse_float(name: str, text: str) -> float:
    """Parse a decimal number setting given as text."""
    try:
        return float(text)
    except ValueError:
        raise ConfigError(name, f"expected a number, got {text!r}") from None


def parse_url(name: str, text: str) -> str:
    """Parse an http(s) URL setting given as text (checked like any value of the setting)."""
    _check_url(name, text)
    return text


def parse_bool(name: str, text: str) -> bool:
    """Parse a boolean setting given as text (1/0, true/false, yes/no, on/off)."""
    word = text.strip().lower()
    if word in _TRUE_WORDS:
        return True
    if word in _FALSE_WORDS:
        return False
    raise ConfigError(name, f"expected true or false, got {text!r}")


# Settings that may also be given as SANDBOX_<NAME> variables and --<name> flags.
TUNABLE_SETTINGS: dict[str, Parser] = {
    "auto_capture": parse_bool,
    "latency_ms": parse_int,
    "webhook_duplicates": parse_int,
    "webhook_shuffle": parse_bool,
    "webhook_delay_ms": parse_int,
    "webhook_drop_rate": parse_float,
    "api_failure_rate": parse_float,
    "api_timeout_rate": parse_float,
    "api_timeout_ms": parse_int,
    "api_late_answer_rate": parse_float,
    "seed": parse_int,
    "public_url": parse_url,
}


def _stored(name: str, value: Any) -> Any:
    """The value as kept: a copy of the URL list, rates as floats even when given as 0 or 1."""
    if name == "webhook_urls":
        return list(value)
    if name in RATE_FIELDS:
        return float(value)
    return value


def _check_value(name: str, value: Any) -> None:
    """Raise ConfigError unless ``value`` is acceptable for the setting ``name``."""
    _CHECKS[name](name, value)


def _check_text(name: str, value: Any) -> None:
    """Accept a non-empty string."""
    if not isinstance(value, str) or not value:
        raise ConfigError(name, "must be a non-empty string")


def _check_urls(name: str, value: Any) -> None:
    """Accept a list of strings."""
    if not isinstance(value, list) or not all(isinstance(url, str) for url in value):
        raise ConfigError(name, "must be a list of URLs")


def _check_flag(name: str, value: Any) -> None:
    """Accept a boolean."""
    if not isinstance(value, bool):
        raise ConfigError(name, "must be true or false")


def _check_rate(name: str, value: Any) -> None:
    """Accept a number from 0 to 1 (a share of calls or events)."""
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    if not is_number or not 0 <= value <= 1:
        raise ConfigError(name, "must be a number from 0 to 1")


def _check_seed(name: str, value: Any) -> None:
    """Accept an integer or None."""
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        raise ConfigError(name, "must be an integer or null")


def _check_url(name: str, value: Any) -> None:
    """Accept "" or an http(s) URL without query or fragment."""
    if not isinstance(value, str):
        raise ConfigError(name, "must be a URL")
    if value and not PUBLIC_URL_PATTERN.match(value):
        raise ConfigError(name, "must be an http(s) URL such as http://127.0.0.1:8010")


def _choice(choices: tuple[str, ...]) -> Checker:
    """A check that accepts one of ``choices``."""

    def check(name: str, value: Any) -> None:
        if value not in choices:
            raise ConfigError(name, f"must be one of {', '.join(choices)}")

    return check


def _integer(minimum: int = 0, maximum: int | None = None) -> Checker:
    """A check that accepts an integer from ``minimum`` to ``maximum`` (no bound if None)."""

    def check(name: str, value: Any) -> None:
        is_integer = isinstance(value, int) and not isinstance(value, bool)
        if not is_integer or value < minimum or (maximum is not None and value > maximum):
            if maximum is None:
                raise ConfigError(name, "must be a non-negative integer")
            raise ConfigError(name, f"must be an integer from {minimum} to {maximum}")

    return check


_CHECKS: dict[str, Checker] = {
    "key_id": _check_text,
    "key_secret": _check_text,
    "webhook_secret": _check_text,
    "account_id": _check_text,
    "webhook_urls": _check_urls,
    "webhook_delivery": _choice(WEBHOOK_DELIVERY_MODES),
    "auto_capture": _check_flag,
    "latency_ms": _integer(),
    "merchant_balance": _integer(),
    "refund_outcome": _choice(REFUND_OUTCOMES),
    "webhook_duplicates": _integer(1, MAX_WEBHOOK_DUPLICATES),
    "webhook_shuffle": _check_flag,
    "webhook_delay_ms": _integer(0, MAX_WAIT_MS),
    "webhook_drop_rate": _check_rate,
    "api_failure_rate": _check_rate,
    "api_timeout_rate": _check_rate,
    "api_timeout_ms": _integer(0, MAX_WAIT_MS),
    "api_late_answer_rate": _check_rate,
    "seed": _check_seed,
    "public_url": _check_url,
}
