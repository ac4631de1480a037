"""Refunds: full or partial, several up to the captured amount, never more, never twice.

Creating one reserves its amount under the order's row lock (so concurrent requests can
never exceed what was captured), asks Razorpay outside any transaction with a stable
X-Refund-Idempotency key, then records Razorpay's answer. Refund webhooks and
reconciliation settle status through the same apply_refund.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from . import notifications
from .auth import Caller
from .db import Cursor, Database
from .db import enrollments as enrollments_sql
from .db import orders as orders_sql
from .db import payments as payments_sql
from .db import refunds as sql
from .db.orders import Order
from .db.payments import Payment
from .db.refunds import NewRefund, Refund
from .errors import (
    GatewayError,
    GatewayUnavailable,
    IdempotencyKeyReused,
    NotFound,
    NotRefundable,
    ValidationFailed,
)
from .ids import new_id
from .money import MINIMUM_AMOUNT
from .pagination import Page, decode_cursor, page_of
from .payments import SETTLED_STATUSES
from .razorpay_gateway import RazorpayGateway

log = logging.getLogger(__name__)

REFUND_STATUS_RANK: Final = {"requested": 0, "pending": 1, "processed": 2, "failed": 2}
ATTENTION_FAILED_AFTER_REVOKE = (
    "the refund failed after access was revoked: decide whether to re-grant the enrollment"
)


@dataclass(frozen=True)
class RefundRequest:
    """A validated refund request: the payment (or the order's captured payment)."""

    payment_id: str | None
    order_id: str | None
    amount: int | None
    currency: str | None
    reason: str | None
    speed: str
    revoke_access: bool

    def fingerprint(self) -> str:
        """A digest of the request, to tell a retry from a different request."""
        canonical = json.dumps(self.__dict__, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()


def create_refund(
    db: Database,
    gateway: RazorpayGateway,
    caller: Caller,
    request: RefundRequest,
    idempotency_key: str | None,
) -> tuple[Refund, bool]:
    """Refund at Razorpay and record it; return it and whether this call created it.

    Raises NotFound, NotRefundable, ValidationFailed, IdempotencyKeyReused, and
    GatewayError (Razorpay refused: nothing recorded) or GatewayUnavailable (outcome
    unknown: a retry with the same Idempotency-Key finds or repeats it, never doubles it).
    """
    scope = "admin" if caller.is_admin else f"site:{caller.site_id}"
    fingerprint = request.fingerprint()
    if idempotency_key is not None:
        with db.transaction() as cur:
            earlier = sql.get_by_idempotency_key(cur, scope, idempotency_key)
        if earlier is not None:
            if earlier.request_fingerprint != fingerprint:
                raise IdempotencyKeyReused(
                    "this Idempotency-Key was used for a different refund request",
                    field="Idempotency-Key",
                )
            if earlier.status != "requested":
                return earlier, False
            return _ask_razorpay(db, gateway, earlier, outcome_unknown=True), False
    reserved = _reserve(db, caller, request, scope, idempotency_key, fingerprint)
    return _ask_razorpay(db, gateway, reserved, outcome_unknown=False), True


def apply_refund(db: Database, entity: dict[str, Any], actor: str) -> Refund:
    """Merge a Razorpay refund entity into our records, forward only, in one transaction.

    Derives the payment's and order's refunded amounts and statuses, revokes access on a
    full refund that asks for it, and flags a failed refund that had revoked access.
    Raises NotFound when the refund's payment is not one of ours.
    """
    with db.transaction() as cur:
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
            notifications.refund_settled(cur, orders_sql.get(cur, order.id) or order, refund)
        return sql.get(cur, refund.id) or refund


def refund_state(db: Database, razorpay_refund_id: str) -> tuple[str, int] | None:
    """(status, amount) of the refund Razorpay knows by this id, if we have it."""
    with db.transaction() as cur:
        refund = sql.get_by_razorpay_id(cur, razorpay_refund_id)
    return (refund.status, refund.amount) if refund else None


def get_refund(db: Database, caller: Caller, refund_id: str) -> Refund:
    """One refund the caller may see. Raises NotFound otherwise."""
    with db.transaction() as cur:
        refund = sql.get(cur, refund_id)
        order = orders_sql.get(cur, refund.order_id) if refund else None
    if refund is None or order is None or not caller.can_see_site(order.site_id):
        raise NotFound(f"no refund {refund_id!r}")
    return refund


def list_refunds(
    db: Database,
    caller: Caller,
    *,
    payment_id: str | None,
    order_id: str | None,
    status: str | None,
    cursor: str | None,
    limit: int,
) -> Page[Refund]:
    """Refunds newest first; a site sees those of its own orders."""
    with db.transaction() as cur:
        rows = sql.list_page(
            cur,
            site_id=None if caller.is_admin else caller.site_id,
            payment_id=payment_id,
            order_id=order_id,
            status=status,
            after=decode_cursor(cursor) if cursor else None,
            limit=limit + 1,
        )
    return page_of(rows, limit, lambda row: (row.created_at, row.id))


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
            found = _look_up(gateway, refund)
        except GatewayError:
            continue
        if found is None:
            with db.transaction() as cur:
                sql.delete_requested(cur, refund.id)
            log.warning("refund %s never reached Razorpay; reservation released", refund.id)
        else:
            apply_refund(db, found, actor="reconcile")
    return len(stale)


def _reserve(
    db: Database,
    caller: Caller,
    request: RefundRequest,
    scope: str,
    idempotency_key: str | None,
    fingerprint: str,
) -> Refund:
    with db.transaction() as cur:
        payment, order = _target(cur, caller, request)
        order = orders_sql.lock_for_update(cur, order.id) or order
        refundable = payment.amount - sql.holding_total(cur, payment.id)
        amount = request.amount if request.amount is not None else refundable
        _check_refundable(payment, request, amount, refundable)
        stored = sql.insert(
            cur,
            NewRefund(
                id=new_id("rfd"),
                payment_id=payment.id,
                order_id=order.id,
                amount=amount,
                currency=payment.currency,
                speed_requested=request.speed,
                reason=request.reason,
                revokes_access=request.revoke_access,
                requested_by=caller.actor,
                idempotency_scope=scope if idempotency_key else None,
                idempotency_key=idempotency_key,
                request_fingerprint=fingerprint if idempotency_key else None,
            ),
        )
    if stored is None:  # a concurrent request with this key reserved first
        raise IdempotencyKeyReused(
            "a refund with this Idempotency-Key is being created", field="Idempotency-Key"
        )
    return stored


def _target(cur: Cursor, caller: Caller, request: RefundRequest) -> tuple[Payment, Order]:
    if request.payment_id:
        payment = payments_sql.get(cur, request.payment_id)
    else:
        captured = [
            p
            for p in payments_sql.list_for_order(cur, str(request.order_id))
            if p.status in SETTLED_STATUSES
        ]
        payment = captured[0] if captured else None
    order = orders_sql.get(cur, payment.order_id) if payment else None
    if payment is None or order is None or not caller.can_see_site(order.site_id):
        what = (
            f"payment {request.payment_id!r}"
            if request.payment_id
            else (f"captured payment of order {request.order_id!r}")
        )
        raise NotFound(f"no {what}")
    if request.order_id and order.id != request.order_id:
        raise ValidationFailed("the payment does not belong to that order", field="order_id")
    return payment, order


def _check_refundable(
    payment: Payment, request: RefundRequest, amount: int, refundable: int
) -> None:
    if payment.status not in SETTLED_STATUSES:
        raise NotRefundable(f"payment {payment.id} is {payment.status}, not captured")
    if request.currency is not None and request.currency != payment.currency:
        raise ValidationFailed(f"the payment is in {payment.currency}", field="currency")
    if refundable <= 0:
        raise NotRefundable(f"payment {payment.id} is fully refunded already")
    if amount > refundable:
        raise NotRefundable(
            f"only {refundable} of payment {payment.id} is still refundable", refundable=refundable
        )
    if amount < MINIMUM_AMOUNT:
        raise NotRefundable(
            f"a refund must be at least {MINIMUM_AMOUNT}; {amount} is left", refundable=refundable
        )


def _ask_razorpay(
    db: Database, gateway: RazorpayGateway, refund: Refund, outcome_unknown: bool
) -> Refund:
    # A failed look-up leaves the outcome unknown: the reservation stays (no except here).
    entity = _look_up(gateway, refund) if outcome_unknown else None
    if entity is None:
        try:
            entity = gateway.create_refund(
                refund.payment_id,
                amount=refund.amount,
                speed=refund.speed_requested,
                notes={"refund_ref": refund.id, "order_ref": refund.order_id},
                idempotency_key=refund.id,
            )
        except GatewayUnavailable:
            raise  # outcome unknown: keep the reservation for a retry or the worker
        except GatewayError:
            with db.transaction() as cur:  # Razorpay said no: no refund exists
                sql.delete_requested(cur, refund.id)
            raise
    return apply_refund(db, entity, actor=refund.requested_by)


def _look_up(gateway: RazorpayGateway, refund: Refund) -> dict[str, Any] | None:
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
            requested_by="razorpay",
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
    payments_sql.set_refunded(cur, payment.id, sql.refunded_total(cur, payment.id))
    refunded = sql.order_refunded_total(cur, order.id)
    if order.amount_paid > 0:
        status = (
            "paid"
            if refunded == 0
            else "refunded"
            if refunded >= order.amount_paid
            else "partially_refunded"
        )
        orders_sql.set_refund_status(cur, order.id, status, refunded)
        if status == "refunded" and refund.revokes_access and refund.status != "failed":
            _revoke_for(cur, order, refund, actor)
    if refund.status == "failed" and refund.revoked_access:
        sql.mark_access(cur, refund.id, revoked=False, attention=ATTENTION_FAILED_AFTER_REVOKE)


def _revoke_for(cur: Cursor, order: Order, refund: Refund, actor: str) -> None:
    enrollment = enrollments_sql.active_for_order(cur, order.id)
    if enrollment is None:
        return
    reason = f"order {order.id} fully refunded ({refund.id})"
    revoked = enrollments_sql.revoke(cur, enrollment.id, revoked_by=actor, reason=reason)
    if revoked is not None:
        sql.mark_access(cur, refund.id, revoked=True, attention=None)
        notifications.enrollment_changed(cur, revoked)
