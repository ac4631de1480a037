"""SQL for worker_heartbeats: when a worker of the cursor's mode last started a pass."""

from __future__ import annotations

from datetime import datetime

from . import Cursor


def record_pass(cur: Cursor, at: datetime) -> None:
    """A worker of ``cur.mode`` starts a pass at ``at``."""
    cur.execute(
        """
        INSERT INTO worker_heartbeats (mode, last_pass_at) VALUES (%(mode)s, %(at)s)
        ON CONFLICT (mode) DO UPDATE
           SET last_pass_at = excluded.last_pass_at
        """,
        {"mode": cur.mode, "at": at},
    )


def last_pass_at(cur: Cursor) -> datetime | None:
    """When a worker of ``cur.mode`` last started a pass; None if none ever did."""
    cur.execute(
        "SELECT last_pass_at FROM worker_heartbeats WHERE mode = %(mode)s", {"mode": cur.mode}
    )
    row = cur.fetchone()
    return row["last_pass_at"] if row else None
