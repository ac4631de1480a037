"""SQL for subscriptions, their history of changes, the order of each charge and the
enrollment a subscription grants. Rows carry the cursor's Razorpay mode; every read is of
that mode only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg2.extras import Json

from . import Cursor

_COLUMNS = """id, mode, site_id, plan_id, razorpay_subscription_id, status, customer_email,
              site_user_id, total_count, start_at, current_start, current_end, charge_at,
              paid_count, auth_attempts, cancel_at_cycle_end, short_url, notes, idempotency_key,
              request_fingerprint, created_by, changed_by, created_at, updated_at, ended_at"""

IDEMPOTENCY_CONSTRAINT = "subscriptions_site_idempotency_key"
FINAL_STATUSES = ("cancelled", "completed", "expired")


@dataclass(frozen=True)
class Subscription:
    """A customer's subscription to a plan, sold by one site."""

    id: str
    mode: str
    site_id: str
    plan_id: str
    # None while Razorpay is being asked for it (status `creating`).
    razorpay_subscription_id: str | None
    status: str
    customer_email: str
    site_user_id: str | None
    total_count: int
    start_at: datetime | None
    current_start: datetime | None
    current_end: datetime | None
    charge_at: datetime | None
    paid_count: int
    auth_attempts: int
    cancel_at_cycle_end: bool
    short_url: str | None
    notes: dict[str, Any]
    idempotency_key: str | None
    request_fingerprint: str
    created_by: str
    changed_by: str
    created_at: datetime
    updated_at: datetime
    ended_at: datetime | None


@dataclass(frozen=True)
class NewSubscription:
    """A subscription as reserved, before Razorpay has made it."""

    id: str
    site_id: str
    plan_id: str
    customer_email: str
    site_user_id: str | None
    total_count: int
    start_at: datetime | None
    notes: dict[str, str]
    idempotency_key: str | None
    request_fingerprint: str
    created_by: str


@dataclass(frozen=True)
class State:
    """What Razorpay says of a subscription now (our forward-only merge applied)."""

    status: str
    current_start: datetime | None
    current_end: datetime | None
    charge_at: datetime | None
    paid_count: int
    auth_attempts: int
    cancel_at_cycle_end: bool
    ended_at: datetime | None


def insert(cur: Cursor, sub: NewSubscription) -> Subscription | None:
    """Reserve a subscription (status `creating`); None when the Idempotency-Key is taken."""
    cur.execute(
        f"""
        INSERT INTO subscriptions (id, mode, site_id, plan_id, status, customer_email,
                                   site_user_id, total_count, start_at, notes,
                                   idempotency_key, request_fingerprint, created_by,
                                   changed_by)
        VALUES (%(id)s, %(mode)s, %(site_id)s, %(plan_id)s, 'creating', %(customer_email)s,
                %(site_user_id)s, %(total_count)s, %(start_at)s, %(notes)s,
                %(idempotency_key)s, %(request_fingerprint)s, %(created_by)s, %(created_by)s)
        ON CONFLICT ON CONSTRAINT {IDEMPOTENCY_CONSTRAINT} DO NOTHING
        RETURNING {_COLUMNS}
        """,  # noqa: S608 - only fixed identifiers are formatted in
        {**sub.__dict__, "notes": Json(sub.notes), "mode": cur.mode},
    )
    row = cur.fetchone()
    return Subscription(**row) if row else None


def get(cur: Cursor, subscription_id: str, lock: bool = False) -> Subscription | None:
    """Our subscription ``subscription_id`` (locked until the transaction ends if ``lock``)."""
    cur.execute(
        f"SELECT {_COLUMNS} FROM subscriptions WHERE id = %s AND mode = %s"  # noqa: S608
        + (" FOR UPDATE" if lock else ""),
        (subscription_id, cur.mode),
    )
    row = cur.fetchone()
    return Subscription(**row) if row else None


def get_by_razorpay_id(cur: Cursor, razorpay_id: str, lock: bool = False) -> Subscription | None:
    """The subscription Razorpay knows as ``razorpay_id``."""
    cur.execute(
        f"""SELECT {_COLUMNS} FROM subscriptions
             WHERE razorpay_subscription_id = %s AND mode = %s"""  # noqa: S608
        + (" FOR UPDATE" if lock else ""),
        (razorpay_id, cur.mode),
    )
    row = cur.fetchone()
    return Subscription(**row) if row else None


def get_by_idempotency_key(cur: Cursor, site_id: str, key: str) -> Subscription | None:
    """The subscription a site created earlier with this Idempotency-Key."""
    cur.execute(
        f"""SELECT {_COLUMNS} FROM subscriptions
             WHERE mode = %s AND site_id = %s AND idempotency_key = %s""",  # noqa: S608
        (cur.mode, site_id, key),
    )
    row = cur.fetchone()
    return Subscription(**row) if row else None


