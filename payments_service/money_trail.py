"""The per-customer money trail: every order, payment, capture, failure, refund, grant and
revoke across all sites, in time order, with totals per currency.

Admins read anyone's trail in full. A site reads the trail only of a customer who paid one
of its orders (creating an order costs nothing, so it proves nothing), and sees in it how
and whether money moved (amounts, statuses, times, which site sold it, refund amounts and
status), never how the buyer paid beyond the method (card network and last 4, VPA, bank,
wallet), what Razorpay charged (fee, tax), or who at the merchant acted and why (admin
names, their free-text reasons, attention flags).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from .auth import Caller
from .db import Cursor, Database
from .db import money_trail as sql
from .db.money_trail import CurrencyTotals, TrailEntry
from .errors import NotFound

TRAIL_LIMIT = 2000

# The keys of `details` a site sees, by kind; every other key is the admin's only.
SITE_DETAILS: dict[str, frozenset[str]] = {
    "payment.failed": frozenset({"error_code", "error_description", "error_reason", "method"}),
    "payment.authorized": frozenset({"method"}),
    "payment.captured": frozenset({"method", "duplicate_of", "duplicate_of_enrollment"}),
    "refund.requested": frozenset({"speed", "status"}),
    "refund.processed": frozenset({"razorpay_refund_id", "speed"}),
    "refund.failed": frozenset({"razorpay_refund_id"}),
    "enrollment.granted": frozenset({"source"}),
    "enrollment.revoked": frozenset(),
}


@dataclass(frozen=True)
class MoneyTrail:
    """A customer's trail and totals, read in one transaction (one consistent snapshot)."""

    customer_email: str
    entries: list[TrailEntry]
    totals: list[CurrencyTotals]
    is_truncated: bool


def customer_trail(db: Database, caller: Caller, customer_email: str) -> MoneyTrail:
    """The trail of one customer, matched case-insensitively on email, across all sites.

    Raises NotFound when a site asks for a customer who paid none of its orders (the same
    answer whether or not the customer exists).
    """
    email = customer_email.strip().lower()
    with db.transaction(snapshot=True) as cur:
        if not caller.is_admin and not _sold_to(cur, caller, email):
            raise NotFound(
                f"no trail of {email} for this site: a site reads the trail of the customers "
                "who paid one of its orders"
            )
        found = sql.entries(cur, email, TRAIL_LIMIT + 1)
        totals = sql.totals(cur, email)
    entries = found[:TRAIL_LIMIT]
    if not caller.is_admin:
        entries = [_as_a_site_sees_it(entry) for entry in entries]
    return MoneyTrail(email, entries, totals, len(found) > TRAIL_LIMIT)


def _sold_to(cur: Cursor, caller: Caller, email: str) -> bool:
    return caller.site_id is not None and sql.site_sold_to(cur, caller.site_id, email)


def _as_a_site_sees_it(entry: TrailEntry) -> TrailEntry:
    if entry.details is None:
        return entry
    shown = SITE_DETAILS.get(entry.kind, frozenset())
    return replace(entry, details={k: v for k, v in entry.details.items() if k in shown})
