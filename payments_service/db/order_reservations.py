"""SQL for order reservations: an Idempotency-Key held for one request at a time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from . import Cursor

_COLUMNS = """site_id, idempotency_key, order_id, request_fingerprint, holder, leased_until,
              holders, outcome_unknown, created_at"""


@dataclass(frozen=True)
class OrderReservation:
    """A site's Idempotency-Key, held by one request (``holder``) until ``leased_until``,
    for the order with our id ``order_id`` (its receipt at Razorpay)."""

    site_id: str
    idempotency_key: str
    order_id: str
    request_fingerprint: str
    holder: str
    leased_until: datetime
    holders: int
    outcome_unknown: bool
    created_at: datetime

    @property
    def is_taken_over(self) -> bool:
        """Whether an earlier request held the key (and may have made the order)."""
        return self.holders > 1


@dataclass(frozen=True)
class Claim:
    """A request asking for a key: who it is, the order it would make, and its lease."""

    site_id: str
    idempotency_key: str
    order_id: str
    request_fingerprint: str
    holder: str
    now: datetime
    leased_until: datetime


def claim(cur: Cursor, wanted: Claim) -> OrderReservation | None:
    """Reserve the key for ``wanted.holder``: a new reservation, or one whose lease ran out
    for the same request body (its order id is kept). None when another request holds it
    or it was reserved for another body; the row stays locked either way."""
    cur.execute(
        f"""
        INSERT INTO order_reservations AS r
               (site_id, idempotency_key, order_id, request_fingerprint, holder, leased_until,
                mode)
        VALUES (%(site_id)s, %(idempotency_key)s, %(order_id)s, %(request_fingerprint)s,
                %(holder)s, %(leased_until)s, %(mode)s)
        ON CONFLICT ON CONSTRAINT order_reservations_pkey DO UPDATE
           SET holder = excluded.holder, leased_until = excluded.leased_until,
               holders = r.holders + 1, outcome_unknown = false
         WHERE r.leased_until <= %(now)s AND r.request_fingerprint = excluded.request_fingerprint
        RETURNING {_COLUMNS}
        """,  # noqa: S608 - only the fixed column list is formatted in
        {**wanted.__dict__, "mode": cur.mode},
    )
    row = cur.fetchone()
    return OrderReservation(**row) if row else None


def get(cur: Cursor, site_id: str, key: str) -> OrderReservation | None:
    """The reservation of a site's key, if any."""
    cur.execute(
        f"""SELECT {_COLUMNS} FROM order_reservations
             WHERE site_id = %s AND mode = %s AND idempotency_key = %s""",  # noqa: S608
        (site_id, cur.mode, key),
    )
    row = cur.fetchone()
    return OrderReservation(**row) if row else None


def finish(cur: Cursor, site_id: str, key: str) -> None:
    """End the reservation of a key whose order is stored (whoever holds it now)."""
    cur.execute(
        """DELETE FROM order_reservations
            WHERE site_id = %s AND mode = %s AND idempotency_key = %s""",
        (site_id, cur.mode, key),
    )


def renew(cur: Cursor, site_id: str, key: str, holder: str, leased_until: datetime) -> bool:
    """Restart the holder's lease; False when it no longer holds the key."""
    cur.execute(
        """UPDATE order_reservations SET leased_until = %s
            WHERE site_id = %s AND mode = %s AND idempotency_key = %s AND holder = %s""",
        (leased_until, site_id, cur.mode, key, holder),
    )
    return bool(cur.rowcount)


def end_lease(cur: Cursor, site_id: str, key: str, holder: str, now: datetime) -> None:
    """Let the next request take the key over at once: its holder knows it made no order
    (none was asked for, or Razorpay refused). The reservation, and with it the order id
    an earlier holder may have used as a receipt, stays."""
    cur.execute(
        """UPDATE order_reservations SET leased_until = %s
            WHERE site_id = %s AND mode = %s AND idempotency_key = %s AND holder = %s""",
        (now, site_id, cur.mode, key, holder),
    )


def mark_outcome_unknown(cur: Cursor, site_id: str, key: str, holder: str) -> None:
    """Note that the holder's order creation ended without Razorpay's answer: the key
    stays reserved until its lease runs out."""
    cur.execute(
        """UPDATE order_reservations SET outcome_unknown = true
            WHERE site_id = %s AND mode = %s AND idempotency_key = %s AND holder = %s""",
        (site_id, cur.mode, key, holder),
    )
