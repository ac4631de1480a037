"""SQL for razorpay_events: received webhooks and what became of them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg2.extras import Json

from . import Cursor, Mode

_COLUMNS = """id, event_type, account_id, payload, status, detail, order_id, attempts,
              razorpay_created_at, received_at, processed_at, mode"""


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
    # The mode of the record it is about (the keys' mode when it is about none of ours).
    mode: str


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
    mode: Mode | None = None,
) -> EventSummary | None:
    """Store a verified event with the outcome of its first processing, in ``mode`` (the
    cursor's unless it is about a record of the other mode); None when this event id was
    stored before (by a concurrent delivery, once that one commits)."""
    cur.execute(
        """
        INSERT INTO razorpay_events (id, event_type, account_id, payload, razorpay_created_at,
                                     status, detail, order_id, attempts, processed_at, mode)
        VALUES (%(id)s, %(type)s, %(account)s, %(payload)s, %(created)s,
                %(status)s, %(detail)s, %(order_id)s, 1, now(), %(mode)s)
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
            "mode": mode or cur.mode,
        },
    )
    rows = cur.fetch_tuples()  # (id, event_type, status): EventSummary's fields
    return EventSummary(*rows[0]) if rows else None


def summary(cur: Cursor, event_id: str) -> EventSummary | None:
    """The stored event's id, type and status, without its payload, whichever its mode
    (Razorpay's event ids are unique across modes: a redelivery is one whatever the keys)."""
    cur.execute("SELECT id, event_type, status FROM razorpay_events WHERE id = %s", (event_id,))
    rows = cur.fetch_tuples()  # EventSummary's fields, in order
    return EventSummary(*rows[0]) if rows else None


def get(cur: Cursor, event_id: str) -> RazorpayEvent | None:
    """The stored event with this id, in the cursor's mode."""
    cur.execute(
        f"SELECT {_COLUMNS} FROM razorpay_events WHERE id = %s AND mode = %s",  # noqa: S608
        (event_id, cur.mode),
    )
    row = cur.fetchone()
    return RazorpayEvent(**row) if row else None


def record_outcome(
    cur: Cursor,
    event_id: str,
    status: str,
    detail: str | None,
    order_id: str | None,
    mode: Mode | None = None,
) -> RazorpayEvent:
    """Write what processing made of the event (of the cursor's mode), and count the
    attempt; an event found to be about a record of the other mode moves to ``mode``."""
    cur.execute(
        f"""
        UPDATE razorpay_events
           SET status = %(status)s, detail = %(detail)s,
               order_id = CASE WHEN %(mode)s = mode THEN coalesce(%(order_id)s, order_id)
                               ELSE %(order_id)s END,
               mode = %(mode)s,
               attempts = attempts + 1, processed_at = now()
         WHERE id = %(id)s AND mode = %(current)s
        RETURNING {_COLUMNS}
        """,  # noqa: S608 - only the fixed column list is formatted in
        {
            "id": event_id,
            "status": status,
            "detail": detail,
            "order_id": order_id,
            "mode": mode or cur.mode,
            "current": cur.mode,
        },
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
         WHERE mode = %(mode)s
           AND (%(status)s::text IS NULL OR status = %(status)s)
           AND (%(type)s::text IS NULL OR event_type = %(type)s)
           AND (%(after_at)s::timestamptz IS NULL
                OR (received_at, id) < (%(after_at)s::timestamptz, %(after_id)s::text))
         ORDER BY received_at DESC, id DESC
         LIMIT %(limit)s
        """,  # noqa: S608 - only the fixed column list is formatted in
        {
            "mode": cur.mode,
            "status": status,
            "type": event_type,
            "after_at": after[0] if after else None,
            "after_id": after[1] if after else None,
            "limit": limit,
        },
    )
    return [RazorpayEvent(**row) for row in cur.fetchall()]


def list_stale(cur: Cursor, older_than: datetime, limit: int) -> list[RazorpayEvent]:
    """Events of the cursor's mode left `received` (a crash between storing and applying)
    or `failed`, or received as `other_mode` while the keys were of the other mode (they
    are applied once the keys are switched back)."""
    cur.execute(
        f"""
        SELECT {_COLUMNS} FROM razorpay_events
         WHERE mode = %s AND status IN ('received', 'failed', 'other_mode')
           AND received_at < %s AND attempts < 10
         ORDER BY received_at
         LIMIT %s
        """,  # noqa: S608 - only the fixed column list is formatted in
        (cur.mode, older_than, limit),
    )
    return [RazorpayEvent(**row) for row in cur.fetchall()]


def last_received_at(cur: Cursor) -> datetime | None:
    """When the newest verified webhook arrived, in either mode (it shows the webhook is
    alive)."""
    cur.execute("SELECT max(received_at) AS last FROM razorpay_events")
    last: datetime | None = cur.fetchone()["last"]
    return last


def last_received_in_mode_at(cur: Cursor) -> datetime | None:
    """When the newest verified webhook of the cursor's mode arrived (a test-mode webhook
    says nothing about the live one)."""
    cur.execute(
        "SELECT max(received_at) AS last FROM razorpay_events WHERE mode = %(mode)s",
        {"mode": cur.mode},
    )
    last: datetime | None = cur.fetchone()["last"]
    return last


@dataclass(frozen=True)
class RecordMode:
    """The mode of a record an event is about, and its order (our id)."""

    mode: Mode
    order_id: str


def modes_of_records(
    cur: Cursor,
    *,
    razorpay_order_ids: list[str],
    payment_ids: list[str],
    refund_ids: list[str],
    link_ids: list[str],
) -> list[RecordMode]:
    """The modes of the orders, payments, refunds and payment links (by Razorpay's ids) that
    we hold, in any mode: what an incoming event is about, whatever the keys in use."""
    cur.execute(
        """
        SELECT mode, id AS order_id FROM orders WHERE razorpay_order_id = ANY(%(orders)s)
        UNION
        SELECT mode, order_id FROM payments WHERE id = ANY(%(payments)s)
        UNION
        SELECT mode, order_id FROM refunds WHERE razorpay_refund_id = ANY(%(refunds)s)
        UNION
        SELECT mode, order_id FROM payment_links WHERE razorpay_link_id = ANY(%(links)s)
        """,
        {
            "orders": razorpay_order_ids,
            "payments": payment_ids,
            "refunds": refund_ids,
            "links": link_ids,
        },
    )
    return [RecordMode(*row) for row in cur.fetch_tuples()]  # (mode, order_id), in order
