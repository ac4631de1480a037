"""The payment and order state machine: one forward-only function that verify,
webhooks and reconciliation all go through."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from . import notifications
from .auth import Caller
from .db import Cursor, Database
from .db import enrollments as enrollments_sql
from .db import orders as orders_sql
from .db import payments as payments_sql
from .db.enrollments import Enrollment
from .db.orders import Order
from .db.payments import Payment, PaymentRecord
from .errors import NotFound
from .ids import new_id
from .pagination import Page, decode_cursor, page_of

log = logging.getLogger(__name__)

# Later statuses win; a payment never moves back (a late `authorized` after `captured`
# changes nothing). `failed` ranks below `authorized`: Razorpay may authorize a payment
# it first reported failed (late authorisation).
PAYMENT_STATUS_RANK: Final = {
    "created": 0,
    "failed": 1,
    "authorized": 2,
    "captured": 3,
    "refunded": 4,
}
ORDER_STATUS_RANK: Final = {
    "created": 0,
    "attempted": 1,
    "paid": 2,
    "partially_refunded": 3,
    "refunded": 4,
}
SETTLED_STATUSES: Final = frozenset({"captured", "refunded"})


@dataclass(frozen=True)
class PaymentOutcome:
    """The order, payment and enrollment after applying one payment fact."""

    order: Order
    payment: Payment
    enrollment: Enrollment | None
    order_became_paid: bool
    changed: bool


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
    product once. Raises NotFound when the payment's order is not one of ours.
    """
    with db.transaction() as cur:
        found = orders_sql.get_by_razorpay_id(cur, str(entity.get("order_id")))
        order = orders_sql.lock_for_update(cur, found.id) if found else None
        if order is None:
            raise NotFound(f"payment {entity.get('id')} is for an order this service did not make")
        existing = payments_sql.get(cur, entity["id"])
        record = _merge(order.id, existing, entity)
        if existing is not None and not _differs(existing, record) and order.status != "created":
            return PaymentOutcome(order, existing, None, order_became_paid=False, changed=False)
        payment = payments_sql.upsert(cur, record)
        outcome = _settle_order(cur, order, payment, actor, grant_source)
        if payment.status == "failed" and (existing is None or existing.status != "failed"):
            notifications.payment_event(cur, "payment.failed", outcome.order, payment)
        return outcome


def _settle_order(
    cur: Cursor, order: Order, payment: Payment, actor: str, grant_source: str
) -> PaymentOutcome:
    """Move the locked order on from what its payment now says; grant and notify once."""
    became_paid = _is_full_payment(order, payment) and order.amount_paid == 0
    enrollment = None
    if became_paid:
        orders_sql.set_status(cur, order.id, "paid", amount_paid=payment.amount)
        enrollment = _grant_for(cur, order, actor, grant_source)
    elif order.status == "created":
        orders_sql.set_status(cur, order.id, "attempted", amount_paid=0)
    if payment.status in SETTLED_STATUSES and not _is_full_payment(order, payment):
        log.warning("payment %s does not match order %s; not fulfilled", payment.id, order.id)
    order = orders_sql.get(cur, order.id) or order
    if became_paid:
        notifications.payment_event(cur, "order.paid", order, payment)
        if enrollment is not None:
            notifications.enrollment_changed(cur, enrollment)
    return PaymentOutcome(order, payment, enrollment, became_paid, changed=True)


def order_state(db: Database, order_id: str) -> tuple[Order, list[Payment], list[Enrollment]]:
    """An order with its payments and enrollments, read in one transaction."""
    with db.transaction() as cur:
        order = orders_sql.get(cur, order_id)
        if order is None:
            raise NotFound(f"no order {order_id!r}")
        return (
            order,
            payments_sql.list_for_order(cur, order_id),
            enrollments_sql.list_for_order(cur, order_id),
        )


def list_payments(
    db: Database,
    caller: Caller,
    *,
    order_id: str | None,
    customer_email: str | None,
    status: str | None,
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
            after=decode_cursor(cursor) if cursor else None,
            limit=limit + 1,
        )
    return page_of(rows, limit, lambda row: (row.razorpay_created_at, row.id))


def _is_full_payment(order: Order, payment: Payment) -> bool:
    return (
        payment.status in SETTLED_STATUSES
        and payment.amount == order.amount
        and payment.currency == order.currency
    )


def _differs(existing: Payment, record: PaymentRecord) -> bool:
    return any(
        getattr(existing, name) != value
        for name, value in record.__dict__.items()
        if name != "razorpay_created_at"
    )


def _grant_for(cur: Cursor, order: Order, actor: str, source: str) -> Enrollment | None:
    return enrollments_sql.insert_if_absent(
        cur,
        enrollment_id=new_id("enr"),
        customer_email=order.customer_email,
        sku=order.product_sku,
        source=source,
        order_id=order.id,
        granted_by=actor,
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
