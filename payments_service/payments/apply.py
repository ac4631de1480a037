"""The payment and order state machine: one forward-only function that verify,
webhooks and reconciliation all go through."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from ..auth import Caller
from ..db import Cursor, Database, payment_reads
from ..db import enrollments as enrollments_sql
from ..db import orders as orders_sql
from ..db import payments as payments_sql
from ..db.enrollments import Enrollment
from ..db.orders import Order
from ..db.payments import Payment, PaymentRecord
from ..errors import NotFound
from ..pagination import Page, decode_cursor, page_of
from .outcomes import PaymentFact as PaymentFact
from .outcomes import PaymentOutcome as PaymentOutcome
from .settle import settle_payments
from .statuses import PAYMENT_STATUS_RANK

log = logging.getLogger(__name__)


def later_status(rank: dict[str, int], current: str | None, incoming: str) -> str:
    """The status to keep when ``incoming`` is reported for something at ``current``."""
    if current is None or rank[incoming] > rank[current]:
        return incoming
    return current


def apply_payment(
    db: Database, entity: dict[str, Any], actor: str, grant_source: str = "purchase"
) -> PaymentOutcome:
    """Merge a Razorpay payment entity into our records, in one transaction.

    Locks the order row, so concurrent verify, webhook and reconcile calls for one order
    run one after another; applying the same fact twice changes nothing. A captured
    payment of the order's exact amount and currency pays the order and grants the
    product once; one captured after another paid the order, or paying for a product the
    customer already owned, is a duplicate: marked and flagged, never granted
    (duplicates.py). Raises NotFound when the payment's order is not one of ours.
    """
    with db.transaction() as cur:
        return apply_payment_in(cur, entity, actor, grant_source)


def apply_payment_in(
    cur: Cursor, entity: dict[str, Any], actor: str, grant_source: str = "purchase"
) -> PaymentOutcome:
    """apply_payment within the caller's transaction (which it leaves holding the order's
    lock). Raises NotFound when the payment's order is not one of ours."""
    order, existing = payment_reads.lock_with_payment(
        cur, str(entity.get("order_id")), str(entity.get("id"))
    )
    if order is None:
        raise NotFound(f"payment {entity.get('id')} is for an order this service did not make")
    fact = PaymentFact(order, existing, entity)
    (outcome,) = apply_to_locked_orders(cur, [fact], actor, grant_source)
    return outcome


def apply_to_locked_orders(
    cur: Cursor, facts: list[PaymentFact], actor: str, grant_source: str = "purchase"
) -> list[PaymentOutcome]:
    """apply_payment's state machine for several payments at once, in the caller's
    transaction (which holds every order's lock); outcomes in the order of ``facts``.

    One payment per order: apply an order's next payment in a later call, with the order
    its outcome returns. Each table is written with one statement, however many payments.
    Raises ValueError or KeyError for a malformed entity, before writing anything.
    """
    if len({fact.order.id for fact in facts}) != len(facts):
        raise ValueError("apply one payment per order at a time")
    records = [_merge(fact.order.id, fact.existing, fact.entity) for fact in facts]
    outcomes: dict[str, PaymentOutcome] = {}
    changing = []
    for fact, record in zip(facts, records, strict=True):
        if fact.existing is not None and _is_recorded(fact.order, fact.existing, record):
            outcomes[record.id] = PaymentOutcome(
                fact.order, fact.existing, None, order_became_paid=False, changed=False
            )
        else:
            changing.append((fact, record))
    for outcome in settle_payments(cur, changing, actor, grant_source):
        outcomes[outcome.payment.id] = outcome
    return _with_order_enrollments(cur, [outcomes[record.id] for record in records])


def _with_order_enrollments(cur: Cursor, outcomes: list[PaymentOutcome]) -> list[PaymentOutcome]:
    """Fill in the enrollment of each paid order whose grant this call did not make (a fact
    already recorded, or an order another channel paid first), with one query."""
    missing = [o.order.id for o in outcomes if o.enrollment is None and o.order.amount_paid > 0]
    if not missing:
        return outcomes
    found = {e.order_id: e for e in enrollments_sql.for_orders(cur, missing)}
    return [
        replace(o, enrollment=found.get(o.order.id)) if o.enrollment is None else o
        for o in outcomes
    ]


def is_recorded(order: Order, existing: Payment | None, entity: dict[str, Any]) -> bool:
    """Whether applying ``entity`` to ``order`` would change nothing we hold.

    Raises ValueError or KeyError for a malformed entity.
    """
    record = _merge(order.id, existing, entity)
    return existing is not None and _is_recorded(order, existing, record)


def order_state(db: Database, order_id: str) -> tuple[Order, Enrollment | None]:
    """An order with its enrollment (as PaymentOutcome.enrollment), read in one transaction."""
    with db.transaction() as cur:
        order = orders_sql.get(cur, order_id)
        if order is None:
            raise NotFound(f"no order {order_id!r}")
        found = enrollments_sql.for_orders(cur, [order_id])
        return order, found[0] if found else None


def list_payments(
    db: Database,
    caller: Caller,
    *,
    order_id: str | None,
    customer_email: str | None,
    status: str | None,
    needs_attention: bool | None,
    cursor: str | None,
    limit: int,
) -> Page[Payment]:
    """Payments newest first; a site sees those of its own orders."""
    with db.transaction() as cur:
        rows = payments_sql.list_page(
            cur,
            site_id=None if caller.is_admin else caller.site_id,
            order_id=order_id,
            customer_email=customer_email.strip().lower() if customer_email else None,
            status=status,
            needs_attention=needs_attention,
            after=decode_cursor(cursor) if cursor else None,
            limit=limit + 1,
        )
    return page_of(rows, limit, lambda row: (row.razorpay_created_at, row.id))


def _is_recorded(order: Order, existing: Payment, record: PaymentRecord) -> bool:
    # An order still `created` has not yet been moved on by its payment.
    return not _differs(existing, record) and order.status != "created"


def _differs(existing: Payment, record: PaymentRecord) -> bool:
    return any(
        getattr(existing, name) != value
        for name, value in record.__dict__.items()
        if name != "razorpay_created_at"
    )


def _merge(order_id: str, existing: Payment | None, entity: dict[str, Any]) -> PaymentRecord:
    card = entity.get("card") or {}

    def keep(field: str, new: Any) -> Any:
        return new if new is not None else getattr(existing, field, None)

    return PaymentRecord(
        id=entity["id"],
        order_id=order_id,
        status=later_status(
            PAYMENT_STATUS_RANK, existing.status if existing else None, entity["status"]
        ),
        amount=int(entity["amount"]),
        currency=str(entity["currency"]),
        amount_refunded=max(
            int(entity.get("amount_refunded") or 0), existing.amount_refunded if existing else 0
        ),
        method=keep("method", entity.get("method")),
        card_network=keep("card_network", card.get("network")),
        card_last4=keep("card_last4", card.get("last4")),
        bank=keep("bank", entity.get("bank")),
        wallet=keep("wallet", entity.get("wallet")),
        vpa=keep("vpa", entity.get("vpa")),
        fee=keep("fee", entity.get("fee")),
        tax=keep("tax", entity.get("tax")),
        error_code=keep("error_code", entity.get("error_code")),
        error_description=keep("error_description", entity.get("error_description")),
        error_reason=keep("error_reason", entity.get("error_reason")),
        razorpay_created_at=datetime.fromtimestamp(int(entity["created_at"]), UTC),
    )
