"""Storing what changed about payments and settling their orders: the writes of the
payment state machine (apply.py), made in one statement (db/settlements.py).

What settling decides (is the order paid now, is a grant due, is a site to be told)
depends on the payment as it will be stored, and the upsert stores exactly what is known
before it runs: the merged status, and the amount and currency first recorded (the upsert
never changes those). So the decisions are made first and the payment upsert, the order
updates, the grants and the recipients' look-up go in one round trip; the stored payments
are then checked against what was decided from (a difference raises, rolling it all back).
"""

from __future__ import annotations

import logging
from dataclasses import replace

from ..db import Cursor, settlements
from ..db.notifications import Recipient
from ..db.orders import Order, StatusChange
from ..db.payments import Payment, PaymentRecord
from ..enrollments import purchase_grants, settle_grants
from ..notifications import outbox
from . import duplicates
from .outcomes import PaymentFact, PaymentOutcome
from .statuses import SETTLED_STATUSES, order_status

log = logging.getLogger(__name__)


def settle_payments(
    cur: Cursor, changing: list[tuple[PaymentFact, PaymentRecord]], actor: str, grant_source: str
) -> list[PaymentOutcome]:
    """Store each changed payment, mark it if it is a duplicate, move each locked order on
    from what its payment now says, grant once, and tell the sites; outcomes in the order
    of ``changing``. An order paid for a product its customer already owns through another
    order or grant is a duplicate purchase, unless it was made as a deliberate repeat
    (``allow_owned``)."""
    expected = [(fact, _as_stored(fact.existing, record)) for fact, record in changing]
    paying = {
        fact.order.id
        for fact, will in expected
        if _is_full_payment(fact.order, will) and fact.order.amount_paid == 0
    }
    changes = [
        _status_change(fact.order, will.amount if fact.order.id in paying else 0)
        for fact, will in expected
        if fact.order.id in paying or fact.order.status == "created"
    ]
    # A subscription charge's order grants nothing itself: its subscription does.
    paid = [
        fact.order
        for fact, _ in expected
        if fact.order.id in paying and fact.order.subscription_id is None
    ]
    grants = purchase_grants(paid, actor, grant_source)
    told = {
        fact.order.customer_email
        for fact, will in expected
        if _tells_site(fact, will.status, became_paid=fact.order.id in paying)
    }
    recipients_of = next(iter(told)) if len(told) == 1 else None  # else outbox reads them
    records = [record for _, record in changing]
    done = settlements.settle(cur, records, changes, grants, recipients_of)
    stored = {payment.id: payment for payment in done.payments}
    for fact, will in expected:
        _check_stored(stored[will.id], will)
        if duplicates.is_new(fact.order, fact.existing, stored[will.id]):
            stored[will.id] = duplicates.record(
                cur, fact.order, stored[will.id], imported=grant_source == "import"
            )
    moved = {order.id: order for order in done.orders}
    granted, owned = settle_grants(cur, paid, grants, done.enrollments)
    everyone = done.recipients if recipients_of is not None else None
    outcomes = []
    for fact, record in changing:
        order, payment = fact.order, stored[record.id]
        if payment.status in SETTLED_STATUSES and not _is_full_payment(order, payment):
            log.warning("payment %s does not match order %s; not fulfilled", payment.id, order.id)
        now = moved.get(order.id, order)
        if order.id in owned:
            payment = duplicates.record_purchase(cur, now, payment, owned[order.id])
        outcomes.append(
            PaymentOutcome(
                now,
                payment,
                granted.get(order.id),
                order_became_paid=order.id in paying,
                changed=True,
            )
        )
    for (fact, _), outcome in zip(changing, outcomes, strict=True):
        _notify(cur, fact.existing, outcome, everyone)
    return outcomes


def _as_stored(existing: Payment | None, record: PaymentRecord) -> PaymentRecord:
    """``record`` as the upsert will store it, in what settling reads: the merged status,
    and the amount and currency first recorded."""
    if existing is None:
        return record
    return replace(record, amount=existing.amount, currency=existing.currency)


def _check_stored(stored: Payment, expected: PaymentRecord) -> None:
    """Raise if the payment was stored otherwise than settling assumed."""
    got = (stored.status, stored.amount, stored.currency)
    if got != (expected.status, expected.amount, expected.currency):
        raise RuntimeError(
            f"payment {stored.id} was stored as {got}, not as "
            f"{(expected.status, expected.amount, expected.currency)}"
        )


def _tells_site(fact: PaymentFact, status: str, *, became_paid: bool) -> bool:
    """Whether _notify will queue anything for this payment (as it decides)."""
    if became_paid and fact.order.subscription_id is None:
        return True
    return status == "failed" and (fact.existing is None or fact.existing.status != "failed")


def _status_change(order: Order, amount_paid: int) -> StatusChange:
    """An order moved on by a payment (nothing refunded yet: it was not paid before)."""
    status = order_status(amount_paid=amount_paid, amount_refunded=0)
    return StatusChange(order.id, status, amount_paid)


def _notify(
    cur: Cursor,
    existing: Payment | None,
    outcome: PaymentOutcome,
    everyone: list[Recipient] | None,
) -> None:
    """Tell the order's site it was paid (and every site of the grant), or of a failure.
    ``everyone``: the recipients of the customer's events, if read already."""
    order, payment = outcome.order, outcome.payment
    if outcome.order_became_paid and order.subscription_id is None:  # else subscription.charged
        outbox.order_paid(cur, order, payment, outcome.enrollment, everyone)
    if payment.status == "failed" and (existing is None or existing.status != "failed"):
        outbox.payment_failed(cur, order, payment, everyone)


def _is_full_payment(order: Order, payment: Payment | PaymentRecord) -> bool:
    return (
        payment.status in SETTLED_STATUSES
        and payment.amount == order.amount
        and payment.currency == order.currency
    )
