"""SQL for enrollments: who owns which product, across every site."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from psycopg2.extras import execute_values

from . import Cursor, columns_of


@dataclass(frozen=True)
class Enrollment:
    """A customer's access to one product (SKU), from a purchase, an import or an admin."""

    id: str
    customer_email: str
    sku: str
    status: str
    source: str
    order_id: str | None
    granted_by: str
    grant_reason: str | None
    granted_at: datetime
    revoked_by: str | None
    revoke_reason: str | None
    revoked_at: datetime | None
    # The Razorpay mode ("test" or "live") it was granted in: what a customer owns is per
    # mode, so a test purchase never grants (or blocks) live access.
    mode: str
    # The subscription that granted it (source 'subscription'), which alone revokes it.
    subscription_id: str | None = None


# Read in the field order of Enrollment, so a tuple row is Enrollment(*row).
_COLUMNS = columns_of(Enrollment)
COLUMNS = _COLUMNS  # for the subscription grants of db/subscriptions.py


def insert_if_absent(
    cur: Cursor,
    *,
    enrollment_id: str,
    customer_email: str,
    sku: str,
    source: str,
    order_id: str | None,
    granted_by: str,
    grant_reason: str | None = None,
) -> Enrollment | None:
    """Grant access unless the customer already holds an active one for the SKU (then None)."""
    cur.execute(
        f"""
        INSERT INTO enrollments (id, customer_email, sku, source, order_id, granted_by,
                                 grant_reason, mode)
        VALUES (%(id)s, %(email)s, %(sku)s, %(source)s, %(order_id)s, %(granted_by)s,
                %(grant_reason)s, %(mode)s)
        ON CONFLICT (mode, customer_email, sku) WHERE status = 'active' DO NOTHING
        RETURNING {_COLUMNS}
        """,  # noqa: S608 - only the fixed column list is formatted in
        {
            "id": enrollment_id,
            "email": customer_email,
            "sku": sku,
            "source": source,
            "order_id": order_id,
            "granted_by": granted_by,
            "grant_reason": grant_reason,
            "mode": cur.mode,
        },
    )
    row = cur.fetchone()
    return Enrollment(**row) if row else None


@dataclass(frozen=True)
class NewEnrollment:
    """A grant to store: insert_if_absent's arguments."""

    id: str
    customer_email: str
    sku: str
    source: str
    order_id: str | None
    granted_by: str
    grant_reason: str | None = None


def insert_many_if_absent(cur: Cursor, grants: list[NewEnrollment]) -> list[Enrollment]:
    """insert_if_absent for several grants in one statement; returns those stored (of two
    for the same customer and SKU, only the first), in no particular order."""
    if not grants:
        return []
    execute_values(
        cur,
        f"""
        INSERT INTO enrollments (id, customer_email, sku, source, order_id, granted_by,
                                 grant_reason, mode)
        VALUES %s
        ON CONFLICT (mode, customer_email, sku) WHERE status = 'active' DO NOTHING
        RETURNING {_COLUMNS}
        """,  # noqa: S608 - only the fixed column list is formatted in
        [
            (
                g.id,
                g.customer_email,
                g.sku,
                g.source,
                g.order_id,
                g.granted_by,
                g.grant_reason,
                cur.mode,
            )
            for g in grants
        ],
        page_size=len(grants),  # one page: fetch_tuples reads all of its rows
    )
    return [Enrollment(*row) for row in cur.fetch_tuples()]


def get_active(cur: Cursor, customer_email: str, sku: str) -> Enrollment | None:
    """The customer's active enrollment in the SKU, if any."""
    cur.execute(
        f"""SELECT {_COLUMNS} FROM enrollments
             WHERE mode = %s AND customer_email = %s AND sku = %s
               AND status = 'active'""",  # noqa: S608
        (cur.mode, customer_email, sku),
    )
    row = cur.fetchone()
    return Enrollment(**row) if row else None


def for_orders(cur: Cursor, order_ids: list[str]) -> list[Enrollment]:
    """Each order's enrollment: the active one it granted, else the last it granted (then
    revoked); orders that granted none are left out. In no particular order."""
    cur.execute(
        f"""SELECT DISTINCT ON (order_id) {_COLUMNS} FROM enrollments
             WHERE order_id = ANY (%s) AND mode = %s
             ORDER BY order_id, status = 'active' DESC, granted_at DESC, id DESC""",  # noqa: S608
        (order_ids, cur.mode),
    )
    return [Enrollment(*row) for row in cur.fetch_tuples()]


def search(
    cur: Cursor, *, customer_email: str | None, sku: str | None, status: str | None
) -> list[Enrollment]:
    """Enrollments by customer and/or SKU, newest first, capped at 500."""
    cur.execute(
        f"""
        SELECT {_COLUMNS} FROM enrollments
         WHERE mode = %(mode)s
           AND (%(email)s::text IS NULL OR customer_email = %(email)s)
           AND (%(sku)s::text IS NULL OR sku = %(sku)s)
           AND (%(status)s::text IS NULL OR status = %(status)s)
         ORDER BY granted_at DESC, id DESC
         LIMIT 500
        """,  # noqa: S608 - only the fixed column list is formatted in
        {"mode": cur.mode, "email": customer_email, "sku": sku, "status": status},
    )
    return [Enrollment(**row) for row in cur.fetchall()]


def get(cur: Cursor, enrollment_id: str) -> Enrollment | None:
    """The enrollment with this id (in the cursor's mode, as every read here)."""
    cur.execute(
        f"SELECT {_COLUMNS} FROM enrollments WHERE id = %s AND mode = %s",  # noqa: S608
        (enrollment_id, cur.mode),
    )
    row = cur.fetchone()
    return Enrollment(**row) if row else None


def revoke(cur: Cursor, enrollment_id: str, *, revoked_by: str, reason: str) -> Enrollment | None:
    """Revoke an active enrollment; None when it is not active."""
    cur.execute(
        f"""
        UPDATE enrollments
           SET status = 'revoked', revoked_by = %s, revoke_reason = %s, revoked_at = now()
         WHERE id = %s AND mode = %s AND status = 'active'
        RETURNING {_COLUMNS}
        """,  # noqa: S608 - only the fixed column list is formatted in
        (revoked_by, reason, enrollment_id, cur.mode),
    )
    row = cur.fetchone()
    return Enrollment(**row) if row else None


def active_for_order(cur: Cursor, order_id: str) -> Enrollment | None:
    """The active enrollment this order granted, if any."""
    cur.execute(
        f"""SELECT {_COLUMNS} FROM enrollments
             WHERE order_id = %s AND mode = %s AND status = 'active'""",  # noqa: S608
        (order_id, cur.mode),
    )
    row = cur.fetchone()
    return Enrollment(**row) if row else None
