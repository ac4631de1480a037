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
undecided. The state machine knows no setting: the worker decides and asks Razorpay for
the refund (refunds/duplicates.py).
"""

from __future__ import annotations

import logging
from typing import Final

from ..db import Cursor
from ..db import payments as payments_sql
from ..db import refunds as refunds_sql
from ..db.enrollments import Enrollment
from ..db.orders import Order
from ..db.payments import DuplicateMark, Payment
from ..money import MINIMUM_AMOUNT

log = logging.getLogger(__name__)

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
    refundable = left_to_refund(cur, payment)
    if refundable <= 0:  # refunded at Razorpay already (its refund webhook records it)
        attention = None
    elif refundable < MINIMUM_AMOUNT:
        attention = TOO_SMALL_TO_REFUND
    else:
        attention = keep or NOT_REFUNDED
    undecided = attention == NOT_REFUNDED
    mark = DuplicateMark(of_payment, of_enrollment, attention, refund_undecided=undecided)
    return payments_sql.mark_duplicate(cur, payment.id, mark)


def left_to_refund(cur: Cursor, payment: Payment) -> int:
    held = max(payment.amount_refunded, refunds_sql.holding_total(cur, payment.id))
    return payment.amount - held
