"""Payment statuses and how an order's status follows from its money: no imports, so any
capability may read them (the payment state machine and refund settlement both do)."""

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


def order_status(*, amount_paid: int, amount_refunded: int) -> str:
    """The status of an order with a payment: ``attempted`` until one pays it in full, then
    ``paid``, ``partially_refunded`` or ``refunded`` by what its refunds gave back."""
    if amount_paid == 0:
        return "attempted"
    if amount_refunded == 0:
        return "paid"
    return "refunded" if amount_refunded >= amount_paid else "partially_refunded"