def record_created(
    cur: Cursor, subscription_id: str, razorpay_id: str, short_url: str | None
) -> Subscription | None:
    """Store what Razorpay made for a reservation; None if it was recorded already."""
    cur.execute(
        f"""UPDATE subscriptions
               SET razorpay_subscription_id = %s, short_url = %s, status = 'created',
                   updated_at = now()
             WHERE id = %s AND mode = %s AND status = 'creating'
         RETURNING {_COLUMNS}""",  # noqa: S608 - only the fixed column list is formatted in
        (razorpay_id, short_url, subscription_id, cur.mode),
    )
    row = cur.fetchone()
    return Subscription(**row) if row else None


def set_state(cur: Cursor, subscription_id: str, state: State, actor: str) -> Subscription:
    """Store the subscription's merged state and who changed it."""
    cur.execute(
        f"""UPDATE subscriptions
               SET status = %(status)s, current_start = %(current_start)s,
                   current_end = %(current_end)s, charge_at = %(charge_at)s,
                   paid_count = %(paid_count)s, auth_attempts = %(auth_attempts)s,
                   cancel_at_cycle_end = %(cancel_at_cycle_end)s,
                   ended_at = %(ended_at)s, changed_by = %(actor)s, updated_at = now()
             WHERE id = %(id)s AND mode = %(mode)s
         RETURNING {_COLUMNS}""",  # noqa: S608 - only the fixed column list is formatted in
        {**state.__dict__, "actor": actor, "id": subscription_id, "mode": cur.mode},
    )
    return Subscription(**cur.fetchone())


def add_change(
    cur: Cursor,
    subscription_id: str,
    from_status: str | None,
    to_status: str,
    actor: str,
    detail: str | None = None,
) -> None:
    """Append a change to the subscription's history."""
    cur.execute(
        """INSERT INTO subscription_changes (mode, subscription_id, from_status, to_status,
                                             actor, detail)
           VALUES (%s, %s, %s, %s, %s, %s)""",
        (cur.mode, subscription_id, from_status, to_status, actor, detail),
    )


def changes(cur: Cursor, subscription_id: str) -> list[dict[str, Any]]:
    """The subscription's history, oldest first."""
    cur.execute(
        """SELECT from_status, to_status, actor, detail, at FROM subscription_changes
            WHERE subscription_id = %s AND mode = %s ORDER BY id""",
        (subscription_id, cur.mode),
    )
    return [dict(row) for row in cur.fetchall()]


def list_page(
    cur: Cursor,
    *,
    site_id: str | None,
    status: str | None,
    customer_email: str | None,
    after: tuple[datetime, str] | None,
    limit: int,
) -> list[Subscription]:
    """Subscriptions newest first, filtered, starting after the (created_at, id) cursor."""
    cur.execute(
        f"""
        SELECT {_COLUMNS} FROM subscriptions
         WHERE mode = %(mode)s
           AND (%(site_id)s::text IS NULL OR site_id = %(site_id)s)
           AND (%(status)s::text IS NULL OR status = %(status)s)
           AND (%(email)s::text IS NULL OR customer_email = %(email)s)
           AND (%(after_at)s::timestamptz IS NULL
                OR (created_at, id) < (%(after_at)s::timestamptz, %(after_id)s::text))
         ORDER BY created_at DESC, id DESC
         LIMIT %(limit)s
        """,  # noqa: S608 - only the fixed column list is formatted in
        {
            "mode": cur.mode,
            "site_id": site_id,
            "status": status,
            "email": customer_email,
            "after_at": after[0] if after else None,
            "after_id": after[1] if after else None,
            "limit": limit,
        },
    )
    return [Subscription(**row) for row in cur.fetchall()]


def claim_unsettled(cur: Cursor, *, changed_before: datetime, limit: int) -> list[Subscription]:
    """Subscriptions not final, unchanged since ``changed_before`` and not checked in the
    last hour; marks them checked (several workers never pick the same)."""
    cur.execute(
        f"""
        UPDATE subscriptions SET checked_at = now()
         WHERE id IN (
             SELECT id FROM subscriptions
              WHERE mode = %(mode)s AND status NOT IN ('cancelled', 'completed', 'expired')
                AND updated_at < %(before)s
                AND (checked_at IS NULL OR checked_at < now() - interval '1 hour')
              ORDER BY updated_at
              LIMIT %(limit)s
              FOR UPDATE SKIP LOCKED)
        RETURNING {_COLUMNS}
        """,  # noqa: S608 - only the fixed column list is formatted in
        {"mode": cur.mode, "before": changed_before, "limit": limit},
    )
    return [Subscription(**row) for row in cur.fetchall()]


def delete_reservation(cur: Cursor, subscription_id: str) -> bool:
    """Forget a reservation Razorpay certainly made nothing for."""
    cur.execute(
        "DELETE FROM subscriptions WHERE id = %s AND mode = %s AND status = 'creating'",
        (subscription_id, cur.mode),
    )
    return bool(cur.rowcount > 0)
