"""SQL for payment links: a Razorpay hosted payment page for one of our orders. Rows carry
the cursor's Razorpay mode; every read is of that mode only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from . import Cursor, columns_of

IDEMPOTENCY_CONSTRAINT = "payment_links_site_idempotency_key"
# Razorpay's link statuses, in the order a link moves through them (ours adds `creating`).
OPEN_STATUSES = ("created", "partially_paid")
FINAL_STATUSES = ("paid", "expired", "cancelled")


@dataclass(frozen=True)
class PaymentLink:
    """A payment link of one of our orders (``order_id``, its Razorpay reference_id)."""

    order_id: str
    mode: str
    site_id: str
    # None while Razorpay is being asked for the link (status `creating`).
    razorpay_link_id: str | None
    status: str
    short_url: str | None
    return_url: str
    expire_by: datetime
    notify_email: bool
    notify_sms: bool
    description: str
    idempotency_key: str | None
    request_fingerprint: str
    created_by: str
    created_at: datetime
    updated_at: datetime
    expired_at: datetime | None
    cancelled_at: datetime | None


# Read in the field order of PaymentLink, so a tuple row is PaymentLink(*row).
_COLUMNS = columns_of(PaymentLink)
COLUMNS = _COLUMNS  # for the joined reads of db/payment_reads.py


@dataclass(frozen=True)
class NewPaymentLink:
    """A link as reserved, before Razorpay has made it."""

    order_id: str
    site_id: str
    return_url: str
    expire_by: datetime
    notify_email: bool
    notify_sms: bool
    description: str
    idempotency_key: str | None
    request_fingerprint: str
    created_by: str


def insert(cur: Cursor, link: NewPaymentLink) -> PaymentLink | None:
    """Reserve a link (status `creating`); None when the site's Idempotency-Key is taken."""
    cur.execute(
        f"""
        INSERT INTO payment_links (order_id, mode, site_id, status, return_url, expire_by,
                                   notify_email, notify_sms, description, idempotency_key,
                                   request_fingerprint, created_by)
        VALUES (%(order_id)s, %(mode)s, %(site_id)s, 'creating', %(return_url)s,
                %(expire_by)s, %(notify_email)s, %(notify_sms)s, %(description)s,
                %(idempotency_key)s, %(request_fingerprint)s, %(created_by)s)
        ON CONFLICT ON CONSTRAINT {IDEMPOTENCY_CONSTRAINT} DO NOTHING
        RETURNING {_COLUMNS}
        """,  # noqa: S608 - only fixed identifiers are formatted in
        {**link.__dict__, "mode": cur.mode},
    )
    row = cur.fetchone()
    return PaymentLink(**row) if row else None


def get(cur: Cursor, order_id: str, lock: bool = False) -> PaymentLink | None:
    """The link of our order ``order_id`` (locked until the transaction ends if ``lock``)."""
    cur.execute(
        f"SELECT {_COLUMNS} FROM payment_links WHERE order_id = %s AND mode = %s"  # noqa: S608
        + (" FOR UPDATE" if lock else ""),
        (order_id, cur.mode),
    )
    row = cur.fetchone()
    return PaymentLink(**row) if row else None


def get_by_razorpay_id(
    cur: Cursor, razorpay_link_id: str, lock: bool = False
) -> PaymentLink | None:
    """The link Razorpay knows as ``razorpay_link_id``."""
    cur.execute(
        f"""SELECT {_COLUMNS} FROM payment_links
             WHERE razorpay_link_id = %s AND mode = %s"""  # noqa: S608
        + (" FOR UPDATE" if lock else ""),
        (razorpay_link_id, cur.mode),
    )
    row = cur.fetchone()
    return PaymentLink(**row) if row else None


def get_by_idempotency_key(cur: Cursor, site_id: str, key: str) -> PaymentLink | None:
    """The link a site created earlier with this Idempotency-Key."""
    cur.execute(
        f"""SELECT {_COLUMNS} FROM payment_links
             WHERE mode = %s AND site_id = %s AND idempotency_key = %s""",  # noqa: S608
        (cur.mode, site_id, key),
    )
    row = cur.fetchone()
    return PaymentLink(**row) if row else None


