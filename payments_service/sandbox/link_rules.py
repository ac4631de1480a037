"""Razorpay's validation of payment-link create and update bodies, with its wording.

Unknown fields and fields of the wrong type get Razorpay's catch-all "wrong input fields
sent."; the other descriptions are the ones Razorpay documents for each rule.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from .entities import Notes
from .errors import RazorpayError, invalid_request
from .validation import parse_amount, parse_currency, required

CREATE_FIELDS = frozenset(
    {"amount", "currency", "accept_partial", "first_min_partial_amount", "upi_link"}
    | {"description", "reference_id", "customer", "expire_by", "notify", "reminder_enable"}
    | {"notes", "callback_url", "callback_method", "options"}
)
EDIT_FIELDS = frozenset({"accept_partial", "reference_id", "expire_by", "notes", "reminder_enable"})
CUSTOMER_FIELDS = frozenset({"name", "email", "contact"})
NOTIFY_FIELDS = frozenset({"sms", "email", "whatsapp"})
DESCRIPTION_MAX_LENGTH = 2048
REFERENCE_MAX_LENGTH = 40
NOTES_MAX_PAIRS = 15
NOTE_MAX_LENGTH = 255
MIN_EXPIRY_SECONDS = 15 * 60
# Razorpay's limit is "6 months"; the sandbox takes the longest six calendar months.
MAX_EXPIRY_SECONDS = 184 * 24 * 60 * 60

WRONG_INPUT = "wrong input fields sent."
DUPLICATE_REFERENCE = "payment link creation with reference ID already attempted"
EXPIRY_TOO_SOON = "timestamp must be atleast 15 minutes in future"
EXPIRY_TOO_LATE = "timestamp must be within 6 months from now"  # the sandbox's wording
UPI_IN_TEST_MODE = (
    "UPI Payment Links is not supported in Test Mode. Please experience the product in Live Mode."
)
UPI_PARTIAL = "partial payment not supported in upi link"
UPI_CURRENCY = "upi is currently supported only in indian currency"
NOTE_TOO_LONG = f"value: the length must not be greater than {NOTE_MAX_LENGTH}."
TOO_MANY_NOTES = f"Number of fields in notes should be less than or equal to {NOTES_MAX_PAIRS}"


@dataclass(frozen=True)
class LinkRequest:
    """A validated create body."""

    amount: int
    currency: str
    accept_partial: bool
    first_min_partial_amount: int
    upi_link: bool
    description: str
    reference_id: str
    customer: dict[str, str] | None
    expire_by: int
    notify: dict[str, bool]
    reminder_enable: bool
    notes: Notes
    callback_url: str
    callback_method: str
    merchant_name: str


def wrong_input(field: str | None = None) -> RazorpayError:
    """Razorpay's answer to an unknown or malformed field."""
    return invalid_request(WRONG_INPUT, field=field)


def parse_create(body: Mapping[str, Any], now: int, test_mode: bool) -> LinkRequest:
    """Validate a create body against the clock ``now``; raises RazorpayError."""
    if any(name not in CREATE_FIELDS for name in body):
        raise wrong_input()
    currency = parse_currency(body.get("currency", "INR"))
    amount = parse_amount(required(body, "amount"), currency)
    accept_partial = _flag(body, "accept_partial")
    upi_link = _flag(body, "upi_link")
    if upi_link:
        _check_upi(currency, accept_partial, test_mode)
    callback_url = _text(body, "callback_url", 2048)
    if callback_url:
        _check_url(callback_url)
    callback_method = _text(body, "callback_method", 10)
    if callback_url:
        callback_method = str(required(body, "callback_method"))
    if callback_method and callback_method != "get":
        raise invalid_request("The selected callback method is invalid.", field="callback_method")
    return LinkRequest(
        amount=amount,
        currency=currency,
        accept_partial=accept_partial,
        first_min_partial_amount=_first_minimum(body, amount, accept_partial, currency),
        upi_link=upi_link,
        description=_text(body, "description", DESCRIPTION_MAX_LENGTH),
        reference_id=_text(body, "reference_id", REFERENCE_MAX_LENGTH),
        customer=_customer(body.get("customer")),
        expire_by=parse_expire_by(body.get("expire_by"), now),
        notify=_notify(body.get("notify")),
        reminder_enable=_flag(body, "reminder_enable", default=True),
        notes=parse_link_notes(body.get("notes")),
        callback_url=callback_url,
        callback_method=callback_method,
        merchant_name=_merchant_name(body.get("options")),
    )


def check_edit_fields(body: Mapping[str, Any]) -> None:
    """Refuse an update that names anything but the five editable fields."""
    if not body or any(name not in EDIT_FIELDS for name in body):
        raise wrong_input()


