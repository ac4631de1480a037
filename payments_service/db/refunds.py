"""SQL for refunds."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from . import Cursor

_COLUMNS = """id, razorpay_refund_id, payment_id, order_id, status, amount, currency,
              speed_requested, speed_processed, reason, revokes_access, revoked_access,
              needs_attention, requested_by, idempotency_scope, idempotency_key,
              request_fingerprint, created_at, updated_at, processed_at, failed_at, mode"""

IDEMPOTENCY_CONSTRAINT = "refunds_idempotency_key"
# Amounts that are, or may become, money sent back: they bound what is still refundable.
HOLDING_STATUSES = ("requested", "pending", "processed")
# The idempotency scope of the refunds this service makes of duplicate payments on its own
# (keyed by the payment's id, so each duplicate is refunded at most once).
DUPLICATE_SCOPE = "duplicate-payment"


@dataclass(frozen=True)
class Refund:
    """Money sent back for (part of) one captured payment."""

    id: str
    razorpay_refund_id: str | None
    payment_id: str
    order_id: str
    status: str
    amount: int
    currency: str
    speed_requested: str
    speed_processed: str | None
    reason: str | None
    revokes_access: bool
    revoked_access: bool
    needs_attention: str | None
    requested_by: str
    idempotency_scope: str | None
    idempotency_key: str | None
    request_fingerprint: str | None
    created_at: datetime
    updated_at: datetime
    processed_at: datetime | None
    failed_at: datetime | None
    # The Razorpay mode ("test" or "live") of its payment.
    mode: str


@dataclass(frozen=True)
class NewRefund:
    """A refund about to be asked of Razorpay (status `requested`), or one Razorpay made."""

    id: str
    payment_id: str
    order_id: str
    amount: int
    currency: str
    speed_requested: str
    reason: str | None
    revokes_access: bool
    requested_by: str
    idempotency_scope: str | None
    idempotency_key: str | None
    request_fingerprint: str | None
    status: str = "requested"
    razorpay_refund_id: str | None = None


def insert(cur: Cursor, refund: NewRefund) -> Refund | None:
    """Store a refund; None when its Idempotency-Key is already taken."""
    cur.execute(
        f"""
        INSERT INTO refunds (id, razorpay_refund_id, payment_id, order_id, status, amount,
                             currency, speed_requested, reason, revokes_access, requested_by,
                             idempotency_scope, idempotency_key, request_fingerprint, mode)
        VALUES (%(id)s, %(razorpay_refund_id)s, %(payment_id)s, %(order_id)s, %(status)s,
                %(amount)s, %(currency)s, %(speed_requested)s, %(reason)s,
                %(revokes_access)s, %(requested_by)s, %(idempotency_scope)s,
                %(idempotency_key)s, %(request_fingerprint)s, %(mode)s)
        ON CONFLICT ON CONSTRAINT {IDEMPOTENCY_CONSTRAINT} DO NOTHING
        RETURNING {_COLUMNS}
        """,  # noqa: S608 - only fixed identifiers are formatted in
        {**refund.__dict__, "mode": cur.mode},
    )
    row = cur.fetchone()
    return Refund(**row) if row else None


def get(cur: Cursor, refund_id: str) -> Refund | None:
    """The refund with our id (in the cursor's mode, as every read here)."""
    cur.execute(
        f"SELECT {_COLUMNS} FROM refunds WHERE id = %s AND mode = %s",  # noqa: S608
        (refund_id, cur.mode),
    )
    row = cur.fetchone()
    return Refund(**row) if row else None


def get_by_razorpay_id(cur: Cursor, razorpay_refund_id: str) -> Refund | None:
    """The refund Razorpay knows by this id."""
    cur.execute(
        f"SELECT {_COLUMNS} FROM refunds WHERE razorpay_refund_id = %s AND mode = %s",  # noqa: S608
        (razorpay_refund_id, cur.mode),
    )
    row = cur.fetchone()
    return Refund(**row) if row else None


def get_by_idempotency_key(cur: Cursor, scope: str, key: str) -> Refund | None:
    """The refund requested earlier in this scope with this Idempotency-Key."""
    cur.execute(
        f"""SELECT {_COLUMNS} FROM refunds
             WHERE idempotency_scope = %s AND mode = %s AND idempotency_key = %s""",  # noqa: S608
        (scope, cur.mode, key),
    )
    row = cur.fetchone()
    return Refund(**row) if row else None


def holding_total(cur: Cursor, payment_id: str) -> int:
    """What is refunded, or reserved for a refund, of this payment."""
    cur.execute(
        "SELECT coalesce(sum(amount), 0)::bigint AS total FROM refunds "
        "WHERE payment_id = %s AND mode = %s AND status = ANY (%s)",
        (payment_id, cur.mode, list(HOLDING_STATUSES)),
    )
    return int(cur.fetchone()["total"])


def refunded_total(cur: Cursor, payment_id: str) -> int:
    """What Razorpay has accepted to refund of this payment (pending or processed)."""
    cur.execute(
        "SELECT coalesce(sum(amount), 0)::bigint AS total FROM refunds "
        "WHERE payment_id = %s AND mode = %s AND status IN ('pending', 'processed')",
        (payment_id, cur.mode),
    )
    return int(cur.fetchone()["total"])


def order_refunded_total(cur: Cursor, order_id: str) -> int:
    """What Razorpay has accepted to refund of the payment that paid the order (refunds of
    duplicate payments give back money the order never needed, so they do not count)."""
    cur.execute(
        "SELECT coalesce(sum(r.amount), 0)::bigint AS total FROM refunds r "
        "JOIN payments p ON p.id = r.payment_id "
        "WHERE r.order_id = %s AND r.mode = %s AND r.status IN ('pending', 'processed') "
        "AND p.duplicate_of IS NULL",
        (order_id, cur.mode),
    )
    return int(cur.fetchone()["total"])


def list_requested(cur: Cursor, created_before: datetime, limit: int) -> list[Refund]:
    """Reservations whose Razorpay outcome was never learnt, oldest first (refunds of
    duplicate payments excepted: the worker asks Razorpay for those until it answers)."""
    cur.execute(
        f"""SELECT {_COLUMNS} FROM refunds WHERE mode = %s AND status = 'requested'
               AND created_at < %s AND idempotency_scope IS DISTINCT FROM %s
             ORDER BY created_at LIMIT %s""",  # noqa: S608
        (cur.mode, created_before, DUPLICATE_SCOPE, limit),
    )
    return [Refund(**row) for row in cur.fetchall()]


def list_requested_duplicates(cur: Cursor, limit: int) -> list[Refund]:
    """Refunds of duplicate payments not yet asked of Razorpay (or not yet answered),
    oldest first."""
    cur.execute(
        f"""SELECT {_COLUMNS} FROM refunds WHERE mode = %s AND status = 'requested'
               AND idempotency_scope = %s
             ORDER BY created_at LIMIT %s""",  # noqa: S608
        (cur.mode, DUPLICATE_SCOPE, limit),
    )
    return [Refund(**row) for row in cur.fetchall()]


def settle(
    cur: Cursor,
    refund_id: str,
    *,
    status: str,
    razorpay_refund_id: str | None,
    speed_processed: str | None,
) -> Refund:
    """Record Razorpay's word on a refund; stamps processed_at / failed_at once."""
    cur.execute(
        f"""
        UPDATE refunds
           SET status = %(status)s,
               razorpay_refund_id = coalesce(%(rid)s, razorpay_refund_id),
               speed_processed = coalesce(%(speed)s, speed_processed),
               processed_at = CASE WHEN %(status)s = 'processed'
                                   THEN coalesce(processed_at, now()) END,
               failed_at = CASE WHEN %(status)s = 'failed' THEN coalesce(failed_at, now()) END,
               updated_at = now()
         WHERE id = %(id)s AND mode = %(mode)s
        RETURNING {_COLUMNS}
        """,  # noqa: S608 - only the fixed column list is formatted in
        {
            "id": refund_id,
            "mode": cur.mode,
            "status": status,
            "rid": razorpay_refund_id,
            "speed": speed_processed,
        },
    )
    return Refund(**cur.fetchone())


def mark_access(cur: Cursor, refund_id: str, *, revoked: bool, attention: str | None) -> None:
    """Note that this refund revoked access, or that an admin must decide about it."""
    cur.execute(
        """UPDATE refunds SET revoked_access = revoked_access OR %s,
                  needs_attention = coalesce(%s, needs_attention), updated_at = now()
            WHERE id = %s AND mode = %s""",
        (revoked, attention, refund_id, cur.mode),
    )


def delete_requested(cur: Cursor, refund_id: str) -> None:
    """Forget a reservation Razorpay refused: no refund exists."""
    cur.execute(
        "DELETE FROM refunds WHERE id = %s AND mode = %s AND status = 'requested'",
        (refund_id, cur.mode),
    )


def list_page(
    cur: Cursor,
    *,
    site_id: str | None,
    payment_id: str | None,
    order_id: str | None,
    status: str | None,
    after: tuple[datetime, str] | None,
    limit: int,
) -> list[Refund]:
    """Refunds newest first, filtered, after the (created_at, id) cursor."""
    cur.execute(
        f"""
        SELECT {_COLUMNS} FROM refunds r
         WHERE mode = %(mode)s
           AND (%(site_id)s::text IS NULL
                OR EXISTS (SELECT 1 FROM orders o WHERE o.id = r.order_id
                           AND o.site_id = %(site_id)s))
           AND (%(payment_id)s::text IS NULL OR payment_id = %(payment_id)s)
           AND (%(order_id)s::text IS NULL OR order_id = %(order_id)s)
           AND (%(status)s::text IS NULL OR status = %(status)s)
           AND (%(after_at)s::timestamptz IS NULL
                OR (created_at, id) < (%(after_at)s::timestamptz, %(after_id)s::text))
         ORDER BY created_at DESC, id DESC
         LIMIT %(limit)s
        """,  # noqa: S608 - only the fixed column list is formatted in
        {
            "mode": cur.mode,
            "site_id": site_id,
            "payment_id": payment_id,
            "order_id": order_id,
            "status": status,
            "after_at": after[0] if after else None,
            "after_id": after[1] if after else None,
            "limit": limit,
        },
    )
    return [Refund(**row) for row in cur.fetchall()]
