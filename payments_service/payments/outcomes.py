"""What the payment state machine takes (a fact) and gives back (an outcome)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..db.enrollments import Enrollment
from ..db.orders import Order
from ..db.payments import Payment


@dataclass(frozen=True)
class PaymentOutcome:
    """The order, payment and enrollment after applying one payment fact.

    ``enrollment`` is the order's own, whoever granted it (this fact, or an earlier verify,
    webhook or reconciliation; revoked if it since was); None when the order granted none:
    it is unpaid, or the buyer already owned the product when it was paid.
    """

    order: Order
    payment: Payment
    enrollment: Enrollment | None
    order_became_paid: bool
    changed: bool


@dataclass(frozen=True)
class PaymentFact:
    """A Razorpay payment entity to apply, with its order (locked by the caller's
    transaction) and our record of the payment, read after the lock was taken."""

    order: Order
    existing: Payment | None
    entity: dict[str, Any]
