"""Duplicate payments: money taken for something the buyer already had.

Two kinds, both recorded by the payment state machine as Razorpay reports them and handed
here in the same transaction, under the order's lock, so only one of the channels reporting
a payment (verify, webhooks, reconciliation) ever does this:

* a second captured payment of an order another payment already paid (``duplicate_of``):
  Razorpay refuses a new payment on a paid order, but one it had marked failed can still be
  authorised late by the bank and captured (a buyer who tried in two tabs). It sends no
  ``order.paid``, and its refunds never count towards the order's refund status;
* the payment of an order for a product its customer already owned through another order
  or grant (``duplicate_of_enrollment``): two tabs each made an order before either was
  paid, and both were paid. The order is paid (its site hears ``order.paid``, marked) and,
  once refunded, ``refunded``; the enrollment the customer holds is never touched. An order
  made with ``allow_owned`` is a deliberate repeat and no duplicate.

Neither grants anything, and refunding one never revokes access. With
REFUND_DUPLICATE_PAYMENTS on, a refund of all of it is reserved (``requested``) in that
transaction, under an idempotency key that is the payment's id (so it is reserved once); the
worker asks Razorpay for it outside any transaction with X-Refund-Idempotency set to the
refund's id, so repeated asks make one refund. Otherwise, or when Razorpay refuses the
refund, the payment is flagged for an admin.
"""

from __future__ import annotations

import logging
from typing import Final

from .db import Cursor, Database
from .db import payments as payments_sql
from .db import refunds as refunds_sql
from .db.enrollments import Enrollment
from .db.orders import Order
from .db.payments import Payment
from .db.refunds import DUPLICATE_SCOPE, NewRefund, Refund
from .errors import GatewayError, GatewayUnavailable
from .ids import new_id
from .money import MINIMUM_AMOUNT
from .razorpay_gateway import RazorpayGateway
from .refund_settlement import apply_refund

log = logging.getLogger(__name__)

REQUESTER: Final = "service:duplicate-payment"
NOT_REFUNDED: Final = (
    "a duplicate payment, not refunded automatically (REFUND_DUPLICATE_PAYMENTS is off): "
    "refund it (POST /v1/refunds with its payment_id) or keep it on purpose"
)
UNSAID_REPEAT: Final = (
    "a purchase of a product its buyer already owned, on an order that does not say whether "
    "the repeat was deliberate (made before allow_owned was recorded, or adopted from the old "
    "site): refund it (POST /v1/refunds with its payment_id) or keep it on purpose"
)
TOO_SMALL_TO_REFUND: Final = (
    "a duplicate payment, partly refunded already; the rest is below the smallest refund"
)


def is_new(order: Order, existing: Payment | None, payment: Payment) -> bool:
    """Whether ``payment`` (as just stored) has been captured for the first time on an order
    (locked, as it was before) that another payment had already paid."""
    return (
        order.amount_paid > 0
        and payment.captured_at is not None
        and (existing is None or existing.captured_at is None)
        and payment.duplicate_of is None
    )


def record(cur: Cursor, order: Order, payment: Payment, *, refund: bool) -> Payment:
    """Mark ``payment``, just recorded as captured on ``order`` (locked, and paid by another
    payment), as a duplicate; reserve its refund, or flag it when ``refund`` is off."""
    paying = payments_sql.paying_payment(cur, order.id, payment.id)
    if paying is None:  # a paid order always has its payment: nothing to compare with
        log.error("order %s is paid but has no paying payment besides %s", order.id, payment.id)
        return payment
    log.warning(
        "payment %s is a second payment of order %s, paid by %s", payment.id, order.id, paying.id
    )
    reason = f"duplicate payment: order {order.id} was already paid by {paying.id}"
    attention = _refund_or_flag(cur, order, payment, reason, None if refund else NOT_REFUNDED)
    return payments_sql.mark_duplicate(cur, payment.id, paying.id, attention)


