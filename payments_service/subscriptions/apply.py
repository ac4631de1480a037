"""Applying what Razorpay says of one of our subscriptions (its entity, a charge's payment,
or both), in the caller's transaction: the state machine first, then the charge. Verify,
webhooks and reconciliation all come through here."""

from __future__ import annotations

from typing import Any

from ..db import Cursor
from ..db import subscriptions as sql
from ..db.subscriptions import Subscription
from ..errors import NotFound
from ..payments.apply import PaymentOutcome
from .charges import apply_charge_in
from .state import Change, apply_change_in


def our_subscription(cur: Cursor, razorpay_id: Any) -> Subscription:
    """Our subscription Razorpay knows as ``razorpay_id``, locked. Raises NotFound."""
    sub = (
        sql.get_by_razorpay_id(cur, razorpay_id, lock=True)
        if isinstance(razorpay_id, str)
        else None
    )
    if sub is None:
        raise NotFound(f"subscription {razorpay_id} is not one this service made")
    return sub


def apply_report_in(
    cur: Cursor,
    sub: Subscription,
    entity: dict[str, Any] | None,
    payment: dict[str, Any] | None,
    actor: str,
    during_pending: bool,
) -> tuple[Subscription, PaymentOutcome | None]:
    """Merge Razorpay's ``entity`` of the (locked) subscription and record ``payment``, a
    charge of it, if given. Returns the subscription as stored and the charge's outcome."""
    now = apply_change_in(cur, sub, Change(entity, actor), during_pending)
    outcome = apply_charge_in(cur, now, payment, actor) if payment is not None else None
    return now, outcome
