"""SQL for payments (Razorpay's payment entities, keyed by their own ids)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from . import Cursor, columns_of


@dataclass(frozen=True)
class Payment:
    """What we know of one Razorpay payment on one of our orders."""

    id: str
    order_id: str
    status: str
    amount: int
    currency: str
    amount_refunded: int
    method: str | None
    card_network: str | None
    card_last4: str | None
    bank: str | None
    wallet: str | None
    vpa: str | None
    fee: int | None
    tax: int | None
    error_code: str | None
    error_description: str | None
    error_reason: str | None
    razorpay_created_at: datetime
    authorized_at: datetime | None
    captured_at: datetime | None
    failed_at: datetime | None
    created_at: datetime
    updated_at: datetime
    duplicate_of: str | None
    needs_attention: str | None
    duplicate_of_enrollment: str | None
    # A duplicate whose automatic refund the worker has yet to decide on.
    refund_undecided: bool
    # The Razorpay mode ("test" or "live") of its order.
    mode: str

    @property
    def is_duplicate(self) -> bool:
        """Money taken for nothing: a second payment of a paid order (``duplicate_of``) or
        the payment of an order for a product its buyer already owned
        (``duplicate_of_enrollment``)."""
        return self.duplicate_of is not None or self.duplicate_of_enrollment is not None


# Read in the field order of Payment, so a tuple row is Payment(*row).
_COLUMNS = columns_of(Payment)
COLUMNS = _COLUMNS  # for the joined reads of db/payment_reads.py


@dataclass(frozen=True)
class PaymentRecord:
    """The state of a payment to store: Razorpay's facts after the forward-only merge."""

    id: str
    order_id: str
    status: str
    amount: int
    currency: str
    amount_refunded: int
    method: str | None
    card_network: str | None
    card_last4: str | None
    bank: str | None
    wallet: str | None
    vpa: str | None
    fee: int | None
    tax: int | None
    error_code: str | None
    error_description: str | None
    error_reason: str | None
    razorpay_created_at: datetime


def get(cur: Cursor, payment_id: str) -> Payment | None:
    """The payment with this Razorpay id (in the cursor's mode, as every read here)."""
    cur.execute(
        f"SELECT {_COLUMNS} FROM payments WHERE id = %s AND mode = %s",  # noqa: S608
        (payment_id, cur.mode),
    )
    row = cur.fetchone()
    return Payment(**row) if row else None


def get_many(cur: Cursor, payment_ids: list[str]) -> list[Payment]:
    """The payments among these Razorpay ids that we have recorded (in no particular order)."""
    if not payment_ids:
        return []
    cur.execute(
        f"SELECT {_COLUMNS} FROM payments WHERE id = ANY(%s) AND mode = %s",  # noqa: S608
        (payment_ids, cur.mode),
    )
    return [Payment(**row) for row in cur.fetchall()]


def list_for_order(cur: Cursor, order_id: str) -> list[Payment]:
    """Every payment attempt on an order, oldest first."""
    cur.execute(
        f"""SELECT {_COLUMNS} FROM payments WHERE order_id = %s AND mode = %s
             ORDER BY razorpay_created_at, id""",  # noqa: S608
        (order_id, cur.mode),
    )
    return [Payment(**row) for row in cur.fetchall()]


def upsert_params(records: list[PaymentRecord]) -> dict[str, list[Any]]:
    """The settlement's parameters for ``records`` (db/settlements.py): one array per field,
    named p_<field>."""
    names = [field.name for field in fields(PaymentRecord)]
    return {f"p_{name}": [getattr(record, name) for record in records] for name in names}


def set_refunded(cur: Cursor, payment_id: str, amount_refunded: int) -> None:
    """Record how much of the payment is refunded; fully refunded payments are `refunded`
    (and a fully refunded duplicate needs no more attention)."""
    cur.execute(
        """
        UPDATE payments
           SET amount_refunded = %(refunded)s, updated_at = now(),
               status = CASE WHEN %(refunded)s >= amount THEN 'refunded'
                             WHEN status = 'refunded' THEN 'captured' ELSE status END,
               needs_attention = CASE WHEN %(refunded)s >= amount
                                       AND (duplicate_of IS NOT NULL
                                            OR duplicate_of_enrollment IS NOT NULL)
                                      THEN NULL ELSE needs_attention END,
               refund_undecided = refund_undecided AND %(refunded)s < amount
         WHERE id = %(id)s AND mode = %(mode)s
        """,
        {"id": payment_id, "refunded": amount_refunded, "mode": cur.mode},
    )


