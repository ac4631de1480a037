"""Refunding duplicate payments (payments/duplicates.py marks them): the worker decides,
once per payment, under the order's lock (so concurrent workers decide once), with
REFUND_DUPLICATE_PAYMENTS as it is then: on, it reserves a refund of all of it (``requested``,
idempotency key the payment's id) and clears the flag; off, it leaves the flag for an admin.
It then asks Razorpay for each reserved refund outside any transaction with
X-Refund-Idempotency set to the refund's id, so a lost answer is asked again and repeated
asks make one refund; a refusal flags the payment again.
"""

from __future__ import annotations

import logging
from typing import Final

from ..db import Cursor, Database
from ..db import orders as orders_sql
from ..db import payments as payments_sql
from ..db import refunds as refunds_sql
from ..db.orders import Order
from ..db.payments import Payment
from ..db.refunds import DUPLICATE_SCOPE, NewRefund, Refund
from ..errors import GatewayError, GatewayUnavailable
from ..ids import new_id
from ..money import MINIMUM_AMOUNT
from ..payments.duplicates import TOO_SMALL_TO_REFUND, left_to_refund
from ..razorpay_gateway import RazorpayGateway
from .settle import apply_refund

log = logging.getLogger(__name__)

REQUESTER: Final = "service:duplicate-payment"


def decide_refunds(db: Database, *, refund: bool, limit: int = 50) -> int:
    """Worker pass: decide, once each, the refunds of duplicates marked since the last pass:
    with ``refund`` (REFUND_DUPLICATE_PAYMENTS) reserve a refund of what is left of each and
    clear its flag, otherwise leave it flagged for an admin. Returns how many it reserved.
    Each is decided under its order's lock, so workers running at once decide it once."""
    with db.transaction() as cur:
        undecided = payments_sql.list_undecided(cur, limit)
    reserved = 0
    for payment in undecided:
        with db.transaction() as cur:
            reserved += _decide(cur, payment.order_id, payment.id, refund=refund)
    return reserved


def refund_reserved(db: Database, gateway: RazorpayGateway, limit: int = 50) -> int:
    """Worker pass: ask Razorpay for the refunds reserved for duplicate payments and record
    its answers; returns how many it asked for. A refund whose answer is lost stays
    reserved and is asked for again, with the same X-Refund-Idempotency key, next pass."""
    with db.transaction() as cur:
        due = refunds_sql.list_requested_duplicates(cur, limit)
    for refund in due:
        _ask_razorpay(db, gateway, refund)
    return len(due)


def _decide(cur: Cursor, order_id: str, payment_id: str, *, refund: bool) -> int:
    """Decide one duplicate's refund under its order's lock; 1 when a refund is reserved."""
    order = orders_sql.lock_for_update(cur, order_id)
    payment = payments_sql.get(cur, payment_id)
    if order is None or payment is None or not payment.refund_undecided:
        return 0  # another worker decided it meanwhile
    refundable = left_to_refund(cur, payment)  # an admin may have refunded some meanwhile
    if refund and refundable >= MINIMUM_AMOUNT:
        _reserve_refund(cur, order, payment, refundable)
        payments_sql.decide_refund(cur, payment.id, None)
        return 1
    if refundable <= 0:
        attention = None
    elif refundable < MINIMUM_AMOUNT:
        attention = TOO_SMALL_TO_REFUND
    else:  # the setting is off: left flagged for an admin
        attention = payment.needs_attention
    payments_sql.decide_refund(cur, payment.id, attention)
    return 0


def _reserve_refund(cur: Cursor, order: Order, payment: Payment, amount: int) -> None:
    if payment.duplicate_of:
        reason = f"duplicate payment: order {order.id} was already paid by {payment.duplicate_of}"
    else:
        reason = (
            f"duplicate purchase: {order.customer_email} already owned {order.product_sku} "
            f"(enrollment {payment.duplicate_of_enrollment})"
        )
    refunds_sql.insert(  # keyed by the payment: one reservation, whoever decides
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