def record_created(
    cur: Cursor, order_id: str, razorpay_link_id: str, short_url: str
) -> PaymentLink | None:
    """Store what Razorpay made for a reserved link; None if it was recorded already."""
    cur.execute(
        f"""UPDATE payment_links
               SET razorpay_link_id = %s, short_url = %s, status = 'created', updated_at = now()
             WHERE order_id = %s AND mode = %s AND status = 'creating'
         RETURNING {_COLUMNS}""",  # noqa: S608 - only the fixed column list is formatted in
        (razorpay_link_id, short_url, order_id, cur.mode),
    )
    row = cur.fetchone()
    return PaymentLink(**row) if row else None


def delete_reservation(cur: Cursor, order_id: str) -> bool:
    """Forget a reservation Razorpay certainly made no link for (and its order)."""
    cur.execute(
        "DELETE FROM payment_links WHERE order_id = %s AND mode = %s AND status = 'creating'",
        (order_id, cur.mode),
    )
    if cur.rowcount == 0:
        return False
    cur.execute(
        "DELETE FROM orders WHERE id = %s AND mode = %s AND razorpay_order_id IS NULL",
        (order_id, cur.mode),
    )
    return True


def set_status(
    cur: Cursor, order_id: str, status: str, *, ended_at: datetime | None = None
) -> PaymentLink:
    """Move a link to ``status`` (the caller checked the move goes forward), stamping
    expired_at or cancelled_at with ``ended_at`` (default: now)."""
    cur.execute(
        f"""UPDATE payment_links
               SET status = %(status)s, updated_at = now(),
                   expired_at = CASE WHEN %(status)s = 'expired'
                                     THEN coalesce(%(at)s, now()) ELSE expired_at END,
                   cancelled_at = CASE WHEN %(status)s = 'cancelled'
                                       THEN coalesce(%(at)s, now()) ELSE cancelled_at END
             WHERE order_id = %(order_id)s AND mode = %(mode)s
         RETURNING {_COLUMNS}""",  # noqa: S608 - only the fixed column list is formatted in
        {"status": status, "at": ended_at, "order_id": order_id, "mode": cur.mode},
    )
    return PaymentLink(**cur.fetchone())


def list_page(
    cur: Cursor,
    *,
    site_id: str | None,
    status: str | None,
    after: tuple[datetime, str] | None,
    limit: int,
) -> list[PaymentLink]:
    """Links newest first, filtered, starting after the (created_at, order_id) cursor."""
    cur.execute(
        f"""
        SELECT {_COLUMNS} FROM payment_links
         WHERE mode = %(mode)s
           AND (%(site_id)s::text IS NULL OR site_id = %(site_id)s)
           AND (%(status)s::text IS NULL OR status = %(status)s)
           AND (%(after_at)s::timestamptz IS NULL
                OR (created_at, order_id) < (%(after_at)s::timestamptz, %(after_id)s::text))
         ORDER BY created_at DESC, order_id DESC
         LIMIT %(limit)s
        """,  # noqa: S608 - only the fixed column list is formatted in
        {
            "mode": cur.mode,
            "site_id": site_id,
            "status": status,
            "after_at": after[0] if after else None,
            "after_id": after[1] if after else None,
            "limit": limit,
        },
    )
    return [PaymentLink(**row) for row in cur.fetchall()]


def claim_open(cur: Cursor, *, created_before: datetime, limit: int) -> list[PaymentLink]:
    """Links still open (or still being created), older than ``created_before`` and not
    checked in the last hour; marks them checked (several workers never pick the same)."""
    cur.execute(
        f"""
        UPDATE payment_links SET checked_at = now()
         WHERE order_id IN (
             SELECT order_id FROM payment_links
              WHERE mode = %(mode)s AND status IN ('creating', 'created', 'partially_paid')
                AND created_at < %(before)s
                AND (checked_at IS NULL OR checked_at < now() - interval '1 hour')
              ORDER BY created_at
              LIMIT %(limit)s
              FOR UPDATE SKIP LOCKED)
        RETURNING {_COLUMNS}
        """,  # noqa: S608 - only the fixed column list is formatted in
        {"mode": cur.mode, "before": created_before, "limit": limit},
    )
    return [PaymentLink(**row) for row in cur.fetchall()]
