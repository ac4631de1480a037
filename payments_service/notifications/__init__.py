"""What sites are told: queued in the transaction of the change (outbox.py), delivered signed,
at least once, by the worker (delivery.py)."""

from __future__ import annotations

from .delivery import (
    DELIVERY_TIMEOUT,
    FIRST_RETRY,
    LEASE,
    LONGEST_RETRY,
    RETRY_WINDOW,
    Clock,
    DeliveryReport,
    deliver_due,
    list_notifications,
    redeliver,
    retry_delay,
)

__all__ = [
    "DELIVERY_TIMEOUT",
    "FIRST_RETRY",
    "LEASE",
    "LONGEST_RETRY",
    "RETRY_WINDOW",
    "Clock",
    "DeliveryReport",
    "deliver_due",
    "list_notifications",
    "redeliver",
    "retry_delay",
]
