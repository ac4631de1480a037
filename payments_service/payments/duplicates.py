"""Duplicate payments: money taken for something the buyer already had.

Two kinds, both recorded by the payment state machine as Razorpay reports them and marked
here in the same transaction, under the order's lock, so only one of the channels reporting
a payment (verify, webhooks, reconciliation) ever marks it:

* a second captured payment of an order another payment already paid (``duplicate_of``):
  Razorpay refuses a new payment on a paid order, but one it had marked failed can still be
  authorised late by the bank and captured (a buyer who tried in two tabs). It sends no
  ``order.paid``, and its refunds never count towards the order's refund status;
* the payment of an order for a product its customer already owned through another order
  or grant (``duplicate_of_enrollment``): two tabs each made an order before either was
  paid, and both were paid. The order is paid (its site hears ``order.paid``, marked) and,
  once refunded, ``refunded``. An order made with ``allow_owned`` is a deliberate repeat and
  no duplicate.

Neither grants anything, and refunding one never revokes access. Marking flags it
(``needs_attention``) and, unless it is not to be refunded automatically (adopted from the
old site, or an order that never said whether a repeat was deliberate), leaves its refund
undecided. The state machine knows no setting: the worker decides, once per payment, under
the order's lock (so concurrent workers decide once), with REFUND_DUPLICATE_PAYMENTS as it
is then: on, it reserves a refund of all of it (``requested``, idempotency key the payment's
id) and clears the flag; off, it leaves the flag for an admin. It then asks Razorpay for
each reserved refund outside any transaction with X-Refund-Idempotency set to the refund's
id, so a lost answer is asked again and repeated asks make one refund; a refusal flags the
payment again.
"""

from __future__ import annotations

import logging
from typing import Final

from ..db import Cursor, Database
from ..db import orders as orders_sql
from ..db import payments as payments_sql
from ..db import refunds as refunds_sql
from ..db.enrollments import Enrollment
from ..db.orders import Order
from ..db.payments import DuplicateMark, Payment
from ..db.refunds import DUPLICATE_SCOPE, NewRefund, Refund
from ..errors import GatewayError, GatewayUnavailable
from ..ids import new_id
from ..money import MINIMUM_AMOUNT
from ..razorpay_gateway import RazorpayGateway
from ..refunds.settle import apply_refund

log = logging.getLogger(__name__)

REQUESTER: Final = "service:duplicate-payment"
NOT_REFUNDED: Final = (
    "a duplicate payment, not refunded: the worker refunds one when it first sees it if "
    "REFUND_DUPLICATE_PAYMENTS is on (the default); otherwise refund it (POST /v1/refunds with "
    "its payment_id) or keep it on purpose"
)
IMPORTED: Final = (
    "a duplicate payment adopted from the old site, never refunded automatically (it may be "
    "old, or settled by hand): refund it (POST /v1/refunds with its payment_id) or keep it"
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


def record(cur: Cursor, order: Order, payment: Payment, *, imported: bool) -> Payment:
    """Mark ``payment``, just recorded as captured on ``order`` (locked, and paid by another
    payment), as a duplicate of that payment, flagged; its refund is left for the worker to
    decide, unless it was ``imported`` from the old site (then it is only flagged)."""
    paying = payments_sql.paying_payment(cur, order.id, payment.id)
    if paying is None:  # a paid order always has its payment: nothing to compare with
        log.error("order %s is paid but has no paying payment besides %s", order.id, payment.id)
        return payment
    log.warning(
        "payment %s is a second payment of order %s, paid by %s", payment.id, order.id, paying.id
    )
    return _mark(cur, payment, IMPORTED if imported else None, of_payment=paying.id)


def record_purchase(cur: Cursor, order: Order, payment: Payment, owned: Enrollment) -> Payment:
    """Mark ``payment``, which just paid ``order`` (locked), as a duplicate purchase, flagged:
    the customer already held ``owned`` (through another order, an import or an admin's
    grant) and the order was not made as a deliberate repeat. Its refund is left for the
    worker to decide, unless the order does not say whether the repeat was deliberate."""
    log.warning(
        "payment %s paid order %s for %s, which %s already owned (enrollment %s)",
        payment.id,
        order.id,
        order.product_sku,
        order.customer_email,
        owned.id,
    )
    keep = UNSAID_REPEAT if order.allow_owned is None else None
    return _mark(cur, payment, keep, of_enrollment=owned.id)


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


def _mark(
    cur: Cursor,
    payment: Payment,
    keep: str | None,
    *,
    of_payment: str | None = None,
    of_enrollment: str | None = None,
) -> Payment:
    """Mark ``payment`` a duplicate; flag it with ``keep`` when it is never refunded
    automatically, else as not refunded yet, with its refund undecided."""
    refundable = _refundable(cur, payment)
    if refundable <= 0:  # refunded at Razorpay already (its refund webhook records it)
        attention = None
    elif refundable < MINIMUM_AMOUNT:
        attention = TOO_SMALL_TO_REFUND
    else:
        attention = keep or NOT_REFUNDED
    undecided = attention == NOT_REFUNDED
    mark = DuplicateMark(of_payment, of_enrollment, attention, refund_undecided=undecided)
    return payments_sql.mark_duplicate(cur, payment.id, mark)


def _decide(cur: Cursor, order_id: str, payment_id: str, *, refund: bool) -> int:
    """Decide one duplicate's refund under its order's lock; 1 when a refund is reserved."""
    order = orders_sql.lock_for_update(cur, order_id)
    payment = payments_sql.get(cur, payment_id)
    if order is None or payment is None or not payment.refund_undecided:
        return 0  # another worker decided it meanwhile
    refundable = _refundable(cur, payment)  # an admin may have refunded some meanwhile
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


def _refundable(cur: Cursor, payment: Payment) -> int:
    held = max(payment.amount_refunded, refunds_sql.holding_total(cur, payment.id))
    return payment.amount - held


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
