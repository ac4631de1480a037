"""The wired services every handler, command and worker pass reaches."""

from __future__ import annotations

from dataclasses import dataclass

from .db import Database
from .metrics import Metrics
from .razorpay_event_handlers import EventContext
from .razorpay_gateway import RazorpayGateway
from .settings import Settings

EXTENSION_KEY = "payments_service"


@dataclass(frozen=True)
class Services:
    """Built once by create_app; found at ``app.extensions[EXTENSION_KEY]``."""

    settings: Settings
    db: Database
    gateway: RazorpayGateway
    metrics: Metrics

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
