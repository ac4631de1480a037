"""The wired services every handler, command and worker pass reaches."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from .db import Database
from .metrics import Metrics
from .order_reservations import KeyLease
from .razorpay_events import EventContext
from .razorpay_gateway import RazorpayGateway
from .settings import Settings

EXTENSION_KEY = "payments_service"


def utc_now() -> datetime:
    """The time now, in UTC."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class Services:
    """Built once by create_app; found at ``app.extensions[EXTENSION_KEY]``."""

    settings: Settings
    db: Database
    gateway: RazorpayGateway
    metrics: Metrics
    # What time it is for Idempotency-Key leases (tests move it forward instead of waiting).
    clock: Callable[[], datetime] = field(default=utc_now)

    @property
    def order_key_lease(self) -> KeyLease:
        """How long an order's Idempotency-Key stays with the request holding it."""
        return KeyLease(timedelta(seconds=self.settings.order_key_lease_seconds), self.clock)

    @property
    def event_context(self) -> EventContext:
        """What Razorpay event handlers need."""
        return EventContext(
            db=self.db,
            gateway=self.gateway,
            capture_authorized=self.settings.capture_authorized_payments,
            account_id=self.settings.razorpay_account_id,
            webhook_secrets=self.settings.razorpay_webhook_secrets,
            metrics=self.metrics,
        )