def parse_expire_by(value: Any, now: int) -> int:
    """An expiry at least 15 minutes and at most 6 months ahead; absent or 0 is none."""
    if value is None or value == 0:
        return 0
    if isinstance(value, bool) or not isinstance(value, int):
        raise wrong_input("expire_by")
    if value < now + MIN_EXPIRY_SECONDS:
        raise invalid_request(EXPIRY_TOO_SOON, field="expire_by")
    if value > now + MAX_EXPIRY_SECONDS:
        raise invalid_request(EXPIRY_TOO_LATE, field="expire_by")
    return value


def parse_link_notes(value: Any) -> Notes:
    """Notes: at most 15 pairs of scalars, values up to 255 characters."""
    if value is None or value == []:
        return {}
    if not isinstance(value, dict):
        raise wrong_input("notes")
    if len(value) > NOTES_MAX_PAIRS:
        raise invalid_request(TOO_MANY_NOTES, field="notes")
    for note in value.values():
        if isinstance(note, dict | list):
            raise wrong_input("notes")
        if len(str(note)) > NOTE_MAX_LENGTH:
            raise invalid_request(NOTE_TOO_LONG, field="notes")
    return dict(value)


def parse_reference(body: Mapping[str, Any]) -> str:
    """An optional reference id of at most 40 characters ("" when absent)."""
    return _text(body, "reference_id", REFERENCE_MAX_LENGTH)


def parse_flag(body: Mapping[str, Any], name: str) -> bool:
    """A boolean field that must be present."""
    return _flag(body, name)


def _check_upi(currency: str, accept_partial: bool, test_mode: bool) -> None:
    """UPI links: INR only, no partial payments, and not with test keys."""
    if currency != "INR":
        raise invalid_request(UPI_CURRENCY, field="currency")
    if accept_partial:
        raise invalid_request(UPI_PARTIAL, field="accept_partial")
    if test_mode:
        raise invalid_request(UPI_IN_TEST_MODE, field="upi_link")


def _check_url(url: str) -> None:
    """A callback URL must be an absolute http(s) URL."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise invalid_request("The callback url format is invalid.", field="callback_url")


def _first_minimum(
    body: Mapping[str, Any], amount: int, accept_partial: bool, currency: str
) -> int:
    """The first instalment's minimum: only with partial payments, from 1.00 to the amount."""
    value = body.get("first_min_partial_amount")
    if value is None or value == 0:
        return 0
    if not accept_partial:
        raise wrong_input("first_min_partial_amount")
    minimum = parse_amount(value, currency)
    if minimum > amount:
        raise invalid_request(
            "first_min_partial_amount must not be greater than the amount",
            field="first_min_partial_amount",
        )
    return minimum


def _flag(body: Mapping[str, Any], name: str, default: bool = False) -> bool:
    """An optional boolean (Razorpay also takes 0 and 1)."""
    value = body.get(name, default)
    if value in (0, 1) and not isinstance(value, bool):
        value = bool(value)
    if not isinstance(value, bool):
        raise wrong_input(name)
    return value


def _text(body: Mapping[str, Any], name: str, max_length: int) -> str:
    """An optional string of at most ``max_length`` characters ("" when absent)."""
    value = body.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise wrong_input(name)
    if len(value) > max_length:
        raise invalid_request(
            f"The {name} may not be greater than {max_length} characters.", field=name
        )
    return value


def _customer(value: Any) -> dict[str, str] | None:
    """The optional customer: name, email and contact strings."""
    if value is None:
        return None
    if not isinstance(value, dict) or any(key not in CUSTOMER_FIELDS for key in value):
        raise wrong_input("customer")
    if not all(isinstance(item, str) for item in value.values()):
        raise wrong_input("customer")
    return dict(value)


def _notify(value: Any) -> dict[str, bool]:
    """Whether Razorpay would send the link by e-mail and SMS (the sandbox sends nothing)."""
    if value is None:
        return {"email": False, "sms": False}
    if not isinstance(value, dict) or any(key not in NOTIFY_FIELDS for key in value):
        raise wrong_input("notify")
    return {"email": _flag(value, "email"), "sms": _flag(value, "sms")}


def _merchant_name(options: Any) -> str:
    """``options.checkout.name``, the business name the hosted page shows, if given."""
    if options is None:
        return ""
    if not isinstance(options, dict):
        raise wrong_input("options")
    checkout = options.get("checkout")
    name = checkout.get("name") if isinstance(checkout, dict) else None
    return name if isinstance(name, str) else ""
