"""SQL for operational figures (metrics) and the state of the database connection."""

from __future__ import annotations

from dataclasses import dataclass

from . import Cursor


@dataclass(frozen=True)
class ConnectionSecurity:
    """Whether this connection is encrypted, as the client and as the server see it."""

    client_ssl: bool  # libpq's view of the connection it opened
    server_ssl: bool  # PostgreSQL's (pg_stat_ssl): a pooler in between opens its own
    sslmode: str  # what the URL (or PGSSLMODE) asked libpq for; libpq's default: prefer


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


def connection_security(cur: Cursor) -> ConnectionSecurity:
    """How the cursor's connection is protected, asked of both ends."""
    cur.execute("SELECT coalesce(ssl, false) AS ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
    row = cur.fetchone()
    info = cur.connection.info
    return ConnectionSecurity(
        client_ssl=bool(info.ssl_in_use),
        server_ssl=bool(row and row["ssl"]),
        sslmode=info.dsn_parameters.get("sslmode") or "prefer",
    )
