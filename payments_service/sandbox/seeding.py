"""Bulk seeding (control API, no auth): many paid orders at once, for benchmarks.

``POST /_sandbox/seed`` stands in for a Razorpay account with a long history: it creates N
orders, each paid by one captured card payment, as if each had been paid on Checkout with
automatic capture, straight into memory. No webhook event is emitted: nothing is delivered
and nothing shows in ``GET /_sandbox/events``. The payments are then found by the API's
lists (``GET /v1/payments?from=&to=``), e.g. by a full reconcile. With ``created_at`` they
are all dated that second, so a test or benchmark can place history where it wants it.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from .entities import Card, Notes, Order, Payment, gateway_fee, new_id, now, random_digits
from .errors import invalid_request
from .extension import current_sandbox
from .payments import Attempt
from .validation import (
    EARLIEST_TIME,
    RECEIPT_MAX_LENGTH,
    json_body,
    parse_amount,
    parse_currency,
    parse_notes,
    reject_unknown,
    required,
)

MAX_SEED_ORDERS = 200_000
CHECKOUT_DEFAULTS = Attempt(succeeds=True)
SEED_FIELDS = frozenset(
    {"orders", "amount", "currency", "receipt_prefix", "notes", "email", "created_at"}
)

seeding = Blueprint("sandbox_seeding", __name__, url_prefix="/_sandbox")


@seeding.post("/seed")
def seed() -> dict[str, Any]:
    """Create ``orders`` paid orders (default 499.00 INR each); answers their ids.

    Body: ``orders`` (1-200000), optional ``amount``, ``currency``, ``receipt_prefix`` (the
    receipt of the n-th order is the prefix followed by n, from 0), ``notes`` (on every order
    and payment), ``email`` (the payer's) and ``created_at`` (Unix seconds, not in the
    future: every order and payment is dated then; by default each is dated as it is made).
    Answers ``{"count": N, "items": [{"order_id", "payment_id"}, ...]}`` in creation order.
    """
    body = json_body()
    reject_unknown(body, SEED_FIELDS)
    count = _count(required(body, "orders"))
    currency = parse_currency(body.get("currency", "INR"))
    amount = parse_amount(body.get("amount", 49900), currency)
    prefix = _receipt_prefix(body.get("receipt_prefix"), count)
    notes = parse_notes(body.get("notes"))
    email = _email(body.get("email"))
    dated = _created_at(body.get("created_at"))
    built = [_paid_order(n, amount, currency, prefix, notes, email) for n in range(count)]
    if dated is not None:
        for order, payment in built:
            order.created_at = payment.created_at = dated
    with current_sandbox().state.transaction() as transaction:
        for order, payment in built:
            transaction.state.orders[order.id] = order
            transaction.state.add_payment(payment)
    items = [{"order_id": order.id, "payment_id": payment.id} for order, payment in built]
    return {"count": count, "items": items}


def _paid_order(
    index: int, amount: int, currency: str, prefix: str | None, notes: Notes, email: str
) -> tuple[Order, Payment]:
    """One order paid in full by one captured card payment (Checkout's defaults)."""
    payer = CHECKOUT_DEFAULTS
    order = Order(
        id=new_id("order_"),
        amount=amount,
        currency=currency,
        receipt=None if prefix is None else f"{prefix}{index}",
        notes=dict(notes),
        status="paid",
        attempts=1,
        amount_paid=amount,
    )
    fee, tax = gateway_fee(amount)
    payment = Payment(
        id=new_id("pay_"),
        order_id=order.id,
        amount=amount,
        currency=currency,
        method="card",
        email=email,
        contact=payer.contact,
        description=None,
        notes=dict(notes),
        card=Card(new_id("card_"), payer.customer_name),
        acquirer_data={"auth_code": random_digits(6)},
        status="captured",
        fee=fee,
        tax=tax,
    )
    return order, payment


def _count(value: Any) -> int:
    """The number of orders to create: an integer from 1 to MAX_SEED_ORDERS."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_SEED_ORDERS:
        raise invalid_request(
            f"The orders must be an integer from 1 to {MAX_SEED_ORDERS}.", field="orders"
        )
    return value


def _receipt_prefix(value: Any, count: int) -> str | None:
    """An optional receipt prefix short enough for every receipt to fit 40 characters."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise invalid_request("The receipt_prefix must be a string.", field="receipt_prefix")
    if len(value) + len(str(count - 1)) > RECEIPT_MAX_LENGTH:
        raise invalid_request(
            f"The receipt_prefix leaves receipts longer than {RECEIPT_MAX_LENGTH} characters.",
            field="receipt_prefix",
        )
    return value


def _email(value: Any) -> str:
    """The payer's e-mail address; Checkout's placeholder when not given."""
    if value is None:
        return CHECKOUT_DEFAULTS.email
    if not isinstance(value, str) or "@" not in value:
        raise invalid_request("The email must be an e-mail address.", field="email")
    return value


def _created_at(value: Any) -> int | None:
    """An optional Unix time, from the earliest Razorpay accepts up to now."""
    if value is None:
        return None
    latest = now()
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or not EARLIEST_TIME <= value <= latest
    ):
        raise invalid_request(
            f"The created_at must be a Unix time from {EARLIEST_TIME} to {latest}.",
            field="created_at",
        )
    return value