def paying_payment(cur: Cursor, order_id: str, other_than: str) -> Payment | None:
    """The captured payment (refunded since or not) that paid the order: the earliest
    captured one that is not a duplicate, other than ``other_than``."""
    cur.execute(
        f"""SELECT {_COLUMNS} FROM payments
             WHERE order_id = %s AND mode = %s AND id <> %s AND duplicate_of IS NULL
               AND status IN ('captured', 'refunded')
             ORDER BY captured_at, razorpay_created_at, id LIMIT 1""",  # noqa: S608
        (order_id, cur.mode, other_than),
    )
    row = cur.fetchone()
    return Payment(**row) if row else None


@dataclass(frozen=True)
class DuplicateMark:
    """What makes a payment a duplicate (the payment, or the enrollment, it duplicates),
    what an admin is told about it, and whether its refund is still to be decided."""

    of_payment: str | None
    of_enrollment: str | None
    attention: str | None
    refund_undecided: bool


def mark_duplicate(cur: Cursor, payment_id: str, mark: DuplicateMark) -> Payment:
    """Record that the payment is a duplicate."""
    cur.execute(
        f"""UPDATE payments
               SET duplicate_of = %s, duplicate_of_enrollment = %s, needs_attention = %s,
                   refund_undecided = %s, updated_at = now()
             WHERE id = %s AND mode = %s RETURNING {_COLUMNS}""",  # noqa: S608
        (
            mark.of_payment,
            mark.of_enrollment,
            mark.attention,
            mark.refund_undecided,
            payment_id,
            cur.mode,
        ),
    )
    return Payment(**cur.fetchone())


def list_undecided(cur: Cursor, limit: int) -> list[Payment]:
    """Duplicates whose refund is still to be decided, oldest capture first."""
    cur.execute(
        f"""SELECT {_COLUMNS} FROM payments WHERE mode = %s AND refund_undecided
             ORDER BY captured_at, id LIMIT %s""",  # noqa: S608
        (cur.mode, limit),
    )
    return [Payment(**row) for row in cur.fetchall()]


def decide_refund(cur: Cursor, payment_id: str, attention: str | None) -> None:
    """Record that the duplicate's refund is decided, and what an admin is told now."""
    cur.execute(
        """UPDATE payments SET refund_undecided = false, needs_attention = %s,
                  updated_at = now()
            WHERE id = %s AND mode = %s""",
        (attention, payment_id, cur.mode),
    )


def flag(cur: Cursor, payment_id: str, attention: str) -> None:
    """Note what an admin must decide about this payment."""
    cur.execute(
        """UPDATE payments SET needs_attention = %s, updated_at = now()
            WHERE id = %s AND mode = %s""",
        (attention, payment_id, cur.mode),
    )


def list_page(
    cur: Cursor,
    *,
    site_id: str | None,
    order_id: str | None,
    customer_email: str | None,
    status: str | None,
    needs_attention: bool | None,
    after: tuple[datetime, str] | None,
    limit: int,
) -> list[Payment]:
    """Payments newest first (by Razorpay's creation time), filtered, after the cursor."""
    cur.execute(
        f"""
        SELECT {_COLUMNS} FROM payments p
         WHERE mode = %(mode)s
           AND (%(order_id)s::text IS NULL OR order_id = %(order_id)s)
           AND (%(status)s::text IS NULL OR status = %(status)s)
           AND (%(attention)s::boolean IS NULL
                OR (needs_attention IS NOT NULL) = %(attention)s::boolean)
           AND (%(site_id)s::text IS NULL AND %(email)s::text IS NULL
                OR EXISTS (SELECT 1 FROM orders o WHERE o.id = p.order_id
                           AND (%(site_id)s::text IS NULL OR o.site_id = %(site_id)s)
                           AND (%(email)s::text IS NULL OR o.customer_email = %(email)s)))
           AND (%(after_at)s::timestamptz IS NULL
                OR (razorpay_created_at, id) < (%(after_at)s::timestamptz, %(after_id)s::text))
         ORDER BY razorpay_created_at DESC, id DESC
         LIMIT %(limit)s
        """,  # noqa: S608 - only the fixed column list is formatted in
        {
            "mode": cur.mode,
            "site_id": site_id,
            "order_id": order_id,
            "email": customer_email,
            "status": status,
            "attention": needs_attention,
            "after_at": after[0] if after else None,
            "after_id": after[1] if after else None,
            "limit": limit,
        },
    )
    return [Payment(**row) for row in cur.fetchall()]
