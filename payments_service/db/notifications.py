"""SQL for the notification outbox."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from psycopg2.extras import execute_values

from . import Cursor

_COLUMNS = """id, site_id, event_type, subject, body, status, attempts, next_attempt_at,
              last_status_code, last_error, created_at, delivered_at, window_started_at, mode"""


@dataclass(frozen=True)
class Notification:
    """One signed callback to one site, and how its delivery is going."""

    id: str
    site_id: str
    event_type: str
    subject: str
    body: str
    status: str
    attempts: int
    next_attempt_at: datetime
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None
    window_started_at: datetime
    # The Razorpay mode ("test" or "live") of the change it reports; only delivered in it.
    mode: str


@dataclass(frozen=True)
class Delivery:
    """A claimed notification with where and how to send it."""

    notification: Notification
    callback_url: str
    callback_secrets: list[str]


@dataclass(frozen=True)
class Recipient:
    """An active site that takes callbacks, and its own user id for the customer, if any."""

    site_id: str
    site_user_id: str | None


# The recipients of a customer's events: (site_id, site_user_id), Recipient's fields. The
# settlement function (sql/0017_settle_payments_function.sql, its `told` part) reads them
# the same way for every site: change both together.
_RECIPIENTS = """
    SELECT s.id AS site_id,
           (SELECT o.site_user_id FROM orders o
             WHERE o.site_id = s.id AND o.customer_email = %(email)s
               AND o.mode = %(mode)s AND o.site_user_id IS NOT NULL
             ORDER BY o.created_at DESC LIMIT 1) AS site_user_id
      FROM sites s
     WHERE s.is_active AND s.callback_url IS NOT NULL
       AND (%(site_id)s::text IS NULL OR s.id = %(site_id)s)
     ORDER BY s.id
