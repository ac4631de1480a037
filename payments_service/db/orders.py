"""SQL for orders."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg2.extras import Json

from . import Cursor, columns_of

IDEMPOTENCY_CONSTRAINT = "orders_site_idempotency_key"


@dataclass(frozen=True)
class Order:
    """One purchase attempt of one product by one customer, as created by a site."""

    id: str
    # None: a payment link's order that its buyer has not opened yet (Razorpay makes the
    # order behind a link only then).
    razorpay_order_id: str | None
    site_id: str
    status: str
    amount: int
    currency: str
    amount_paid: int
    amount_refunded: int
    product_sku: str
    product_name: str
    customer_email: str
    customer_name: str | None
    customer_contact: str | None
    site_user_id: str | None
    receipt: str | None
    notes: dict[str, Any]
    idempotency_key: str | None
    request_fingerprint: str | None
    created_at: datetime
    updated_at: datetime
    paid_at: datetime | None
    # True: a deliberate repeat of a product the customer may own; False: not; None: not
    # recorded (made before migration 0007, or adopted from the old site).
    allow_owned: bool | None
    # The Razorpay mode ("test" or "live") of the keys that made it.
    mode: str
    # Set on the order of one subscription charge (one per Razorpay invoice): it grants
    # nothing itself, the subscription does.
    subscription_id: str | None = None
    razorpay_invoice_id: str | None = None


# Read in the field order of Order, so a tuple row is Order(*row).
_COLUMNS = columns_of(Order)
COLUMNS = _COLUMNS  # for the joined reads of db/payment_reads.py


@dataclass(frozen=True)
class NewOrder:
    """The fields of an order that exist before Razorpay has seen it."""

    id: str
    site_id: str
    amount: int
    currency: str
    product_sku: str
    product_name: str
    customer_email: str
    customer_name: str | None
    customer_contact: str | None
    site_user_id: str | None
    receipt: str | None
    notes: dict[str, str]
    idempotency_key: str | None
    request_fingerprint: str | None
    allow_owned: bool | None


def insert(cur: Cursor, order: NewOrder, razorpay_order_id: str | None) -> Order | None:
    """Store a new order; None when another request already stored its Idempotency-Key."""
    cur.execute(
        f"""
        INSERT INTO orders (id, razorpay_order_id, site_id, amount, currency, product_sku,
                            product_name, customer_email, customer_name, customer_contact,
                            site_user_id, receipt, notes, idempotency_key, request_fingerprint,
                            allow_owned, mode)
        VALUES (%(id)s, %(razorpay_order_id)s, %(site_id)s, %(amount)s, %(currency)s,
                %(product_sku)s, %(product_name)s, %(customer_email)s, %(customer_name)s,
                %(customer_contact)s, %(site_user_id)s, %(receipt)s, %(notes)s,
                %(idempotency_key)s, %(request_fingerprint)s, %(allow_owned)s, %(mode)s)
        ON CONFLICT ON CONSTRAINT {IDEMPOTENCY_CONSTRAINT} DO NOTHING
        RETURNING {_COLUMNS}
        """,  # noqa: S608 - only fixed identifiers are formatted in
        {
            **order.__dict__,
            "notes": Json(order.notes),
            "razorpay_order_id": razorpay_order_id,
            "mode": cur.mode,
        },
    )
    row = cur.fetchone()
    return Order(**row) if row else None


def get(cur: Cursor, order_id: str) -> Order | None:
    """The order with our id (in the cursor's mode, as every read here)."""
    cur.execute(
        f"SELECT {_COLUMNS} FROM orders WHERE id = %s AND mode = %s",  # noqa: S608
        (order_id, cur.mode),
    )
    row = cur.fetchone()
    return Order(**row) if row else None


def get_many(cur: Cursor, order_ids: list[str]) -> list[Order]:
    """The orders with these ids, in no particular order."""
    if not order_ids:
        return []
    cur.execute(
        f"SELECT {_COLUMNS} FROM orders WHERE id = ANY(%s) AND mode = %s",  # noqa: S608
        (order_ids, cur.mode),
    )
    return [Order(**row) for row in cur.fetchall()]


def get_by_razorpay_id(cur: Cursor, razorpay_order_id: str) -> Order | None:
    """The order Razorpay knows as ``razorpay_order_id``."""
    cur.execute(
        f"SELECT {_COLUMNS} FROM orders WHERE razorpay_order_id = %s AND mode = %s",  # noqa: S608
        (razorpay_order_id, cur.mode),
    )
    row = cur.fetchone()
    return Order(**row) if row else None


def find_by_razorpay_ids(cur: Cursor, razorpay_order_ids: list[str]) -> list[Order]:
    """The orders among ``razorpay_order_ids`` that are ours, read without locking."""
    if not razorpay_order_ids:
        return []
    cur.execute(
        f"SELECT {_COLUMNS} FROM orders WHERE razorpay_order_id = ANY(%s) AND mode = %s",  # noqa: S608
        (razorpay_order_ids, cur.mode),
    )
    return [Order(**row) for row in cur.fetchall()]


def get_by_idempotency_key(cur: Cursor, site_id: str, key: str) -> Order | None:
    """The order a site created earlier with this Idempotency-Key."""
    cur.execute(
        f"""SELECT {_COLUMNS} FROM orders
             WHERE site_id = %s AND mode = %s AND idempotency_key = %s""",  # noqa: S608
        (site_id, cur.mode, key),
    )
    row = cur.fetchone()
    return Order(**row) if row else None


def lock_for_update(cur: Cursor, order_id: str) -> Order | None:
    """Read the order and hold its row lock until the transaction ends."""
    cur.execute(
        f"SELECT {_COLUMNS} FROM orders WHERE id = %s AND mode = %s FOR UPDATE",  # noqa: S608
        (order_id, cur.mode),
    )
    row = cur.fetchone()
    return Order(**row) if row else None


def lock_by_razorpay_id(cur: Cursor, razorpay_order_id: str) -> Order | None:
    """Read the order Razorpay knows as ``razorpay_order_id`` and hold its row lock."""
    found = lock_by_razorpay_ids(cur, [razorpay_order_id])
    return found[0] if found else None


def lock_by_razorpay_ids(cur: Cursor, razorpay_order_ids: list[str]) -> list[Order]:
    """Read the orders among ``razorpay_order_ids`` that are ours and hold their row locks.

    Locks are taken in our id order, so two transactions locking overlapping sets never
    wait for each other in a cycle.
    """
    if not razorpay_order_ids:
        return []
    cur.execute(
        f"""SELECT {_COLUMNS} FROM orders WHERE razorpay_order_id = ANY(%s) AND mode = %s
             ORDER BY id FOR UPDATE""",  # noqa: S608 - only the fixed column list is formatted in
        (razorpay_order_ids, cur.mode),
    )
    return [Order(**row) for row in cur.fetchall()]


@dataclass(frozen=True)
class StatusChange:
    """An order's new status and paid amount."""

    order_id: str
    status: str
    amount_paid: int


def claim_open(
    cur: Cursor, *, created_before: datetime, created_after: datetime, limit: int
) -> list[Order]:
    """Unpaid orders created in the window and not checked in the last hour; marks them
    checked (several workers never pick the same ones)."""
    cur.execute(
        f"""
        UPDATE orders SET checked_at = now()
         WHERE id IN (
             SELECT id FROM orders
              WHERE mode = %(mode)s AND status IN ('created', 'attempted')
                AND razorpay_order_id IS NOT NULL
                AND created_at < %(before)s AND created_at > %(after)s
                AND (checked_at IS NULL OR checked_at < now() - interval '1 hour')
              ORDER BY created_at
              LIMIT %(limit)s
              FOR UPDATE SKIP LOCKED)
        RETURNING {_COLUMNS}
        """,  # noqa: S608 - only the fixed column list is formatted in
        {"before": created_before, "after": created_after, "limit": limit, "mode": cur.mode},
    )
    return [Order(**row) for row in cur.fetchall()]


def list_page(
    cur: Cursor,
    *,
    site_id: str | None,
    customer_email: str | None,
    status: str | None,
    after: tuple[datetime, str] | None,
    limit: int,
) -> list[Order]:
    """Orders newest first, filtered, starting after the (created_at, id) cursor."""
    cur.execute(
        f"""
        SELECT {_COLUMNS} FROM orders
         WHERE mode = %(mode)s
           AND (%(site_id)s::text IS NULL OR site_id = %(site_id)s)
           AND (%(email)s::text IS NULL OR customer_email = %(email)s)
           AND (%(status)s::text IS NULL OR status = %(status)s)
           AND (%(after_at)s::timestamptz IS NULL
                OR (created_at, id) < (%(after_at)s::timestamptz, %(after_id)s::text))
         ORDER BY created_at DESC, id DESC
         LIMIT %(limit)s
        """,  # noqa: S608 - only the fixed column list is formatted in
        {
            "mode": cur.mode,
            "site_id": site_id,
            "email": customer_email,
            "status": status,
            "after_at": after[0] if after else None,
            "after_id": after[1] if after else None,
            "limit": limit,
        },
    )
    return [Order(**row) for row in cur.fetchall()]


def set_razorpay_order_id(cur: Cursor, order_id: str, razorpay_order_id: str) -> Order | None:
    """Record the Razorpay order of an order that had none yet (a payment link's, learnt
    once its buyer opened it); None if the order already has one or does not exist."""
    cur.execute(
        f"""UPDATE orders SET razorpay_order_id = %s, updated_at = now()
             WHERE id = %s AND mode = %s AND razorpay_order_id IS NULL
         RETURNING {_COLUMNS}""",  # noqa: S608 - only the fixed column list is formatted in
        (razorpay_order_id, order_id, cur.mode),
    )
    row = cur.fetchone()
    return Order(**row) if row else None


def close_unpaid(cur: Cursor, order_id: str, status: str) -> Order | None:
    """Mark an order nobody paid ``expired`` or ``cancelled`` (its payment link ended); None
    when it is paid or already closed."""
    cur.execute(
        f"""UPDATE orders SET status = %s, updated_at = now()
             WHERE id = %s AND mode = %s AND amount_paid = 0
               AND status IN ('created', 'attempted')
         RETURNING {_COLUMNS}""",  # noqa: S608 - only the fixed column list is formatted in
        (status, order_id, cur.mode),
    )
    row = cur.fetchone()
    return Order(**row) if row else None


def set_refund_status(cur: Cursor, order_id: str, status: str, amount_refunded: int) -> None:
    """Record the refunded amount and the status derived from it."""
    cur.execute(
        """UPDATE orders SET status = %s, amount_refunded = %s, updated_at = now()
            WHERE id = %s AND mode = %s""",
        (status, amount_refunded, order_id, cur.mode),
    )
