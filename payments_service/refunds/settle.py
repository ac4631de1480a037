"""Refund settlement: merging what Razorpay says about a refund into our records.

Refund webhooks, reconciliation, the worker and refund creation all settle a refund through
apply_refund: statuses move forward only, the payment's and order's refunded amounts are
derived from the refunds, and a full refund that asks for it revokes access in the name of
the refund's requester, whichever of them settles it first.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from ..db import Cursor, Database
from ..db import orders as orders_sql
from ..db import payments as payments_sql
from ..db import refunds as sql
from ..db.orders import Order
from ..db.payments import Payment
from ..db.refunds import NewRefund, Refund
from ..enrollments import revoke_order_grant
from ..errors import GatewayError, NotFound
from ..ids import new_id
from ..notifications import outbox
from ..payments.statuses import order_status
from ..razorpay_gateway import RazorpayGateway

log = logging.getLogger(__name__)

REFUND_STATUS_RANK: Final = {"requested": 0, "pending": 1, "processed": 2, "failed": 2}
# requested_by of a refund made outside this service (e.g. on the Razorpay Dashboard).
FOREIGN_REQUESTER: Final = "razorpay"
ATTENTION_FAILED_AFTER_REVOKE = (
    "the refund failed after access was revoked: decide whether to re-grant the enrollment"
)
ATTENTION_DUPLICATE_REFUND_FAILED = (
    "a duplicate payment whose refund failed: refund it again (POST /v1/refunds)"
)


def apply_refund(db: Database, entity: dict[str, Any], actor: str) -> Refund:
    """Merge a Razorpay refund entity into our records, forward only, in one transaction.

    Derives the payment's and order's refunded amounts and statuses, revokes access on a
    full refund that asks for it, and flags a failed refund that had revoked access.
    ``actor`` is who reports the entity (e.g. ``webhook``, ``reconcile``); a revoke names
    the refund's requester instead, so it reads the same whichever report lands first.
    Raises NotFound when the refund's payment is not one of ours.
    """
    with db.transaction() as cur:
        return apply_refund_in(cur, entity, actor)


def apply_refund_in(cur: Cursor, entity: dict[str, Any], actor: str) -> Refund:
    """apply_refund within the caller's transaction (which it leaves holding the order's
    lock). Raises NotFound, having written nothing, when the payment is not ours."""
    payment = payments_sql.get(cur, str(entity.get("payment_id")))
    order = orders_sql.lock_for_update(cur, payment.order_id) if payment else None
    if payment is None or order is None:
        raise NotFound(f"refund {entity.get('id')} is of a payment this service did not take")
    refund = _find(cur, entity, payment)
    before = refund.status if refund else None
    incoming = "pending" if entity["status"] in ("created", "pending") else entity["status"]
    if refund is None:
        refund = _record_foreign(cur, entity, payment, incoming)
    elif REFUND_STATUS_RANK[incoming] > REFUND_STATUS_RANK[refund.status]:
        refund = sql.settle(
            cur,
            refund.id,
            status=incoming,
            razorpay_refund_id=entity["id"],
            speed_processed=entity.get("speed_processed"),
        )
    _derive_totals(cur, order, payment, refund, actor)
    if refund.status in ("processed", "failed") and refund.status != before:
        outbox.refund_settled(cur, orders_sql.get(cur, order.id) or order, refund)
    return sql.get(cur, refund.id) or refund


def refund_state(db: Database, razorpay_refund_id: str) -> tuple[str, int] | None:
    """(status, amount) of the refund Razorpay knows by this id, if we have it."""
    with db.transaction() as cur:
        refund = sql.get_by_razorpay_id(cur, razorpay_refund_id)
    return (refund.status, refund.amount) if refund else None


def resolve_requested_refunds(
    db: Database, gateway: RazorpayGateway, older_than: timedelta, limit: int = 50
) -> int:
    """Worker pass: learn the outcome of refunds whose Razorpay answer was lost.

    A reservation Razorpay never heard of is released: the refund did not happen.
    """
    with db.transaction() as cur:
        stale = sql.list_requested(cur, datetime.now(UTC) - older_than, limit)
    for refund in stale:
        try:
            found = find_at_razorpay(gateway, refund)
        except GatewayError:
            continue
        if found is None:
            with db.transaction() as cur:
                sql.delete_requested(cur, refund.id)
            log.warning("refund %s never reached Razorpay; reservation released", refund.id)
        else:
            apply_refund(db, found, actor="reconcile")
    return len(stale)


def find_at_razorpay(gateway: RazorpayGateway, refund: Refund) -> dict[str, Any] | None:
    """Razorpay's refund for our reserved ``refund`` (matched by its refund_ref note)."""
    for entity in gateway.payment_refunds(refund.payment_id):
        notes = entity.get("notes")
        if isinstance(notes, dict) and notes.get("refund_ref") == refund.id:
            return entity
    return None


