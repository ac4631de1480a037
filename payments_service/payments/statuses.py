"""The payment statuses and their order: no imports, so any capability may read them."""

from __future__ import annotations

from typing import Final

# Later statuses win; a payment never moves back (a late `authorized` after `captured`
# changes nothing). `failed` ranks below `authorized`: Razorpay may authorize a payment
# it first reported failed (late authorisation).
PAYMENT_STATUS_RANK: Final = {
    "created": 0,
    "failed": 1,
    "authorized": 2,
    "captured": 3,
    "refunded": 4,
}
SETTLED_STATUSES: Final = frozenset({"captured", "refunded"})
