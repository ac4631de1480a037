"""Refunds: full or partial, several up to the captured amount, never more, never twice.

Creating one reserves its amount under the order's row lock (so concurrent requests can
never exceed what was captured), asks Razorpay outside any transaction with a stable
X-Refund-Idempotency key, then records Razorpay's answer. Refund webhooks and
reconciliation settle status through the same apply_refund (settle.py).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from ..auth import Caller
from ..db import Cursor, Database
from ..db import orders as orders_sql
from ..db import payments as payments_sql
from ..db import refunds as sql
from ..db.orders import Order
from ..db.payments import Payment
from ..db.refunds import NewRefund, Refund
from ..errors import (
    GatewayBusy,
    GatewayError,
    GatewayUnavailable,
    IdempotencyKeyInUse,
    IdempotencyKeyReused,
    NotFound,
    NotRefundable,
)
from ..ids import new_id
from ..money import MINIMUM_AMOUNT
from ..pagination import Page, decode_cursor, page_of
from ..payments.statuses import SETTLED_STATUSES
from ..razorpay_gateway import RazorpayGateway
from .settle import apply_refund, find_at_razorpay


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

    Raises NotFound, NotRefundable, IdempotencyKeyReused, IdempotencyKeyInUse (Razorpay is
    still making the refund of an earlier request with the key), and GatewayError (Razorpay
    refused: nothing recorded) or GatewayUnavailable (outcome unknown: a retry with the
    same Idempotency-Key finds or repeats it, never doubles it).
    """
    scope = "admin" if caller.is_admin else f"site:{caller.site_id}"
    fingerprint = request.fingerprint()
    if idempotency_key is not None:
        with db.transaction() as cur:
            earlier = sql.get_by_idempotency_key(cur, scope, idempotency_key)
        if earlier is not None:
            return _replay(db, gateway, earlier, fingerprint), False
    reserved, is_new = _reserve(db, caller, request, scope, idempotency_key, fingerprint)
    if not is_new:  # a concurrent request with the key reserved first
        return _replay(db, gateway, reserved, fingerprint), False
    return _ask_razorpay(db, gateway, reserved, outcome_unknown=False), True


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


def _replay(db: Database, gateway: RazorpayGateway, earlier: Refund, fingerprint: str) -> Refund:
    """The refund an earlier request with the key reserved, once Razorpay has it (asked
    again with the same X-Refund-Idempotency, so never twice)."""
    if earlier.request_fingerprint != fingerprint:
        raise _key_reused()
    if earlier.status != "requested":
        return earlier
    return _ask_razorpay(db, gateway, earlier, outcome_unknown=True)


def _key_reused() -> IdempotencyKeyReused:
    return IdempotencyKeyReused(
        "this Idempotency-Key was used for a different refund request", field="Idempotency-Key"
    )


def _reserve(
    db: Database,
    caller: Caller,
    request: RefundRequest,
    scope: str,
    idempotency_key: str | None,
    fingerprint: str,
) -> tuple[Refund, bool]:
    """Reserve the refund's amount under the order's lock; return it and whether it is new
    (not when a concurrent request with the key reserved first, while this one waited)."""
    with db.transaction() as cur:
        payment, order = _target(cur, caller, request)
        order = orders_sql.lock_for_update(cur, order.id) or order
        earlier = (
            sql.get_by_idempotency_key(cur, scope, idempotency_key) if idempotency_key else None
        )
        if earlier is not None:
            return earlier, False
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
    if stored is None:  # the key went to a concurrent request for another order meanwhile
        raise _key_reused()
    return stored, True


def _target(cur: Cursor, caller: Caller, request: RefundRequest) -> tuple[Payment, Order]:
    if request.payment_id:
        payment = payments_sql.get(cur, request.payment_id)
    else:
        captured = [  # the payment that paid the order, never a duplicate of it
            p
            for p in payments_sql.list_for_order(cur, str(request.order_id))
            if p.status in SETTLED_STATUSES and p.duplicate_of is None
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
    if request.order_id and order.id != request.order_id:  # no such payment of that order
        raise NotFound(
            f"payment {payment.id} is not a payment of order {request.order_id!r}",
            field="order_id",
        )
    return payment, order


def _check_refundable(
    payment: Payment, request: RefundRequest, amount: int, refundable: int
) -> None:
    if payment.status not in SETTLED_STATUSES:
        raise NotRefundable(f"payment {payment.id} is {payment.status}, not captured")
    if request.currency is not None and request.currency != payment.currency:
        raise NotRefundable(
            f"payment {payment.id} is in {payment.currency}, not {request.currency}",
            field="currency",
        )
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
    entity = find_at_razorpay(gateway, refund) if outcome_unknown else None
    if entity is None:
        try:
            entity = gateway.create_refund(
                refund.payment_id,
                amount=refund.amount,
                speed=refund.speed_requested,
                notes={"refund_ref": refund.id, "order_ref": refund.order_id},
                idempotency_key=refund.id,
            )
        except GatewayBusy:  # another request with the key is still at Razorpay
            raise IdempotencyKeyInUse(
                "a refund with this Idempotency-Key is being made; retry shortly",
                retry_after=1,
                field="Idempotency-Key",
            ) from None
        except GatewayUnavailable:
            raise  # outcome unknown: keep the reservation for a retry or the worker
        except GatewayError:
            with db.transaction() as cur:  # Razorpay said no: no refund exists
                sql.delete_requested(cur, refund.id)
            raise
    return apply_refund(db, entity, actor=refund.requested_by)
