"""Verify what Razorpay Checkout handed the browser (DESIGN.md, core flow step 3)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .db import Database, payment_reads
from .db.orders import Order
from .db.payments import Payment
from .errors import GatewayError, InvalidSignature, NotFound, PaymentMismatch, PaymentNotSuccessful
from .payments import SETTLED_STATUSES, PaymentOutcome, apply_payment, order_state
from .razorpay_gateway import RazorpayGateway
from .signatures import is_valid_checkout_signature


@dataclass(frozen=True)
class CheckoutResult:
    """What the browser sent back from Checkout."""

    razorpay_order_id: str
    razorpay_payment_id: str
    razorpay_signature: str


def verify_checkout(
    db: Database, gateway: RazorpayGateway, key_secret: str, result: CheckoutResult
) -> PaymentOutcome:
    """Prove the payment, capture it if only authorized, pay the order and grant access.

    The signature is checked against the order id we stored. Razorpay is asked for the
    payment (never the browser) and every call happens before the transaction that
    applies it. Calling this twice, or twice at once, grants once. A second payment of an
    order already paid is not captured; captured, it is a duplicate and grants nothing, as
    does the payment of an order for a product its buyer already owned.
    Raises NotFound, InvalidSignature, PaymentMismatch, PaymentNotSuccessful, GatewayError.
    """
    order, recorded = _order_for(db, result.razorpay_order_id, result.razorpay_payment_id)
    if not is_valid_checkout_signature(
        key_secret,
        order.razorpay_order_id or "",  # found by it: never None here
        result.razorpay_payment_id,
        result.razorpay_signature,
    ):
        raise InvalidSignature(
            "razorpay_signature does not match this order and payment", field="razorpay_signature"
        )
    settled = _already_settled(db, order, recorded)
    if settled is not None:
        return settled
    entity = gateway.fetch_payment(result.razorpay_payment_id)
    _check_matches(order, entity)
    if entity["status"] == "authorized" and order.amount_paid == 0:
        entity = _capture(gateway, entity)
    outcome = apply_payment(db, entity, actor="checkout")
    if outcome.payment.status not in SETTLED_STATUSES:
        paid = " (the order is paid by another payment)" if outcome.order.amount_paid else ""
        raise PaymentNotSuccessful(
            f"payment {outcome.payment.id} is {outcome.payment.status}, not captured{paid}",
            payment_status=outcome.payment.status,
        )
    return outcome


def _order_for(
    db: Database, razorpay_order_id: str, payment_id: str
) -> tuple[Order, Payment | None]:
    """The order, and our record of the payment if we have one, in one read."""
    with db.read() as cur:
        order, payment = payment_reads.order_with_payment(cur, razorpay_order_id, payment_id)
    if order is None:
        raise NotFound(
            f"no order with razorpay_order_id {razorpay_order_id!r}", field="razorpay_order_id"
        )
    return order, payment


def _already_settled(db: Database, order: Order, payment: Payment | None) -> PaymentOutcome | None:
    """A verify that repeats a settled one needs no Razorpay call."""
    if payment is None or payment.order_id != order.id or payment.status not in SETTLED_STATUSES:
        return None
    current, enrollment = order_state(db, order.id)
    if current.amount_paid == 0:
        return None
    return PaymentOutcome(current, payment, enrollment, order_became_paid=False, changed=False)


def _check_matches(order: Order, entity: dict[str, Any]) -> None:
    if entity.get("order_id") != order.razorpay_order_id:
        raise PaymentMismatch("the payment belongs to another order", field="razorpay_payment_id")
    if entity.get("amount") != order.amount or entity.get("currency") != order.currency:
        raise PaymentMismatch(
            f"the payment is {entity.get('amount')} {entity.get('currency')} but the order "
            f"is {order.amount} {order.currency}",
            field="razorpay_payment_id",
        )


def _capture(gateway: RazorpayGateway, entity: dict[str, Any]) -> dict[str, Any]:
    try:
        return gateway.capture_payment(entity["id"], int(entity["amount"]), entity["currency"])
    except GatewayError:
        # A concurrent verify or webhook may have captured it first: ask again.
        fresh = gateway.fetch_payment(entity["id"])
        if fresh["status"] in SETTLED_STATUSES:
            return fresh
        raise