def _find(cur: Cursor, entity: dict[str, Any], payment: Payment) -> Refund | None:
    found = sql.get_by_razorpay_id(cur, str(entity["id"]))
    notes = entity.get("notes")
    ref = notes.get("refund_ref") if isinstance(notes, dict) else None
    if found is None and isinstance(ref, str):
        mine = sql.get(cur, ref)
        found = mine if mine is not None and mine.payment_id == payment.id else None
    return found


def _record_foreign(cur: Cursor, entity: dict[str, Any], payment: Payment, status: str) -> Refund:
    """A refund made outside this service (e.g. on the dashboard): record it as Razorpay's."""
    stored = sql.insert(
        cur,
        NewRefund(
            id=new_id("rfd"),
            payment_id=payment.id,
            order_id=payment.order_id,
            amount=int(entity["amount"]),
            currency=str(entity["currency"]),
            speed_requested=str(entity.get("speed_requested") or "normal"),
            reason=None,
            revokes_access=True,
            requested_by=FOREIGN_REQUESTER,
            idempotency_scope=None,
            idempotency_key=None,
            request_fingerprint=None,
            status=status,
            razorpay_refund_id=str(entity["id"]),
        ),
    )
    if stored is None:
        raise RuntimeError("a refund without an Idempotency-Key cannot conflict on it")
    return sql.settle(
        cur,
        stored.id,
        status=status,
        razorpay_refund_id=None,
        speed_processed=entity.get("speed_processed"),
    )


def _derive_totals(cur: Cursor, order: Order, payment: Payment, refund: Refund, actor: str) -> None:
    payment_refunded = sql.refunded_total(cur, payment.id)
    payments_sql.set_refunded(cur, payment.id, payment_refunded)
    refunded = sql.order_refunded_total(cur, order.id)
    if order.amount_paid > 0:
        status = order_status(amount_paid=order.amount_paid, amount_refunded=refunded)
        orders_sql.set_refund_status(cur, order.id, status, refunded)
        # Refunding a duplicate payment gives back money for nothing: it takes nothing away
        # (not the enrollment another order or grant gave), whatever it asked for.
        revokes = refund.revokes_access and not payment.is_duplicate
        if status == "refunded" and revokes and refund.status != "failed":
            _revoke_for(cur, order, refund, actor)
    if refund.status == "failed" and refund.revoked_access:
        sql.mark_access(cur, refund.id, revoked=False, attention=ATTENTION_FAILED_AFTER_REVOKE)
    if refund.status == "failed" and payment.is_duplicate and payment_refunded < payment.amount:
        payments_sql.flag(cur, payment.id, ATTENTION_DUPLICATE_REFUND_FAILED)


def _revoke_for(cur: Cursor, order: Order, refund: Refund, actor: str) -> None:
    """Revoke the order's grant in the name of whoever asked for the refund."""
    if refund.requested_by == FOREIGN_REQUESTER:
        reason = f"order {order.id} fully refunded outside this service ({refund.id}, via {actor})"
    else:
        reason = (
            f"order {order.id} fully refunded ({refund.id}) at the request of {refund.requested_by}"
        )
    if revoke_order_grant(cur, order.id, revoked_by=refund.requested_by, reason=reason):
        sql.mark_access(cur, refund.id, revoked=True, attention=None)
