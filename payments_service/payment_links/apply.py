"""Applying what Razorpay says of a link: its payment through the payment state machine
(payments/apply.py, the one Checkout verify uses), and its status. Every function runs in
the caller's transaction and locks the link before its order, so the callback, webhooks
and reconciliation of one link run one after another."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ..db import Cursor
from ..db import orders as orders_sql
from ..db import payment_links as sql
from ..db.payment_links import PaymentLink
from ..errors import NotFound, PaymentMismatch
from ..payments.apply import PaymentOutcome, apply_payment_in

# Razorpay's statuses, forward only; the three final ones never give way to each other.
_RANK = {"creating": 0, "created": 1, "partially_paid": 2, "paid": 3, "expired": 3, "cancelled": 3}


def link_for_payment(cur: Cursor, entity: dict[str, Any]) -> PaymentLink | None:
    """The link a Razorpay payment was made on, if any: found by its order once we know
    it, else by the order id our link's notes carry (a link's payment copies them)."""
    order = orders_sql.get_by_razorpay_id(cur, str(entity.get("order_id")))
    if order is not None:
        return sql.get(cur, order.id)
    notes = entity.get("notes")
    ref = notes.get("order_ref") if isinstance(notes, dict) else None
    if not isinstance(ref, str):
        return None
    link = sql.get(cur, ref)
    if link is None or link.razorpay_link_id is None:
        return None
    return link


def pay_link_in(
    cur: Cursor,
    link: PaymentLink,
    payment: dict[str, Any],
    link_entity: dict[str, Any] | None,
    actor: str,
) -> PaymentOutcome:
    """Apply a payment made on ``link``: learn the link's Razorpay order from it if we did
    not know it, run the payment state machine, then move the link on (to what
    ``link_entity`` says, or `paid` once the order is). Raises PaymentMismatch when the
    payment is of another Razorpay order than the link's."""
    locked = _lock(cur, link.order_id)
    _learn_razorpay_order(cur, locked, str(payment.get("order_id")))
    outcome = apply_payment_in(cur, payment, actor)
    status = str(link_entity.get("status")) if link_entity else None
    if status not in _RANK:
        status = "paid" if outcome.order.amount_paid > 0 else None
    if status is not None:
        _advance(cur, locked, status, None)
    return outcome


def end_link_in(cur: Cursor, link: PaymentLink, link_entity: dict[str, Any]) -> PaymentLink:
    """Record that ``link`` expired or was cancelled (``link_entity``'s status); its order,
    if unpaid, ends the same way and grants nothing."""
    status = str(link_entity.get("status"))
    if status not in ("expired", "cancelled"):
        raise ValueError(f"a link does not end by becoming {status!r}")
    locked = _lock(cur, link.order_id)
    if isinstance(link_entity.get("order_id"), str):
        _learn_razorpay_order(cur, locked, link_entity["order_id"])
    stamp = link_entity.get("expired_at" if status == "expired" else "cancelled_at")
    at = datetime.fromtimestamp(stamp, UTC) if isinstance(stamp, int) and stamp > 0 else None
    now = _advance(cur, locked, status, at)
    if now.status == status:
        orders_sql.close_unpaid(cur, link.order_id, status)
    return now


def _lock(cur: Cursor, order_id: str) -> PaymentLink:
    locked = sql.get(cur, order_id, lock=True)
    if locked is None:
        raise NotFound(f"no payment link for order {order_id!r}")
    return locked


def _learn_razorpay_order(cur: Cursor, link: PaymentLink, razorpay_order_id: str) -> None:
    if not razorpay_order_id.startswith("order_"):
        raise PaymentMismatch(f"{razorpay_order_id!r} is not a Razorpay order id")
    order = orders_sql.lock_for_update(cur, link.order_id)
    if order is None:
        raise NotFound(f"no order {link.order_id!r}")
    if order.razorpay_order_id is None:
        orders_sql.set_razorpay_order_id(cur, order.id, razorpay_order_id)
    elif order.razorpay_order_id != razorpay_order_id:
        raise PaymentMismatch(
            f"the payment is of Razorpay order {razorpay_order_id}, not of the link's "
            f"{order.razorpay_order_id}"
        )


def _advance(cur: Cursor, link: PaymentLink, status: str, at: datetime | None) -> PaymentLink:
    if _RANK[status] <= _RANK[link.status]:
        return link
    return sql.set_status(cur, link.order_id, status, ended_at=at)