"""


def recipients(cur: Cursor, site_id: str | None, customer_email: str) -> list[Recipient]:
    """Active sites with a callback URL (all of them, or just ``site_id``)."""
    cur.execute(_RECIPIENTS, {"site_id": site_id, "email": customer_email, "mode": cur.mode})
    return [Recipient(*row) for row in cur.fetch_tuples()]  # (site_id, site_user_id)


def insert_many(cur: Cursor, rows: list[tuple[str, str, str, str, str, datetime]]) -> None:
    """Queue (id, site_id, event_type, subject, body, created_at) rows."""
    execute_values(
        cur,
        """INSERT INTO notifications (id, site_id, event_type, subject, body, created_at,
                                      next_attempt_at, window_started_at, mode)
           VALUES %s""",
        [(*row, row[5], row[5], cur.mode) for row in rows],
    )


def claim_due(cur: Cursor, now: datetime, lease_until: datetime, limit: int) -> list[Delivery]:
    """Lease due notifications to this worker (skipping rows other workers hold).

    A notification waits while an earlier one to the same site about the same subject is
    still pending, so a site hears of one order's events in order. The lease (a later
    next_attempt_at) makes a notification due again if this worker dies mid-delivery.
    """
    cur.execute(
        f"""
        WITH due AS (
            SELECT n.id FROM notifications n JOIN sites s ON s.id = n.site_id
             WHERE n.mode = %(mode)s AND n.status = 'pending'
               AND n.next_attempt_at <= %(now)s
               AND s.is_active AND s.callback_url IS NOT NULL
               AND NOT EXISTS (
                   SELECT 1 FROM notifications e
                    WHERE e.site_id = n.site_id AND e.mode = n.mode
                      AND e.subject = n.subject AND e.status = 'pending'
                      AND (e.created_at, e.id) < (n.created_at, n.id))
             ORDER BY n.next_attempt_at
             LIMIT %(limit)s
             FOR UPDATE OF n SKIP LOCKED
        )
        UPDATE notifications n
           SET next_attempt_at = %(lease)s, attempts = n.attempts + 1
          FROM due, sites s
         WHERE n.id = due.id AND s.id = n.site_id
        RETURNING {", ".join("n." + c.strip() for c in _COLUMNS.split(","))},
                  s.callback_url, s.callback_secret, s.previous_callback_secret
        """,  # noqa: S608 - only the fixed column list is formatted in
        {"now": now, "lease": lease_until, "limit": limit, "mode": cur.mode},
    )
    deliveries = []
    for row in cur.fetchall():
        url = row.pop("callback_url")
        secrets = [row.pop("callback_secret"), row.pop("previous_callback_secret")]
        deliveries.append(Delivery(Notification(**row), url, [s for s in secrets if s]))
    return deliveries


def record_delivered(cur: Cursor, notification_id: str, status_code: int, at: datetime) -> None:
    """The site answered 2xx."""
    cur.execute(
        """UPDATE notifications SET status = 'delivered', delivered_at = %s,
                  last_status_code = %s, last_error = NULL WHERE id = %s AND mode = %s""",
        (at, status_code, notification_id, cur.mode),
    )


def record_failure(
    cur: Cursor,
    notification_id: str,
    *,
    status_code: int | None,
    error: str,
    retry_at: datetime | None,
) -> None:
    """The attempt failed: retry at ``retry_at``, or give up (dead) when it is None."""
    cur.execute(
        """UPDATE notifications
              SET status = CASE WHEN %(retry)s::timestamptz IS NULL THEN 'dead'
                                ELSE 'pending' END,
                  next_attempt_at = coalesce(%(retry)s, next_attempt_at),
                  last_status_code = %(code)s, last_error = %(error)s
            WHERE id = %(id)s AND mode = %(mode)s""",
        {
            "id": notification_id,
            "mode": cur.mode,
            "retry": retry_at,
            "code": status_code,
            "error": error,
        },
    )


def cancel_for_inactive_sites(cur: Cursor) -> int:
    """Stop delivering to sites that were deactivated; returns how many were cancelled."""
    cur.execute(
        """UPDATE notifications SET status = 'cancelled', last_error = 'site deactivated'
            WHERE mode = %s AND status = 'pending'
              AND site_id IN (SELECT id FROM sites WHERE NOT is_active)""",
        (cur.mode,),
    )
    return int(cur.rowcount)


def get(cur: Cursor, notification_id: str) -> Notification | None:
    """The notification with this id (in the cursor's mode, as every read here)."""
    cur.execute(
        f"SELECT {_COLUMNS} FROM notifications WHERE id = %s AND mode = %s",  # noqa: S608
        (notification_id, cur.mode),
    )
    row = cur.fetchone()
    return Notification(**row) if row else None


def requeue(cur: Cursor, notification_id: str, at: datetime) -> Notification | None:
    """Make a notification due again now, whatever became of it."""
    cur.execute(
        f"""UPDATE notifications SET status = 'pending', next_attempt_at = %(at)s,
                   window_started_at = %(at)s, delivered_at = NULL
             WHERE id = %(id)s AND mode = %(mode)s RETURNING {_COLUMNS}""",  # noqa: S608
        {"at": at, "id": notification_id, "mode": cur.mode},
    )
    row = cur.fetchone()
    return Notification(**row) if row else None


def list_page(
    cur: Cursor,
    *,
    site_id: str | None,
    status: str | None,
    event_type: str | None,
    after: tuple[datetime, str] | None,
    limit: int,
) -> list[Notification]:
    """Notifications newest first, filtered, after the (created_at, id) cursor."""
    cur.execute(
        f"""
        SELECT {_COLUMNS} FROM notifications
         WHERE mode = %(mode)s
           AND (%(site_id)s::text IS NULL OR site_id = %(site_id)s)
           AND (%(status)s::text IS NULL OR status = %(status)s)
           AND (%(type)s::text IS NULL OR event_type = %(type)s)
           AND (%(after_at)s::timestamptz IS NULL
                OR (created_at, id) < (%(after_at)s::timestamptz, %(after_id)s::text))
         ORDER BY created_at DESC, id DESC
         LIMIT %(limit)s
        """,  # noqa: S608 - only the fixed column list is formatted in
        {
            "mode": cur.mode,
            "site_id": site_id,
            "status": status,
            "type": event_type,
            "after_at": after[0] if after else None,
            "after_id": after[1] if after else None,
            "limit": limit,
        },
    )
    return [Notification(**row) for row in cur.fetchall()]


def count_overdue(cur: Cursor, due_before: datetime) -> int:
    """Notifications a worker pass would have claimed (as claim_due picks them) that have
    been due since before ``due_before``: none when a worker is delivering."""
    cur.execute(
        """
        SELECT count(*) AS n FROM notifications n JOIN sites s ON s.id = n.site_id
         WHERE n.mode = %(mode)s AND n.status = 'pending' AND n.next_attempt_at < %(before)s
           AND s.is_active AND s.callback_url IS NOT NULL
           AND NOT EXISTS (
               SELECT 1 FROM notifications e
                WHERE e.site_id = n.site_id AND e.mode = n.mode AND e.subject = n.subject
                  AND e.status = 'pending'
                  AND (e.created_at, e.id) < (n.created_at, n.id))
        """,
        {"before": due_before, "mode": cur.mode},
    )
    return int(cur.fetchone()["n"])
