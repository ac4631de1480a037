"""Access follows billing: the SKU's enrollment is granted by the subscription while it is
authenticated or active (and, as a setting, while Razorpay retries a failed charge), and
revoked otherwise. The subscription revokes only the enrollment it granted: a customer who
also bought the SKU once keeps that one (and the subscription grants nothing while it is
held: one active enrollment per customer and SKU)."""

from __future__ import annotations

from typing import Any

from ..db import Cursor
from ..db import enrollments as enrollments_sql
from ..db import plans as plans_sql
from ..db import subscription_charges as charges_sql
from ..db.payments import Payment
from ..db.subscriptions import Subscription
from ..ids import new_id
from ..notifications import outbox

ENTITLED = ("authenticated", "active")


def is_entitled(sub: Subscription, during_pending: bool) -> bool:
    """Whether the subscription's status gives access now."""
    return sub.status in ENTITLED or (sub.status == "pending" and during_pending)


def follow(cur: Cursor, sub: Subscription, actor: str, during_pending: bool) -> None:
    """Grant or revoke the subscription's enrollment as its status says; each change is
    told to every site."""
    granted = charges_sql.granted_enrollment(cur, sub.id)
    if is_entitled(sub, during_pending):
        if granted is None:
            plan = plans_sql.get(cur, sub.plan_id)
            if plan is None:
                raise RuntimeError(f"subscription {sub.id} has no plan {sub.plan_id}")
            made = charges_sql.grant_enrollment(cur, new_id("enr"), sub, plan.sku, actor)
            if made is not None:
                outbox.enrollment_changed(cur, made)
    elif granted is not None:
        revoked = enrollments_sql.revoke(
            cur, granted.id, revoked_by=actor, reason=f"subscription {sub.status}"
        )
        if revoked is not None:
            outbox.enrollment_changed(cur, revoked)


def notify(cur: Cursor, sub: Subscription, event_type: str, payment: Payment | None) -> None:
    """Queue a subscription event for the site that sold it."""
    data: dict[str, Any] = {"subscription": summary(sub)}
    if payment is not None:
        data["payment"] = {
            "id": payment.id,
            "order_id": payment.order_id,
            "status": payment.status,
            "amount": payment.amount,
            "currency": payment.currency,
        }
    outbox.queue_for_order_site(cur, sub.site_id, sub.customer_email, event_type, sub.id, data)


def summary(sub: Subscription) -> dict[str, Any]:
    """The subscription as notifications carry it."""
    return {
        "id": sub.id,
        "razorpay_subscription_id": sub.razorpay_subscription_id,
        "plan_id": sub.plan_id,
        "status": sub.status,
        "customer_email": sub.customer_email,
        "site_user_id": sub.site_user_id,
        "paid_count": sub.paid_count,
        "current_end": sub.current_end.isoformat() if sub.current_end else None,
        "cancel_at_cycle_end": sub.cancel_at_cycle_end,
    }
