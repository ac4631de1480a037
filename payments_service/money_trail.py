"""The per-customer money trail: every order, payment, capture, failure, refund, grant and
revoke across all sites, in time order, with totals per currency."""

from __future__ import annotations

from dataclasses import dataclass

from .db import Database
from .db import money_trail as sql
from .db.money_trail import CurrencyTotals, TrailEntry

TRAIL_LIMIT = 2000


@dataclass(frozen=True)
class MoneyTrail:
    """A customer's trail and totals, read in one transaction (one consistent snapshot)."""

    customer_email: str
    entries: list[TrailEntry]
    totals: list[CurrencyTotals]
    is_truncated: bool


def customer_trail(db: Database, customer_email: str) -> MoneyTrail:
    """The trail of one customer, matched case-insensitively on email, across all sites."""
    email = customer_email.strip().lower()
    with db.transaction(snapshot=True) as cur:
        found = sql.entries(cur, email, TRAIL_LIMIT + 1)
        totals = sql.totals(cur, email)
    return MoneyTrail(email, found[:TRAIL_LIMIT], totals, len(found) > TRAIL_LIMIT)
