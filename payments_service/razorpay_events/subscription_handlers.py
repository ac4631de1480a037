"""The subscription events (``subscription.*``, ``invoice.paid``) and the payments of
subscription charges: each through the subscription state machine, in the caller's
transaction. An event about a subscription we never made raises NotFound (stored as
``unmatched``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..db import Cursor
from ..db import orders as orders_sql
from ..db import subscriptions as subscriptions_sql
from ..db.orders import Order
from ..payments.apply import PaymentOutcome
from ..subscriptions import apply_report_in, our_subscription
from ..subscriptions.charges import apply_charge_in

SUBSCRIPTION_EVENTS = (
    "subscription.authenticated",
    "subscription.activated",
    "subscription.charged",
    "subscription.pending",
    "subscription.halted",
    "subscription.paused",
    "subscription.resumed",
    "subscription.cancelled",
    "subscription.completed",
    "subscription.updated",
)


def section(envelope: dict[str, Any], name: str) -> dict[str, Any] | None:
    """payload.<name>.entity when the event carries it."""
    payload = envelope.get("payload")
    part = payload.get(name) if isinstance(payload, dict) else None
    entity = part.get("entity") if isinstance(part, dict) else None
    return entity if isinstance(entity, dict) and isinstance(entity.get("id"), str) else None


def on_subscription_event(
    cur: Cursor, envelope: dict[str, Any], during_pending: bool, at: datetime
) -> tuple[str, str | None]:
    """Apply a subscription.* event: (what it did, the charge's order id if any)."""
    entity = section(envelope, "subscription")
    if entity is None:
        raise ValueError("payload.subscription.entity is missing")
    sub = our_subscription(cur, entity["id"])
    now, outcome = apply_report_in(
        cur, sub, entity, section(envelope, "payment"), "webhook", during_pending, at
    )
    return f"subscription {now.status}", outcome.order.id if outcome else None


def on_invoice_paid(
    cur: Cursor, envelope: dict[str, Any], during_pending: bool, at: datetime
) -> tuple[str, str | None]:
    """Apply invoice.paid: the charge of one of our subscriptions."""
    invoice, payment = section(envelope, "invoice"), section(envelope, "payment")
    if invoice is None or payment is None:
        raise ValueError("payload.invoice.entity or payload.payment.entity is missing")
    sub = our_subscription(cur, invoice.get("subscription_id"))
    charge = {**payment, "invoice_id": payment.get("invoice_id") or invoice["id"]}
    _, outcome = apply_report_in(cur, sub, None, charge, "webhook", during_pending, at)
    status = outcome.payment.status if outcome else "not a charge"
    return f"invoice paid: payment {status}", outcome.order.id if outcome else None


def charge_payment(cur: Cursor, entity: dict[str, Any], actor: str) -> PaymentOutcome | None:
    """A payment of a subscription charge whose order we hold, through its subscription
    (so the site hears subscription.charged once); None for any other payment."""
    order = orders_sql.get_by_razorpay_id(cur, str(entity.get("order_id")))
    return None if order is None else charge_order_payment(cur, order, entity, actor)


def charge_order_payment(
    cur: Cursor, order: Order, entity: dict[str, Any], actor: str
) -> PaymentOutcome | None:
    """charge_payment for a payment whose order (``order``, unlocked) the caller has read."""
    if order.subscription_id is None:
        return None
    sub = subscriptions_sql.get(cur, order.subscription_id, lock=True)
    if sub is None:
        return None
    return apply_charge_in(cur, sub, {**entity, "invoice_id": order.razorpay_invoice_id}, actor)
