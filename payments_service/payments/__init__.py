"""The payment and order state machine (apply.py), the payment statuses (statuses.py), and
duplicate payments marked as they are recorded (duplicates.py)."""

from __future__ import annotations

from .apply import (
    PaymentFact,
    PaymentOutcome,
    apply_payment,
    apply_payment_in,
    apply_to_locked_orders,
    is_recorded,
    later_status,
    list_payments,
    order_state,
)
from .duplicates import IMPORTED, NOT_REFUNDED, TOO_SMALL_TO_REFUND, UNSAID_REPEAT
from .statuses import PAYMENT_STATUS_RANK, SETTLED_STATUSES

__all__ = [
    "IMPORTED",
    "NOT_REFUNDED",
    "PAYMENT_STATUS_RANK",
    "SETTLED_STATUSES",
    "TOO_SMALL_TO_REFUND",
    "UNSAID_REPEAT",
    "PaymentFact",
    "PaymentOutcome",
    "apply_payment",
    "apply_payment_in",
    "apply_to_locked_orders",
    "is_recorded",
    "later_status",
    "list_payments",
    "order_state",
]
