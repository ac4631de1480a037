"""SQL for operational figures (metrics)."""

from __future__ import annotations

from . import Cursor


def notification_counts(cur: Cursor) -> dict[str, int]:
    """How many notifications of the cursor's mode are in each status."""
    cur.execute(
        "SELECT status, count(*) AS n FROM notifications WHERE mode = %s GROUP BY status",
        (cur.mode,),
    )
    return {row["status"]: int(row["n"]) for row in cur.fetchall()}


def oldest_pending_notification_age(cur: Cursor) -> float:
    """Seconds since the oldest pending notification of the cursor's mode was written (0
    when none; the other mode's wait, undelivered, until the keys are switched back)."""
    cur.execute(
        "SELECT coalesce(extract(epoch FROM now() - min(created_at)), 0) AS age "
        "FROM notifications WHERE mode = %s AND status = 'pending'",
        (cur.mode,),
    )
    return float(cur.fetchone()["age"])


def last_webhook_epoch(cur: Cursor) -> float:
    """Unix time of the newest verified webhook (0 when none)."""
    cur.execute(
        "SELECT coalesce(extract(epoch FROM max(received_at)), 0) AS at FROM razorpay_events"
    )
    return float(cur.fetchone()["at"])
