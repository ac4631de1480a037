"""Creating orders and listing them, with Razorpay's validation of the create body."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .entities import Order, new_id
from .errors import invalid_request
from .state import SandboxState, Transaction
from .validation import (
    parse_amount,
    parse_currency,
    parse_notes,
    parse_receipt,
    reject_unknown,
    required,
)

ORDER_FIELDS = frozenset(
    {"amount", "currency", "receipt", "notes", "partial_payment", "payment_capture", "payment"}
)
CAPTURE_SETTINGS_FIELDS = frozenset({"capture", "capture_options"})
PAID_PAYMENT_STATUSES = frozenset({"authorized", "captured", "refunded"})


def create_order(transaction: Transaction, body: Mapping[str, Any]) -> Order:
    """Validate an order-create body and store the new order.

    ``payment.capture`` (``automatic``/``manual``) or the legacy ``payment_capture`` (1/0)
    override the sandbox's ``auto_capture`` for this order. Partial payments are not emulated.
    """
    reject_unknown(body, ORDER_FIELDS)
    currency = parse_currency(required(body, "currency"))
    amount = parse_amount(required(body, "amount"), currency)
    if body.get("partial_payment"):
        raise invalid_request(
            "Partial payments are not supported by the sandbox", field="partial_payment"
        )
    order = Order(
        id=new_id("order_"),
        amount=amount,
        currency=currency,
        receipt=parse_receipt(body.get("receipt")),
        notes=parse_notes(body.get("notes")),
        auto_capture=_capture_preference(body),
    )
    transaction.state.orders[order.id] = order
    return order


def find_orders(state: SandboxState, filters: Mapping[str, str]) -> list[Order]:
    """Orders (oldest first) matching the ``receipt`` and ``authorized`` list filters."""
    orders = list(state.orders.values())
    if "receipt" in filters:
        orders = [order for order in orders if order.receipt == filters["receipt"]]
    if "authorized" in filters:
        wanted = filters["authorized"] == "1"
        orders = [order for order in orders if _has_authorized_payment(state, order) == wanted]
    return orders


def _has_authorized_payment(state: SandboxState, order: Order) -> bool:
    """Whether any payment on the order got as far as authorisation."""
    return any(payment.status in PAID_PAYMENT_STATUSES for payment in state.payments_of(order.id))


def _capture_preference(body: Mapping[str, Any]) -> bool | None:
    """The order's own capture setting: True automatic, False manual, None the default."""
    settings = body.get("payment")
    if settings is not None:
        if not isinstance(settings, dict):
            raise invalid_request("The payment must be an array.", field="payment")
        reject_unknown(settings, CAPTURE_SETTINGS_FIELDS)
        capture = settings.get("capture")
        if capture not in ("automatic", "manual"):
            raise invalid_request("The selected payment.capture is invalid.", field="payment")
        return bool(capture == "automatic")
    legacy = body.get("payment_capture")
    if legacy is None:
        return None
    if legacy not in (0, 1, "0", "1"):
        raise invalid_request("The selected payment capture is invalid.", field="payment_capture")
    return str(int(legacy)) == "1"