def record_purchase(
    cur: Cursor, order: Order, payment: Payment, owned: Enrollment, *, refund: bool
) -> Payment:
    """Mark ``payment``, which just paid ``order`` (locked), as a duplicate purchase: the
    customer already held ``owned`` (through another order, an import or an admin's grant)
    and the order was not made as a deliberate repeat. Reserve its refund, or flag it when
    ``refund`` is off or the order does not say whether the repeat was deliberate."""
    log.warning(
        "payment %s paid order %s for %s, which %s already owned (enrollment %s)",
        payment.id,
        order.id,
        order.product_sku,
        order.customer_email,
        owned.id,
    )
    reason = (
        f"duplicate purchase: {order.customer_email} already owned {order.product_sku} "
        f"(enrollment {owned.id})"
    )
    keep = UNSAID_REPEAT if order.allow_owned is None else None if refund else NOT_REFUNDED
    attention = _refund_or_flag(cur, order, payment, reason, keep)
    return payments_sql.mark_duplicate_purchase(cur, payment.id, owned.id, attention)


def refund_reserved(db: Database, gateway: RazorpayGateway, limit: int = 50) -> int:
    """Worker pass: ask Razorpay for the refunds reserved for duplicate payments and record
    its answers; returns how many it asked for. A refund whose answer is lost stays
    reserved and is asked for again, with the same X-Refund-Idempotency key, next pass."""
    with db.transaction() as cur:
        due = refunds_sql.list_requested_duplicates(cur, limit)
    for refund in due:
        _ask_razorpay(db, gateway, refund)
    return len(due)


def _refund_or_flag(
    cur: Cursor, order: Order, payment: Payment, reason: str, keep: str | None
) -> str | None:
    """Reserve a refund of what is left of ``payment`` (with ``reason``), or, when ``keep``
    says why it is not refunded automatically, return that for an admin."""
    held = max(payment.amount_refunded, refunds_sql.holding_total(cur, payment.id))
    refundable = payment.amount - held
    if refundable <= 0:
        return None  # refunded at Razorpay already (its refund webhook records it)
    if refundable < MINIMUM_AMOUNT:
        return TOO_SMALL_TO_REFUND
    if keep is not None:
        return keep
    _reserve_refund(cur, order, payment, reason, refundable)
    return None


def _reserve_refund(cur: Cursor, order: Order, payment: Payment, reason: str, amount: int) -> None:
    refunds_sql.insert(
        cur,
        NewRefund(
            id=new_id("rfd"),
            payment_id=payment.id,
            order_id=order.id,
            amount=amount,
            currency=payment.currency,
            speed_requested="normal",
            reason=reason,
            revokes_access=False,
            requested_by=REQUESTER,
            idempotency_scope=DUPLICATE_SCOPE,
            idempotency_key=payment.id,
            request_fingerprint=DUPLICATE_SCOPE,
        ),
    )


def _ask_razorpay(db: Database, gateway: RazorpayGateway, refund: Refund) -> None:
    try:
        entity = gateway.create_refund(
            refund.payment_id,
            amount=refund.amount,
            speed=refund.speed_requested,
            notes={"refund_ref": refund.id, "order_ref": refund.order_id},
            idempotency_key=refund.id,
        )
    except GatewayUnavailable:
        return  # outcome unknown: the reservation stays for the next pass
    except GatewayError as exc:  # Razorpay said no: no refund exists
        reason = exc.extra.get("reason") or exc.detail
        with db.transaction() as cur:
            refunds_sql.delete_requested(cur, refund.id)
            payments_sql.flag(
                cur,
                refund.payment_id,
                f"Razorpay refused to refund this duplicate payment ({reason}): refund it by hand",
            )
        log.warning("refund %s of duplicate payment %s refused", refund.id, refund.payment_id)
        return
    apply_refund(db, entity, actor=REQUESTER)
