"""SQL for razorpay_events: received webhooks and what became of them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg2.extras import Json

from . import Cursor

_COLUMNS = """id, event_type, account_id, payload, status, detail, order_id, attempts,
              razorpay_created_at, received_at, processed_at"""


@dataclass(frozen=True)
class RazorpayEvent:
    """One webhook delivery from Razorpay (the first of its retries)."""

    id: str
    event_type: str
    account_id: str | None
    payload: dict[str, Any]
    status: str
    detail: str | None
    order_id: str | None
    attempts: int
    razorpay_created_at: datetime | None
    received_at: datetime
    processed_at: datetime | None


@dataclass(frozen=True)
class EventSummary:
    """What a redelivery is answered with: the stored event's id, type and outcome."""

    id: str
    event_type: str
    status: str


def insert_processed(
    cur: Cursor,
    *,
    event_id: str,
    event_type: str,
    account_id: str | None,
    payload: dict[str, Any],
    razorpay_created_at: datetime | None,
    status: str,
    detail: str | None,
    order_id: str | None,
) -> EventSummary | None:
    """Store a verified event with the outcome of its first processing; None when this
    event id was stored before (by a concurrent delivery, once that one commits)."""
    cur.execute(
        """
        INSERT INTO razorpay_events (id, event_type, account_id, payload, razorpay_created_at,
                                     status, detail, order_id, attempts, processed_at)
        VALUES (%(id)s, %(type)s, %(account)s, %(payload)s, %(created)s,
                %(status)s, %(detail)s, %(order_id)s, 1, now())
        ON CONFLICT (id) DO NOTHING
        RETURNING id, event_type, status
        """,
        {
            "id": event_id,
            "type": event_type,
            "account": account_id,
            "payload": Json(payload),
            "created": razorpay_created_at,
            "status": status,
            "detail": detail,
            "order_id": order_id,
        },
    )
    row = cur.fetchone()
    return EventSummary(**row) if row else None


def summary(cur: Cursor, event_id: str) -> EventSummary | None:
    """The stored event's id, type and status, without its payload."""
    cur.execute("SELECT id, event_type, status FROM razorpay_events WHERE id = %s", (event_id,))
    row = cur.fetchone()
    return EventSummary(**row) if row else None


def get(cur: Cursor, event_id: str) -> RazorpayEvent | None:
    """The stored event with this id."""
    cur.execute(f"SELECT {_COLUMNS} FROM razorpay_events WHERE id = %s", (event_id,))  # noqa: S608
    row = cur.fetchone()
    return RazorpayEvent(**row) if row else None


def record_outcome(
    cur: Cursor, event_id: str, status: str, detail: str | None, order_id: str | None
) -> RazorpayEvent:
    """Write what processing made of the event, and count the attempt."""
    cur.execute(
        f"""
        UPDATE razorpay_events
           SET status = %(status)s, detail = %(detail)s,
               order_id = coalesce(%(order_id)s, order_id),
               attempts = attempts + 1, processed_at = now()
         WHERE id = %(id)s
        RETURNING {_COLUMNS}
        """,  # noqa: S608 - only the fixed column list is formatted in
        {"id": event_id, "status": status, "detail": detail, "order_id": order_id},
    )
    return RazorpayEvent(**cur.fetchone())


def list_page(
    cur: Cursor,
    *,
    status: str | None,
    event_type: str | None,
    after: tuple[datetime, str] | None,
    limit: int,
) -> list[RazorpayEvent]:
    """Events newest first, filtered, after the (received_at, id) cursor."""
    cur.execute(
        f"""
        SELECT {_COLUMNS} FROM razorpay_events
         WHERE (%(status)s::text IS NULL OR status = %(status)s)
           AND (%(type)s::text IS NULL OR event_type = %(type)s)
           AND (%(after_at)s::timestamptz IS NULL
                OR (received_at, id) < (%(after_at)s::timestamptz, %(after_id)s::text))
         ORDER BY received_at DESC, id DESC
         LIMIT %(limit)s
        """,  # noqa: S608 - only the fixed column list is formatted in
        {
            "status": status,
            "type": event_type,
            "after_at": after[0] if after else None,
            "after_id": after[1] if after else None,
            "limit": limit,
        },
    )
    return [RazorpayEvent(**row) for row in cur.fetchall()]


def list_stale(cur: Cursor, older_than: datetime, limit: int) -> list[RazorpayEvent]:
    """Events left `received` (a crash between storing and applying) or `failed`."""
    cur.execute(
        f"""
        SELECT {_COLUMNS} FROM razorpay_events
         WHERE status IN ('received', 'failed') AND received_at < %s AND attempts < 10
         ORDER BY received_at
         LIMIT %s
        """,  # noqa: S608 - only the fixed column list is formatted in
        (older_than, limit),
    )
    return [RazorpayEvent(**row) for row in cur.fetchall()]


def last_received_at(cur: Cursor) -> datetime | None:
    """When the newest verified webhook arrived."""
    cur.execute("SELECT max(received_at) AS last FROM razorpay_events")
    last: datetime | None = cur.fetchone()["last"]
    return last
