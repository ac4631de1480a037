"""Each charge of a subscription is an order of ours (one per Razorpay invoice, carrying the
invoice's Razorpay order id) and its payment goes through the one payment state machine
(payments/apply.py): whichever report of a charge comes first (verify's first payment,
``subscription.charged``, ``invoice.paid``, ``payment.captured``, reconciliation) makes the
order, the others find it, so a charge is one payment row however often it is told."""

from __future__ import annotations

from typing import Any

from ..db import Cursor
from ..db import orders as orders_sql
from ..db import plans as plans_sql
from ..db import subscription_charges as charges_sql
from ..db.subscriptions import Subscription
from ..errors import PaymentMismatch
from ..ids import new_id
from ..payments.apply import PaymentOutcome, apply_payment_in
from . import access


def is_charge(payment: dict[str, Any]) -> bool:
    """Whether a Razorpay payment pays a subscription invoice (not, e.g., the refunded
    token payment that authenticates a subscription starting later)."""
    return isinstance(payment.get("invoice_id"), str) and isinstance(payment.get("order_id"), str)


def apply_charge_in(
    cur: Cursor, sub: Subscription, payment: dict[str, Any], actor: str
) -> PaymentOutcome | None:
    """Record a charge of the locked subscription (its order first, if new) and apply its
    payment; tell the selling site once the charge is paid. None when ``payment`` is not a
    charge. Raises PaymentMismatch when its order is another record's."""
    if not is_charge(payment):
        return None
    existing = orders_sql.get_by_razorpay_id(cur, payment["order_id"])
    if existing is None:
        plan = plans_sql.get(cur, sub.plan_id)
        if plan is None:
            raise RuntimeError(f"subscription {sub.id} has no plan {sub.plan_id}")
        charges_sql.insert_charge_order(
            cur,
            order_id=new_id("ord"),
            sub=sub,
            sku=plan.sku,
            name=plan.name,
            razorpay_order_id=payment["order_id"],
            razorpay_invoice_id=payment["invoice_id"],
            amount=int(payment["amount"]),
            currency=str(payment["currency"]),
        )
    elif existing.subscription_id != sub.id:
        raise PaymentMismatch(
            f"payment {payment.get('id')} is of order {existing.id}, not of subscription {sub.id}"
        )
    outcome = apply_payment_in(cur, payment, actor)
    if outcome.order_became_paid:
        access.notify(cur, sub, "subscription.charged", outcome.payment)
    return outcome
