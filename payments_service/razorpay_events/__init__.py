"""Razorpay webhooks: received, recorded once and applied (receive.py), one handler per event
type (handlers.py)."""

from __future__ import annotations

from .handlers import EventContext, MalformedEvent, NotApplied, Outcome, outcome_of
from .receive import (
    Receipt,
    last_webhook_at,
    list_events,
    process_event,
    reapply_event,
    receive_event,
    receive_webhook,
    retry_stale_events,
)

__all__ = [
    "EventContext",
    "MalformedEvent",
    "NotApplied",
    "Outcome",
    "Receipt",
    "last_webhook_at",
    "list_events",
    "outcome_of",
    "process_event",
    "reapply_event",
    "receive_event",
    "receive_webhook",
    "retry_stale_events",
]
