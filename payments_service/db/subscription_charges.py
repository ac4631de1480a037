"""SQL for what a subscription owns besides itself: the order of each charge (one per
Razorpay invoice) and the enrollment it grants. Rows carry the cursor's Razorpay mode;
every read is of that mode only."""

from __future__ import annotations

from . import Cursor
from .enrollments import COLUMNS as ENROLLMENT_COLUMNS
from .enrollments import Enrollment
from .orders import Order, get_many
from .subscriptions import Subscription


def insert_charge_order(
    cur: Cursor,
    *,
    order_id: str,
    sub: Subscription,
    sku: str,
    name: str,
    razorpay_order_id: str,
    razorpay_invoice_id: str,
    amount: int,
    currency: str,
) -> None:
    """Store the order of one charge (one Razorpay invoice) unless it is stored already."""
    cur.execute(
        """
        INSERT INTO orders (id, razorpay_order_id, site_id, amount, currency, product_sku,
                            product_name, customer_email, site_user_id, notes, allow_owned,
                            mode, subscription_id, razorpay_invoice_id)
        VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, '{}'::jsonb, true, %s, %s, %s)
        ON CONFLICT DO NOTHING
        """,
        (
            order_id,
            razorpay_order_id,
            sub.site_id,
            amount,
            currency,
            sku,
            name,
            sub.customer_email,
            sub.site_user_id,
            cur.mode,
            sub.id,
            razorpay_invoice_id,
        ),
    )


def charge_orders(cur: Cursor, subscription_id: str) -> list[Order]:
    """The orders of the subscription's charges, oldest first."""
    cur.execute(
        "SELECT id FROM orders WHERE subscription_id = %s AND mode = %s",
        (subscription_id, cur.mode),
    )
    orders = get_many(cur, [row["id"] for row in cur.fetchall()])
    # Charges learnt together (by a sweep) share created_at: the paid ones came first.
    return sorted(orders, key=lambda order: (order.created_at, order.paid_at is None, order.id))


def granted_enrollment(cur: Cursor, subscription_id: str) -> Enrollment | None:
    """The active enrollment the subscription granted, if any."""
    cur.execute(
        f"""SELECT {ENROLLMENT_COLUMNS} FROM enrollments
             WHERE subscription_id = %s AND mode = %s AND status = 'active'""",  # noqa: S608
        (subscription_id, cur.mode),
    )
    row = cur.fetchone()
    return Enrollment(**row) if row else None


def grant_enrollment(
    cur: Cursor, enrollment_id: str, sub: Subscription, sku: str, actor: str
) -> Enrollment | None:
    """Grant the SKU for the subscription unless the customer holds it already (None)."""
    cur.execute(
        f"""
        INSERT INTO enrollments (id, customer_email, sku, source, subscription_id, granted_by,
                                 grant_reason, mode)
        VALUES (%s, %s, %s, 'subscription', %s, %s, %s, %s)
        ON CONFLICT (mode, customer_email, sku) WHERE status = 'active' DO NOTHING
        RETURNING {ENROLLMENT_COLUMNS}
        """,  # noqa: S608 - only the fixed column list is formatted in
        (enrollment_id, sub.customer_email, sku, sub.id, actor, f"subscription {sub.id}", cur.mode),
    )
    row = cur.fetchone()
    return Enrollment(**row) if row else None
